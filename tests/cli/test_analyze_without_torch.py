"""``emochat analyze`` runs without torch (issue #28: the lean install).

A child process refuses to import torch, librosa, mediapipe and transformers (their
files may still be located: the face stage reads mediapipe's .tflite models without
importing it) and analyses a clip with speech; the report must hold voice evidence with
the speech model's emotion and the Correlation Aggregator's token, and none of the
refused modules may have been loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np

from emochat.testing.synth import espeak, mux_with_video

REFUSED = ("torch", "librosa", "mediapipe", "transformers")

CHILD = textwrap.dedent(
    """
    import importlib.machinery, sys

    REFUSED = set(sys.argv[1].split(","))

    class Refuse:
        def create_module(self, spec):
            raise ImportError(f"{spec.name} is refused in the lean install test")

        def exec_module(self, module):  # pragma: no cover - create_module raised
            raise ImportError(module.__name__)

    class RefuseFinder:
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name.partition(".")[0] not in REFUSED:
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is not None:
                spec.loader = Refuse()  # located (package files readable), never imported
            return spec

    sys.meta_path.insert(0, RefuseFinder())
    from emochat.cli import main

    rc = main(["analyze", sys.argv[2], "-o", sys.argv[3], "-q"])
    loaded = sorted(m for m in sys.modules if m.partition(".")[0] in REFUSED)
    print("LOADED", ",".join(loaded))
    sys.exit(rc)
    """
)


def test_analyze_with_speech_imports_no_torch(sample_clip, tmp_path):
    audio = np.concatenate(
        [np.zeros(8000, np.float32), espeak("Kids are talking by the door.", wpm=150)]
    )
    clip = mux_with_video(sample_clip, audio, tmp_path / "kids.mp4")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, ",".join(REFUSED), str(clip), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "LOADED \n" in proc.stdout, proc.stdout
    report = json.loads((out / "report.json").read_text())
    voiced = [s for s in report["segments"] if "voice" in s.get("evidence", {})]
    assert voiced, "no voice evidence"
    voice = voiced[0]["evidence"]["voice"]
    assert voice["words"] and "aggregator" in voice, sorted(voice)
    assert abs(sum(voice["aggregator"]["emotion"]["probs"].values()) - 1) < 1e-2
