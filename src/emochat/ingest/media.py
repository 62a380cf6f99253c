"""Open any media ffmpeg can decode and describe it, without reading it all.

Everything downstream works on :class:`MediaInfo` plus the streaming readers in
:mod:`emochat.ingest.video` and :mod:`emochat.ingest.audio`. Still images are
accepted as one-frame media so a photo can go through the face stages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import av

from emochat.core.errors import MediaError
from emochat.core.files import input_file_problem

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds. Times in seconds, sizes in pixels after rotation."""

    path: str
    container: str
    duration_s: float
    has_video: bool
    has_audio: bool
    is_image: bool = False
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    rotation_deg: int = 0
    video_codec: str | None = None
    audio_codec: str | None = None
    audio_sample_rate: int | None = None
    audio_channels: int | None = None
    size_bytes: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def open_container(path: str | Path) -> av.container.InputContainer:
    """``av.open`` with the failure modes translated into one-line :class:`MediaError`."""
    p = Path(path)
    problem = input_file_problem(p)
    if problem is not None:
        raise MediaError(p, problem)
    if p.stat().st_size == 0:
        raise MediaError(p, "file is empty (0 bytes)")
    try:
        return av.open(str(p), metadata_errors="ignore")
    except av.error.InvalidDataError:
        raise MediaError(p, "not a media file ffmpeg can read (invalid data)") from None
    except av.error.FFmpegError as exc:
        raise MediaError(p, f"cannot open media: {exc.strerror or exc}") from None


def _rotation(stream: av.video.stream.VideoStream, first_frame: av.VideoFrame | None) -> int:
    """Display rotation in degrees (0/90/180/270), from the first frame's display matrix."""
    rot = int(round(getattr(first_frame, "rotation", 0) or 0)) if first_frame is not None else 0
    return rot % 360


def probe(path: str | Path) -> MediaInfo:
    """Describe ``path``; raises :class:`MediaError` if it has nothing we can decode."""
    p = Path(path)
    is_image = p.suffix.lower() in IMAGE_SUFFIXES
    with open_container(p) as container:
        vstream = container.streams.video[0] if container.streams.video else None
        astream = container.streams.audio[0] if container.streams.audio else None
        if vstream is None and astream is None:
            raise MediaError(p, "no video or audio stream")
        is_image = is_image or container.format.name in {"image2", "png_pipe", "jpeg_pipe"}

        first = None
        if vstream is not None:
            try:
                first = next(container.decode(vstream), None)
            except av.error.FFmpegError as exc:
                raise MediaError(
                    p, f"video stream cannot be decoded: {exc.strerror or exc}"
                ) from None
            if first is None and astream is None:
                raise MediaError(p, "video stream holds no decodable frame")

        duration = _duration_s(container, vstream, astream)
        width = height = None
        rotation = 0
        fps = None
        if first is not None:
            rotation = _rotation(vstream, first)
            width, height = first.width, first.height
            if rotation in (90, 270):
                width, height = height, width
            rate = vstream.average_rate or vstream.guessed_rate
            fps = float(rate) if rate and not is_image else None
        if is_image:
            duration = 0.0
        return MediaInfo(
            path=str(p),
            container=container.format.name,
            duration_s=round(duration, 6),
            has_video=first is not None,
            has_audio=astream is not None,
            is_image=is_image,
            fps=fps,
            width=width,
            height=height,
            rotation_deg=rotation,
            video_codec=vstream.codec_context.name if vstream is not None else None,
            audio_codec=astream.codec_context.name if astream is not None else None,
            audio_sample_rate=astream.rate if astream is not None else None,
            audio_channels=astream.channels if astream is not None else None,
            size_bytes=p.stat().st_size,
        )


def _duration_s(container, vstream, astream) -> float:
    """Best duration estimate: container header, else the longest stream's header."""
    if container.duration:
        return container.duration / av.time_base
    best = 0.0
    for s in (vstream, astream):
        if s is not None and s.duration and s.time_base:
            best = max(best, float(s.duration * s.time_base))
    return best
