"""The report schema accepts what we write and rejects what we must never write."""

from __future__ import annotations

import json

import jsonschema
import pytest

from emochat.core.files import atomic_path, atomic_write_text
from emochat.report.model import Emotion, Report, Segment, report_schema, validate_report


def _report() -> Report:
    r = Report(media={"path": "x.mp4", "duration_s": 2.0, "has_audio": True, "has_video": True})
    r.segments.append(
        Segment(
            0.0, 2.0, emotion=Emotion("happy", {"happy": 0.9, "neutral": 0.1}, 0.7, 0.6, source="t")
        )
    )
    r.warn("voice", "no_speech", "no speech found")
    return r


def test_valid_report_passes_with_absent_blocks_null_and_absent_fields_left_out():
    data = _report().to_dict()
    validate_report(data)
    assert set(data) == set(report_schema()["properties"])
    assert data["overall"] is None and data["au"] is None and data["explanation"] is None
    assert data["segments"][0]["emotion"]["label"] == "happy"
    assert "text" not in data["segments"][0] and "weights" not in data["segments"][0]["emotion"]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("media"),
        lambda d: d["segments"][0]["emotion"]["probs"].update(happy=1.5),
        lambda d: d["segments"][0]["evidence"].update(smell={}),
        lambda d: d["warnings"].append({"stage": "x", "code": "Bad Code", "message": "m"}),
        lambda d: d.update(schema_version="1.0.0"),
        lambda d: d.pop("overall"),
        lambda d: d["segments"][0].update(text=None),
    ],
)
def test_schema_rejects_malformed_reports(mutate):
    data = _report().to_dict()
    mutate(data)
    with pytest.raises(jsonschema.ValidationError):
        validate_report(data)


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    atomic_write_text(target, json.dumps({"new": True}))
    assert json.loads(target.read_text()) == {"new": True}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_failed_atomic_write_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "summary.parquet"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.parquet"]


def _undocumented(node, path: str = "") -> list[str]:
    """Properties (recursively, $defs included) without a description; a $ref borrows its
    target's."""
    missing = []
    if not isinstance(node, dict):
        return missing
    for name, sub in (node.get("properties") or {}).items():
        if isinstance(sub, dict) and "description" not in sub and "$ref" not in sub:
            missing.append(f"{path}.{name}")
        missing += _undocumented(sub, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        missing += _undocumented(node.get(key), f"{path}[{key}]")
    for name, sub in (node.get("$defs") or {}).items():
        missing += _undocumented(sub, f"#{name}")
    for key in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(node.get(key) or []):
            missing += _undocumented(sub, f"{path}|{i}")
    return missing


def test_every_field_of_the_schema_is_documented():
    """Issue 27: a reader learns each field's meaning and unit from the schema itself."""
    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert _undocumented(schema) == []
