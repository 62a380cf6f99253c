"""Ingest on real media and on synthetic clips of the formats users bring."""

from __future__ import annotations

import os
import re

import cv2
import numpy as np
import pytest

from emochat.core.errors import MediaError
from emochat.ingest import SAMPLE_RATE, iter_audio_chunks, iter_frames, load_audio, probe
from emochat.ingest.media import image_size, wav_declared_seconds
from emochat.ingest.video import _upright
from emochat.testing.synth import huge_png, tone, write_media


@pytest.mark.parametrize(
    ("name", "duration", "has_audio", "size", "codec"),
    [
        ("single_face.mp4", 2.42, True, (640, 360), "h264"),
        ("WolfgangLanger_Pexels.mp4", 19.69, True, (640, 360), "h264"),
        ("face_noface.mov", 6.42, True, (960, 540), "hevc"),
        ("noface_face.mov", 6.38, True, (960, 540), "hevc"),
    ],
)
def test_probe_real_media(media_dir, name, duration, has_audio, size, codec):
    info = probe(media_dir / name)
    assert info.duration_s == pytest.approx(duration, abs=0.02)
    assert info.has_video and info.has_audio == has_audio
    assert (info.width, info.height) == size
    assert info.video_codec == codec
    assert not info.is_image


def test_photo_is_one_frame_media(media_dir):
    info = probe(media_dir / "multi_face.jpg")
    assert info.is_image and info.duration_s == 0.0 and not info.has_audio
    frames = list(iter_frames(media_dir / "multi_face.jpg"))
    assert len(frames) == 1 and frames[0].rgb.shape == (667, 1000, 3)


def test_frames_sampled_by_time_at_requested_rate(media_dir):
    frames = list(iter_frames(media_dir / "WolfgangLanger_Pexels.mp4", fps=5))
    times = np.array([f.t_s for f in frames])
    assert np.all(np.diff(times) > 0)
    # 19.69 s at 5 fps -> ~99 frames; spacing ~0.2 s (one source frame = 0.042 s of jitter)
    assert 95 <= len(frames) <= 100
    assert np.median(np.diff(times)) == pytest.approx(0.2, abs=0.045)
    assert frames[0].rgb.dtype == np.uint8 and frames[0].rgb.shape == (360, 640, 3)


def test_variable_frame_rate_uses_real_timestamps(tmp_path):
    times = [0.0, 0.01, 0.02, 0.5, 0.52, 1.0, 1.5, 1.51, 1.52, 1.53, 2.0]
    clip = write_media(tmp_path / "vfr.mp4", frame_times_s=times)
    assert [f.t_s for f in iter_frames(clip)] == pytest.approx(times, abs=1e-3)
    # evenly in time, not every n-th frame
    assert [f.t_s for f in iter_frames(clip, fps=2)] == pytest.approx(
        [0, 0.5, 1.0, 1.5, 2.0], abs=1e-3
    )


def test_large_frames_are_scaled_down(tmp_path):
    clip = write_media(tmp_path / "big.mp4", 0.2, width=1920, height=1080)
    frame = next(iter_frames(clip, max_side=640))
    assert frame.rgb.shape == (360, 640, 3)


@pytest.mark.parametrize(
    ("suffix", "vcodec", "acodec", "rate", "layout"),
    [
        ("webm", "libvpx-vp9", "libopus", 48_000, "stereo"),
        ("mkv", "libx265", "flac", 44_100, "5.1"),
        ("mov", "libx264", "aac", 8_000, "mono"),
        ("avi", "mpeg4", "libmp3lame", 22_050, "stereo"),
    ],
)
def test_containers_codecs_and_audio_layouts(tmp_path, suffix, vcodec, acodec, rate, layout):
    clip = write_media(
        tmp_path / f"clip.{suffix}",
        1.0,
        video_codec=vcodec,
        audio=tone(1.0, sample_rate=rate),
        audio_rate=rate,
        audio_codec=acodec,
        audio_layout=layout,
    )
    info = probe(clip)
    assert info.has_video and info.has_audio
    assert len(list(iter_frames(clip))) == 25
    audio = load_audio(clip)
    # resampled to 16 kHz mono; encoders pad a little
    assert audio.ndim == 1 and abs(audio.size / SAMPLE_RATE - 1.0) < 0.1
    peak = np.abs(audio).max()
    # the 0.3-amplitude tone survives the downmix (5.1 -> mono sums channels, so louder)
    assert 0.2 < peak < (2.0 if layout == "5.1" else 0.5)


