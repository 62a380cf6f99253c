"""The 17 OpenFace action units and how each is read from face geometry: the one place.

Every measurement is taken on landmarks in the frontal template frame
(:mod:`emochat.face.pose`): head pose removed, x to the image's right, y down, z away
from the camera, unit = distance between the outer eye corners (IOD). Bilateral
measurements average both sides. An AU's raw value is a weighted sum of measurement
changes from the person's neutral (Δ = now − neutral, signed so that the muscle's
action is positive); intensity = clip((raw − dead zone) / unit, 0, 5); ``max0`` keeps
only the positive part of a change.

``docs/au_definitions.md`` is generated from this module (``python -m emochat.face.au.definitions``).
"""

from __future__ import annotations

from dataclasses import dataclass

from emochat.core.action_units import AU_LABELS

# -- measurements: (name, what, landmarks) ----------------------------------------------


@dataclass(frozen=True)
class Measurement:
    name: str
    description: str
    landmarks: tuple[int, ...]


MEASUREMENTS = (
    Measurement("inner_brow_y", "height (y) of the inner brow",
                (107, 66, 55, 65, 336, 296, 285, 295)),
    Measurement("outer_brow_y", "height (y) of the outer brow",
                (70, 63, 46, 53, 300, 293, 276, 283)),
    Measurement("brow_gap", "x distance between the inner brow heads", (55, 285, 107, 336)),
    Measurement("upper_lid_y", "height of the upper eyelid centre",
                (159, 158, 160, 386, 385, 387)),
    Measurement("lower_lid_y", "height of the lower eyelid centre",
                (145, 144, 153, 374, 373, 380)),
    Measurement("eye_aperture", "lower minus upper eyelid y, per eye", (145, 159, 374, 386)),
    Measurement("cheek_y", "height of the infraorbital cheek",
                (117, 118, 119, 101, 50, 346, 347, 348, 330, 280)),
    Measurement("nose_wing_y", "height of the nose wings (alae)",
                (129, 49, 64, 98, 358, 279, 294, 327)),
    Measurement("upper_lip_y", "height of the upper lip's top edge", (0, 37, 267)),
    Measurement("corner_vs_mouth",
                "lip-corner y minus mid-height of upper-lip top (0) and lower-lip bottom (17)",
                (61, 291, 0, 17)),
    Measurement("mouth_width", "x distance between the lip corners", (61, 291)),
    Measurement("corner_depth", "z of the lip corners (grows as they are pulled back)", (61, 291)),
    Measurement("lip_thickness", "upper plus lower lip height (0-13 and 14-17)", (0, 13, 14, 17)),
    Measurement("lip_gap", "y distance between the inner lips (13-14)", (13, 14)),
    Measurement("chin_y", "height of the chin", (152, 175, 199)),
    Measurement("lower_lip_y", "height of the lower lip's lower edge", (17, 84, 314)),
)  # fmt: skip
MEASUREMENT_NAMES = tuple(m.name for m in MEASUREMENTS)

# -- action units -------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """``weight · v`` with v = ``direction · Δmeasurement``, or max(0, v) when ``max0``."""

    measurement: str
    direction: int
    weight: float = 1.0
    max0: bool = False

    def render(self) -> str:
        change = f"{'−' if self.direction < 0 else ''}Δ{self.measurement}"
        value = f"max0({change})" if self.max0 else change
        size = abs(self.weight)
        return ("−" if self.weight < 0 else "+", value if size == 1 else f"{size:g}·{value}")


@dataclass(frozen=True)
class ActionUnit:
    code: str  # OpenFace column stem, e.g. "AU01", one of AU_CODES
    terms: tuple[Term, ...]
    unit: float  # IOD per intensity point
    description: str
    dead_zone: float = 0.0  # IOD of raw value ignored before grading

    @property
    def name(self) -> str:
        """The FACS name (:data:`emochat.core.action_units.AU_LABELS`)."""
        return AU_LABELS[self.code]

    @property
    def number(self) -> int:
        return int(self.code[2:])

    def formula(self) -> str:
        parts = [t.render() for t in self.terms]
        text = " ".join(f"{sign} {value}" for sign, value in parts)
        return text[2:] if text.startswith("+ ") else text


