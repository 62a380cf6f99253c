"""Mean AU intensities per clip (issue 3's smile-vs-crying criteria), at 10 fps."""

from __future__ import annotations

from common import row

from emochat.core.settings import media_root
from emochat.face.au import analyze_faces
from emochat.ingest import iter_frames

AUS = ("AU01", "AU04", "AU06", "AU12", "AU15")


def main() -> None:
    for name, end_s in (
        ("single_face.mp4", None),
        ("WolfgangLanger_Pexels.mp4", None),
        ("WolfgangLanger_Pexels.mp4", 6.0),
    ):
        frames = iter_frames(media_root() / name, fps=10, end_s=end_s)
        block = analyze_faces(frames).to_report()["au"]
        names = block["names"]
        values = [v for t in block["tracks"] for v in t["intensity"]]
        means = {au: sum(v[names.index(au)] for v in values) / len(values) for au in AUS}
        span = f" 0-{end_s:g} s" if end_s else ""
        print(row(f"{name}{span}: " + ", ".join(f"{au} {m:.2f}" for au, m in means.items())))


if __name__ == "__main__":
    main()
