"""Open any media ffmpeg can decode and describe it, without reading it all.

Everything downstream works on :class:`MediaInfo` plus the streaming readers in
:mod:`emochat.ingest.video` and :mod:`emochat.ingest.audio`. Still images are
accepted as one-frame media so a photo can go through the face stages.
"""

from __future__ import annotations

import math
import struct
from dataclasses import asdict, dataclass
from pathlib import Path

import av

from emochat.core.errors import MediaError
from emochat.core.files import IMAGE_SUFFIXES, input_file_problem

IMAGE_FORMATS = frozenset({"image2", "png_pipe", "jpeg_pipe"})
"""ffmpeg's demuxers of still images."""
MAX_IMAGE_PIXELS = 150_000_000
"""Largest image or video frame analysed (width x height). A 108-MP phone photo passes;
past it one RGB copy is over 450 MB and a decoder holds several (a 20000x20000 PNG took
2.45 GB in ``predict face``). ffmpeg itself refuses frames of about 268 Mpx."""


TRUNCATION_GAP_S = 1.0
"""A stream ending this much before its declared duration is a cut file (an mp4 cut at 50%,
or a WAV whose header still counts the missing samples, decodes its first part without an
error)."""


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
    """``av.open`` with the failure modes translated into one-line :class:`MediaError`;
    an image over :data:`MAX_IMAGE_PIXELS` is refused from its header."""
    p = Path(path)
    problem = input_file_problem(p)
    if problem is not None:
        raise MediaError(p, problem)
    if p.stat().st_size == 0:
        raise MediaError(p, "file is empty (0 bytes)")
    size = image_size(p)  # before ffmpeg, which decodes a whole image to learn its size
    if size is not None:
        check_image_pixels(p, *size)
    try:
        return av.open(str(p), metadata_errors="ignore")
    except av.error.InvalidDataError:
        raise MediaError(p, "not a media file ffmpeg can read (invalid data)") from None
    except av.error.FFmpegError as exc:
        raise MediaError(p, f"cannot open media: {exc.strerror or exc}") from None


CUT_TAIL_BYTES = 64 * 1024
"""How far from a file's end :func:`image_is_cut` looks for the end marker (cameras may
append a thumbnail or maker data after it)."""


def image_size(path: str | Path) -> tuple[int, int] | None:
    """(width, height) from a PNG, JPEG, GIF, BMP or WebP header, without decoding the
    pixels; None for other formats or a header we cannot read (the decoder then judges)."""
    try:
        return _header_size(path)
    except struct.error:  # a header cut short
        return None


