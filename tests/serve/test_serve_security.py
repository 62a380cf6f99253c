"""Who may use the service: token on every endpoint, Host and Origin checks, auth defaults."""

from __future__ import annotations

import stat

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("multipart")
from emochat.cli import main as emochat_main  # noqa: E402
from emochat.serve.security import (  # noqa: E402
    TOKEN_COOKIE,
    AuthError,
    is_loopback,
    startup_token,
)

TOKEN = "s3cret-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def test_every_endpoint_but_health_needs_the_token(make_client, upload, clip):
    with make_client(token=TOKEN) as client:
        job = upload(client, clip, headers=BEARER).json()
        base = f"/v1/jobs/{job['id']}"
        for path in (
            "/docs",
            "/redoc",
            "/openapi.json",
            "/v1/jobs",
            base,
            base + "/result",
            base + "/report.html",
            base + "/media",
        ):
            r = client.get(path)
            assert r.status_code == 401, path
            assert r.json() == {"detail": "missing or wrong bearer token"}
            assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert upload(client, clip).status_code == 401
        assert client.delete(base).status_code == 401
        # the job list only with the token
        listed = client.get("/v1/jobs", headers=BEARER).json()["jobs"]
        assert [j["id"] for j in listed] == [job["id"]]
        assert client.get("/docs", headers=BEARER).status_code == 200
        assert client.get("/openapi.json", headers=BEARER).status_code == 200
        # liveness stays open, but says nothing about the jobs without the token
        assert client.get("/v1/health").json() == {
            "status": "ok",
            "version": client.get("/v1/health").json()["version"],
            "workers": None,
            "running": None,
            "jobs": None,
        }
        assert client.get("/v1/health", headers=BEARER).json()["jobs"]["queued"] == 1


