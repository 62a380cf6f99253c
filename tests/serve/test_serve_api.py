"""The service's HTTP contract, in process: validation before queueing, auth, paths, OpenAPI."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("multipart")
from emochat.report.model import validate_report  # noqa: E402
from emochat.serve.app import sniff_media  # noqa: E402


@pytest.fixture
def root(tmp_path, clip) -> Path:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "ok.mp4").write_bytes(clip.read_bytes())
    (tmp_path / "secret.mp4").write_bytes(clip.read_bytes())
    (root / "escape.mp4").symlink_to(tmp_path / "secret.mp4")
    return root


def test_upload_is_queued_with_options_and_links(tmp_path, clip, make_client, upload):
    with make_client() as client:
        r = upload(client, clip, fps=1.5, language="en")
        assert r.status_code == 202, r.text
        job = r.json()
        assert job["status"] == "queued" and job["source"] == "upload"
        assert job["options"] == {"fps": 1.5, "segment_s": 4.0, "language": "en"}
        assert r.headers["location"] == f"/v1/jobs/{job['id']}"
        assert client.get(job["links"]["job"]).json()["id"] == job["id"]
        assert client.get(job["links"]["result"]).status_code == 409
        assert client.get(job["links"]["html"]).status_code == 409
        assert (
            tmp_path / "data" / "jobs" / job["id"] / "input.mp4"
        ).read_bytes() == clip.read_bytes()
        listed = client.get("/v1/jobs", params={"status": "queued"}).json()["jobs"]
        assert [j["id"] for j in listed] == [job["id"]]


def test_size_limit_before_processing(tmp_path, clip, make_client, upload):
    with make_client(max_upload_bytes=2_000) as client:
        r = upload(client, clip)
        assert r.status_code == 413
        # without Content-Length (chunked), the limit applies while the body streams in
        body = (
            b'--xx\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n'
            + clip.read_bytes()
            + b"\r\n--xx--\r\n"
        )
        r = client.post(
            "/v1/analyze",
            content=iter([body[i : i + 1000] for i in range(0, len(body), 1000)]),
            headers={"content-type": "multipart/form-data; boundary=xx"},
        )
        assert r.status_code == 413
        assert client.get("/v1/jobs").json()["jobs"] == []
        assert list((tmp_path / "data" / "jobs").iterdir()) == []


def test_type_checks(tmp_path, clip, make_client, upload):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"this is not a video" * 50)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(clip.read_bytes()[:40] + b"\x00" * 200)
    with make_client() as client:
        assert upload(client, text).status_code == 415
        assert upload(client, fake).status_code == 415
        r = upload(client, broken)
        assert r.status_code == 415 and "not analysable" in r.json()["detail"]
        assert upload(client, clip, name="clip.exe").status_code == 415
        assert (
            client.post(
                "/v1/analyze", content=b"x", headers={"content-type": "text/plain"}
            ).status_code
            == 415
        )
        assert upload(client, clip, fps=-1).status_code == 422
        assert client.get("/v1/jobs").json()["jobs"] == []


def test_server_side_paths_stay_inside_the_allowed_root(tmp_path, root, make_client):
    with make_client(allowed_root=root) as client:
        ok = client.post("/v1/analyze", json={"path": "sub/ok.mp4"})
        assert ok.status_code == 202, ok.text
        assert ok.json()["source"] == "path"
        assert (
            client.post("/v1/analyze", data={"path": str(root / "sub" / "ok.mp4")}).status_code
            == 202
        )
        for bad in (
            "../secret.mp4",
            "sub/../../secret.mp4",
            str(tmp_path / "secret.mp4"),
            "escape.mp4",
            "/etc/passwd",
        ):
            assert client.post("/v1/analyze", json={"path": bad}).status_code == 403, bad
            assert client.post("/v1/analyze", data={"path": bad}).status_code == 403, bad
        assert client.post("/v1/analyze", json={"path": "sub/missing.mp4"}).status_code == 404
        assert client.post("/v1/analyze", json={"path": "a\x00b"}).status_code in (400, 422)
    with make_client(tmp_path / "noroot") as client:
        assert client.post("/v1/analyze", json={"path": "sub/ok.mp4"}).status_code == 403


def test_bearer_token(tmp_path, clip, make_client, upload):
    with make_client(token="s3cret") as client:
        assert upload(client, clip).status_code == 401
        assert upload(client, clip, headers={"Authorization": "Bearer nope"}).status_code == 401
        r = upload(client, clip, headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 202
        assert client.get(f"/v1/jobs/{r.json()['id']}").status_code == 401
        assert (
            client.get(
                f"/v1/jobs/{r.json()['id']}", headers={"Authorization": "Bearer s3cret"}
            ).status_code
            == 200
        )
        assert client.get("/v1/health").status_code == 200
        spec = client.get("/openapi.json", headers={"Authorization": "Bearer s3cret"}).json()
        assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_unknown_jobs_queue_limit_and_openapi(tmp_path, clip, make_client, upload):
    with make_client(max_queue=1) as client:
        assert client.get("/v1/jobs/" + "0" * 32).status_code == 404
        assert client.get("/v1/jobs/..%2F..%2Fetc").status_code == 404
        assert upload(client, clip).status_code == 202
        r = upload(client, clip)
        assert r.status_code == 503 and r.headers["retry-after"]
        spec = client.get("/openapi.json").json()
        body = spec["paths"]["/v1/analyze"]["post"]["requestBody"]["content"]
        assert "multipart/form-data" in body and "application/json" in body
        for path in (
            "/v1/jobs/{job_id}",
            "/v1/jobs/{job_id}/result",
            "/v1/jobs/{job_id}/report.html",
            "/v1/health",
        ):
            assert path in spec["paths"]


def test_sniffing():
    assert sniff_media(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 8) == "isobmff"
    assert sniff_media(b"\x1a\x45\xdf\xa3" + b"\x00" * 12) == "matroska"
    assert sniff_media(b"RIFF\x00\x00\x00\x00WAVEfmt ") == "wav"
    assert sniff_media(b"\xff\xd8\xff\xe0" + b"\x00" * 12) == "jpeg"
    assert sniff_media(b"#!/bin/sh\necho hi\n") is None
    assert sniff_media(b"GIF89a" + b"\x00" * 200) is None


def test_job_runs_end_to_end_in_process(tmp_path, clip, make_client, upload):
    with make_client(start_workers=True) as client:
        job = upload(client, clip).json()
        deadline = time.monotonic() + 90
        while (info := client.get(job["links"]["job"]).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, info
            time.sleep(0.2)
        assert info["status"] == "done", info
        assert info["progress"] == 1.0 and info["attempts"] == 1
        report = client.get(job["links"]["result"]).json()
        validate_report(report)
        assert report["media"]["path"] == "small.mp4"  # no server folders in results
        html = client.get(job["links"]["html"])
        assert html.status_code == 200 and "emochat-report" in html.text
        assert '"video_src":"media"' in html.text
        media = client.get(job["links"]["media"], headers={"Range": "bytes=0-15"})
        assert media.status_code == 206 and len(media.content) == 16


def test_the_options_model_checks_each_job_before_anything_is_saved(
    tmp_path, clip, make_client, upload, monkeypatch
):
    """Serve refuses what :class:`AnalyzeOptions` refuses (one copy of the rules), at once."""
    from emochat.options import AnalyzeOptions

    def strict(mapping):
        if mapping["segment_s"] < 0.5:
            raise ValueError(f"segment_s must be >= 0.5, not {mapping['segment_s']}")
        return AnalyzeOptions()

    monkeypatch.setattr(AnalyzeOptions, "from_mapping", staticmethod(strict))
    with make_client() as client:
        r = upload(client, clip, segment_s=0.000001)
        assert r.status_code == 422 and "segment_s must be >= 0.5" in r.json()["detail"]
        assert upload(client, clip, segment_s=1).status_code == 202
        assert len(client.get("/v1/jobs").json()["jobs"]) == 1
        assert len(list((tmp_path / "data" / "jobs").iterdir())) == 1
