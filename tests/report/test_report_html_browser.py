"""report.html in real headless Chromium: no console errors, charts drawn with data, in sync.

Needs the playwright Python package and Debian's chromium (/usr/bin/chromium); no
browser download. ``EMOCHAT_UPDATE_SCREENSHOTS=1 pytest tests/report/test_report_html_browser.py``
refreshes docs/screenshots/ from the real clips.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from test_report_html import rich_report, two_speaker_report

from emochat.report.html import render_html

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("EMOCHAT_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"
REAL_CLIPS = {"single_face.mp4": 5.0, "WolfgangLanger_Pexels.mp4": 2.0}  # clip -> fps


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """A loaded report page and everything its console said."""

    def __init__(self, browser, html_path: Path):
        self.messages: list[tuple[str, str]] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.on("console", lambda m: self.messages.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.messages.append(("pageerror", str(e))))
        self.page.goto(html_path.as_uri())
        self.page.wait_for_selector("html[data-ready='1']", timeout=15_000)

    def errors(self) -> list[tuple[str, str]]:
        return [m for m in self.messages if m[0] in ("error", "pageerror")]

    def count(self, selector: str) -> int:
        return self.page.eval_on_selector_all(selector, "els => els.length")

    def lanes(self) -> dict[str, int]:
        return dict(
            self.page.eval_on_selector_all(
                "#timeline svg", "els => els.map(e => [e.dataset.lane, e.childElementCount])"
            )
        )

    def curve_lengths(self) -> list[float]:
        return self.page.eval_on_selector_all(
            "#timeline path.curve", "els => els.map(e => e.getTotalLength())"
        )

    def seek_video_via_first_cite(self) -> float:
        self.page.click("#cites button >> nth=0")
        self.page.wait_for_function(
            "() => { const v = document.querySelector('video');"
            " return v && !v.seeking && Math.abs(v.currentTime - "
            "parseFloat(document.querySelector('#cites button').dataset.start)) < 0.3 }",
            timeout=10_000,
        )
        return self.page.evaluate("document.querySelector('video').currentTime")


def test_synthetic_report_renders_every_panel_in_sync(browser, tmp_path):
    from emochat.testing.synth import tone, write_media

    report = rich_report(8.0, "clip one.mp4")
    write_media(tmp_path / "clip one.mp4", 8.0, width=160, height=120, audio=tone(8.0))
    html = tmp_path / "report.html"
    html.write_text(render_html(report), "utf-8")
    page = Page(browser, html)
    assert page.errors() == []
    lanes = page.lanes()
    for lane in (
        "axis",
        "emotion:emotion",
        "emotion:face emotion",
        "emotion:voice emotion",
        "emotion:text emotion",
        "va",
        "au:0",
        "curve:pitch",
        "curve:loudness",
        "words",
    ):
        assert lanes.get(lane, 0) > 3, (lane, lanes)
    assert page.count("rect.cell") >= len(report.au["names"]) * 20
    assert page.count("rect.prob") >= 2 * 7
    assert page.count("rect.event.micro") == 1
    assert all(n > 10 for n in page.curve_lengths())
    assert page.count(".transcript .w") == sum(
        len(s.evidence["voice"].words) for s in report.segments
    )
    # a cited moment moves the video, the cursor and the highlight band together
    t = page.seek_video_via_first_cite()
    assert t == pytest.approx(5.0, abs=0.3)
    assert page.page.eval_on_selector("#band", "e => e.style.display") == "block"
    assert page.count("rect.rowhl") == 1
    cursor_x = page.page.eval_on_selector("#cursor", "e => parseFloat(e.style.left)")
    # clicking the timeline seeks too
    svg = page.page.query_selector("svg[data-lane='au:0']")
    box = svg.bounding_box()
    svg.click(position={"x": 150 + (box["width"] - 164) * 0.25, "y": 40})
    page.page.wait_for_function(
        "() => Math.abs(document.querySelector('video').currentTime - 2) < 0.3"
    )
    assert page.page.eval_on_selector("#cursor", "e => parseFloat(e.style.left)") < cursor_x
    assert page.errors() == []


def test_report_without_optional_blocks_has_no_errors(browser, tmp_path):
    report = rich_report()
    report.au = None
    report.explanation = None
    report.overall = None
    for seg in report.segments:
        seg.evidence = {}
        seg.emotion = None
        seg.text = None
    html = tmp_path / "report.html"
    html.write_text(render_html(report, video_src=""), "utf-8")
    page = Page(browser, html)
    assert page.errors() == []
    assert set(page.lanes()) == {"axis"}
    assert page.count("video") == 0


def test_llm_answers_per_segment_are_listed(browser, tmp_path):
    """An emochat-llm explanation lists its answer for each segment it read."""
    from dataclasses import replace

    report = rich_report()
    probs = {"neutral": 0.1, "happy": 0.86, "sad": 0.04}
    answers = [
        {
            "start_s": 0.0,
            "end_s": 2.0,
            "face_id": 0,
            "modalities": ["face", "voice", "text"],
            "label": "happy",
            "probs": probs,
            "words": ["happy", "joy"],
            "rationale": "smile",
        },
        {
            "start_s": 2.0,
            "end_s": 4.0,
            "modalities": ["text"],
            "label": "happy",
            "probs": probs,
            "words": [],
            "rationale": "words",
        },
    ]
    report.explanation = replace(
        report.explanation, reasoner="emochat-llm", grounded_text="built-in", segments=answers
    )
    html = tmp_path / "report.html"
    html.write_text(render_html(report, video_src=""), "utf-8")
    page = Page(browser, html)
    assert page.errors() == []
    items = page.page.eval_on_selector_all("#llm-segments li", "es => es.map(e => e.textContent)")
    assert len(items) == 2
    assert "face 0" in items[0] and "face+voice+text" in items[0] and "happy 0.86" in items[0]
    assert "words: happy, joy" in items[0] and "words" not in items[1]


def test_missing_video_is_reported_on_the_page_not_as_a_script_error(browser, tmp_path):
    html = tmp_path / "report.html"
    html.write_text(render_html(rich_report()), "utf-8")  # no clip next to it
    page = Page(browser, html)
    page.page.wait_for_function(
        "() => document.querySelector('.player .note').textContent.includes('not found')"
    )
    assert [m for m in page.errors() if "ERR_FILE_NOT_FOUND" not in m[1]] == []
    assert page.count("rect.cell") > 0


@pytest.mark.parametrize("clip", sorted(REAL_CLIPS))
def test_real_clip_report_renders_with_data(browser, media_dir, tmp_path, clip):
    from emochat.apps.jobs import analyze_clip

    out = analyze_clip(media_dir / clip, {"fps": REAL_CLIPS[clip]})
    assert out.report.get("au") and out.report["segments"]
    os.symlink(media_dir / clip, tmp_path / clip)
    html = tmp_path / "report.html"
    html.write_text(out.html, "utf-8")
    page = Page(browser, html)
    assert page.errors() == []
    assert page.count("rect.cell") >= 17 * 5
    assert page.count("rect.prob") >= len(out.report["segments"])
    assert page.count("image.thumb") >= 1
    assert page.page.evaluate("document.querySelector('image.thumb').getBBox().width") > 10
    page.seek_video_via_first_cite()
    assert page.page.evaluate("document.querySelector('video').videoWidth") > 0
    # show the cursor mid-clip in the screenshot: click the heatmap at 60 %
    svg = page.page.query_selector("svg[data-lane='au:0']")
    box = svg.bounding_box()
    svg.click(position={"x": 150 + (box["width"] - 164) * 0.6, "y": 40})
    duration = out.report["media"]["duration_s"]
    page.page.wait_for_function(
        f"() => {{ const v = document.querySelector('video'); return !v.seeking && "
        f"Math.abs(v.currentTime - {0.6 * duration}) < 0.3 }}"
    )
    page.page.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / f"{Path(clip).stem}.png"
    page.page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 30_000
    if os.environ.get("EMOCHAT_UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOTS / f"report_{Path(clip).stem}.png")
    assert page.errors() == []


def test_docs_screenshots_exist():
    for clip in REAL_CLIPS:
        png = SCREENSHOTS / f"report_{Path(clip).stem}.png"
        assert png.exists(), f"{png} missing: run with EMOCHAT_UPDATE_SCREENSHOTS=1"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 30_000


def test_photo_report_lays_faces_side_by_side(browser, media_dir, tmp_path):
    from emochat.apps.jobs import analyze_clip

    out = analyze_clip(media_dir / "multi_face.jpg", {})
    faces = len(out.report["au"]["tracks"])
    assert faces >= 2
    os.symlink(media_dir / "multi_face.jpg", tmp_path / "multi_face.jpg")
    html = tmp_path / "report.html"
    html.write_text(out.html, "utf-8")
    page = Page(browser, html)
    assert page.errors() == []
    assert "au:photo" in page.lanes()
    assert page.count("rect.cell") == len(out.report["au"]["names"]) * faces
    assert page.count("image.thumb") == len(out.report["segments"])
    assert page.page.evaluate("document.querySelector('.player img').naturalWidth") > 0
    page.page.click("#cites button >> nth=0")
    assert page.count("rect.rowhl") == 1
    assert page.page.eval_on_selector("#band", "e => e.style.display") == "block"


def test_uncertain_answers_say_why_on_the_page(browser, tmp_path):
    report = rich_report()
    seg = report.segments[0].emotion
    seg.conflict = {
        "modalities": ["face", "text"],
        "labels": ["neutral", "angry"],
        "probs": [0.9, 0.8],
    }
    seg.uncertain = {"reason": "disagreement", "labels": ["neutral", "angry"], "probs": [0.5, 0.4]}
    report.overall.uncertain = {
        "reason": "flat",
        "labels": ["sad", "neutral"],
        "probs": [0.45, 0.3],
    }
    html = tmp_path / "report.html"
    html.write_text(render_html(report, video_src=""), "utf-8")
    page = Page(browser, html)
    assert page.errors() == []
    overall = page.page.eval_on_selector("#overall-uncertain", "e => e.textContent")
    assert overall == "uncertain: no label stands out (sad 45% / neutral 30%)"
    rows = page.page.eval_on_selector_all(
        "#segments .uncertain", "es => es.map(e => e.textContent)"
    )
    assert rows == ["uncertain: the modalities disagree (face neutral, text angry)"]


def _lane_count(page: Page, lane: str, selector: str) -> int:
    return page.count(f'#timeline svg[data-lane="{lane}"] {selector}')


def test_two_speakers_get_one_lane_each_with_speaking_and_listening(browser, tmp_path):
    html = tmp_path / "report.html"
    html.write_text(render_html(two_speaker_report(), video_src=""), "utf-8")
    page = Page(browser, html)
    assert page.errors() == []
    lanes = page.lanes()
    assert "person:S1" in lanes and "person:S2" in lanes
    for person in ("S1", "S2"):
        assert _lane_count(page, f"person:{person}", "rect.speaking") == 1
        assert _lane_count(page, f"person:{person}", "rect.listening") == 1
    # Alice speaks first and listens second; her lane's rects say when
    starts = page.page.eval_on_selector_all(
        '#timeline svg[data-lane="person:S1"] rect',
        "es => es.map(e => [e.getAttribute('class'), parseFloat(e.dataset.start)])",
    )
    assert sorted(starts) == [["listening", 3.0], ["speaking", 0.0]]
    titles = page.page.eval_on_selector_all(
        '#timeline svg[data-lane^="person:"] text.title', "es => es.map(e => e.textContent)"
    )
    assert titles == ["Alice · face 0", "S2 · face 1"]
    # the shared emotion lane draws the two utterances, not the listeners over them
    assert _lane_count(page, "emotion:emotion", "rect.prob") == 2 * 7
    people = page.page.eval_on_selector_all(
        "#people tr[data-speaker]", "es => es.map(e => e.textContent)"
    )
    assert len(people) == 2
    assert "Alice (S1)" in people[0] and "face 0" in people[0] and "happy 50%" in people[0]
    assert "S2" in people[1] and "face 1" in people[1] and "sad 50%" in people[1]
    who = page.page.eval_on_selector_all("#segments td.who", "es => es.map(e => e.textContent)")
    assert who == ["Alice", "S2 (listening)", "S2", "Alice (listening)"]


def test_no_person_lanes_without_speakers(browser, tmp_path):
    html = tmp_path / "report.html"
    html.write_text(render_html(rich_report(), video_src=""), "utf-8")
    page = Page(browser, html)
    assert page.errors() == []
    assert not [lane for lane in page.lanes() if lane.startswith("person:")]
    assert page.count("#people") == 0 and page.count("#segments td.who") == 0
    assert _lane_count(page, "emotion:emotion", "rect.prob") == 2 * 7
