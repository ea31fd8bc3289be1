"""Face recall by face size and detection size: FER2013 test faces pasted onto real photos.

Backgrounds are the real photographs scikit-image ships (coffee, rocket, motorcycle, brick,
grass, gravel: no faces in them), scaled to a 1600x900 scene; each scene holds faces of one
size at seeded random places. A face counts as found when a detection overlaps its box with
IoU >= 0.4, and as right when it is found and its emotion is the FER2013 label.
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
from edgefer.runtime.pipeline import EmotionPipeline
from edgefer.runtime.tracker import iou

BACKGROUNDS = ("coffee.png", "rocket.jpg", "motorcycle_left.png", "brick.png", "grass.png",
               "gravel.png")
SCENE = (1600, 900)  # width, height
FACE_SIZES = (24, 32, 48, 64, 96, 128, 192, 256)
MATCH_IOU = 0.4


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
    """One detection size and face size over all scenes."""

    det_size: int
    face_size: int
    faces: int
    found: int
    right: int
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
                backgrounds: tuple[str, ...] = BACKGROUNDS, seed: int = 0) -> list[Scene]:
    """One scene per background and face size, `per_scene` faces each, none overlapping."""
    rng = np.random.default_rng(seed)
    photos = background_photos(backgrounds)
    scenes = []
    for name in backgrounds:
        base = cv2.resize(photos[name], SCENE, interpolation=cv2.INTER_CUBIC)
        for size in sizes:
            img, boxes, labels = base.copy(), [], []
            while len(boxes) < per_scene:
                x = int(rng.integers(0, SCENE[0] - size))
                y = int(rng.integers(0, SCENE[1] - size))
                box = (x, y, size, size)
                if any(iou(box, b) > 0 for b in boxes):
                    continue
                k = int(rng.integers(len(test)))
                face = cv2.resize(test.images[k], (size, size), interpolation=cv2.INTER_CUBIC
                                  if size > 48 else cv2.INTER_AREA)
                img[y:y + size, x:x + size] = face[..., None]
                boxes.append(box)
                labels.append(int(test.labels[k]))
            scenes.append(Scene(img, boxes, labels, size, name))
    return scenes


def measure_recall(pipeline: EmotionPipeline, scenes: list[Scene],
                   det_sizes: tuple[int, ...]) -> list[RecallRow]:
    """Found and rightly classified faces per detection size and face size."""
    labels = pipeline.classifier.labels
    rows = []
    for det in det_sizes:
        for size in sorted({s.face_size for s in scenes}):
            faces = found = right = 0
            ms = []
            for scene in (s for s in scenes if s.face_size == size):
                start = time.perf_counter()
                result = pipeline(scene.image, det_size=det)
                ms.append((time.perf_counter() - start) * 1000)
                for box, label in zip(scene.boxes, scene.labels, strict=True):
                    faces += 1
                    best = max(result.faces, key=lambda f, b=box: iou(f.box, b), default=None)
                    if best is not None and iou(best.box, box) >= MATCH_IOU:
                        found += 1
                        right += best.emotion == labels[label]
            rows.append(RecallRow(det, size, faces, found, right, float(np.median(ms))))
    return rows
