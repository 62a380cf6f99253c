"""Reports say what made them, and `emochat analyze --options REPORT` re-runs it; ASR choices
(any whisper language, beam size, Chinese script) reach the report (issue 27)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import soundfile as sf

from emochat.apps.arguments import options_file_values
from emochat.cli import main
from emochat.core.errors import EmochatError
from emochat.models import registry
from emochat.options import AnalyzeOptions
from emochat.provenance import _recorded_sha256, collect
from emochat.report.model import validate_report
from emochat.testing.synth import espeak

NON_DEFAULT = [
    *("--fps", "5", "--segment-s", "3", "--beam-size", "2", "--expression-views", "mirror"),
    "--no-micro-reread",
]


def _analyze(out, *args) -> tuple[int, dict | None]:
    code = main(["analyze", *map(str, args), "-o", str(out), "-q"])
    report = out / "report.json"
    return code, json.loads(report.read_text()) if report.exists() else None


def _labels(report: dict) -> list:
    return [report["overall"]["label"]] + [s["emotion"]["label"] for s in report["segments"]]


@pytest.fixture(scope="module")
def first_run(sample_clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("first")
    code, report = _analyze(out, sample_clip, *NON_DEFAULT, "--language", "en")
    assert code == 0
    return out / "report.json", report


def test_provenance_names_input_options_models_and_machine(first_run, sample_clip):
    _, report = first_run
    validate_report(report)
    made = report["provenance"]
    assert made["input"] == {
        "name": sample_clip.name,
        "bytes": sample_clip.stat().st_size,
        "sha256": hashlib.sha256(sample_clip.read_bytes()).hexdigest(),
    }
    options = made["options"]
    assert (options["fps"], options["segment_s"], options["beam_size"]) == (5.0, 3.0, 2)
    assert (options["expression_views"], options["language"]) == ("mirror", "en")
    assert options["micro_reread"] is False
    for slot in registry.SLOTS:
        assert made["models"][slot]["files"][0]["sha256"] == registry.sha256(
            registry.weight_file(slot)
        )
    assert {"whisper_base", "face_detector", "silero_vad"} <= made["models"].keys()
    assert made["software"]["emochat"] == report["emochat_version"]
    assert made["software"]["numpy"] == np.__version__
    assert isinstance(made["machine"]["cpu_flags"], list)
    assert str(sample_clip.parent) not in json.dumps(made)  # no path unless asked


def test_rerun_from_the_report_gives_the_same_options_and_labels(first_run, sample_clip, tmp_path):
    path, report = first_run
    code, again = _analyze(tmp_path / "again", sample_clip, "--options", path)
    assert code == 0
    assert again["provenance"]["options"] == report["provenance"]["options"]
    assert _labels(again) == _labels(report)
    assert again["overall"]["probs"] == pytest.approx(report["overall"]["probs"], abs=2e-3)


def test_a_flag_overrides_the_options_file(first_run, sample_clip, tmp_path):
    path, _ = first_run
    code, again = _analyze(tmp_path / "fps4", sample_clip, "--options", path, "--fps", "4")
    assert code == 0
    assert again["provenance"]["options"]["fps"] == 4.0
    assert again["provenance"]["options"]["segment_s"] == 3.0


def test_dependency_hash_from_its_wheel_record_is_the_files_hash():
    entry = registry.entry("silero_vad")  # a pypi model: its wheel's RECORD has the hash
    recorded = _recorded_sha256(entry, entry.files[0])
    assert recorded is not None
    assert recorded == registry.sha256(registry.file_path(entry.files[0]))


def test_record_paths_writes_the_absolute_path(sample_clip):
    made = collect(sample_clip, AnalyzeOptions(record_paths=True), with_paths=True)
    assert made["input"]["path"] == str(sample_clip.resolve())
    assert made["options"]["record_paths"] is True


def test_a_report_made_with_a_transcript_needs_that_transcript(tmp_path, sample_clip, capsys):
    srt = tmp_path / "talk.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nHello.\n")
    digest = hashlib.sha256(srt.read_bytes()).hexdigest()
    made = {
        "options": {"fps": 5, "transcript": {"name": "talk.srt", "bytes": 34, "sha256": digest}}
    }
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"schema_version": "2.1.0", "provenance": made}))
    assert (
        main(["analyze", str(sample_clip), "-o", str(tmp_path / "o"), "--options", str(report)])
        == 2
    )
    assert "'talk.srt'" in capsys.readouterr().err
    other = tmp_path / "other.srt"
    other.write_text("1\n00:00:00,000 --> 00:00:01,000\nBye.\n")
    with pytest.raises(EmochatError, match="talk.srt"):
        options_file_values(report, other)
    assert options_file_values(report, srt) == {"fps": 5}
    # batch and serve take transcripts per clip: the report's options alone
    assert options_file_values(report, None, check_transcript=False) == {"fps": 5}


def test_options_file_in_toml_and_its_errors(tmp_path, sample_clip, capsys):
    toml = tmp_path / "options.toml"
    toml.write_text('fps = 4\nlanguage = "de"\nchinese_script = "traditional"\n')
    assert options_file_values(toml) == {
        "fps": 4,
        "language": "de",
        "chinese_script": "traditional",
    }
    toml.write_text("fsp = 4\n")
    assert (
        main(["analyze", str(sample_clip), "-o", str(tmp_path / "o"), "--options", str(toml)]) == 2
    )
    assert "unknown analysis option 'fsp'" in capsys.readouterr().err
    toml.write_text("fps = [")
    assert (
        main(["analyze", str(sample_clip), "-o", str(tmp_path / "o"), "--options", str(toml)]) == 2
    )
    assert "not a TOML options file" in capsys.readouterr().err


def test_any_whisper_language_through_the_cli(tmp_path):
    speech = espeak(
        "Bonjour à tous. Je suis vraiment très content de vous voir aujourd'hui.",
        voice="fr",
        wpm=140,
    )
    wav = tmp_path / "bonjour.wav"
    sf.write(wav, np.concatenate([np.zeros(8000, np.float32), speech]), 16_000)
    code, report = _analyze(tmp_path / "fr", wav, "--language", "fr", "--beam-size", "1")
    assert code == 0
    text = report["segments"][0]["evidence"]["text"]
    assert text["language"] == "fr"
    # French words, not an English rendering; which words whisper gets from espeak's voice
    # varies with the CPU class ("On joue à tous" for "Bonjour à tous" on an AVX2-only CPU)
    heard = text["text"].lower()
    french = ("suis", "vraiment", "très", "content", "vous", "voir")
    assert sum(word in heard for word in french) >= 4, heard
    assert main(["analyze", str(wav), "-o", str(tmp_path / "x"), "--language", "xx"]) == 2


def test_chinese_script_of_a_transcript_follows_the_option(tmp_path):
    speech = espeak("我们今天很开心", voice="cmn", wpm=120)
    wav = tmp_path / "zh.wav"
    sf.write(wav, np.concatenate([np.zeros(8000, np.float32), speech]), 16_000)
    end_ms = 500 + speech.size * 1000 // 16_000
    srt = tmp_path / "zh.srt"
    srt.write_text(
        f"1\n00:00:00,500 --> 00:00:{end_ms // 1000:02d},{end_ms % 1000:03d}\n我們今天很開心\n"
    )
    for script, expected in (("auto", "我們今天很開心"), ("simplified", "我们今天很开心")):
        code, report = _analyze(
            tmp_path / script, wav, "--transcript", srt, "--chinese-script", script
        )
        assert code == 0
        assert report["segments"][0]["evidence"]["text"]["text"] == expected


def test_transcript_speaker_tags_reach_the_report(tmp_path):
    first = espeak("I am so happy to see you again.", wpm=150)
    second = espeak("Well, I am not pleased at all.", voice="en-us+f3", wpm=150)
    gap = np.zeros(12_000, np.float32)
    wav = tmp_path / "two.wav"
    sf.write(wav, np.concatenate([gap, first, gap, second, gap]), 16_000)

    def stamp(sample: int) -> str:
        ms = sample * 1000 // 16_000
        return f"00:{ms // 60_000:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"

    a, b = gap.size, gap.size + first.size
    c, d = b + gap.size, b + gap.size + second.size
    vtt = tmp_path / "two.vtt"
    vtt.write_text(
        f"WEBVTT\n\n{stamp(a)} --> {stamp(b)}\n<v Alice>I am so happy to see you again.</v>\n\n"
        f"{stamp(c)} --> {stamp(d)}\n<v Bob>Well, I am not pleased at all.</v>\n"
    )
    code, report = _analyze(tmp_path / "out", wav, "--transcript", vtt)
    assert code == 0
    validate_report(report)
    spoken = [s for s in report["segments"] if s.get("text")]
    assert [(s["speaker"], s["text"]) for s in spoken] == [
        ("Alice", "I am so happy to see you again."),
        ("Bob", "Well, I am not pleased at all."),
    ]
