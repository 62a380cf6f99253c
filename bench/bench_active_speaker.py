"""Who is speaking (issue 26): utterance attribution accuracy and the speaker stage's cost.

Sets:

- ``fit``: side-by-side composites (``emochat.testing.composites``) of the clips in
  :data:`FIT` (each pair, both ways round), and 13 muted composites (both faces silent,
  a third voice: retalking_2's, or one of :data:`FIT_MUTED_VOICES`). The stage's
  thresholds were chosen on these; not a result.
- ``eval``: composites of every pair of the clips in :data:`EVAL` (never used to choose
  anything), and two muted composites (a third clip's voice; espeak-ng).
- ``conversation``: the four ``../shared/media/conversation`` clips against the hand
  annotation in ``bench/annotations/conversation_speakers.json`` (its rule: an
  utterance's truth is whoever talks >= 1.5x the other in it, else "overlap", left out).

An utterance counts as right when its ``face_id`` is the face on the side whose voice is
heard most in it (the composites' ground truth); on the muted ones when it is None
(off-screen). Attribution runs through the real stages (face, voice with ASR, segment,
speaker) on the real composite files.

``--cost``: full ``Analyzer`` runs of one 2-person eval composite with the default
pipeline and with the same pipeline minus the speaker stage (warm models, ``--repeat``
times each, interleaved; medians).

    nice -n 10 python bench/bench_active_speaker.py [--sets fit eval conversation] [--cost]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
from common import row

from emochat.face.au import FaceAnalysis
from emochat.options import AnalyzeOptions
from emochat.testing.composites import Turn, build_composite, truth_for

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EMOCHAT_MEDIA_ROOT", REPO / "../shared/media"))
TALKING = SHARED / "talking"
CONVERSATION = SHARED / "conversation"
ANNOTATION = REPO / "bench/annotations/conversation_speakers.json"
CACHE = Path(os.environ.get("EMOCHAT_BENCH_CACHE", "/tmp/emochat-bench-asd"))

FIT = ["hdtf_aoc", "retalking_1", "retalking_2"]
EVAL = ["hdtf_katiehill", "retalking_3", "retalking_4", "retalking_5"]
ESPEAK_TEXT = (
    "The weather was calm this morning, and we walked along the river to the old market. "
    "Nobody there knew the answer, so we asked again later in the day."
)
FIT_ESPEAK_TEXT = (
    "Before the train left, she counted the boxes twice and wrote the numbers on a card. "
    "Then the rain started, the platform emptied, and the last lights went out."
)
CORPORA = Path(os.environ.get("EMOCHAT_DATA_ROOT", REPO / "../shared/data"))
FIT_MUTED_VOICES = [
    # third voices of the fit muted composites: none from an eval clip; the corpus
    # speakers are fit speakers of the speech-emotion recipe (not its val/test speakers)
    "espeak:en-gb:185",
    "ravdess:03",
    "espeak:en-gb-scotland:140",
    "ravdess:06",
    "espeak:en-us+f3:210",
    "ravdess:11",
    "espeak:en-029:160",
    "ravdess:14",
    "emodb:03",
    "ravdess:09",
    "urdu:SM4",
    "emodb:08",
]
"""Two per ordered pair of :data:`FIT` clips (``kind:speaker[:wpm]``)."""


def composite_jobs() -> dict[str, list[tuple]]:
    def pairs(names):
        return [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]

    fit = []
    for k, (a, b) in enumerate(pairs(FIT)):
        fit += [(f"fit_{a}__{b}", a, b, k, None), (f"fit_{b}__{a}", b, a, 10 + k, None)]
    fit.append(("fitmuted_hdtf_aoc__retalking_1", "hdtf_aoc", "retalking_1", 200, "retalking_2"))
    ordered = [(a, b) for a in FIT for b in FIT if a != b]
    for k, voice in enumerate(FIT_MUTED_VOICES):
        a, b = ordered[k // 2]
        tag = voice.split(":")[0] + "_" + voice.split(":")[1].replace("+", "")
        fit.append((f"fitmuted_{a}__{b}__{tag}", a, b, 300 + k, voice))
    ev = [(f"eval_{a}__{b}", a, b, 100 + k, None) for k, (a, b) in enumerate(pairs(EVAL))]
    ev += [
        (
            "evalmuted_hdtf_katiehill__retalking_3",
            "hdtf_katiehill",
            "retalking_3",
            201,
            "retalking_4",
        ),
        ("evalmuted_retalking_5__retalking_4", "retalking_5", "retalking_4", 202, "espeak"),
    ]
    return {"fit": fit, "eval": ev}


def build(job) -> tuple[Path, list[Turn]]:
    name, a, b, seed, third = job
    out = CACHE / f"{name}.mp4"
    truth = CACHE / f"{name}.json"
    if not (out.exists() and truth.exists()):
        CACHE.mkdir(parents=True, exist_ok=True)
        kw = {}
        if third == "espeak":
            kw["espeak_text"] = ESPEAK_TEXT
        elif third and third.startswith("espeak:"):
            _, voice, wpm = third.split(":")
            kw.update(espeak_text=FIT_ESPEAK_TEXT, espeak_voice=voice, espeak_wpm=int(wpm))
        elif third and ":" in third:
            kw.update(voice_audio=corpus_voice(third), voice_label=third)
        elif third:
            kw["third_voice"] = TALKING / f"{third}.mp4"
        comp = build_composite(TALKING / f"{a}.mp4", TALKING / f"{b}.mp4", out, seed=seed, **kw)
        truth.write_text(comp.to_json())
    turns = [Turn(**t) for t in json.loads(truth.read_text())["turns"]]
    return out, turns


def corpus_voice(spec: str, n_files: int = 12) -> np.ndarray:
    """One corpus speaker's recordings (``ravdess:03``, ``emodb:03``, ``urdu:SM4``), the
    first ``n_files`` in name order, each trimmed of its leading and trailing silence and
    joined with 0.2 s of silence (16 kHz)."""
    from emochat.ingest import load_audio

    corpus, speaker = spec.split(":")
    if corpus == "ravdess":
        files = sorted((CORPORA / "ravdess-speech" / f"Actor_{speaker}").glob("*.flac"))
    elif corpus == "emodb":
        files = sorted((CORPORA / "emodb").glob(f"{speaker}*.flac"))
    else:
        files = sorted((CORPORA / "urdu-speech").glob(f"*/{speaker}_*.flac"))
    if not files:
        raise FileNotFoundError(spec)
    parts = []
    for f in files[:n_files]:
        x = load_audio(f, sample_rate=16_000)
        rms = np.sqrt(np.convolve(x * x, np.ones(320) / 320, mode="same"))
        keep = np.flatnonzero(rms > 0.1 * rms.max())
        if keep.size:
            parts += [x[keep[0] : keep[-1] + 1], np.zeros(3200, dtype=np.float32)]
    return np.concatenate(parts).astype(np.float32)


def attribution_pipeline():
    from emochat.face.stage import FaceStage
    from emochat.fusion.speaker_stage import SpeakerStage
    from emochat.fusion.stages import SegmentStage
    from emochat.pipeline.runner import Pipeline
    from emochat.voice.stage import VoiceStage

    return Pipeline([FaceStage(), VoiceStage(), SegmentStage(), SpeakerStage()])


def face_sides(ctx) -> dict[int, str]:
    """Each face track's half of the frame (box centre), by the analysed frame's width."""
    face = ctx.find(FaceAnalysis)
    width = face.frame_size[0]
    return {
        fid: "left" if float(np.mean(t.bbox[:, 0] + t.bbox[:, 2] / 2)) < width / 2 else "right"
        for fid, t in face.au.tracks.items()
    }


def run_composites(pipe, jobs) -> dict:
    right = total = 0
    muted_right = muted_total = 0
    details = []
    for job in jobs:
        path, turns = build(job)
        ctx = pipe.run(path, AnalyzeOptions(), None, [])
        sides = face_sides(ctx)
        for seg in ctx.segments:
            if seg.role != "speaking":
                continue
            truth = truth_for(turns, seg.start_s, seg.end_s)
            if truth is None:
                continue
            side, _ = truth
            want = None if side is None else ("left", "right")[side]
            got = None if seg.face_id is None else sides[seg.face_id]
            ok = want == got
            if side is None:
                muted_total += 1
                muted_right += ok
            else:
                total += 1
                right += ok
            details.append((job[0], seg.start_s, seg.end_s, want, got, seg.speaker_face_confidence))
    return {
        "right": right,
        "total": total,
        "muted_right": muted_right,
        "muted_total": muted_total,
        "details": details,
    }


def run_conversation(pipe) -> dict:
    notes = json.loads(ANNOTATION.read_text())
    right = total = overlap = 0
    details = []
    for name, clip in notes["clips"].items():
        ctx = pipe.run(CONVERSATION / name, AnalyzeOptions(), None, [])
        sides = face_sides(ctx)
        for seg in ctx.segments:
            if seg.role != "speaking":
                continue
            talk = {
                side: sum(max(0.0, min(seg.end_s, b) - max(seg.start_s, a)) for a, b in spans)
                for side, spans in clip["talking"].items()
            }
            (top, t1), (_, t2) = sorted(talk.items(), key=lambda kv: -kv[1])
            got = None if seg.face_id is None else sides[seg.face_id]
            if t1 < 1.5 * t2:
                overlap += 1
                details.append((name, seg.start_s, seg.end_s, "overlap", got))
                continue
            total += 1
            right += got == top
            details.append((name, seg.start_s, seg.end_s, top, got))
    return {"right": right, "total": total, "overlap": overlap, "details": details}


def cost(repeat: int) -> dict:
    from emochat.api import Analyzer, default_pipeline
    from emochat.pipeline.runner import Pipeline

    path, _ = build(composite_jobs()["eval"][0])
    full = default_pipeline()
    without = Pipeline([s for s in full.stages if s.name != "speaker"])
    runs = {"with": Analyzer(pipeline=full), "without": Analyzer(pipeline=without)}
    runs["with"].run(path)  # load every model once
    times = {"with": [], "without": [], "stage": []}
    for _ in range(repeat):
        for key, analyzer in runs.items():
            t0 = time.perf_counter()
            ctx = analyzer.run(path)
            times[key].append(time.perf_counter() - t0)
            if key == "with":
                times["stage"].append(ctx.report.timings_s.get("speaker", 0.0))
    med = {k: statistics.median(v) for k, v in times.items()}
    med["share"] = med["stage"] / med["without"]
    return med


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="*", default=["fit", "eval", "conversation"])
    ap.add_argument("--cost", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    pipe = attribution_pipeline()
    jobs = composite_jobs()
    for name in args.sets:
        if name == "conversation":
            r = run_conversation(pipe)
            figures = (
                f"conversation: {r['right']}/{r['total']} utterances with one main talker "
                f"attributed right; {r['overlap']} utterances of overlapped talk left out"
            )
        else:
            r = run_composites(pipe, jobs[name])
            figures = (
                f"{name} composites: {r['right']}/{r['total']} utterances attributed to the "
                f"right face ({r['right'] / max(r['total'], 1):.3f}); muted + third voice: "
                f"{r['muted_right']}/{r['muted_total']} abstained (off-screen)"
            )
        if args.verbose:
            for d in r["details"]:
                print("  ", d)
        print(figures)
        print(row(figures))
    if args.cost:
        m = cost(args.repeat)
        figures = (
            f"2-person composite (16 s, 720x360): full analysis {m['with']:.1f} s with the "
            f"speaker stage, {m['without']:.1f} s without; the stage itself "
            f"{m['stage'] * 1000:.0f} ms = {100 * m['share']:.2f}% of the analysis"
        )
        print(figures)
        print(row(figures))
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