def test_audio_chunks_are_contiguous(tmp_path):
    signal = tone(3.3, freq_hz=440.0)
    clip = write_media(tmp_path / "a.wav", video=False, audio=signal, audio_codec="pcm_s16le")
    chunks = list(iter_audio_chunks(clip, chunk_s=1.0))
    assert [c.size for c in chunks] == [16_000, 16_000, 16_000, 4_800]
    np.testing.assert_allclose(np.concatenate(chunks), signal, atol=1e-3)


def test_audio_only_and_video_only(tmp_path):
    wav = write_media(
        tmp_path / "speech.wav", video=False, audio=tone(1.0), audio_codec="pcm_s16le"
    )
    info = probe(wav)
    assert info.has_audio and not info.has_video and list(iter_frames(wav)) == []
    silent = write_media(tmp_path / "silent.mp4", 1.0)
    assert not probe(silent).has_audio and load_audio(silent).size == 0


def _written(path, data: bytes):
    path.write_bytes(data)
    return path


def _fifo(folder):
    os.mkfifo(folder / "pipe.mp4")  # reading it would block forever
    return folder / "pipe.mp4"


def _symlink_loop(folder):
    (folder / "a.mp4").symlink_to(folder / "b.mp4")
    (folder / "b.mp4").symlink_to(folder / "a.mp4")
    return folder / "a.mp4"


def test_image_size_reads_headers_only(tmp_path):
    rgb = np.zeros((30, 40, 3), np.uint8)
    for suffix in (".jpg", ".png", ".bmp", ".webp"):
        assert cv2.imwrite(str(tmp_path / f"a{suffix}"), rgb)
        assert image_size(tmp_path / f"a{suffix}") == (40, 30)
    assert image_size(_written(tmp_path / "x.mp4", b"not an image")) is None
    for cut in (b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0", b"GIF89a\x01", b"RIFF\0\0\0\0WEBPVP8 "):
        assert image_size(_written(tmp_path / "cut.img", cut)) is None  # the decoder judges


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda d: d / "missing.mp4", "file not found"),
        (lambda d: _written(d / "empty.mp4", b""), "file is empty"),
        (
            lambda d: _written(d / "noise.mp4", np.random.default_rng(0).bytes(50_000)),
            "not a media file",
        ),
        (lambda d: d, "is a directory"),
        (_fifo, "not a regular file"),
        (_symlink_loop, "symlink loop"),
        (lambda d: huge_png(d / "huge.png", 20_000, 20_000), "image is 20000x20000 (400 Mpx)"),
    ],
)
def test_bad_files_raise_one_line_media_errors(tmp_path, make, problem):
    path = make(tmp_path)
    with pytest.raises(MediaError) as err:
        probe(path)
    message = str(err.value)
    assert problem in message and str(path) in message and "\n" not in message