def test_browser_gets_a_cookie_for_get_requests_only(make_client, upload, clip):
    with make_client(token=TOKEN) as client:
        job = upload(client, clip, headers=BEARER).json()
        base = f"/v1/jobs/{job['id']}"
        assert client.get(base).status_code == 401
        r = client.get("/docs", params={"token": "wrong"}, follow_redirects=False)
        assert r.status_code == 401 and TOKEN_COOKIE not in r.cookies
        r = client.get(base, params={"token": TOKEN, "x": "1"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"{base}?x=1"
        set_cookie = r.headers["set-cookie"].lower()
        assert "httponly" in set_cookie and "samesite=strict" in set_cookie
        # the client now holds the cookie: reads work, as the report page's video needs
        assert client.get(base).status_code == 200
        media = client.get(base + "/media", headers={"Range": "bytes=0-9"})
        assert media.status_code == 206 and media.content == clip.read_bytes()[:10]
        # but a cookie never authorizes a state-changing request (no CSRF through it)
        assert upload(client, clip).status_code == 401
        assert client.delete(base).status_code == 401
        assert client.get(base).status_code == 200


def test_cross_origin_state_changes_are_refused(make_client, upload, clip):
    with make_client() as client:
        for headers in (
            {"Origin": "http://evil.example"},
            {"Origin": "null"},
            {"Origin": "http://localhost:9999"},  # another local server is another origin
            {"Sec-Fetch-Site": "cross-site"},
        ):
            r = upload(client, clip, headers=headers)
            assert r.status_code == 403, headers
            assert "refused" in r.json()["detail"]
        assert client.get("/v1/jobs").json()["jobs"] == []
        same = upload(
            client, clip, headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
        )
        assert same.status_code == 202, same.text
        job_url = same.json()["links"]["job"]
        assert client.delete(job_url, headers={"Origin": "http://evil.example"}).status_code == 403
        # reads are not state changes: a cross-origin page cannot read the answer anyway
        assert client.get(job_url, headers={"Origin": "http://evil.example"}).status_code == 200
        assert client.delete(job_url).status_code == 204


def test_foreign_host_headers_are_refused(make_client, upload, clip):
    with make_client(host="0.0.0.0", allowed_hosts=("emochat.lan",)) as client:
        for host in ("evil.example", "evil.example:80", "localhost.evil.example", ""):
            r = client.get("/v1/health", headers={"Host": host})
            assert r.status_code == 403 and "Host" in r.json()["detail"], host
            assert upload(client, clip, headers={"Host": host}).status_code == 403
        for host in ("localhost:8000", "127.0.0.1", "[::1]:8000", "10.1.2.3:8000", "emochat.lan"):
            assert client.get("/v1/health", headers={"Host": host}).status_code == 200, host
        assert client.get("/v1/jobs").json()["jobs"] == []


def test_token_by_default_off_loopback(tmp_path):
    assert all(map(is_loopback, ("127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost")))
    assert not any(map(is_loopback, ("0.0.0.0", "::", "192.168.1.5", "example.com")))

    token, generated = startup_token("0.0.0.0", None, False, tmp_path)
    assert generated and len(token) >= 32
    token_file = tmp_path / "token"
    assert token_file.read_text().strip() == token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    again, _ = startup_token("192.168.1.5", None, False, tmp_path)
    assert again != token and token_file.read_text().strip() == again  # fresh each start

    assert startup_token("0.0.0.0", "given", False, tmp_path) == ("given", False)
    assert not token_file.exists()  # no stale token beside a given one
    assert startup_token("127.0.0.1", None, False, tmp_path) == (None, False)
    assert startup_token("::1", None, True, tmp_path) == (None, False)
    with pytest.raises(AuthError, match="loopback"):
        startup_token("0.0.0.0", None, True, tmp_path)
    with pytest.raises(AuthError, match="--no-auth and --token conflict"):
        startup_token("127.0.0.1", "given", True, tmp_path)


def test_cli_refuses_no_auth_off_loopback(tmp_path, capsys):
    code = emochat_main(["serve", "--host", "0.0.0.0", "--no-auth", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("emochat: error: --no-auth is allowed only on a loopback address")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.fixture
def started(monkeypatch) -> dict:
    """What `emochat serve` hands to uvicorn (the app and its address), without serving."""
    import uvicorn

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    monkeypatch.delenv("EMOCHAT_SERVE_TOKEN", raising=False)
    return seen


def test_cli_prints_a_generated_token_once_and_requires_it(tmp_path, capsys, started):
    from fastapi.testclient import TestClient

    data = tmp_path / "data"
    assert emochat_main(["serve", "--host", "0.0.0.0", "--data-dir", str(data)]) == 0
    token = (data / "token").read_text().strip()
    err = capsys.readouterr().err
    assert err.count(token) == 2 and f"/docs?token={token}" in err  # one line, said once
    assert started["host"] == "0.0.0.0"
    with TestClient(started["app"], base_url="http://192.0.2.7:8000") as client:
        assert client.get("/v1/jobs").status_code == 401
        jobs = client.get("/v1/jobs", headers={"Authorization": f"Bearer {token}"})
        assert jobs.status_code == 200 and jobs.json() == {"jobs": []}


def test_cli_no_auth_on_loopback_drops_the_environment_token(tmp_path, started, monkeypatch):
    from fastapi.testclient import TestClient

    monkeypatch.setenv("EMOCHAT_SERVE_TOKEN", "from-env")
    args = ["serve", "--data-dir", str(tmp_path)]
    assert emochat_main(args) == 0
    with TestClient(started["app"], base_url="http://127.0.0.1:8000") as client:
        assert client.get("/v1/jobs").status_code == 401  # the environment's token holds
    assert emochat_main([*args, "--no-auth"]) == 0
    with TestClient(started["app"], base_url="http://127.0.0.1:8000") as client:
        assert client.get("/v1/jobs").status_code == 200
    assert emochat_main([*args, "--no-auth", "--token", "x"]) == 2
