"""The service in process: a small real clip, a TestClient factory and an upload helper."""

from __future__ import annotations

from pathlib import Path

import pytest

from emochat.testing.synth import tone, write_media


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_media(
        tmp_path_factory.mktemp("media") / "small.mp4",
        0.6,
        width=64,
        height=48,
        fps=10,
        audio=tone(0.6),
    )


@pytest.fixture
def make_client(tmp_path):
    """``make_client(data=..., start_workers=False, **ServeSettings)``: a TestClient that
    talks to the app as http://localhost (a Host the service answers to)."""

    from fastapi.testclient import TestClient  # the [serve] extra: test modules skip without

    from emochat.serve.app import ServeSettings, create_app

    def make(data: Path | None = None, *, start_workers: bool = False, **kw) -> TestClient:
        settings = ServeSettings(data_dir=data or tmp_path / "data", fps=2.0, **kw)
        app = create_app(settings, start_workers=start_workers)
        return TestClient(app, base_url="http://localhost")

    return make


def upload(client, path: Path, name: str | None = None, headers=None, **fields):
    with open(path, "rb") as fh:
        return client.post(
            "/v1/analyze",
            files={"file": (name or path.name, fh)},
            data={k: str(v) for k, v in fields.items()},
            headers=headers,
        )


@pytest.fixture(name="upload")
def upload_fixture():
    """:func:`upload`: POST a file to /v1/analyze with optional form fields."""
    return upload
