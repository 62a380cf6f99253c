"""The face mesh's region on a grid: the tracking loop must not grow a last-bit difference
(another CPU's kernels) into other landmarks and other AU values."""

import numpy as np
import pytest

from emochat.core.settings import media_root
from emochat.face import FaceTracker
from emochat.face.au.analysis import analyze_faces
from emochat.face.landmarker import REGION_STEP_DEG, REGION_STEP_PX, Landmarker, Region
from emochat.ingest import iter_frames

MEDIA = media_root()


def test_a_snapped_region_lies_on_the_grid_and_ignores_last_bit_changes():
    region = Region(101.37, 57.62, 143.9, np.radians(3.3)).snapped()
    assert region.cx == 101.0 * REGION_STEP_PX and region.cy == 58.0 * REGION_STEP_PX
    assert region.size == 144.0
    assert np.degrees(region.angle) == pytest.approx(3.0 * REGION_STEP_DEG)
    nudged = Region(101.37 + 1e-4, 57.62 - 1e-4, 143.9 + 1e-4, np.radians(3.3) + 1e-7)
    assert nudged.snapped() == region


@pytest.mark.skipif(not MEDIA.is_dir(), reason=f"test media not found at {MEDIA}")
def test_mesh_outputs_a_last_bit_apart_give_the_same_au_track(monkeypatch):
    """Noise of sd 1e-4 (in the mesh's 192-px input) on every mesh run, as another CPU's
    kernels give: with the region unsnapped, WolfgangLanger's landmarks drifted 0.1-0.9 px
    apart and its AU means 0.15 (BENCHMARKS.md, "Reports across CPU classes")."""
    clip = MEDIA / "mead-video" / "W009_front_fear_level3_001.mp4"

    def au_track():
        analysis = analyze_faces(iter_frames(clip, fps=10.0), tracker=FaceTracker(8))
        (track,) = analysis.au.tracks.values()
        return np.asarray(track.landmarks68, float), np.asarray(track.intensity, float)

    clean_landmarks, clean_intensity = au_track()
    rng = np.random.default_rng(0)
    run = Landmarker.run

    def noisy_run(self, rgb, region):
        get = self._mesh.get_tensor

        def noisy_get(index):
            out = get(index)
            if index == self._mesh_out:
                out = out + rng.normal(0.0, 1e-4, out.shape).astype(out.dtype)
            return out

        self._mesh.get_tensor = noisy_get
        try:
            return run(self, rgb, region)
        finally:
            del self._mesh.get_tensor

    monkeypatch.setattr(Landmarker, "run", noisy_run)
    noisy_landmarks, noisy_intensity = au_track()
    assert len(noisy_landmarks) == len(clean_landmarks) > 40
    assert np.abs(noisy_landmarks - clean_landmarks).max() < 0.01  # pixels
    assert np.abs(noisy_intensity - clean_intensity).max() < 0.002  # the goldens' tolerance
