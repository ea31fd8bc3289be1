"""Face recall by face size and detection size: FER2013 test faces pasted onto real photos.

Backgrounds are the real photographs scikit-image ships (coffee, rocket, motorcycle, brick,
grass, gravel: no faces in them), scaled to a 1600x900 scene; each scene holds faces of one
size at seeded random places. FER2013 crops are tight on some faces and loose on others, so
a face counts as found when a detection lies mostly inside its pasted square (at least
MATCH_INSIDE of the detection's area) and spans at least MATCH_SIDE of its side, and as
right when it is found and its emotion is the FER2013 label. Any other detection is false.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgefer.data import FaceSet
from edgefer.errors import EdgeferError
from edgefer.runtime.face_detector import FaceDetector
from edgefer.runtime.pipeline import EmotionPipeline

BACKGROUNDS = ("coffee.png", "rocket.jpg", "motorcycle_left.png", "brick.png", "grass.png",
               "gravel.png")
SCENE = (1600, 900)  # width, height
FACE_SIZES = (24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768)
MATCH_INSIDE = 0.5
MATCH_SIDE = 0.3


@dataclass
class Scene:
    """A photo with pasted faces: their boxes (x, y, w, h) and FER2013 label indices."""

    image: np.ndarray
    boxes: list[tuple[int, int, int, int]]
    labels: list[int]
    face_size: int
    background: str


@dataclass
class RecallRow:
    """One detection size (None: the pyramid) and face size over all scenes."""

    det_size: int | None
    face_size: int
    scenes: int
    faces: int
    found: int
    right: int
    false: int
    ms_per_scene: float

    @property
    def recall(self) -> float:
        return self.found / self.faces

    @property
    def accuracy(self) -> float:
        """End to end: a missed face counts as wrong."""
        return self.right / self.faces


def background_photos(names: tuple[str, ...] = BACKGROUNDS) -> dict[str, np.ndarray]:
    """The named photos from scikit-image's data folder, as BGR arrays."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or spec.origin is None:
        raise EdgeferError("the recall benchmark's backgrounds come with scikit-image: "
                           "pip install 'edgefer[dev]'")
    folder = Path(spec.origin).parent / "data"
    photos = {n: cv2.imread(str(folder / n), cv2.IMREAD_COLOR) for n in names}
    missing = [n for n, img in photos.items() if img is None]
    if missing:
        raise EdgeferError(f"scikit-image data lacks {', '.join(missing)} in {folder}")
    return photos


def make_scenes(test: FaceSet, sizes: tuple[int, ...] = FACE_SIZES, per_scene: int = 4,
                backgrounds: tuple[str, ...] = BACKGROUNDS, repeats: int = 1,
                seed: int = 0) -> list[Scene]:
    """`repeats` scenes per background and face size, each with up to `per_scene` faces in
    distinct cells of a grid of that size (as many as fit), so none overlap."""
    rng = np.random.default_rng(seed)
    photos = background_photos(backgrounds)
    scenes = []
    for name in backgrounds:
        base = cv2.resize(photos[name], SCENE, interpolation=cv2.INTER_CUBIC)
        for size in sizes:
            cols, rows = SCENE[0] // size, SCENE[1] // size
            cell_w, cell_h = SCENE[0] // cols, SCENE[1] // rows
            for _ in range(repeats):
                img, boxes, labels = base.copy(), [], []
                for cell in rng.choice(cols * rows, min(per_scene, cols * rows), replace=False):
                    x = int(cell % cols * cell_w + rng.integers(cell_w - size + 1))
                    y = int(cell // cols * cell_h + rng.integers(cell_h - size + 1))
                    k = int(rng.integers(len(test)))
                    face = cv2.resize(test.images[k], (size, size), interpolation=cv2.INTER_CUBIC
                                      if size > 48 else cv2.INTER_AREA)
                    img[y:y + size, x:x + size] = face[..., None]
                    boxes.append((x, y, size, size))
                    labels.append(int(test.labels[k]))
                scenes.append(Scene(img, boxes, labels, size, name))
    return scenes


def finds(detection: tuple[int, int, int, int], face: tuple[int, int, int, int]) -> bool:
    """Whether a detection box found the pasted face (both x, y, w, h)."""
    x, y, w, h = detection
    fx, fy, fw, fh = face
    inside = (max(0, min(x + w, fx + fw) - max(x, fx))
              * max(0, min(y + h, fy + fh) - max(y, fy)))
    return inside >= MATCH_INSIDE * w * h and max(w, h) >= MATCH_SIDE * fw


def measure_recall(pipeline: EmotionPipeline, scenes: list[Scene],
                   det_sizes: tuple[int | None, ...]) -> list[RecallRow]:
    """Found, rightly classified and false faces per detection size (None: the detector's
    pyramid) and face size."""
    labels = pipeline.classifier.labels
    rows = []
    for det in det_sizes:
        for size in sorted({s.face_size for s in scenes}):
            mine = [s for s in scenes if s.face_size == size]
            faces = found = right = false = 0
            ms = []
            for scene in mine:
                start = time.perf_counter()
                result = pipeline(scene.image, det_size=det)
                ms.append((time.perf_counter() - start) * 1000)
                for box, label in zip(scene.boxes, scene.labels, strict=True):
                    faces += 1
                    hits = [f for f in result.faces if finds(f.box, box)]
                    if hits:
                        found += 1
                        right += max(hits, key=lambda f: f.score).emotion == labels[label]
                false += sum(not any(finds(f.box, b) for b in scene.boxes) for f in result.faces)
            rows.append(RecallRow(det, size, len(mine), faces, found, right, false,
                                  float(np.median(ms))))
    return rows


def pooled_recall(rows: list[RecallRow], det_size: int | None,
                  face_sizes: tuple[int, ...] | None = None) -> float:
    """Faces found over all rows of one detection size (and of `face_sizes`, default all)."""
    mine = [r for r in rows if r.det_size == det_size
            and (face_sizes is None or r.face_size in face_sizes)]
    return sum(r.found for r in mine) / sum(r.faces for r in mine)


def measure_band(detector: FaceDetector, faces: np.ndarray,
                 sizes: tuple[int, ...]) -> dict[int, float]:
    """Share of `faces` (gray 48x48) found when each is pasted alone at each size in the
    middle of a plain canvas twice its side, detected at the canvas's own size: the range of
    face sizes the detector works in."""
    return {size: sum(found_alone(detector, face, size) for face in faces) / len(faces)
            for size in sizes}


def found_alone(detector: FaceDetector, face: np.ndarray, size: int) -> bool:
    """Whether `detector` finds the gray 48x48 `face` pasted alone at `size` pixels in the
    middle of a plain canvas twice its side, detected at the canvas's own size."""
    canvas = np.full((2 * size, 2 * size, 3), 110, np.uint8)
    o = size // 2
    canvas[o:o + size, o:o + size] = cv2.resize(face, (size, size),
                                                interpolation=cv2.INTER_CUBIC)[..., None]
    return any(finds(f.box, (o, o, size, size)) for f in detector(canvas, 2 * size))
