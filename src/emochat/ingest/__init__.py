"""Ingest: probe media and stream its frames and audio (PyAV, bundled ffmpeg)."""

from emochat.ingest.audio import (
    SAMPLE_RATE,
    AudioTrack,
    decode_audio,
    iter_audio_chunks,
    load_audio,
)
from emochat.ingest.media import MediaInfo, probe
from emochat.ingest.video import Frame, iter_frames, iter_frames_in

__all__ = [
    "SAMPLE_RATE",
    "AudioTrack",
    "Frame",
    "MediaInfo",
    "decode_audio",
    "iter_audio_chunks",
    "iter_frames",
    "iter_frames_in",
    "load_audio",
    "probe",
]