def _header_size(path: str | Path) -> tuple[int, int] | None:
    with open(path, "rb") as fh:
        head = fh.read(32)
        if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
            return struct.unpack(">II", head[16:24])
        if head[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", head[6:10])
        if head.startswith(b"BM") and len(head) >= 26:
            width, height = struct.unpack("<ii", head[18:26])
            return abs(width), abs(height)
        if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
            return _webp_size(head)
        if head.startswith(b"\xff\xd8"):
            fh.seek(2)
            return _jpeg_size(fh)
    return None


def image_is_cut(path: str | Path) -> bool:
    """Whether a JPEG or PNG file lacks its end marker (EOI, IEND) near its end: a cut file,
    which decoders fill with grey without an error."""
    with open(path, "rb") as fh:
        head = fh.read(8)
        fh.seek(0, 2)
        fh.seek(max(0, fh.tell() - CUT_TAIL_BYTES))
        tail = fh.read()
    if head.startswith(b"\xff\xd8"):
        return b"\xff\xd9" not in tail
    if head.startswith(b"\x89PNG"):
        return b"IEND" not in tail
    return False


def footage_stream(container):
    """The first video stream that is footage, or None. An audio file's cover art (an
    MP3's or M4A's picture, stored as a one-frame video stream marked ``attached_pic``)
    is not: a podcast with a cover is audio only, not a video cut after one frame."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    return None


def stream_start_s(stream) -> float:
    """The stream's start time on the container's clock, in seconds (0.0 when unknown)."""
    return float(stream.start_time * stream.time_base) if stream.start_time else 0.0


def timeline_origin_s(container) -> float:
    """Where the report's time 0 lies on the container's clock, in seconds: the start of
    whichever of the footage and the (first) audio stream starts first. Each stream's
    samples are placed from there, so a video whose audio starts 2.4 s after its first
    frame (face_noface.mov) keeps the voice where it is heard, not 2.4 s early."""
    starts = [
        stream_start_s(stream)
        for stream in (footage_stream(container), *container.streams.audio[:1])
        if stream is not None and stream.start_time is not None
    ]
    return min(starts, default=0.0)


def declared_end_s(container, stream) -> float:
    """Where ``stream`` declares it ends on the container's clock, in seconds (0.0:
    unknown), for comparing with what decodes.

    Its start plus its duration; in an AVI also its header's chunk count (``strh``
    length, in the stream's time base), and in Matroska/WebM its ``DURATION`` tag (ffmpeg
    and mkvmerge write one per track, the end of its last block). ffmpeg times an AVI by
    the index at the file's end and gives Matroska streams no duration, so a cut file of
    either kind decoded silently.
    """
    tb = stream.time_base
    start = stream_start_s(stream)
    end = start + float(stream.duration * tb) if stream.duration and tb else 0.0
    if container.format.name == "avi" and stream.frames and tb:
        end = max(end, start + float(stream.frames * tb))
    elif "matroska" in container.format.name:
        end = max(end, _clock_seconds(stream.metadata.get("DURATION", "")))
    return end


def _clock_seconds(text: str) -> float:
    """'HH:MM:SS.fraction' in seconds (0.0 when not such a time)."""
    parts = text.strip().split(":")
    try:
        if len(parts) != 3:
            return 0.0
        seconds = int(parts[0]) * 3600 + int(parts[1]) * 60 + float(parts[2])
    except ValueError:
        return 0.0
    return seconds if math.isfinite(seconds) and seconds >= 0 else 0.0


def wav_declared_seconds(path: str | Path) -> float | None:
    """The length a RIFF/WAVE file's header declares (its data chunk's size over the byte
    rate), for comparing with what decodes: ffmpeg trusts the file's size instead, so a cut
    WAV decodes its first part silently. None when not a WAV or the size is a placeholder
    (streaming writers leave 0 or 0xFFFFFFFF)."""
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        byte_rate = None
        for _ in range(64):  # chunks before "data": fmt, LIST, fact, ...
            chunk = fh.read(8)
            if len(chunk) < 8:
                return None
            name, size = chunk[:4], int.from_bytes(chunk[4:], "little")
            if name == b"data":
                if not byte_rate or size in (0, 0xFFFFFFFF):
                    return None
                return size / byte_rate
            body = fh.read(min(size, 64)) if name == b"fmt " else b""
            if name == b"fmt " and len(body) >= 12:
                byte_rate = int.from_bytes(body[8:12], "little")
            fh.seek(size + (size & 1) - len(body), 1)
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X":
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if chunk == b"VP8L":
        bits = int.from_bytes(head[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


def _jpeg_size(fh) -> tuple[int, int] | None:
    """Walk the JPEG markers to the first start-of-frame (SOF0-15 but DHT, JPG, DAC)."""
    while True:
        marker = fh.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        if marker[1] in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            continue
        length = fh.read(2)
        if len(length) < 2:
            return None
        size = int.from_bytes(length, "big")
        if 0xC0 <= marker[1] <= 0xCF and marker[1] not in (0xC4, 0xC8, 0xCC):
            frame = fh.read(5)
            if len(frame) < 5:
                return None
            height, width = struct.unpack(">HH", frame[1:5])
            return width, height
        fh.seek(size - 2, 1)


def check_image_pixels(path: str | Path, width: int, height: int) -> None:
    """Refuse an image or frame over :data:`MAX_IMAGE_PIXELS`, naming its size."""
    if width * height > MAX_IMAGE_PIXELS:
        raise MediaError(
            path,
            f"image is {width}x{height} ({width * height / 1e6:.0f} Mpx), over the "
            f"{MAX_IMAGE_PIXELS / 1e6:.0f} Mpx limit",
        )


def _rotation(stream: av.video.stream.VideoStream, first_frame: av.VideoFrame | None) -> int:
    """Display rotation in degrees (0/90/180/270), from the first frame's display matrix."""
    rot = int(round(getattr(first_frame, "rotation", 0) or 0)) if first_frame is not None else 0
    return rot % 360


def probe(path: str | Path) -> MediaInfo:
    """Describe ``path``; raises :class:`MediaError` if it has nothing we can decode."""
    p = Path(path)
    is_image = p.suffix.lower() in IMAGE_SUFFIXES
    with open_container(p) as container:
        vstream = footage_stream(container)
        astream = container.streams.audio[0] if container.streams.audio else None
        if vstream is None and astream is None:
            raise MediaError(p, "no video or audio stream")
        is_image = is_image or container.format.name in IMAGE_FORMATS

        first = None
        if vstream is not None:
            check_image_pixels(p, vstream.codec_context.width, vstream.codec_context.height)
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
