"""Voice diarisation (issue #26): the numpy GE2E encoder is the torch model, its mel front
end is librosa's, and it tells real voices apart."""

from __future__ import annotations

import numpy as np
import pytest

from emochat.ingest import load_audio
from emochat.ingest.audio import AudioTrack
from emochat.models import registry
from emochat.voice import diarize as dz
from emochat.voice.vad import speech_segments

SR = 16_000


@pytest.fixture(scope="module")
def voices(media_dir) -> dict[str, np.ndarray]:
    """Speech of two different people (two single-speaker talking clips): 6.4 s each."""
    out = {}
    for name in ("hdtf_aoc", "hdtf_katiehill"):
        audio = load_audio(media_dir / "talking" / f"{name}.mp4")
        spans = speech_segments(audio)
        speech = np.concatenate([audio[int(s * SR) : int(e * SR)] for s, e in spans])
        assert speech.size >= 6.4 * SR, name
        out[name] = speech[: int(6.4 * SR)]
    return out


def test_the_mel_front_end_is_librosas():
    """Reference values from librosa 0.10.2 (``filters.mel(sr=16000, n_fft=400,
    n_mels=40)`` and ``feature.melspectrogram`` of the chirp below, default arguments)."""
    fb = dz.mel_filterbank().astype(np.float64)
    assert fb.shape == (40, 201)
    np.testing.assert_allclose(
        fb.sum(1)[[0, 5, 20, 39]], [0.02480904, 0.02573448, 0.02521975, 0.02497876], rtol=1e-5
    )
    assert [int(fb[i].argmax()) for i in (0, 10, 20, 39)] == [2, 20, 44, 185]
    t = np.arange(SR, dtype=np.float64) / SR
    chirp = 0.3 * np.sin(2 * np.pi * (200 * t + 1900 * t * t)) + 0.1 * np.sin(2 * np.pi * 3000 * t)
    mel = dz.mel_frames(chirp.astype(np.float32)).astype(np.float64)
    assert mel.shape == (101, 40)
    np.testing.assert_allclose(
        mel.sum(0)[[0, 5, 10, 20, 30]],
        [0.632579, 36.595545, 35.257095, 35.841220, 35.033591],
        rtol=1e-4,
    )


def test_the_numpy_encoder_is_the_torch_lstm(voices):
    """The shipped weights through torch's nn.LSTM give the same embeddings."""
    torch = pytest.importorskip("torch")
    enc = dz.SpeakerEncoder.load()
    with np.load(registry.weight_file("speaker_embedding")) as z:
        state = {k: torch.from_numpy(z[k]) for k in z.files}
    lstm = torch.nn.LSTM(40, 256, 3, batch_first=True)
    linear = torch.nn.Linear(256, 256)
    lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
    linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
    speech = np.concatenate(list(voices.values()))
    mels = np.stack(
        [
            dz.mel_frames(dz._raise_level(speech[a : a + 25_600]))[:160]
            for a in range(0, 11 * SR, SR)
        ]
    )
    ours = enc.embed(mels)
    with torch.no_grad():
        _, (hidden, _) = lstm(torch.from_numpy(mels))
        raw = torch.relu(linear(hidden[-1]))
        ref = (raw / raw.norm(dim=1, keepdim=True)).numpy()
    assert ours.shape == (11, 256)
    np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_embeddings_are_unit_vectors_and_an_audio_track_gives_the_same(voices):
    audio = voices["hdtf_aoc"]
    spans = [(0.0, 1.0), (1.0, 4.5), (6.0, 6.1)]  # one partial, five averaged, a short one
    emb = dz.speaker_embeddings(audio, spans)
    assert emb.shape == (3, 256) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(
        dz.speaker_embeddings(AudioTrack.from_array(audio), spans), emb, atol=1e-6
    )
    assert dz.speaker_embeddings(audio, []).shape == (0, 256)


def test_one_voice_is_closer_to_itself_than_to_another(voices):
    windows = [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0)]
    a = dz.speaker_embeddings(voices["hdtf_aoc"], windows)
    b = dz.speaker_embeddings(voices["hdtf_katiehill"], windows)
    within = min((a @ a.T)[np.triu_indices(3, 1)].min(), (b @ b.T)[np.triu_indices(3, 1)].min())
    across = (a @ b.T).max()
    assert within > across, (within, across)


def test_clustering_counts_one_or_two_speakers(voices):
    windows = dz.diarization_windows([(0.0, 6.4)])
    assert len(windows) == 7
    a = dz.speaker_embeddings(voices["hdtf_aoc"], windows)
    b = dz.speaker_embeddings(voices["hdtf_katiehill"], windows)
    durations = [1.6] * len(windows)
    assert dz.cluster_speakers(a, durations) == [0] * len(windows)
    labels = dz.cluster_speakers(np.concatenate([b, a]), durations * 2)
    assert labels == [0] * len(windows) + [1] * len(windows)
    one = dz.cluster_speakers(np.concatenate([b, a]), durations * 2, max_speakers=1)
    assert one == [0] * (2 * len(windows))
    given = dz.cluster_speakers(np.concatenate([b, a]), durations * 2, n_speakers=2)
    assert given == [0] * len(windows) + [1] * len(windows)
    assert len(set(dz.cluster_speakers(a, durations, n_speakers=2))) == 2  # asked for: kept
    assert dz.cluster_speakers(np.zeros((0, 256)), []) == []
    assert dz.cluster_speakers(a[:1], [1.6]) == [0]


