"""The REST service: submit media, poll the job, fetch the report (JSON or HTML).

Endpoints (all under ``/v1``; OpenAPI at ``/openapi.json``, browsable at ``/docs``):

- ``POST /v1/analyze``: ``multipart/form-data`` with ``file`` (an upload) or ``path``
  (a file inside the server's allowed root), or JSON ``{"path": ...}``; optional
  ``fps``, ``segment_s``, ``language``. Answers 202 with the job.
- ``GET /v1/jobs/{id}``: status (queued, running, done, failed), progress, stage, error.
- ``GET /v1/jobs/{id}/result``: report.json; ``GET /v1/jobs/{id}/report.html``: the page;
  ``GET /v1/jobs/{id}/media``: the analysed file (the page's video).
- ``DELETE /v1/jobs/{id}``: the job and its files (a queued job is cancelled; a running
  one is refused with 409).
- ``GET /v1/jobs``: recent jobs; ``GET /v1/health``: liveness (queue counts with the token).

Who may call them is :mod:`emochat.serve.security`'s business (token, Host, Origin).
Uploads are checked before anything is queued: the disk quota, the size limit while
the body streams in (and from Content-Length up front), the file extension, the
container's magic bytes, then a probe of the media. Server-side paths must resolve
inside the allowed root and are taken into the job's folder at once
(:mod:`emochat.serve.jobfiles`); nothing later reads the original path. Finished jobs
are deleted after ``keep_hours`` (:mod:`emochat.serve.retention`).
"""

from __future__ import annotations

import json
import logging
import shutil
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from emochat import __version__
from emochat.core.errors import EmochatError
from emochat.core.files import MEDIA_SUFFIXES
from emochat.options import LANGUAGE_CHOICES, AnalyzeOptions, resolve_auto
from emochat.serve.jobfiles import (
    RefusedFile,
    file_response,
    folder_bytes,
    open_job_file,
    remove_job_dir,
    take_in_server_file,
)
from emochat.serve.retention import Retention, delete_job
from emochat.serve.security import RequestGuard, allowed_host_names
from emochat.serve.store import Job, JobStore
from emochat.serve.worker import WorkerPool

log = logging.getLogger("emochat.serve")

JSON_BODY_LIMIT = 64 * 1024
MULTIPART_OVERHEAD = 64 * 1024
JOB_ID_CHARS = frozenset("0123456789abcdef")
_BEARER = HTTPBearer(
    auto_error=False,
    description="printed by `emochat serve` (and in DATA_DIR/token), or set with --token",
)
"""Declares the scheme in OpenAPI; :class:`~emochat.serve.security.RequestGuard` checks it."""
MEDIA_STEM = "input"
"""A job's media is ``input<suffix>`` in its folder."""


@dataclass
class ServeSettings:
    data_dir: Path
    allowed_root: Path | None = None
    workers: int = 1
    max_upload_bytes: int = 500 * 1024 * 1024
    max_queue: int = 1000
    token: str | None = None
    """Required on every request when set (see :mod:`emochat.serve.security`)."""
    host: str = "127.0.0.1"
    """The address the server listens on: a ``Host`` it answers to."""
    allowed_hosts: tuple[str, ...] = ()
    """More ``Host`` names it answers to (the names clients reach it by)."""
    keep_hours: float = 24.0
    """Finished jobs are deleted this long after they finished (0: kept forever)."""
    max_disk_bytes: int | None = None
    """New jobs get 507 while the jobs' files (uploads, results) would take more than this
    (None: no quota)."""
    fps: float = AnalyzeOptions.fps
    segment_s: float = AnalyzeOptions.segment_s
    analyzer: str | None = None
    """``module:function`` with :func:`emochat.apps.jobs.analyze_clip`'s signature (tests)."""
    models: dict[str, str] = field(default_factory=dict)
    """Every job's models (``AnalyzeOptions.models``; ``emochat serve --model``)."""


# ------------------------------------------------------------------------ models


