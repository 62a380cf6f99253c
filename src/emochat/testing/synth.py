"""Synthetic media for tests and benchmarks, written with PyAV (no system ffmpeg needed).

Frames are a moving gradient (cheap to make, non-trivial to encode); audio is a
tone, silence or whatever samples the caller passes.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def tone(duration_s: float, freq_hz: float = 220.0, sample_rate: int = 16_000, amp: float = 0.3):
    t = np.arange(int(duration_s * sample_rate)) / sample_rate
    return (amp * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def _pattern(width: int, height: int, n: int = 16) -> list[np.ndarray]:
    """``n`` distinct frames to cycle through (so encoders see motion)."""
    yy, xx = np.mgrid[0:height, 0:width]
    frames = []
    for k in range(n):
        r = ((xx + 8 * k) % 256).astype(np.uint8)
        g = ((yy + 4 * k) % 256).astype(np.uint8)
        b = np.full_like(r, (16 * k) % 256)
        frames.append(np.ascontiguousarray(np.stack([r, g, b], axis=-1)))
    return frames


def write_media(
    path: str | Path,
    duration_s: float = 2.0,
    *,
    video: bool = True,
    width: int = 320,
    height: int = 240,
    fps: int = 25,
    video_codec: str = "libx264",
    frame_times_s: list[float] | None = None,
    audio: np.ndarray | None = None,
    audio_rate: int = 16_000,
    audio_codec: str = "aac",
    audio_layout: str = "mono",
    images: list[np.ndarray] | None = None,
    rotation_deg: int = 0,
    container_options: dict[str, str] | None = None,
    cover: np.ndarray | None = None,
    audio_start_s: float = 0.0,
) -> Path:
    """Write a clip; ``frame_times_s`` gives explicit (e.g. variable-rate) frame times.

    ``audio`` is mono float32 at ``audio_rate``; it is duplicated across channels
    when ``audio_layout`` has more than one. ``images`` (HxWx3 uint8) replace the
    synthetic pattern and are cycled. ``rotation_deg`` writes a display matrix as
    phones do; ``container_options`` go to the muxer (e.g. ``movflags=faststart``).
    ``cover`` (HxWx3 uint8, even sides) is stored as cover art, as taggers write it into
    MP3 and M4A files: one JPEG frame in a video stream marked ``attached_pic``.
    ``audio_start_s`` delays the audio stream's first sample on the container's clock.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", options=container_options or {}) as out:
        vstream = astream = None
        if video:
            time_base = Fraction(1, 1000) if frame_times_s is not None else Fraction(1, fps)
            vstream = out.add_stream(video_codec, rate=fps)
            vstream.width, vstream.height = width, height
            vstream.pix_fmt = "rgb8" if video_codec == "gif" else "yuv420p"
            vstream.time_base = time_base
            vstream.codec_context.time_base = time_base
            if rotation_deg:
                vstream.set_display_rotation(rotation_deg)
            if video_codec in ("libx264", "libx265"):
                vstream.options = {"preset": "ultrafast", "x265-params": "log-level=none"}
        if audio is not None:
            astream = out.add_stream(audio_codec, rate=audio_rate, layout=audio_layout)
        if cover is not None:
            art = out.add_stream("mjpeg")
            art.height, art.width = cover.shape[:2]
            art.pix_fmt = "yuvj420p"
            art.disposition = av.stream.Disposition.attached_pic
            out.mux(art.encode(av.VideoFrame.from_ndarray(cover, format="rgb24")))
            out.mux(art.encode(None))
        if vstream is not None:
            pattern = images or _pattern(width, height)
            times = (
                frame_times_s
                if frame_times_s is not None
                else [i / fps for i in range(max(1, int(round(duration_s * fps))))]
            )
            for i, t in enumerate(times):
                frame = av.VideoFrame.from_ndarray(pattern[i % len(pattern)], format="rgb24")
                frame.pts = int(round(t / vstream.time_base))
                frame.time_base = vstream.time_base
                out.mux(vstream.encode(frame))
            out.mux(vstream.encode(None))
        if astream is not None:
            n_channels = (
                astream.layout.nb_channels
                if hasattr(astream.layout, "nb_channels")
                else len(astream.layout.channels)
            )
            block = 1024
            for start in range(0, audio.size, block):
                chunk = audio[start : start + block].astype(np.float32)
                planar = np.repeat(chunk[None, :], n_channels, axis=0)
                frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=audio_layout)
                frame.sample_rate = audio_rate
                frame.pts = start + int(round(audio_start_s * audio_rate))
                out.mux(astream.encode(frame))
            out.mux(astream.encode(None))
    return path


def espeak(
    text: str, wpm: int = 160, voice: str = "en-us", sample_rate: int = 16_000
) -> np.ndarray:
    """Speech for ``text`` from the espeak-ng program, mono float32 at ``sample_rate``.

    Raises RuntimeError naming the missing program (tests turn that into a failure).
    """
    import shutil
    import subprocess
    import tempfile

    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run([exe, "-v", voice, "-s", str(wpm), "-w", str(wav), text], check=True)
        from emochat.ingest import load_audio

        return load_audio(wav, sample_rate=sample_rate)


def even_sized(images: list[np.ndarray]) -> list[np.ndarray]:
    """The images cropped to an even width and height (the first image's, rounded down),
    as yuv420p video needs."""
    h, w = images[0].shape[:2]
    return [np.ascontiguousarray(im[: h // 2 * 2, : w // 2 * 2]) for im in images]


def mux_with_video(
    video: str | Path, audio: np.ndarray, path: str | Path, sample_rate: int = 16_000, fps: int = 15
) -> Path:
    """A clip whose picture loops ``video``'s frames for as long as ``audio`` lasts."""
    from emochat.ingest import iter_frames

    frames = even_sized([f.rgb for f in iter_frames(video, fps=fps, max_side=640)])
    height, width = frames[0].shape[:2]
    return write_media(
        path,
        audio.size / sample_rate,
        width=width,
        height=height,
        fps=fps,
        images=frames,
        audio=audio,
        audio_rate=sample_rate,
    )


def huge_png(path: Path, width: int, height: int) -> Path:
    """A valid grey PNG of ``width`` x ``height`` in a few hundred KB (rows of zeros
    compress 1000:1): a decompression bomb for the image size limits."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    packer = zlib.compressobj(9)
    row = bytes(width + 1)  # the filter byte, then one byte per pixel
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    Path(path).write_bytes(
        signature + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
    return Path(path)
