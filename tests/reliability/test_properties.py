"""Property tests: preprocessing, the tracker and the metadata parser on generated input."""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest
from helpers import face_result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from edgefer.data import EMOTIONS
from edgefer.errors import EdgeferError
from edgefer.modelmeta import KEY, VERSION, ModelMeta
from edgefer.preprocess import Preprocess
from edgefer.runtime.results import FaceResult
from edgefer.runtime.tracker import Tracker

SPECS = [Preprocess(),
         Preprocess(size=(64, 64), channels=3, layout="NHWC", range=(-1.0, 1.0),
                    mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))]
DTYPES = st.sampled_from([np.uint8, np.uint16, np.int8, np.int32, np.float16, np.float32,
                          np.float64, np.bool_])
SHAPES = st.one_of(hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=80),
                   st.tuples(st.integers(0, 80), st.integers(0, 80), st.integers(0, 6)),
                   hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6))
images = st.tuples(DTYPES, SHAPES).flatmap(lambda a: hnp.arrays(a[0], a[1]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(img=images, which=st.sampled_from(range(len(SPECS))))
def test_preprocess_gives_a_valid_tensor_or_a_clear_error(img, which):
    spec = SPECS[which]
    try:
        x = spec([img])
    except EdgeferError as e:
        assert str(e)
        return
    # accepted: 8/16-bit gray, gray+1, BGR or BGRA, non-empty
    assert img.dtype in (np.uint8, np.uint16) and img.size > 0
    h, w = spec.size
    expected = (1, spec.channels, h, w) if spec.layout == "NCHW" else (1, h, w, spec.channels)
    assert x.shape == expected and x.dtype == np.float32 and x.flags.c_contiguous
    lo, hi = spec.range
    bounds = [((lo - m) / s, (hi - m) / s) for m, s in zip(spec.mean, spec.std, strict=True)]
    assert np.isfinite(x).all()
    assert x.min() >= min(b[0] for b in bounds) - 1e-5
    assert x.max() <= max(b[1] for b in bounds) + 1e-5


def face(box, emotion="happy") -> FaceResult:
    return face_result(box, {k: 0.9 if k == emotion else 0.1 / 6 for k in EMOTIONS})


boxes = st.lists(st.tuples(st.integers(0, 1800), st.integers(0, 1000), st.integers(40, 200)),
                 min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(start=boxes, seed=st.integers(0, 2**32 - 1), frames=st.integers(2, 30))
def test_tracker_ids_stay_put_under_jitter(start, seed, frames):
    """Faces far apart (their own 200-px cells) that jitter by up to 8% of their size each
    frame keep the ids they got in the first frame."""
    rng = np.random.default_rng(seed)
    cells = {(x // 250, y // 250) for x, y, _ in start}
    placed = [(250 * cx + 20, 250 * cy + 20, s) for (cx, cy), (_, _, s) in
              zip(sorted(cells), start, strict=False)]
    tracker = Tracker(list(EMOTIONS))
    first = tracker.update([face((x, y, s, s)) for x, y, s in placed])
    ids = [f.track_id for f in first]
    assert len(set(ids)) == len(ids)
    for _ in range(frames):
        moved = []
        for x, y, s in placed:
            d = rng.integers(-int(0.08 * s), int(0.08 * s) + 1, size=3)
            moved.append(face((x + int(d[0]), y + int(d[1]), s + int(d[2]), s + int(d[2]))))
        assert [f.track_id for f in tracker.update(moved)] == ids


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20)
# documents shaped like ours, with any field missing or replaced by any JSON value
fields = {"labels": st.just(list(EMOTIONS)), "precision": st.just("int8"),
          "input": st.just(Preprocess().to_dict())}
near_miss = st.fixed_dictionaries({}, optional={k: v | json_values for k, v in fields.items()})
numbers = st.lists(st.floats() | st.integers(-2**70, 2**70), max_size=4)
input_near_miss = st.dictionaries(st.sampled_from(list(Preprocess().to_dict())),
                                  numbers | json_values, max_size=6).map(
    lambda d: {"labels": list(EMOTIONS), "precision": "fp32", "input": {**Preprocess().to_dict(),
                                                                         **d}})


@settings(max_examples=400, deadline=None)
@given(doc=json_values | near_miss | input_near_miss)
def test_metadata_parser_never_crashes(doc):
    text = json.dumps(doc)
    try:
        meta = ModelMeta.from_model({KEY: text}, "model.onnx")
    except EdgeferError as e:
        assert str(e).startswith("model.onnx: ") or "preprocess" in str(e)
        return
    assert isinstance(meta.preprocess, Preprocess) and len(meta.labels) >= 2
    assert ModelMeta.from_json(meta.to_json(), "again") == meta  # what is read, writes back


@settings(max_examples=500, deadline=None)
@given(desc=st.fixed_dictionaries({k: numbers | json_values for k in Preprocess().to_dict()}))
def test_preprocess_description_with_any_field_values(desc):
    try:
        spec = Preprocess.from_dict(desc)
    except EdgeferError:
        return
    assert spec([np.zeros((30, 30), np.uint8)]).dtype == np.float32


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_metadata_parser_takes_any_text(text):
    with contextlib.suppress(EdgeferError):
        ModelMeta.from_model({KEY: text}, "m.onnx")


def test_metadata_from_a_newer_edgefer_is_refused():
    meta = ModelMeta(list(EMOTIONS), Preprocess(), "int8", arch="edge-s")
    doc = json.loads(meta.to_json())
    assert doc["format"] == "edgefer-model" and doc["version"] == VERSION
    doc["version"] = VERSION + 1
    with pytest.raises(EdgeferError, match="newer than this edgefer reads"):
        ModelMeta.from_json(json.dumps(doc), "m.onnx")
    doc |= {"version": VERSION, "format": "other-model"}
    with pytest.raises(EdgeferError, match="is not edgefer-model"):
        ModelMeta.from_json(json.dumps(doc), "m.onnx")


@pytest.fixture(scope="module")
def classifier():
    from edgefer import EmotionClassifier

    return EmotionClassifier()  # the shipped int8 model


SIDES = st.integers(1, 64)
one_face = st.tuples(SIDES, SIDES, st.sampled_from([None, 1, 3, 4]),
                     st.sampled_from([np.uint8, np.uint16])).flatmap(
    lambda a: hnp.arrays(a[3], a[:2] if a[2] is None else a[:3]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(face=one_face)
def test_one_face_is_one_prediction(classifier, face):
    """Any single crop (gray, gray+1, BGR, BGRA; any size, even 3 or 4 pixels wide) gives
    exactly one prediction, the same one predict_batch gives for a list of that crop."""
    one = classifier.predict(face)
    batch = classifier.predict_batch([face])
    assert len(batch) == 1 and batch[0].emotion == one.emotion
    assert abs(sum(one.probs.values()) - 1) < 1e-3
    if face.ndim == 3 and face.shape[2] in (1, 3, 4):  # a colour crop as an array batch: refused
        with pytest.raises(EdgeferError, match="ambiguous"):
            classifier.predict_batch(face)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 6), side=st.integers(5, 60), channels=st.sampled_from([None, 1, 3, 4]))
def test_a_batch_gives_one_prediction_per_face(classifier, n, side, channels):
    shape = (n, side, side) if channels is None else (n, side, side, channels)
    faces = np.random.default_rng(n * side).integers(0, 256, shape, dtype=np.uint8)
    assert len(classifier.predict_batch(faces)) == n
    assert len(classifier.predict_batch(list(faces))) == n
    with pytest.raises(EdgeferError):
        classifier.predict(faces)  # several faces are never read as one