def test_truncated_file_is_an_error_or_partial_never_a_crash(tmp_path):
    clip = write_media(tmp_path / "full.mp4", 2.0, audio=tone(2.0))
    data = clip.read_bytes()
    half = tmp_path / "half.mp4"
    half.write_bytes(data[: len(data) // 2])
    try:
        probe(half)
        list(iter_frames(half))
    except MediaError as exc:
        assert str(half) in str(exc)


def _red_corner(rgb: np.ndarray) -> int:
    """Index of the reddest quadrant: 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right."""
    red = rgb[..., 0].astype(float) - rgb[..., 1]
    h, w = red.shape
    quads = [
        red[: h // 4, : w // 4],
        red[: h // 4, -w // 4 :],
        red[-h // 4 :, : w // 4],
        red[-h // 4 :, -w // 4 :],
    ]
    return int(np.argmax([q.mean() for q in quads]))


# Display rotation as ffmpeg's autorotate applies it (checked against `ffmpeg -i`):
# 90 puts the top-left corner bottom-left, 270 puts it top-right.
@pytest.mark.parametrize(("deg", "corner"), [(0, 0), (90, 2), (180, 3), (270, 1)])
def test_phone_rotation_metadata_is_applied(tmp_path, deg, corner):
    img = np.zeros((240, 320, 3), np.uint8)
    img[:60, :80] = (255, 0, 0)
    clip = write_media(tmp_path / f"rot{deg}.mp4", 0.3, images=[img], rotation_deg=deg)
    info = probe(clip)
    assert info.rotation_deg == deg
    assert (info.width, info.height) == ((240, 320) if deg in (90, 270) else (320, 240))
    frame = next(iter_frames(clip))
    assert frame.rgb.shape[:2] == (info.height, info.width)
    assert _red_corner(frame.rgb) == corner


@pytest.mark.parametrize(
    ("deg", "shape"), [(0, (2, 3, 3)), (90, (3, 2, 3)), (180, (2, 3, 3)), (270, (3, 2, 3))]
)
def test_rotation_turns_frames_upright(deg, shape):
    rgb = np.arange(18, dtype=np.uint8).reshape(2, 3, 3)
    out = _upright(rgb, deg)
    assert out.shape == shape
    if deg == 90:  # counter-clockwise: the top-right pixel goes to the top-left
        assert (out[0, 0] == rgb[0, -1]).all()


def test_cut_files_name_where_decoding_stopped(tmp_path):
    """An mp4 cut at 50% (index first) and a cut JPEG decode without an ffmpeg error: the
    frames before the cut come out, then a MediaError says where it stopped."""
    full = write_media(tmp_path / "full.mp4", 4.0, container_options={"movflags": "faststart"})
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    frames = []
    with pytest.raises(MediaError, match=r"video decoding stopped at 1\.\d s of 4\.0 s"):
        frames.extend(iter_frames(cut, fps=5))
    assert frames and frames[-1].t_s < 2.5
    assert len(list(iter_frames(full, fps=5))) == 20  # the whole file: no error
    photo = tmp_path / "photo.jpg"
    assert cv2.imwrite(
        str(photo), np.random.default_rng(0).integers(0, 255, (240, 320, 3), np.uint8)
    )
    photo.write_bytes(photo.read_bytes()[: photo.stat().st_size // 2])
    with pytest.raises(MediaError, match="image data ends early"):
        list(iter_frames(photo))


def test_audio_cut_mid_stream_keeps_what_decoded_and_says_where(tmp_path):
    """An m4a cut at 50% used to lose its whole track (and the voice stage with it)."""
    full = write_media(
        tmp_path / "a.m4a",
        video=False,
        audio=tone(6.0),
        audio_codec="aac",
        container_options={"movflags": "faststart"},
    )
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    chunks = []
    with pytest.raises(MediaError, match=r"cut.m4a: audio decoding failed at 2\.\d s"):
        chunks.extend(iter_audio_chunks(cut, chunk_s=1.0))
    assert 2.0 < sum(c.size for c in chunks) / SAMPLE_RATE < 3.5


def test_a_cut_wav_says_where_its_header_expected_more(tmp_path):
    """ffmpeg sizes a WAV by the file, not its header, so a WAV cut at 50% decoded its first
    half with no word of the rest: the header's data size now says it is cut."""
    full = write_media(tmp_path / "a.wav", video=False, audio=tone(6.0), audio_codec="pcm_s16le")
    assert wav_declared_seconds(full) == pytest.approx(6.0, abs=0.05)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    assert wav_declared_seconds(cut) == pytest.approx(6.0, abs=0.05)  # the header's claim
    damage = []
    audio = load_audio(cut, on_damage=damage.append)
    assert 2.5 < audio.size / SAMPLE_RATE < 3.5
    assert len(damage) == 1
    assert re.search(r"stopped at 3\.0 s of 6\.0 s", str(damage[0]))
    assert load_audio(full).size / SAMPLE_RATE == pytest.approx(6.0, abs=0.05)  # whole: quiet


@pytest.mark.parametrize(
    ("suffix", "codec"), [(".avi", "mpeg4"), (".mkv", "libx264"), (".webm", "libvpx-vp9")]
)
def test_a_cut_avi_or_matroska_says_where_its_header_expected_more(tmp_path, suffix, codec):
    """ffmpeg times an AVI by the index at its end and gives Matroska streams no duration,
    so such a file cut at 60 % decoded what was left with no word of the rest: the AVI
    header's chunk counts and Matroska's per-track DURATION tags now say it is cut, for
    the frames and for the audio."""
    audio_codec = {".avi": "pcm_s16le", ".mkv": "aac", ".webm": "libopus"}[suffix]
    rate = 48_000 if suffix == ".webm" else 16_000
    full = write_media(
        tmp_path / f"a{suffix}",
        6.0,
        video_codec=codec,
        audio=tone(6.0, sample_rate=rate),
        audio_rate=rate,
        audio_codec=audio_codec,
    )
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.6)])
    frames = []
    stop = rf"cut{re.escape(suffix)}: video decoding stopped at [234]\.\d s of 6\.0 s"
    with pytest.raises(MediaError, match=stop):
        frames.extend(iter_frames(cut))
    assert 50 < len(frames) < 120  # what is there still decodes
    damage = []
    audio = load_audio(cut, on_damage=damage.append)
    assert 2.0 < audio.size / SAMPLE_RATE < 4.5
    assert len(damage) == 1 and re.search(r"stopped at [234]\.\d s of 6\.\d s", str(damage[0]))
    # whole, it is quiet
    assert len(list(iter_frames(full))) == 150
    assert load_audio(full).size / SAMPLE_RATE == pytest.approx(6.0, abs=0.1)


def test_cover_art_is_not_video(tmp_path, media_dir):
    """An MP3 with a cover picture (a podcast, a song) holds it as a one-frame video
    stream: it was taken for footage cut after one frame ("video decoding stopped at
    0.0 s of 6.0 s ... truncated or damaged", a face stage on 0 frames). It is audio."""
    photo = cv2.cvtColor(cv2.imread(str(media_dir / "single_face.jpg")), cv2.COLOR_BGR2RGB)
    cover = np.ascontiguousarray(photo[: photo.shape[0] // 2 * 2, : photo.shape[1] // 2 * 2])
    clip = write_media(
        tmp_path / "episode.mp3", video=False, audio=tone(6.0), audio_codec="mp3", cover=cover
    )
    import av

    with av.open(str(clip)) as container:  # the file does hold the picture
        assert len(container.streams.video) == 1
    info = probe(clip)
    assert not info.has_video and info.has_audio and info.fps is None
    assert list(iter_frames(clip)) == []
    damage = []
    assert load_audio(clip, on_damage=damage.append).size / SAMPLE_RATE == pytest.approx(
        6.0, abs=0.1
    )
    assert damage == []


def test_streams_that_start_apart_share_one_timeline(tmp_path):
    """Each stream's samples are placed from the media's time 0 (the earlier start): audio
    that starts 1.5 s after the first frame was read as if it began with it, 1.5 s early
    against the faces (a real clip, face_noface.mov, starts its audio 2.43 s in)."""
    late_audio = write_media(tmp_path / "late_audio.mp4", 4.0, audio=tone(2.0), audio_start_s=1.5)
    audio = load_audio(late_audio)
    assert np.abs(audio[: int(1.4 * SAMPLE_RATE)]).max() == 0.0  # silence until it starts
    heard = np.flatnonzero(np.abs(audio) > 0.05)
    assert heard[0] / SAMPLE_RATE == pytest.approx(1.5, abs=0.05)
    assert audio.size / SAMPLE_RATE == pytest.approx(3.5, abs=0.1)
    assert next(iter_frames(late_audio)).t_s == pytest.approx(0.0, abs=1e-6)
    # frames that start 1.0 s after the audio are placed there, indices still from 0
    late_video = write_media(
        tmp_path / "late_video.mkv",
        audio=tone(3.0),
        frame_times_s=[1.0 + i / 25 for i in range(25)],
    )
    frames = list(iter_frames(late_video))
    assert frames[0].t_s == pytest.approx(1.0, abs=0.01) and frames[0].index == 0
    assert np.abs(load_audio(late_video)[:1000]).max() > 0.05  # the audio starts at 0
