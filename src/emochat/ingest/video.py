"""Stream video frames with their real timestamps, in bounded memory.

Frames are picked by time, not by index, so a variable-frame-rate phone video is
sampled evenly; rotation metadata is applied; large frames are scaled down in
ffmpeg's scaler before they reach numpy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from emochat.core.errors import MediaError
from emochat.ingest.media import (
    IMAGE_FORMATS,
    TRUNCATION_GAP_S,
    declared_end_s,
    footage_stream,
    image_is_cut,
    open_container,
    stream_start_s,
    timeline_origin_s,
)


@dataclass(frozen=True)
class Frame:
    """One decoded frame: ``rgb`` is HxWx3 uint8, upright; ``t_s`` seconds from media start."""

    index: int
    t_s: float
    rgb: np.ndarray

    @property
    def width(self) -> int:
        return self.rgb.shape[1]

    @property
    def height(self) -> int:
        return self.rgb.shape[0]


def _scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    if not max_side or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    # even sizes keep swscale's yuv420 paths fast and exact
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _upright(rgb: np.ndarray, rotation_deg: int) -> np.ndarray:
    """Apply a display rotation (counter-clockwise degrees, as ffmpeg reports it)."""
    turns = (rotation_deg // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k=turns)) if turns else rgb


def frame_rgb(frame, max_side: int | None) -> np.ndarray:
    """A decoded picture as upright RGB, scaled so its longer side is at most ``max_side``
    (as every frame is analysed)."""
    w, h = _scaled_size(frame.width, frame.height, max_side)
    return _upright(frame.to_ndarray(format="rgb24", width=w, height=h), int(frame.rotation or 0))


def _video_stream(container) -> tuple:
    """The first footage stream (:func:`footage_stream`), decoded with threads, and the
    time its frames are reported from (:func:`timeline_origin_s`); (None, 0.0) when there
    is none."""
    stream = footage_stream(container)
    if stream is None:
        return None, 0.0
    stream.thread_type = "AUTO"
    return stream, timeline_origin_s(container)


def _to_frame(frame, index: int, t_s: float, max_side: int | None) -> Frame:
    return Frame(index=index, t_s=round(t_s, 6), rgb=frame_rgb(frame, max_side))


def iter_frames(
    path: str | Path,
    fps: float | None = None,
    max_side: int | None = 1280,
    start_s: float = 0.0,
    end_s: float | None = None,
) -> Iterator[Frame]:
    """Yield upright RGB frames, at most ``fps`` per second of media time (all if None).

    ``index`` counts decoded frames in the stream (the OpenFace ``frame`` column
    minus one), so it stays meaningful when frames are skipped. A stream that ends well
    before its declared duration raises :class:`MediaError` after its last frame, naming
    the time decoding stopped.
    """
    p = Path(path)
    container = open_container(p)
    try:
        stream, start_time = _video_stream(container)
        if stream is None:
            return
        period = 1.0 / fps if fps else 0.0
        next_t = start_s
        last_t = -1.0
        for index, frame in enumerate(container.decode(stream)):
            t = (float(frame.time) if frame.time is not None else index / 30.0) - start_time
            if t < last_t:  # broken or reordered timestamps: keep time monotonic
                t = last_t + 1e-3
            last_t = t
            if end_s is not None and t > end_s:
                return
            if t + 1e-6 < next_t:
                continue
            next_t = (t if next_t < t - period else next_t) + period if period else t
            yield _to_frame(frame, index, t, max_side)
        if container.format.name in IMAGE_FORMATS and image_is_cut(p):
            raise MediaError(p, "image data ends early (the file is truncated): part is missing")
        declared = max(0.0, declared_end_s(container, stream) - start_time)  # on our clock
        if declared - max(last_t, 0.0) > TRUNCATION_GAP_S:
            raise MediaError(
                p,
                f"video decoding stopped at {max(last_t, 0.0):.1f} s of {declared:.1f} s "
                "(the file is truncated or damaged)",
            )
    except av.error.FFmpegError as exc:
        raise MediaError(p, f"video decoding failed: {exc.strerror or exc}") from None
    finally:
        container.close()


SEEK_AHEAD_S = 5.0
""":func:`iter_frames_in` seeks (to the keyframe before a window) rather than decode on
when the next window starts more than this beyond the frame last decoded."""


def iter_frames_in(
    path: str | Path,
    windows: list[tuple[float, float]],
    max_side: int | None = 1280,
) -> Iterator[tuple[int, Frame]]:
    """Every decoded frame inside the given time windows, with the window's position.

    Windows are sorted by start and do not overlap. Frames between windows are decoded
    but never converted to RGB; a window more than :data:`SEEK_AHEAD_S` ahead is reached
    by seeking to the keyframe before it, so the cost is about one group of pictures per
    window, not a decode of the whole file. After a seek ``index`` is the stream's
    position estimated from the time and the average frame rate (exact for constant-rate
    video), counting on by one per decoded frame, so within a window consecutive frames
    always have consecutive indices. Damaged files end the stream quietly (the caller
    has already analysed what decodes).
    """
    if not windows:
        return
    p = Path(path)
    container = open_container(p)
    try:
        stream, start_time = _video_stream(container)
        if stream is None:
            return
        rate = float(stream.average_rate or 30)
        frames, index, last_t, pending = None, -1, -1.0, None
        for k, (a, b) in enumerate(windows):
            if frames is None or a - max(last_t, 0.0) > SEEK_AHEAD_S:
                if a > SEEK_AHEAD_S:
                    target = int((a + start_time) / stream.time_base)
                    container.seek(target, stream=stream, backward=True, any_frame=False)
                    index, last_t, pending = None, -1.0, None
                frames = container.decode(stream)
            while True:
                if pending is not None:
                    (t, frame_index, frame), pending = pending, None
                else:
                    frame = next(frames, None)
                    if frame is None:
                        return
                    t = (
                        float(frame.time) - start_time
                        if frame.time is not None
                        else last_t + 1 / rate
                    )
                    t = last_t + 1e-3 if t < last_t else t
                    last_t = t
                    own_t = t + start_time - stream_start_s(stream)  # from the first frame
                    index = round(own_t * rate) if index is None else index + 1
                    frame_index = index
                if t + 1e-6 < a:
                    continue
                if t > b + 1e-6:
                    pending = (t, frame_index, frame)
                    break
                yield k, _to_frame(frame, frame_index, t, max_side)
    except av.error.FFmpegError:
        return
    finally:
        container.close()
