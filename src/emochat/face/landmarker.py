"""478 face landmarks from a face region: mediapipe's mesh and iris models through LiteRT.

The mesh model (468 points + a face-presence logit) runs on a 192x192 crop of a
rotated square region around the face; the iris model (5 points per eye) on 64x64
crops around each eye, the image-right eye mirrored, as mediapipe does. The region
for the next frame comes from this frame's landmarks, which is what makes tracking
cheap: detection only has to run when a face is new or lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from emochat.face.runtime import load_interpreter
from emochat.models import registry

MESH_SIZE = 192
IRIS_SIZE = 64
_FACE_SCALE = 1.5  # mediapipe's margin around the face for the mesh crop
_EYE_SCALE = 2.3
REGION_STEP_PX = 1.0
REGION_STEP_DEG = 1.0
"""Grid of the mesh's region when it follows a face. Another CPU's kernels move the mesh's
outputs by about 1e-4 of its 192-px input; with the region unsnapped, that grew over a
19.7-s clip to 0.1-0.9 px between landmark sets and 0.15 between AU means; snapped to
1 px and 1 degree, 1e-4 of noise added to every run left the landmarks within 0.001 px
and every AU intensity within 0.001. Both steps are well under the mesh's own jitter."""
# eye corners (image-left eye, image-right eye) that orient the region and frame the iris crops
_EYE_OUTER = (33, 263)
_EYE_CORNERS = ((33, 133), (362, 263))
_EYE_CONTOURS = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398),
)


@dataclass(frozen=True)
class Region:
    """A rotated square in pixels: centre, side and angle (radians, image y down)."""

    cx: float
    cy: float
    size: float
    angle: float

    def crop_to_image(self, out_size: int) -> np.ndarray:
        """2x3 affine taking crop pixels to image pixels."""
        c, s = np.cos(self.angle), np.sin(self.angle)
        k = self.size / out_size
        rot = np.array([[c, -s], [s, c]]) * k
        offset = np.array([self.cx, self.cy]) - rot @ np.array([out_size / 2, out_size / 2])
        return np.hstack([rot, offset[:, None]])

    def box(self) -> np.ndarray:
        half = self.size / 2
        return np.array([self.cx - half, self.cy - half, self.cx + half, self.cy + half])

    def snapped(self) -> Region:
        """This region on a grid of :data:`REGION_STEP_PX` (side: twice that) and
        :data:`REGION_STEP_DEG`, so that landmarks a last bit apart crop the same pixels."""
        step, turn = REGION_STEP_PX, np.radians(REGION_STEP_DEG)
        return Region(
            round(self.cx / step) * step,
            round(self.cy / step) * step,
            round(self.size / (2 * step)) * 2 * step,
            float(round(self.angle / turn) * turn),
        )


def region_from_points(points: np.ndarray, left: np.ndarray, right: np.ndarray, scale: float):
    """Square region around ``points`` (N x 2), rotated so ``left``->``right`` is horizontal."""
    angle = float(np.arctan2(right[1] - left[1], right[0] - left[0]))
    c, s = np.cos(angle), np.sin(angle)
    # extents in the face-aligned frame, so a tilted face gets a tight box
    aligned = points @ np.array([[c, -s], [s, c]])
    lo, hi = aligned.min(0), aligned.max(0)
    center = np.array([[c, -s], [s, c]]) @ ((lo + hi) / 2)
    side = float(max(hi - lo)) * scale
    return Region(float(center[0]), float(center[1]), side, angle)


def region_from_detection(box: np.ndarray, keypoints: np.ndarray) -> Region:
    """mediapipe's FaceDetectionFrontDetectionToRoi: box centre, 1.5x its long side, eye angle."""
    left, right = keypoints[0], keypoints[1]
    angle = float(np.arctan2(right[1] - left[1], right[0] - left[0]))
    side = float(max(box[2] - box[0], box[3] - box[1])) * _FACE_SCALE
    return Region(float(box[0] + box[2]) / 2, float(box[1] + box[3]) / 2, side, angle)


