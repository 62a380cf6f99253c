"""report.html: one self-contained, offline, interactive page.

The page embeds ``report.to_dict()`` as JSON plus a small hand-written script
(``assets/core.js`` and one ``assets/lanes/<modality>.js`` per modality, inlined into
the page: no dependencies, no network) that draws synchronised
timelines: per-segment emotion probabilities (fused and per modality), valence and
arousal, face thumbnails, an AU intensity heatmap per face with its events, pitch
and loudness curves and the words when the report holds voice evidence, the
explanation with links to the moments it cites, and the video itself when it sits
next to the html (``<video src>`` is relative). Panels whose data the report lacks
are simply not drawn. A static summary is rendered server-side for readers without
JavaScript.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
from collections.abc import Mapping
from functools import cache
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from emochat.report.model import EVIDENCE_TYPES, Report

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\{\{([A-Z]+)\}\}")


def _asset_file(name: str):
    return resources.files("emochat.report").joinpath("assets", *name.split("/"))


@cache
def _asset(name: str) -> str:
    return _asset_file(name).read_text("utf-8")


@cache
def _script(modalities: tuple[str, ...]) -> str:
    """core.js, each modality's lane file (in evidence order), then the boot call.

    A modality without a lane file is registered bare: the core still draws its emotion
    lane and legend from its evidence."""
    parts = [_asset("core.js")]
    for modality in modalities:
        lane = f"lanes/{modality}.js"
        if _asset_file(lane).is_file():
            parts.append(_asset(lane))
        else:
            parts.append(
                f"window.emochat.registerModality({{ modality: {json.dumps(modality)} }});\n"
            )
    parts.append("window.emochat.boot();\n")
    return "".join(parts)


def _finite(value: Any) -> Any:
    """NaN/inf (invalid JSON) become null, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _script_json(value: Any) -> str:
    """JSON safe to embed in ``<script type="application/json">`` (no ``</script>``)."""
    text = json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def default_video_src(media: Mapping[str, Any]) -> str | None:
    """The media file's name, URL-quoted: plays when the file sits next to report.html."""
    path = str(media.get("path") or "")
    if not path:
        return None
    return quote(Path(path).name)


def _static_summary(data: Mapping[str, Any]) -> str:
    """What a reader without JavaScript sees: the answer, the reason, the warnings."""
    media = data.get("media", {})
    name = Path(str(media.get("path") or "media")).name
    duration = media.get("duration_s")
    out = [f"<h1>{escape(name)}</h1><p class='meta'>"]
    if isinstance(duration, int | float):
        out.append(f"{duration:.1f} s")
    if media.get("width"):
        out.append(f", {media['width']}x{media['height']}")
    out.append(", audio" if media.get("has_audio") else ", no audio")
    out.append("</p>")
    overall = data.get("overall")
    if overall and overall.get("probs"):
        probs = ", ".join(
            f"{escape(k)} {v:.2f}"
            for k, v in sorted(overall["probs"].items(), key=lambda kv: -kv[1])[:4]
        )
        uncertain = overall.get("uncertain")
        note = f" (uncertain: {escape(str(uncertain['reason']))})" if uncertain else ""
        out.append(f"<h2>Overall: {escape(str(overall.get('label', '')))}{note}</h2><p>{probs}</p>")
    people = data.get("speakers") or []
    if people:
        out.append("<h2>People</h2><ul id='people-static'>")
        for p in people:
            who = escape(str(p.get("name") or p.get("id", "")))
            face = f"face {p['face_id']}" if p.get("face_id") is not None else "not seen"
            said = p.get("overall") or {}
            feel = f": {escape(str(said['label']))}" if said.get("label") else ""
            talk = p.get("talk_time_s")
            talk = f", {talk:.1f} s of speech" if isinstance(talk, int | float) else ""
            out.append(f"<li>{who} ({face}){feel}{talk}</li>")
        out.append("</ul>")
    explanation = data.get("explanation")
    if explanation and explanation.get("text"):
        out.append(f"<h2>Why</h2><p>{escape(explanation['text'])}</p>")
        if explanation.get("grounded_text"):
            out.append(f"<p>Built-in reasoner: {escape(explanation['grounded_text'])}</p>")
    for w in data.get("warnings", []):
        out.append(
            f"<div class='warn'>{escape(str(w.get('stage', '')))}: "
            f"{escape(str(w.get('message', '')))}</div>"
        )
    made = data.get("provenance") or {}
    if made.get("input"):
        out.append(
            f"<p class='meta'>Input sha256 {escape(str(made['input'].get('sha256', ''))[:12])}; "
            "re-run with <code>emochat analyze MEDIA --options report.json</code></p>"
        )
    out.append(
        "<noscript><p class='meta'>Enable JavaScript for the interactive timelines.</p></noscript>"
    )
    return "".join(out)


def render_html(
    report: Report | Mapping[str, Any],
    *,
    thumbnails: Mapping[int, str] | None = None,
    video_src: str | None = None,
) -> str:
    """The whole report page as one string.

    ``report`` is a :class:`Report` or its ``to_dict()``; ``thumbnails`` maps a
    segment index to a ``data:image/...`` URI (see :func:`segment_thumbnails`);
    ``video_src`` is the (relative) URL of the media, by default its file name.
    """
    data = report.to_dict() if isinstance(report, Report) else dict(report)
    media = data.get("media", {})
    src = video_src if video_src is not None else default_video_src(media)
    thumbs = {
        str(int(k)): v
        for k, v in (thumbnails or {}).items()
        if isinstance(v, str) and v.startswith("data:image/")
    }
    extra = {"video_src": src, "thumbnails": thumbs}
    name = Path(str(media.get("path") or "media")).name
    overall = data.get("overall") or {}
    title = f"emochat — {name}" + (f" ({overall['label']})" if overall.get("label") else "")
    values = {
        "TITLE": escape(title),
        "VERSION": escape(str(data.get("emochat_version", ""))),
        "STATIC": _static_summary(data),
        "DATA": _script_json(data),
        "EXTRA": _script_json(extra),
        "SCRIPT": _script(tuple(EVIDENCE_TYPES)).replace("</", "<\\/"),
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), _asset("report.html"))


