"""The face + AU Agent stage as the pipeline runs it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from emochat.core.errors import MediaError
from emochat.face import FaceTracker
from emochat.face.au import AUAgent, FaceAnalysis, analyze_faces, refine_micro
from emochat.face.au.micro import sampling_period
from emochat.face.expression import frame_views
from emochat.ingest import Frame, iter_frames
from emochat.models import registry
from emochat.options import MAX_FACES_LIMIT
from emochat.pipeline.contract import AnalysisContext, StageSkipped


def _keep_decoded(frames: Iterator[Frame], ctx: AnalysisContext) -> Iterator[Frame]:
    """Stop at a decoding error but keep the frames before it (truncated files)."""
    try:
        yield from frames
    except MediaError as exc:
        ctx.report.warn("ingest", "decode_error", f"{exc.problem}; the frames before it are kept")


EXPRESSION_BATCH = 16
"""Face crops classified per expression-model call. One frame's face alone is a batch of
4 views, where onnxruntime spends more on each call than on the network; 16 crops (64
views) take about half the CPU per crop, and the probabilities are the same."""


class _ExpressionTap:
    """A FaceTracker that also classifies each tracked face's aligned crop as frames pass.

    Crops wait (48x48 grey each) until :data:`EXPRESSION_BATCH` are ready, then go to the
    expression network on a worker thread while the tracker reads the next frames (both
    onnxruntime and LiteRT let go of the GIL, so on 2 cores the two overlap); one batch at
    a time is in flight, and results are kept in frame order. Keeps only 7 probabilities
    per face and frame, so memory stays bounded. :meth:`close` stops the worker.
    """

    def __init__(self, tracker, model, batch: int = EXPRESSION_BATCH):
        self.tracker = tracker
        self.model = model
        self.batch = batch
        self.records: dict[int, list[tuple[float, np.ndarray]]] = defaultdict(list)
        self._waiting: list[tuple[int, float]] = []  # (face_id, t_s) of the crops below
        self._crops: list[np.ndarray] = []
        self._quality: list[float] = []
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="expression")
        self._in_flight: tuple[list[tuple[int, float]], Future] | None = None

    def process(self, frame: Frame):
        observations = self.tracker.process(frame)
        if observations:
            crops, quality = frame_views(frame.rgb, [o.landmarks for o in observations])
            self._crops += crops
            self._quality += quality
            self._waiting += [(o.face_id, o.t_s) for o in observations]
            if len(self._crops) >= self.batch:
                self._send()
        return observations

    def _send(self) -> None:
        """Hand the waiting crops to the worker (after taking in the batch before)."""
        self._take_in()
        future = self._worker.submit(self.model.predict_views, self._crops, self._quality)
        self._in_flight = (self._waiting, future)
        self._waiting, self._crops, self._quality = [], [], []

    def _take_in(self) -> None:
        """Wait for the batch in flight, if any, and file its probabilities."""
        if self._in_flight is None:
            return
        waiting, future = self._in_flight
        self._in_flight = None
        for (face_id, t_s), p in zip(waiting, future.result(), strict=True):
            self.records[face_id].append((t_s, p))

    def flush(self) -> None:
        """Classify the crops still waiting, and wait until every crop is classified."""
        if self._crops:
            self._send()
        self._take_in()

    def close(self) -> None:
        """Stop the worker (a batch in flight is dropped: the stage has failed)."""
        self._worker.shutdown(wait=False, cancel_futures=True)

    def __getattr__(self, name):
        return getattr(self.tracker, name)

    def to_report(self) -> dict:
        from emochat.face.expression import LABELS

        self.flush()
        tracks = []
        for face_id in sorted(self.records):
            rows = self.records[face_id]
            tracks.append(
                {
                    "face_id": face_id,
                    "t_s": [round(t, 3) for t, _ in rows],
                    "probs": [[round(float(v), 4) for v in p] for _, p in rows],
                }
            )
        return {"labels": list(LABELS), "model": "face-cnn (FER2013)", "tracks": tracks}


class FaceStage:
    """Tracks faces over the sampled frames and runs the AU Agent on each track."""

    name = "face"
    needs = ()
    makes = (FaceAnalysis,)

    def __init__(self, expression_model: registry.ModelChoice | None = None):
        """``expression_model``: the expression model to use (None: the registered one)."""
        self.expression_model = expression_model

    def run(self, ctx: AnalysisContext) -> None:
        if not ctx.media.has_video:
            raise StageSkipped("no_video", "the media has no video track: no face analysis")
        duration = ctx.media.duration_s or 0.0
        frames = _keep_decoded(
            iter_frames(ctx.path, fps=ctx.options.fps, max_side=ctx.options.max_side), ctx
        )

        def progress(t_s: float) -> None:
            ctx.check_deadline()  # after every frame
            if duration > 0:
                ctx.progress(t_s / duration)

        expression = registry.load(self.expression_model or "face_expression")
        tracker = _ExpressionTap(
            FaceTracker(max_faces=ctx.options.max_faces, static_image_mode=ctx.media.is_image),
            expression.with_views(ctx.options.expression_views),
        )
        agent = AUAgent()
        try:
            analysis = analyze_faces(frames, tracker=tracker, agent=agent, progress=progress)
            tracker.flush()
        finally:
            tracker.close()
        if ctx.options.micro_reread and not ctx.media.is_image:
            # micro candidates re-read at the native frame rate
            analysis = refine_micro(
                ctx.path, analysis, agent, ctx.options.max_side, ctx.options.max_faces
            )
        elif sampling_period(analysis) is not None:  # a video sampled below its native rate
            ctx.warn(
                "micro_not_checked",
                "micro-expression candidates were not re-read at the native frame rate "
                "(micro_reread off): no event is flagged micro",
            )
        if analysis.faces_left_out:
            ctx.warn(
                "max_faces_reached",
                f"at least {analysis.faces_left_out} more face(s) found than the "
                f"{ctx.options.max_faces} the face stage follows at once (max_faces): "
                f"they have no entry; raise --max-faces (at most {MAX_FACES_LIMIT}) to read "
                "more",
            )
        ctx.put(analysis)
        block = analysis.to_report()
        if not block["faces"]:
            raise StageSkipped(
                "no_face",
                f"no face found in {analysis.frames_processed} analysed frames: "
                "no facial action units or expression",
            )
        ctx.report.faces = block["faces"]
        unread = sum(f.get("read") is False for f in block["faces"])
        if unread:
            ctx.warn(
                "unread_faces",
                f"{unread} face(s) found that the face mesh cannot read (in profile, looking "
                "up or small): reported by their box only, with no AUs or expression",
            )
        ctx.report.au = block["au"]
        ctx.report.expression = tracker.to_report()