def region_from_landmarks(landmarks: np.ndarray) -> Region:
    """Where to look for this face in the next frame: snapped (:meth:`Region.snapped`),
    because the mesh follows its own output from frame to frame and that loop grows any
    difference in its input until it reaches the mesh's jitter (BENCHMARKS.md, "Reports
    across CPU classes")."""
    xy = landmarks[:468, :2]
    return region_from_points(xy, xy[_EYE_OUTER[0]], xy[_EYE_OUTER[1]], _FACE_SCALE).snapped()


def _crop(rgb: np.ndarray, region: Region, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    affine = region.crop_to_image(out_size)
    patch = cv2.warpAffine(
        rgb,
        affine,
        (out_size, out_size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
    )
    return patch, affine


class Landmarker:
    """Run mesh (+ iris) models on one region; returns pixel landmarks and presence 0-1."""

    def __init__(self, with_iris: bool = True, num_threads: int = 2):
        self.with_iris = with_iris
        self._mesh = load_interpreter(registry.existing_file("face_landmarker", 0), num_threads)
        self._mesh_in = self._mesh.get_input_details()[0]["index"]
        outs = sorted(self._mesh.get_output_details(), key=lambda o: int(np.prod(o["shape"])))
        self._presence_out, self._mesh_out = outs[0]["index"], outs[-1]["index"]
        if with_iris:
            self._iris = load_interpreter(registry.existing_file("face_landmarker", 1), num_threads)
            self._iris_in = self._iris.get_input_details()[0]["index"]
            iris_outs = {o["name"]: o["index"] for o in self._iris.get_output_details()}
            self._iris_out = iris_outs["output_iris"]

    def run(self, rgb: np.ndarray, region: Region) -> tuple[np.ndarray, float]:
        patch, affine = _crop(rgb, region, MESH_SIZE)
        self._mesh.set_tensor(self._mesh_in, (patch.astype(np.float32) / 255.0)[None])
        self._mesh.invoke()
        presence = float(1.0 / (1.0 + np.exp(-self._mesh.get_tensor(self._presence_out).item())))
        raw = self._mesh.get_tensor(self._mesh_out).reshape(468, 3)
        mesh = _to_image(raw, affine, region.size / MESH_SIZE)
        iris = self._irises(rgb, mesh) if self.with_iris else _iris_stand_in(mesh)
        return np.vstack([mesh, iris]).astype(np.float32), presence

    def _irises(self, rgb: np.ndarray, mesh: np.ndarray) -> np.ndarray:
        out = []
        for eye, (a, b) in enumerate(_EYE_CORNERS):
            corners = mesh[[a, b], :2]
            region = region_from_points(corners, corners[0], corners[1], _EYE_SCALE)
            patch, affine = _crop(rgb, region, IRIS_SIZE)
            mirrored = eye == 1  # the model was trained on image-left eyes
            if mirrored:
                patch = patch[:, ::-1]
            self._iris.set_tensor(self._iris_in, (patch.astype(np.float32) / 255.0)[None])
            self._iris.invoke()
            raw = self._iris.get_tensor(self._iris_out).reshape(5, 3).copy()
            if mirrored:  # un-mirror x, and the contour's left/right points swap places
                raw[:, 0] = IRIS_SIZE - raw[:, 0]
                raw[[1, 3]] = raw[[3, 1]]
            pts = _to_image(raw, affine, region.size / IRIS_SIZE)
            # iris depth on the eye's own scale: mediapipe averages the eye contour's z
            pts[:, 2] = pts[:, 2] - pts[:, 2].mean() + mesh[list(_EYE_CONTOURS[eye]), 2].mean()
            out.append(pts)
        return np.vstack(out)


def _to_image(raw: np.ndarray, affine: np.ndarray, z_scale: float) -> np.ndarray:
    xy = raw[:, :2] @ affine[:, :2].T + affine[:, 2]
    return np.column_stack([xy, raw[:, 2] * z_scale])


def _iris_stand_in(mesh: np.ndarray) -> np.ndarray:
    """Without the iris model: each eye's contour centre, repeated, so the layout stays 478."""
    centres = [mesh[list(idx)].mean(0) for idx in _EYE_CONTOURS]
    return np.vstack([np.repeat(c[None], 5, axis=0) for c in centres])