# --------------------------------------------------------------------- thumbnails


def _pick_frames(au_result, segments, max_thumbs: int) -> dict[int, tuple[float, tuple]]:
    """Per segment: (time, bbox) of the dominant face's most confident frame near its middle."""
    import numpy as np

    picks: dict[int, tuple[float, tuple]] = {}
    for i, seg in enumerate(segments[:max_thumbs]):
        face_id = seg.face_id
        tracks = au_result.tracks
        if face_id is None or face_id not in tracks:
            continue
        tr = tracks[face_id]
        t = np.asarray(tr.t_s, dtype=float)
        if t.size == 0:
            continue
        inside = (t >= seg.start_s - 1e-6) & (t <= seg.end_s + 1e-6)
        if not inside.any():
            inside = np.ones_like(t, dtype=bool)
        idx = np.flatnonzero(inside)
        mid = (seg.start_s + seg.end_s) / 2
        span = max(seg.end_s - seg.start_s, 1e-3)
        conf = np.asarray(tr.confidence, dtype=float)[idx]
        score = np.nan_to_num(conf) - 0.5 * np.abs(t[idx] - mid) / span
        j = int(idx[int(np.argmax(score))])
        picks[i] = (float(t[j]), tuple(float(v) for v in np.asarray(tr.bbox)[j]))
    return picks


def _grab_frames(path: Path, times: list[float], max_side: int | None) -> dict[float, Any]:
    """Decode the frames shown at ``times`` (media seconds), scaled and upright as analysed.

    Seeks to each time; where seeking fails (photos, odd streams) one sequential pass
    from the start picks up the rest.
    """
    import av

    from emochat.ingest.media import footage_stream, open_container, timeline_origin_s
    from emochat.ingest.video import frame_rgb

    def frame_time(frame, start: float) -> float:
        return (float(frame.time) if frame.time is not None else 0.0) - start

    found: dict[float, Any] = {}
    missing: list[float] = []
    container = open_container(path)
    try:
        stream = footage_stream(container)
        if stream is None:
            return found
        start = timeline_origin_s(container)
        for target in sorted(set(times)):
            best = None
            try:
                if target > 0:
                    container.seek(
                        int((target + start) / stream.time_base), stream=stream, backward=True
                    )
                for frame in container.decode(stream):
                    best = frame
                    if frame_time(frame, start) >= target - 1e-3:
                        break
            except (av.error.FFmpegError, OverflowError, ValueError):
                best = None
            if best is None:
                missing.append(target)
            else:
                found[target] = frame_rgb(best, max_side)
    finally:
        container.close()
    if missing:
        container = open_container(path)
        try:
            stream = footage_stream(container)
            start = timeline_origin_s(container)
            prev = None
            for frame in container.decode(stream):
                while missing and frame_time(frame, start) >= missing[0] - 1e-3:
                    found[missing.pop(0)] = frame_rgb(frame, max_side)
                prev = frame
                if not missing:
                    break
            for target in missing:  # past the last frame
                if prev is not None:
                    found[target] = frame_rgb(prev, max_side)
        except av.error.FFmpegError:
            pass
        finally:
            container.close()
    return found


def _encode_face(rgb, bbox: tuple, size: int) -> str | None:
    import cv2
    import numpy as np

    x, y, w, h = bbox
    if not (w > 1 and h > 1):
        return None
    side = max(w, h) * 1.35
    cx, cy = x + w / 2, y + h / 2
    H, W = rgb.shape[:2]
    x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    x1, y1 = int(min(W, cx + side / 2)), int(min(H, cy + side / 2))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1, ::-1])
    scale = size / max(crop.shape[:2])
    crop = cv2.resize(
        crop,
        (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))),
        interpolation=cv2.INTER_AREA,
    )
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 82])
    if not ok:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def segment_thumbnails(
    report: Report,
    media: Path,
    faces,
    max_side: int | None = None,
    size: int = 96,
    max_thumbs: int = 200,
) -> dict[int, str]:
    """A face crop per segment (index -> JPEG data URI) of ``report``.

    Uses the face boxes the face stage kept (``faces``: its ``FaceAnalysis``; None when it
    made none) and decodes only the chosen frames of ``media``, read at ``max_side`` as the
    analysis read it. Decoration only: any problem gives fewer thumbnails, never an error.
    """
    if faces is None or not getattr(faces, "au", None) or not report.segments:
        return {}
    try:
        picks = _pick_frames(faces.au, report.segments, max_thumbs)
        if not picks:
            return {}
        frames = _grab_frames(Path(media), [t for t, _ in picks.values()], max_side)
        out = {}
        for i, (t, bbox) in picks.items():
            rgb = frames.get(t)
            if rgb is not None:
                uri = _encode_face(rgb, bbox, size)
                if uri:
                    out[i] = uri
        return out
    except Exception as exc:  # thumbnails must never break a report
        log.warning("no face thumbnails for %s: %s", media, exc)
        return {}
