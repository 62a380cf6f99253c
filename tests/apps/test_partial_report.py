"""A long media's report is checkpointed after each stage (report.partial.json), so a run
killed late loses at most the running stage's work; report.json replaces it at the end,
written piece by piece with the same bytes as before (issue #24)."""

from __future__ import annotations

import json
import subprocess
import sys

from emochat.apps.jobs import PARTIAL_REPORT, run_job
from emochat.core.files import atomic_write_json

# a job whose checkpoints are due after every stage, killed with SIGKILL as the text
# stage starts: after face, voice and segment, before text, aggregator, fusion, ...
_KILLED = """
import os, signal, sys
from pathlib import Path
from emochat.apps import jobs
from emochat.pipeline.contract import Hooks

class KillAtText(Hooks):
    def on_stage_start(self, name):
        if name == "text":
            os.kill(os.getpid(), signal.SIGKILL)

jobs.CHECKPOINT_EVERY_S = 0.0
jobs.run_job(sys.argv[1], Path(sys.argv[2]), {"language": "en"}, KillAtText())
"""


def test_a_killed_run_leaves_a_readable_partial_report_then_the_whole_one(media_dir, tmp_path):
    clip, out = media_dir / "talking/retalking_5.mp4", tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", _KILLED, str(clip), str(out)], timeout=300)
    assert done.returncode == -9  # killed mid-run, as a crash or an OOM kill would
    assert not (out / "report.json").exists()
    assert not list(out.glob(".*.tmp"))  # written atomically: no half file left
    partial = json.loads((out / PARTIAL_REPORT).read_text(encoding="utf-8"))
    assert partial["partial"]["stages_done"] == ["face", "voice", "segment"]
    assert partial["partial"]["stages_left"][0] == "text"
    assert partial["stages"] == ["face", "voice", "segment"]
    spoken = [s for s in partial["segments"] if "voice" in s["evidence"]]
    assert spoken and all(s["evidence"]["voice"]["words"] for s in spoken)
    assert partial["timings_s"]["voice"] > 0 and "total" not in partial["timings_s"]

    # the next run over the same folder: the whole report replaces the partial one
    output, written = run_job(clip, out, {"language": "en"})
    assert out / "report.json" in written and not (out / PARTIAL_REPORT).exists()
    text = (out / "report.json").read_text(encoding="utf-8")
    assert text == json.dumps(output.report, indent=2, ensure_ascii=False)
    assert "partial" not in output.report and output.report["stages"][-1] == "reasoner"


def test_a_short_run_writes_no_checkpoint(sample_clip, tmp_path):
    """Checkpoints are due only after CHECKPOINT_EVERY_S (60 s): a short clip pays nothing."""
    from emochat.apps import jobs
    from emochat.pipeline.contract import Hooks

    seen = []

    class Watch(Hooks):
        def on_checkpoint(self, report, done, left):
            seen.append((list(done), (tmp_path / PARTIAL_REPORT).exists()))

    run_job(sample_clip, tmp_path, None, Watch())
    assert seen and seen[-1][0][-1] == "reasoner"  # the hook saw every stage end
    assert not any(exists for _, exists in seen) and jobs.CHECKPOINT_EVERY_S >= 60
    assert (tmp_path / "report.json").exists()


def test_streamed_json_has_the_bytes_of_dumps(tmp_path):
    value = {"a": [1, 2.5, None, {"é": "日本", "n": []}], "b": {}, "c": "line\nbreak"}
    path = atomic_write_json(tmp_path / "r.json", value)
    assert path.read_text(encoding="utf-8") == json.dumps(value, indent=2, ensure_ascii=False)