UP, DOWN = -1, 1  # y grows downwards
ACTION_UNITS = (
    ActionUnit("AU01", (Term("inner_brow_y", UP),), 0.02,
               "inner brow moves up"),
    ActionUnit("AU02", (Term("outer_brow_y", UP),), 0.02,
               "outer brow moves up"),
    ActionUnit("AU04", (Term("brow_gap", -1, 1.0, True), Term("inner_brow_y", DOWN, 1.0, True)), 0.015,
               "brow heads drawn together, plus inner brow moving down"),
    ActionUnit("AU05", (Term("upper_lid_y", UP),), 0.012,
               "upper eyelid moves up"),
    ActionUnit("AU06", (Term("cheek_y", UP), Term("eye_aperture", -1, -0.4, True)), 0.011,
               "infraorbital cheek moves up, less 0.4 of any eye closing (shut lids drag it too)"),
    ActionUnit("AU07", (Term("lower_lid_y", UP), Term("cheek_y", UP, -0.5, True)), 0.012,
               "lower eyelid moves up, less half of any cheek raise (which pushes it too)"),
    ActionUnit("AU09", (Term("nose_wing_y", UP), Term("corner_vs_mouth", UP, -0.5, True)), 0.015,
               "nose wings move up, less half of any lip-corner rise (a smile lifts them too)"),
    ActionUnit("AU10", (Term("upper_lip_y", UP), Term("corner_vs_mouth", UP, -0.8, True)), 0.015,
               "upper lip rises, less 0.8 of any lip-corner rise (a smile lifts it too)"),
    ActionUnit("AU12", (Term("corner_vs_mouth", UP), Term("mouth_width", 1, 0.25)), 0.04,
               "lip corners rise relative to mid-mouth height, plus a quarter of the widening"),
    ActionUnit("AU14", (Term("corner_depth", 1), Term("corner_vs_mouth", UP, -1.0, True)), 0.03,
               "lip corners pulled back (z), less any rise that belongs to AU12"),
    ActionUnit("AU15", (Term("corner_vs_mouth", DOWN),), 0.012,
               "lip corners drop relative to mid-mouth height"),
    ActionUnit("AU17", (Term("lower_lip_y", UP),), 0.02,
               "lower lip's lower edge pushed up"),
    ActionUnit("AU20", (Term("mouth_width", 1), Term("corner_vs_mouth", UP, -2.0, True)), 0.03,
               "mouth widens, less twice any corner rise (a smile widens it too)"),
    ActionUnit("AU23", (Term("lip_thickness", -1), Term("mouth_width", 1, -0.1, True)), 0.01,
               "red of the lips narrows, less a tenth of any widening (stretching thins them)"),
    ActionUnit("AU25", (Term("lip_gap", 1),), 0.03,
               "inner lips move apart"),
    ActionUnit("AU26", (Term("chin_y", DOWN),), 0.03,
               "chin moves down"),
    ActionUnit("AU45", (Term("eye_aperture", -1),), 0.013,
               "eyelids close; the first 0.035 IOD (a third of an open eye) is squint, not blink",
               dead_zone=0.035),
)  # fmt: skip

# -- intensity in words -------------------------------------------------------------------

INTENSITY_WORDS = (
    (1.5, "slight"),
    (2.5, "moderate"),
    (3.5, "strong"),
    (float("inf"), "very strong"),
)
"""(exclusive upper bound on the 0-5 scale, word): the one grading every text uses."""


def intensity_word(value: float) -> str:
    """FACS-style grade of a 0-5 intensity in plain words; no other code names grades.

    The value is graded as the texts show it, at one decimal, so "2.5" never reads
    "moderate" beside a bound of 2.5.
    """
    shown = float(f"{value:.1f}")
    return next(word for bound, word in INTENSITY_WORDS if shown < bound)


def intensity_text(value: float, statistic: str) -> str:
    """'strong (peak 3.1)': the grade, the statistic it grades and its value.

    Texts grade different statistics of one AU (an event's peak, a segment's mean), so
    each names its own: the same AU may be "very strong (peak 3.9)" and "strong (mean
    3.3)" in one segment, but never two words for one statistic.
    """
    return f"{intensity_word(value)} ({statistic} {value:.1f})"