class AnalyzeFields(BaseModel):
    """Analysis options a client may set per job."""

    # types only: the ranges are the options model's (one copy of the rules, one message)
    fps: float | None = Field(None, description="frames analysed per second (0-60)")
    segment_s: float | None = Field(None, description="segment length (s), at least 0.5")
    language: Literal[LANGUAGE_CHOICES] | None = None


def one_line(exc: ValidationError) -> str:
    """A validation error as one line: ``field: problem; field: problem``."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
    )


class PathRequest(AnalyzeFields):
    path: str = Field(..., description="media file inside the server's allowed root")


class JobLinks(BaseModel):
    job: str
    result: str
    html: str
    media: str


class JobInfo(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float = Field(description="fraction of the current stage done (1 when done)")
    stage: str | None = Field(None, description="the pipeline stage running now")
    error: str | None = None
    source: Literal["upload", "path"]
    filename: str | None = None
    options: dict[str, Any]
    attempts: int
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    links: JobLinks


class JobList(BaseModel):
    jobs: list[JobInfo]


class Health(BaseModel):
    status: str
    version: str
    workers: int | None = Field(None, description="with the token only, when one is set")
    running: int | None = None
    jobs: dict[str, int] | None = None


def _ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def job_info(job: Job) -> JobInfo:
    base = f"/v1/jobs/{job.id}"
    return JobInfo(
        id=job.id,
        status=job.status,
        progress=job.progress,
        stage=job.stage,
        error=job.error,
        source=job.source,
        filename=job.filename,
        options=job.options,
        attempts=job.attempts,
        created_at=_ts(job.created_at),
        started_at=_ts(job.started_at),
        finished_at=_ts(job.finished_at),
        links=JobLinks(
            job=base, result=f"{base}/result", html=f"{base}/report.html", media=f"{base}/media"
        ),
    )


# ---------------------------------------------------------------- media checks


def sniff_media(head: bytes) -> str | None:
    """The container a file's first bytes announce, or None if it is no media we know."""
    if len(head) < 12:
        return None
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "isobmff"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head.startswith(b"RIFF"):
        return {b"AVI ": "avi", b"WAVE": "wav", b"WEBP": "webp"}.get(head[8:12])
    if head.startswith((b"ID3", b"fLaC", b"OggS", b"FLV")):
        return "audio/flv"
    if head.startswith(b"\x30\x26\xb2\x75"):
        return "asf"
    if head.startswith(b"\x00\x00\x01\xba") or (len(head) > 188 and head[0] == head[188] == 0x47):
        return "mpeg"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"BM"):
        return "bmp"
    if head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # MPEG audio / ADTS frame sync
        return "mpeg-audio"
    return None


def _check_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in MEDIA_SUFFIXES:
        raise HTTPException(
            415,
            f"unsupported file type {suffix or '(none)'!r}; "
            f"expected one of {' '.join(sorted(MEDIA_SUFFIXES))}",
        )
    return suffix


def _probe_or_415(path: Path) -> None:
    from emochat.ingest import probe

    try:
        info = probe(path)
    except EmochatError as exc:
        raise HTTPException(415, f"not analysable media: {exc.problem}") from None
    if not (info.has_video or info.has_audio):
        raise HTTPException(415, "the file has neither video nor audio")


class _TooLarge(Exception):
    pass


def _limited_receive(receive, limit: int):
    seen = 0

    async def wrapped():
        nonlocal seen
        message = await receive()
        if message.get("type") == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
        return message

    return wrapped


# ---------------------------------------------------------------------------- app


