"""Cue extraction with the shipped single-modality models (loaded on first use).

* face: AU intensities (a face crop: the mesh model and the AU geometry against the
  population neutral, as a photo; a clip: the face tracker and the AU Agent) and the
  FER2013 expression CNN.
* voice: the speech-emotion model's whisper-base features and probabilities.
* text: the text model's e5 embedding and probabilities.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from emochat.core.action_units import AU_CODES
from emochat.core.labels import BASIC_LABELS
from emochat.models.emochat_llm.cues import ModalityCue, face_vector

MIN_FACE_PRESENCE = 0.5
"""Mesh-model face presence (0-1) below which a crop's AUs count as not measured."""


class CueExtractor:
    """One place that holds the models; every method returns ModalityCue or None."""

    def __init__(self):
        self._face = self._landmarker = self._speech = self._text = None

    # ------------------------------------------------------------------ face
    @property
    def expression(self):
        if self._face is None:
            from emochat.face.expression import ExpressionModel

            self._face = ExpressionModel.load()
        return self._face

    @property
    def landmarker(self):
        if self._landmarker is None:
            from emochat.face.landmarker import Landmarker

            self._landmarker = Landmarker(with_iris=False)
        return self._landmarker

    def _crop_aus(self, crop: np.ndarray) -> dict[str, float]:
        """AUs of a tight face crop, judged against the population neutral (as a photo).

        The crop is the face region itself, so the mesh model runs on it directly (the
        face detector misses most 48 px crops) and once more on the region its own
        landmarks give. Empty when the mesh model sees no face.
        """
        from emochat.face.au.baseline import population_prior
        from emochat.face.au.geometry import frontal_landmarks, intensities, measure
        from emochat.face.landmarker import MESH_SIZE, Region, region_from_landmarks

        big = cv2.resize(crop, (MESH_SIZE, MESH_SIZE), interpolation=cv2.INTER_CUBIC)
        rgb = np.ascontiguousarray(np.repeat(big[:, :, None], 3, axis=2))
        centre = MESH_SIZE / 2
        points, _ = self.landmarker.run(rgb, Region(centre, centre, MESH_SIZE * 1.5, 0.0))
        points, presence = self.landmarker.run(rgb, region_from_landmarks(points))
        if presence < MIN_FACE_PRESENCE:
            return {}
        prior = population_prior()
        value = intensities(measure(frontal_landmarks(points)[0]), prior.median, prior.spread)
        return {c: round(float(v), 2) for c, v in zip(AU_CODES, value, strict=True)}

    def face_crop(self, gray: np.ndarray) -> ModalityCue:
        """A FER2013-style grey crop: AUs when the mesh finds the face, CNN probs always."""
        from emochat.face.expression import fit_crop

        crop = fit_crop(gray)
        probs = self.expression.predict(crop[None])[0]
        return self._face_cue(self._crop_aus(crop), probs)

    def face_frames(self, frames: Iterable) -> ModalityCue | None:
        """A clip's frames: the first face's mean AUs (AU Agent, its own neutral) and mean
        CNN probs over its aligned crops; None when no face is seen."""
        from emochat.face.au.agent import AUAgent
        from emochat.face.expression import crop_aligned
        from emochat.face.tracker import FaceTracker

        tracker, agent, crops = FaceTracker(max_faces=1), AUAgent(), []
        for frame in frames:
            for obs in tracker.process(frame)[:1]:
                agent.update(obs)
                crops.append(crop_aligned(frame.rgb, obs.landmarks))
        tracks = agent.finalize().tracks
        if not crops or not tracks:
            return None
        mean = tracks[min(tracks)].intensity.mean(axis=0)
        au = {c: round(float(v), 2) for c, v in zip(AU_CODES, mean, strict=True)}
        probs = self.expression.predict(np.stack(crops)).mean(axis=0)
        return self._face_cue(au, probs)

    @staticmethod
    def _face_cue(au: dict[str, float], probs: np.ndarray) -> ModalityCue:
        return ModalityCue(
            vector=face_vector(au, probs),
            probs={lab: round(float(p), 4) for lab, p in zip(BASIC_LABELS, probs, strict=True)},
            au=au,
        )

    # ----------------------------------------------------------------- voice
    def voice(self, audio: np.ndarray) -> ModalityCue | None:
        """16 kHz mono speech; None when there is less than the model's minimum."""
        from emochat.voice.speech_emotion import MIN_SECONDS, SAMPLE_RATE, SpeechEmotionModel

        if audio.size < MIN_SECONDS * SAMPLE_RATE:
            return None
        if self._speech is None:
            self._speech = SpeechEmotionModel.load()
        feats = self._speech.features(audio).astype(np.float32)
        probs = self._speech.predict_features(feats)[0]
        labels = self._speech.labels
        return ModalityCue(
            vector=feats,
            probs={lab: round(float(p), 4) for lab, p in zip(labels, probs, strict=True)},
        )

    # ------------------------------------------------------------------ text
    def text(self, texts: Sequence[str]) -> list[ModalityCue | None]:
        """One cue per utterance (None for an empty one), encoded in one batch."""
        if self._text is None:
            from emochat.text.model import TextEmotionModel

            self._text = TextEmotionModel.load()
        texts = [str(t) for t in texts]
        keep = [i for i, t in enumerate(texts) if t.strip()]
        out: list[ModalityCue | None] = [None] * len(texts)
        if not keep:
            return out
        said = [texts[i] for i in keep]
        emb = self._text.embed(said)
        probs = self._text._proba_from(emb, None, None, None)
        cue = self._text.cue_embed(said, embedded=emb)  # frozen e5, not the tuned encoder
        for j, i in enumerate(keep):
            out[i] = ModalityCue(
                vector=cue[j].astype(np.float32),
                probs={
                    lab: round(float(p), 4)
                    for lab, p in zip(self._text.labels, probs[j], strict=True)
                },
                words=texts[i],
            )
        return out
