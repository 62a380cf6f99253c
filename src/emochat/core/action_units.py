"""The FACS action units emochat reports: their OpenFace codes and FACS names.

The vocabulary only, so that the AU Agent (``emochat.face.au``, which measures them),
the reasoners and the emochat-llm cue vectors (which read them) share one list without
the models importing the face modality; how each unit is measured is
``emochat.face.au.definitions``.
"""

from __future__ import annotations

AU_LABELS: dict[str, str] = {
    "AU01": "inner brow raiser",
    "AU02": "outer brow raiser",
    "AU04": "brow lowerer",
    "AU05": "upper lid raiser",
    "AU06": "cheek raiser",
    "AU07": "lid tightener",
    "AU09": "nose wrinkler",
    "AU10": "upper lip raiser",
    "AU12": "lip corner puller",
    "AU14": "dimpler",
    "AU15": "lip corner depressor",
    "AU17": "chin raiser",
    "AU20": "lip stretcher",
    "AU23": "lip tightener",
    "AU25": "lips part",
    "AU26": "jaw drop",
    "AU45": "blink",
}
"""OpenFace column stem -> FACS name, in the order of every AU table and vector."""
AU_CODES: tuple[str, ...] = tuple(AU_LABELS)