def create_app(settings: ServeSettings, *, start_workers: bool = True) -> FastAPI:
    """The service; ``start_workers=False`` queues jobs without running them (tests)."""
    data_dir = Path(settings.data_dir).resolve()
    jobs_dir = data_dir / "jobs"
    # private by default: uploads are other people's media (an existing folder keeps its mode)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    jobs_dir.mkdir(mode=0o700, exist_ok=True)
    store = JobStore(data_dir / "jobs.sqlite3")
    pool = WorkerPool(store, settings.workers, settings.analyzer)
    retention = Retention(store, jobs_dir, settings.keep_hours)
    allowed_root = Path(settings.allowed_root).resolve() if settings.allowed_root else None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_in_threadpool(retention.start)
        if start_workers:
            pool.start()
        try:
            yield
        finally:
            if start_workers:
                await run_in_threadpool(pool.stop)
            retention.stop()

    app = FastAPI(
        title="emochat",
        version=__version__,
        description="Multimodal emotion analysis of video as a service: submit media, poll "
        "the job, fetch report.json or the interactive report.html.",
        lifespan=lifespan,
    )
    app.add_middleware(
        RequestGuard,
        token=settings.token,
        allowed_hosts=allowed_host_names(settings.host, settings.allowed_hosts),
    )
    app.state.settings = settings
    app.state.store = store
    app.state.pool = pool
    app.state.retention = retention
    bearer_in_openapi = Depends(_BEARER)

    def get_job(job_id: str) -> Job:
        job = store.get(job_id) if len(job_id) == 32 and set(job_id) <= JOB_ID_CHARS else None
        if job is None:
            raise HTTPException(404, "no such job")
        return job

    def options_of(fields: AnalyzeFields) -> dict[str, Any]:
        """The job's options, checked by the options model before anything is saved."""
        options = {
            "fps": settings.fps if fields.fps is None else fields.fps,
            "segment_s": settings.segment_s if fields.segment_s is None else fields.segment_s,
            "language": resolve_auto(fields.language),
        }
        options = {**options, "models": settings.models} if settings.models else options
        try:
            AnalyzeOptions.from_mapping(options)
        except ValueError as exc:
            raise HTTPException(422, f"invalid options: {exc}") from None
        return options

    def form_options(form: FormData) -> dict[str, Any]:
        try:
            fields = AnalyzeFields.model_validate(
                {k: form.get(k) or None for k in ("fps", "segment_s", "language")}
            )
        except ValidationError as exc:
            raise HTTPException(422, f"invalid options: {one_line(exc)}") from None
        return options_of(fields)

    def check_queue() -> None:
        if store.counts()["queued"] >= settings.max_queue:
            raise HTTPException(
                503, "the job queue is full; try again later", headers={"Retry-After": "30"}
            )

    def check_quota(incoming_bytes: int) -> None:
        if settings.max_disk_bytes is None:
            return
        used = folder_bytes(jobs_dir)
        if used + incoming_bytes > settings.max_disk_bytes:
            raise HTTPException(
                507,
                f"the server's storage quota ({settings.max_disk_bytes / 1e9:g} GB) is used "
                "up; try again when finished jobs have been deleted",
            )

    def resolve_server_path(raw: str) -> Path:
        """The file ``raw`` names, relative to the allowed root, symlinks resolved."""
        if allowed_root is None:
            raise HTTPException(403, "server-side paths are disabled (start with --allowed-root)")
        if "\x00" in raw or not raw.strip():
            raise HTTPException(400, "invalid path")
        candidate = Path(raw)
        candidate = (candidate if candidate.is_absolute() else allowed_root / candidate).resolve()
        if not candidate.is_relative_to(allowed_root):
            raise HTTPException(403, "path is outside the allowed root")
        if not candidate.is_file():
            raise HTTPException(404, "no such file under the allowed root")
        _check_suffix(candidate.name)
        return candidate.relative_to(allowed_root)

    def sniff_job_media(job_dir: Path, name: str) -> None:
        fh, _ = open_job_file(job_dir, name)
        with fh:
            if sniff_media(fh.read(512)) is None:
                raise HTTPException(415, "the file does not look like audio, video or an image")

    def take_in(relative: Path, job_dir: Path) -> Path:
        """The job's own copy (or hard link) of a file under the allowed root."""
        assert allowed_root is not None
        target = job_dir / f"{MEDIA_STEM}{relative.suffix.lower()}"
        try:
            take_in_server_file(allowed_root, relative, target)
        except RefusedFile:
            raise HTTPException(403, "the path changed to a symlink while being opened") from None
        except FileNotFoundError:
            raise HTTPException(404, "no such file under the allowed root") from None
        sniff_job_media(job_dir, target.name)
        _probe_or_415(target)
        return target

    async def save_upload(upload: UploadFile, job_dir: Path) -> Path:
        suffix = _check_suffix(upload.filename or "")
        head = await upload.read(512)
        if sniff_media(head) is None:
            raise HTTPException(415, "the upload does not look like audio, video or an image")
        target = job_dir / f"{MEDIA_STEM}{suffix}"
        await upload.seek(0)

        def copy() -> None:
            with open(target, "xb") as out:
                shutil.copyfileobj(upload.file, out, 1024 * 1024)

        await run_in_threadpool(copy)
        await run_in_threadpool(_probe_or_415, target)
        return target

    def queue(
        job_id: str,
        job_dir: Path,
        media: Path,
        source: str,
        options: dict[str, Any],
        filename: str | None,
    ) -> JSONResponse:
        job = store.add(
            job_id,
            source=source,
            media_path=str(media),
            job_dir=str(job_dir),
            options=options,
            filename=filename,
        )
        pool.notify()
        info = job_info(job)
        return JSONResponse(
            info.model_dump(mode="json"), status_code=202, headers={"Location": info.links.job}
        )

    async def queue_server_path(
        job_id: str, job_dir: Path, raw: str, options: dict[str, Any]
    ) -> JSONResponse:
        relative = resolve_server_path(raw)
        job_dir.mkdir(parents=True)
        try:
            media = await run_in_threadpool(take_in, relative, job_dir)
        except BaseException:
            remove_job_dir(job_dir)
            raise
        return queue(job_id, job_dir, media, "path", options, relative.name)

    analyze_body = {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": "the media to analyse (or give path)",
                            },
                            "path": {
                                "type": "string",
                                "description": "a file inside the server's allowed root",
                            },
                            "fps": {"type": "number"},
                            "segment_s": {"type": "number"},
                            "language": {"type": "string", "enum": list(LANGUAGE_CHOICES)},
                        },
                    }
                },
                "application/json": {"schema": PathRequest.model_json_schema()},
                "application/x-www-form-urlencoded": {"schema": PathRequest.model_json_schema()},
            },
        }
    }

    @app.post(
        "/v1/analyze",
        status_code=202,
        response_model=JobInfo,
        dependencies=[bearer_in_openapi],
        openapi_extra=analyze_body,
        responses={400: {}, 401: {}, 403: {}, 413: {}, 415: {}, 503: {}, 507: {}},
        summary="Queue a media file for analysis",
    )
    async def analyze(request: Request) -> JSONResponse:
        check_queue()
        ctype = request.headers.get("content-type", "").lower()
        length = request.headers.get("content-length")
        await run_in_threadpool(check_quota, int(length) if length and length.isdigit() else 0)
        job_id = store.new_id()
        job_dir = jobs_dir / job_id
        if ctype.startswith("application/json"):
            if length and int(length) > JSON_BODY_LIMIT:
                raise HTTPException(413, "request body too large")
            try:
                body = await Request(
                    request.scope, _limited_receive(request.receive, JSON_BODY_LIMIT)
                ).body()
                req = PathRequest.model_validate(json.loads(body or b"{}"))
            except _TooLarge:
                raise HTTPException(413, "request body too large") from None
            except ValidationError as exc:
                raise HTTPException(422, f"invalid request: {one_line(exc)}") from None
            except ValueError as exc:
                raise HTTPException(422, f"invalid request: {exc}") from None
            return await queue_server_path(job_id, job_dir, req.path, options_of(req))
        if not ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            raise HTTPException(415, "send multipart/form-data (file or path) or JSON {path}")
        limit = settings.max_upload_bytes + MULTIPART_OVERHEAD
        if length and length.isdigit() and int(length) > limit:
            raise HTTPException(413, f"upload larger than {settings.max_upload_bytes} bytes")
        limited = Request(request.scope, _limited_receive(request.receive, limit))
        try:
            form = await limited.form(max_files=1, max_fields=16)
        except _TooLarge:
            raise HTTPException(
                413, f"upload larger than {settings.max_upload_bytes} bytes"
            ) from None
        try:
            options = form_options(form)
            upload = form.get("file")
            path = form.get("path")
            if isinstance(upload, UploadFile):
                if upload.size is not None and upload.size > settings.max_upload_bytes:
                    raise HTTPException(
                        413, f"upload larger than {settings.max_upload_bytes} bytes"
                    )
                job_dir.mkdir(parents=True)
                media = await save_upload(upload, job_dir)
                return queue(
                    job_id,
                    job_dir,
                    media,
                    "upload",
                    options,
                    Path(upload.filename or "upload").name,
                )
            if isinstance(path, str) and path:
                return await queue_server_path(job_id, job_dir, path, options)
            raise HTTPException(400, "give a file upload ('file') or a server-side 'path'")
        except BaseException:
            remove_job_dir(job_dir)
            raise
        finally:
            await form.close()

    @app.get(
        "/v1/jobs/{job_id}",
        response_model=JobInfo,
        dependencies=[bearer_in_openapi],
        summary="A job's status and progress",
    )
    def job_status(job_id: str) -> JobInfo:
        return job_info(get_job(job_id))

    @app.get(
        "/v1/jobs",
        response_model=JobList,
        dependencies=[bearer_in_openapi],
        summary="Recent jobs, newest first",
    )
    def list_jobs(
        status: Literal["queued", "running", "done", "failed"] | None = None, limit: int = 100
    ) -> JobList:
        return JobList(jobs=[job_info(j) for j in store.list(status, max(1, min(limit, 1000)))])

    def serve_job_file(job: Job, name: str, request: Request) -> Response:
        """A file of the job's folder, opened without following symlinks."""
        try:
            fh, info = open_job_file(jobs_dir / job.id, name)
        except FileNotFoundError:
            raise HTTPException(410, "the job's files are gone") from None
        except RefusedFile:
            log.warning("job %s: refused %s (a symlink or not a regular file)", job.id, name)
            raise HTTPException(403, "the job's file is a symlink or not a regular file") from None
        return file_response(fh, info, name, request.headers.get("range"))

    def finished_job(job_id: str) -> Job:
        job = get_job(job_id)
        if job.status == "failed":
            raise HTTPException(409, f"job failed: {job.error}")
        if job.status != "done":
            raise HTTPException(409, f"job is {job.status}")
        return job

    @app.get(
        "/v1/jobs/{job_id}/result",
        dependencies=[bearer_in_openapi],
        responses={200: {"content": {"application/json": {}}}, 409: {}, 410: {}},
        summary="The job's report.json",
    )
    def job_result(job_id: str, request: Request) -> Response:
        return serve_job_file(finished_job(job_id), "report.json", request)

    @app.get(
        "/v1/jobs/{job_id}/report.html",
        response_class=HTMLResponse,
        dependencies=[bearer_in_openapi],
        responses={409: {}, 410: {}},
        summary="The job's interactive report page",
    )
    def job_html(job_id: str, request: Request) -> Response:
        return serve_job_file(finished_job(job_id), "report.html", request)

    @app.get(
        "/v1/jobs/{job_id}/media",
        dependencies=[bearer_in_openapi],
        responses={403: {}, 410: {}},
        summary="The analysed media file (the report page's video)",
    )
    def job_media(job_id: str, request: Request) -> Response:
        job = get_job(job_id)
        return serve_job_file(job, Path(job.media_path).name, request)

    @app.delete(
        "/v1/jobs/{job_id}",
        status_code=204,
        dependencies=[bearer_in_openapi],
        responses={404: {}, 409: {}},
        summary="Delete a job and its files (a queued job is cancelled; not while running)",
    )
    def job_delete(job_id: str) -> Response:
        status = delete_job(store, jobs_dir, get_job(job_id).id)
        if status == "running":
            raise HTTPException(409, "the job is running; delete it once it has finished")
        if status is None:
            raise HTTPException(404, "no such job")
        return Response(status_code=204)

    @app.get("/v1/health", response_model=Health, summary="Liveness (queue counts with the token)")
    def health(request: Request) -> Health:
        if not request.state.authorized:
            return Health(status="ok", version=__version__)
        return Health(
            status="ok",
            version=__version__,
            workers=settings.workers,
            running=pool.running,
            jobs=store.counts(),
        )

    return app