def render_markdown() -> str:
    """The table in docs/au_definitions.md."""
    lines = [
        "# Action unit definitions",
        "",
        "Generated from `src/emochat/face/au/definitions.py` (`python -m emochat.face.au.definitions`).",
        "",
        (__doc__ or "").split("\n\n", 1)[1].split("``docs/")[0].strip().replace(":mod:", ""),
        "",
        "## Measurements",
        "",
        "| measurement | what | MediaPipe landmarks |",
        "|---|---|---|",
    ]
    for m in MEASUREMENTS:
        lines.append(f"| `{m.name}` | {m.description} | {', '.join(map(str, m.landmarks))} |")
    lines += [
        "",
        "## Action units",
        "",
        "| AU | FACS name | raw value | unit (IOD per point) | dead zone | in words |",
        "|---|---|---|---|---|---|",
    ]
    for au in ACTION_UNITS:
        lines.append(
            f"| {au.code} | {au.name} | {au.formula()} | {au.unit:g} | {au.dead_zone:g} "
            f"| {au.description} |"
        )
    grades = ", ".join(
        f"< {bound:g} {word}" if bound != float("inf") else f"else {word}"
        for bound, word in INTENSITY_WORDS
    )
    pipeline = _PIPELINE.replace("{GRADES}", grades)
    lines += ["", "## From measurements to intensities, presence and events", "", pipeline]
    return "\n".join(lines) + "\n"


_PIPELINE = """\
- Head pose: similarity fit of rigid landmarks (forehead, nose bridge, inner eye corners,
  temples) to the frontal template (`emochat/face/pose.py`); yaw/pitch/roll follow
  OpenFace's R = Rx·Ry·Rz in the camera frame.
- Smoothing: each measurement is smoothed with an exponential filter of 0.06 s time
  constant (reset after a gap over 0.5 s), keeping blinks and micro-expressions.
- Neutral: the population neutral (FER2013 train, `neutral_prior.json`) alone until
  10 s of the person's frames (0.1 s apart, head within 25 degrees) have been seen and
  they vary (a quarter of them at least 2 population spreads from the typical frame,
  state-weighted distance): a short clip or an expression held throughout shows no relaxed
  state, and a neutral learnt from it would absorb the expression. Then the person's
  own: the median of the quarter of recent frames (up to 600) closest to the population
  neutral, re-centred three times; frames with shut eyes or an open mouth are left out
  while others exist; its offset from the population is weighted (t − 10 s) / (t − 9 s)
  and capped at 2.5 population spreads. Changes within a doubt zone count as none: one
  population spread for a photo, shrinking with the time seen (t / (t + 0.25 s)), but
  never under half a spread while the neutral is the population's (the person's build
  is unknown), and to nothing as their own neutral settles.
  The report names the neutral used per track (`baseline.source`: population, blended,
  person).
- `finalize()` re-scores every frame against the track's settled neutral.
- Presence: on at intensity 1.0, off below 0.7 (hysteresis).
- Events: each run of presence; onset = first present frame, apex = its maximum,
  offset = first frame seen absent again. Micro-expression when offset − onset < 0.5 s,
  the peak is at least 1.5 (moderate) and the intensity under 0.5 within 0.1 s
  before the onset and again within 0.1 s after the offset (a real rise and fall), the frame before the onset, the onset, apex and offset are distinct frames with no
  decoded frame skipped between them, the AU is not a blink (AU45) nor a mouth action
  of articulation (AU17, AU20, AU23, AU25, AU26), and a lip AU (AU10, AU12, AU14,
  AU15) is not flagged while the lips part and close (AU25 swinging by 1.0) at least
  twice within 1 s of it (syllable rhythm: speech, which moves the mouth points
  those AUs are measured from). Analysed at 10 fps, the short events seen are
  candidates: the frames around each (0.4 s either side, at most 24 windows) are
  decoded again at the native rate, re-tracked and graded against the track's
  settled neutral, and a candidate is micro only if those frames show it so (an
  expression wholly between two samples is missed). `--no-micro-reread`
  (`micro_reread=False`) skips the re-read, which on busy talking footage can cost as
  much again as the face stage: then nothing is flagged micro, and the report's
  `micro_not_checked` warning says so. Described as FACS name (AUn), the
  intensity word of its peak with the peak ("strong (peak 3.1)") and time range.
- Intensity words, one grading for every text (the events' peaks here, an active AU's
  mean over a segment in the built-in explanation), each text naming its statistic:
  value at one decimal {GRADES}."""


if __name__ == "__main__":
    print(render_markdown(), end="")