def test_diarize_finds_who_speaks_when_in_a_real_turn_taking(voices):
    """A (0-3.2 s), B (3.7-6.9 s), A (7.4-10.6 s): two speakers, turns within 0.5 s."""
    gap = np.zeros(SR // 2, np.float32)
    a, b = voices["hdtf_aoc"], voices["hdtf_katiehill"]
    half = int(3.2 * SR)
    audio = np.concatenate([a[:half], gap, b[:half], gap, a[half : 2 * half]])
    turns = dz.diarize(audio, speech_segments(audio))
    assert {w for *_, w in turns} == {0, 1}
    truth = [(0.0, 3.2, 0), (3.7, 6.9, 1), (7.4, 10.6, 0)]
    for t in np.arange(0.25, 10.6, 0.25):
        want = [w for s, e, w in truth if s + 0.5 <= t <= e - 0.5]
        got = [w for s, e, w in turns if s <= t < e]
        if want and got:
            assert got == want, (t, turns)
    talk = {w: sum(e - s for s, e, x in turns if x == w) for w in (0, 1)}
    assert 5.4 < talk[0] < 7.0 and 2.6 < talk[1] < 3.8, turns
    assert dz.diarize(audio, []) == []


def test_the_weights_are_registered_with_card_licence_and_recipe():
    e = registry.entry("speaker_embedding")
    assert e.kind == registry.VENDORED and e.recipe and "Apache-2.0" in e.source
    path = registry.weight_file("speaker_embedding")
    assert path.is_file() and path.stat().st_size < 20_000_000
    folder = path.parent
    assert "Version 2.0, January 2004" in (folder / "LICENSE").read_text(encoding="utf-8")
    assert "Resemble.AI" in (folder / "NOTICE").read_text(encoding="utf-8")
    card = registry.card_path("speaker_embedding").read_text(encoding="utf-8")
    assert registry.describe("speaker_embedding")["files"][0]["sha256"] in card


def _takes(folder, actor: int) -> list[np.ndarray]:
    """An actor's neutral and calm RAVDESS takes (emotion 01/02), silence trimmed."""
    out = []
    for path in sorted((folder / f"Actor_{actor:02d}").glob("03-01-0[12]-*")):
        wav = load_audio(path)
        spans = speech_segments(wav)
        if spans:
            out.append(wav[int(spans[0][0] * SR) : int(spans[-1][1] * SR)])
    return out


def _conversation(parts: list[tuple[str, np.ndarray]]):
    """Turns with 0.4-s gaps -> (audio, reference turns from each take's VAD)."""
    gap = np.zeros(int(0.4 * SR), np.float32)
    audio, ref, t = [], [], 0.0
    for who, wav in parts:
        audio += [gap, wav]
        t += gap.size / SR
        ref += [(t + s, t + e, who) for s, e in speech_segments(wav)]
        t += wav.size / SR
    return np.concatenate(audio), ref


@pytest.fixture(scope="module")
def ravdess_actors(corpus) -> dict[int, list[np.ndarray]]:
    """Two male RAVDESS actors of the held-out split (21, 23): none of the development
    conversations the clustering was chosen on used them."""
    folder = corpus("ravdess-speech")
    return {a: _takes(folder, a) for a in (21, 23)}


def test_two_actors_taking_turns_are_two_speakers_and_one_is_one(ravdess_actors):
    from emochat.eval.diarization import diarization_error

    a, b = ravdess_actors[21], ravdess_actors[23]
    assert len(a) >= 8 and len(b) >= 8
    alternate = [(who, take) for i in range(8) for who, take in (("A", a[i]), ("B", b[i]))]
    two, ref = _conversation(alternate)
    turns = dz.diarize(two, speech_segments(two))
    assert len({w for *_, w in turns}) == 2, turns
    score = diarization_error(ref, turns, collar_s=0.25)
    assert score.der < 0.25, score
    one, _ = _conversation([("A", x) for x in a[:16]])
    assert {w for *_, w in dz.diarize(one, speech_segments(one))} == {0}


def test_the_count_is_bounded_for_many_embeddings(voices):
    """More embeddings than :data:`MAX_POINTS` (an hour's windows): a subset is clustered
    and the rest assigned to its centroids, so the count and labels still come out."""
    windows = dz.diarization_windows([(0.0, 6.4)])
    a = dz.speaker_embeddings(voices["hdtf_aoc"], windows)
    b = dz.speaker_embeddings(voices["hdtf_katiehill"], windows)
    rng = np.random.default_rng(0)
    reps = dz.MAX_POINTS // (2 * len(windows)) + 20
    x = np.concatenate([np.tile(b, (reps, 1)), np.tile(a, (reps, 1))])
    x = x + 0.02 * rng.standard_normal(x.shape).astype(np.float32)
    assert len(x) > dz.MAX_POINTS
    labels = dz.cluster_speakers(x, [1.6] * len(x))
    half = len(x) // 2
    assert labels == [0] * half + [1] * half
