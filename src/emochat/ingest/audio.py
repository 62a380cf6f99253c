"""Decode the first audio track to 16 kHz mono float32, streamed in chunks.

Every audio stage works at :data:`SAMPLE_RATE`; :func:`iter_audio_chunks` keeps
memory bounded for long media and :func:`load_audio` is the convenience for
clips short enough to hold whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np

from emochat.core.errors import MediaError
from emochat.ingest.media import (
    TRUNCATION_GAP_S,
    declared_end_s,
    open_container,
    stream_start_s,
    timeline_origin_s,
    wav_declared_seconds,
)

SAMPLE_RATE = 16_000


def iter_audio_chunks(
    path: str | Path, chunk_s: float = 30.0, sample_rate: int = SAMPLE_RATE
) -> Iterator[np.ndarray]:
    """Yield consecutive mono float32 chunks of ``chunk_s`` seconds (the last may be shorter).

    Chunks are contiguous in time from the media's time 0 (:func:`timeline_origin_s`):
    when the audio stream starts after the video, silence fills the time before it, so
    a sample's time is where it is heard against the frames. A decoding error
    mid-stream (a cut or damaged file), or a stream ending over ``TRUNCATION_GAP_S`` before
    its declared duration, first yields the audio decoded before it, then raises
    :class:`MediaError` naming the time decoding stopped.
    """
    p = Path(path)
    chunk_len = max(1, int(round(chunk_s * sample_rate)))
    container = open_container(p)
    try:
        if not container.streams.audio:
            return
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        pending: list[np.ndarray] = []
        n_pending = 0

        def resampled(frames):
            for out in frames:
                yield out.to_ndarray().reshape(-1)

        origin = timeline_origin_s(container)
        lead = int(round(max(0.0, stream_start_s(stream) - origin) * sample_rate))

        def decoded():
            for begin in range(0, lead, chunk_len):  # silence before the audio starts
                yield np.zeros(min(chunk_len, lead - begin), np.float32)
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler count samples itself
                yield from resampled(resampler.resample(frame))
            yield from resampled(resampler.resample(None))

        n_yielded = 0
        failure = None
        try:
            for samples in decoded():
                pending.append(samples)
                n_pending += samples.size
                while n_pending >= chunk_len:
                    block = np.concatenate(pending)
                    yield block[:chunk_len].astype(np.float32, copy=False)
                    n_yielded += chunk_len
                    rest = block[chunk_len:]
                    pending, n_pending = ([rest], rest.size) if rest.size else ([], 0)
        except av.error.FFmpegError as exc:
            failure = exc.strerror or str(exc)
        if n_pending:
            yield np.concatenate(pending).astype(np.float32, copy=False)
            n_yielded += n_pending
        if failure is not None:
            stopped = f" at {n_yielded / sample_rate:.1f} s" if n_yielded else ""
            raise MediaError(p, f"audio decoding failed{stopped}: {failure}")
        declared = declared_end_s(container, stream) - origin
        if container.format.name == "wav":
            declared = max(declared, wav_declared_seconds(p) or 0.0)
        if n_yielded and declared - n_yielded / sample_rate > TRUNCATION_GAP_S:
            raise MediaError(
                p,
                f"audio decoding stopped at {n_yielded / sample_rate:.1f} s of {declared:.1f} s "
                "(the file is truncated or damaged)",
            )
    except av.error.FFmpegError as exc:  # before any frame: the stream or resampler
        raise MediaError(p, f"audio decoding failed: {exc.strerror or exc}") from None
    finally:
        container.close()


def load_audio(
    path: str | Path,
    sample_rate: int = SAMPLE_RATE,
    on_damage: Callable[[MediaError], None] | None = None,
) -> np.ndarray:
    """Whole audio track as mono float32 at ``sample_rate`` (empty if there is none).

    ``on_damage``: when decoding fails part-way (a cut file), it is given the error and
    the audio decoded before it is returned; without it (or when nothing decoded) the
    :class:`MediaError` is raised.
    """
    chunks: list[np.ndarray] = []
    try:
        chunks.extend(iter_audio_chunks(path, sample_rate=sample_rate))
    except MediaError as exc:
        if on_damage is None or not chunks:
            raise
        on_damage(exc)
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


class AudioTrack:
    """16 kHz mono float32 audio read by sample range, from an unnamed temporary file
    (:func:`decode_audio`) or an array (:meth:`from_array`).

    The voice stage reads only the chunks and spans it works on, so its memory does not
    grow with the media's length (a 6-h track is 1.4 GB as float32). Reads are copies
    (``readinto``), not a memory map: mapped pages would count in the process's RSS.
    """

    def __init__(self, size: int, file=None, array: np.ndarray | None = None):
        self.size = int(size)
        self._file = file
        self._array = array

    @classmethod
    def from_array(cls, audio: np.ndarray) -> AudioTrack:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        return cls(audio.size, array=audio)

    @property
    def duration_s(self) -> float:
        return self.size / SAMPLE_RATE

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples [start, stop) clipped to the track, as a float32 array."""
        start, stop = max(0, int(start)), min(self.size, int(stop))
        if stop <= start:
            return np.zeros(0, dtype=np.float32)
        if self._array is not None:
            return self._array[start:stop]
        out = np.empty(stop - start, dtype=np.float32)
        self._file.seek(start * 4)
        got = self._file.readinto(memoryview(out).cast("B"))
        if got != out.nbytes:
            raise OSError(f"audio scratch file: read {got} of {out.nbytes} bytes")
        return out

    def __getitem__(self, key: slice) -> np.ndarray:
        """``track[a:b]``, as slicing an array would give (steps are not supported)."""
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("AudioTrack supports contiguous slices only")
        start, stop, _ = key.indices(self.size)
        return self.read(start, stop)

    def chunks(self, chunk: int = 30 * SAMPLE_RATE) -> Iterator[np.ndarray]:
        """Consecutive pieces of ``chunk`` samples (the last may be shorter)."""
        for a in range(0, self.size, chunk):
            yield self.read(a, a + chunk)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._array = None

    def __enter__(self) -> AudioTrack:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def decode_audio(
    path: str | Path,
    directory: str | Path | None = None,
    on_damage: Callable[[MediaError], None] | None = None,
) -> AudioTrack:
    """The audio track decoded once, streamed, into an unnamed temporary file (in
    ``directory``, default the system's temporary folder; the file disappears when the
    track is closed or the process ends). ``on_damage`` as in :func:`load_audio`."""
    import tempfile

    fh = tempfile.TemporaryFile(dir=directory, prefix="emochat-audio-")
    size = 0
    try:
        try:
            for chunk in iter_audio_chunks(path):
                fh.write(np.ascontiguousarray(chunk, dtype="<f4").tobytes())
                size += chunk.size
        except MediaError as exc:
            if on_damage is None or not size:
                raise
            on_damage(exc)
        fh.flush()
    except BaseException:
        fh.close()
        raise
    return AudioTrack(size, file=fh)
