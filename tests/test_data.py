"""The data layer on real FER2013 faces: the three forms, FER+ labels, malformed input."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from helpers import assert_one_line_error, run_cli

from edgefer.data import EMOTIONS, SPLITS, load_faces, resolve_data
from edgefer.data.ferplus import UNRELIABLE_ROWS, vote_shares
from edgefer.data.writers import write_folder
from edgefer.errors import EdgeferError

# Published FER2013 counts (the data's SOURCE.md), split x class.
PUBLISHED = [
    [3995, 436, 4097, 7215, 4830, 3171, 4965],
    [467, 56, 496, 895, 653, 415, 607],
    [491, 55, 528, 879, 594, 416, 626],
]


def write_csv(path, faces, mangle=None):
    usage = {0: "Training", 1: "PublicTest", 2: "PrivateTest"}
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["emotion", "pixels", "Usage"])
        for i in range(len(faces)):
            row = [str(faces.labels[i]), " ".join(map(str, faces.images[i].ravel())),
                   usage[int(faces.splits[i])]]
            w.writerow(mangle(i, row) if mangle else row)


@pytest.fixture(scope="module")
def small(small_npz):
    return load_faces(small_npz)


def test_npz_counts_match_published(fer):
    assert fer.counts().tolist() == PUBLISHED
    assert fer.images.shape == (35887, 48, 48)
    assert (fer.rows == np.arange(35887)).all()


def test_csv_round_trip(small, tmp_path):
    path = tmp_path / "fer2013.csv"
    write_csv(path, small)
    got = load_faces(path)
    assert np.array_equal(got.images, small.images)
    assert np.array_equal(got.labels, small.labels)
    assert np.array_equal(got.splits, small.splits)


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_folder_round_trip_is_lossless(small, tmp_path, fmt):
    size = write_folder(small, tmp_path / "out", fmt)
    assert sorted(p.name.split("_")[0] for p in (tmp_path / "out" / "test").rglob("*")
                  if p.is_file())[0] == "PrivateTest"
    got = load_faces(tmp_path / "out")
    assert got.counts().tolist() == small.counts().tolist()
    assert sorted(map(bytes, got.images)) == sorted(map(bytes, small.images))
    assert (got.rows == -1).all()
    assert size < 2000 * len(small)  # the point of packing: smaller than 2,304 raw bytes


def test_data_pack_cli(small, small_npz, tmp_path):
    out = run_cli("data", "pack", str(tmp_path / "p"), "--data", str(small_npz),
                  "--splits", "train,val").stdout
    want = small.counts()
    want[2] = 0
    assert f"{want.sum():,} faces (train, val)" in out
    assert load_faces(tmp_path / "p").counts().tolist() == want.tolist()
    assert_one_line_error(run_cli("data", "pack", str(tmp_path / "p"), "--data",
                                  str(small_npz), check=False), "not empty")
    assert_one_line_error(run_cli("data", "pack", str(tmp_path / "q"), "--data",
                                  str(small_npz), "--splits", "train,dev", check=False),
                          "unknown split 'dev'")


@pytest.mark.parametrize(("mangle", "message"), [
    (lambda i, r: [r[0], r[1] + " 7", r[2]], "2305 pixels, expected 2304"),
    (lambda i, r: ["9", r[1], r[2]], "unknown emotion label '9'"),
    (lambda i, r: [r[0], r[1], "Validation"], "unknown Usage 'Validation'"),
    (lambda i, r: [r[0], r[1].replace(" ", " x", 1), r[2]], "pixels are not integers"),
])
def test_malformed_csv_row_names_file_and_line(small, tmp_path, mangle, message):
    path = tmp_path / "bad.csv"
    write_csv(path, small.select(np.arange(20)), lambda i, r: mangle(i, r) if i == 5 else r)
    with pytest.raises(EdgeferError) as e:
        load_faces(path)
    assert f"{path}:7 (row 5)" in str(e.value) and message in str(e.value)
    skipped = load_faces(path, skip_bad=True)
    assert (len(skipped), skipped.skipped) == (19, 1)


def test_malformed_npz(small, tmp_path):
    path = tmp_path / "bad.npz"
    emotion = small.labels.copy()
    emotion[3] = 11
    np.savez(path, pixels=small.images, emotion=emotion, usage=small.splits)
    with pytest.raises(EdgeferError, match="row 3"):
        load_faces(path)
    assert load_faces(path, skip_bad=True).skipped == 1
    np.savez(path, pixels=small.images, emotion=small.labels)
    with pytest.raises(EdgeferError, match="missing arrays"):
        load_faces(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(EdgeferError, match="cannot read npz"):
        load_faces(path)


def test_folder_errors(small, tmp_path):
    (tmp_path / "empty" / "train" / "happy").mkdir(parents=True)
    with pytest.raises(EdgeferError, match="no images found"):
        load_faces(tmp_path / "empty")
    root = tmp_path / "broken"
    write_folder(small.select(np.arange(10)), root, "png")
    bad = next((root / "train").rglob("*.png"))
    bad.write_bytes(b"\x89PNG truncated")
    with pytest.raises(EdgeferError, match=str(bad)):
        load_faces(root)
    assert load_faces(root, skip_bad=True).skipped == 1
    (root / "train" / "bored").mkdir()
    with pytest.raises(EdgeferError, match="unknown class folder"):
        load_faces(root)


def test_ferplus_labels(fer_path, fer):
    plus = load_faces(fer_path, labels="ferplus-soft")
    assert 0.9 * len(fer) < len(plus) < len(fer)  # NF / unknown / contempt rows dropped
    assert np.allclose(plus.targets.sum(1), 1.0)
    assert (plus.targets.argmax(1) == plus.labels).all()
    agree = (plus.labels == fer.labels[plus.rows]).mean()
    assert 0.6 < agree < 0.95, agree  # FER+ relabels a real share of faces
    assert load_faces(fer_path, labels="ferplus").targets is None


def test_vote_shares_are_the_soft_labels_of_every_face(fer_path, fer):
    shares = vote_shares(fer, fer_path)
    assert shares.shape == (len(fer), 7)
    total = shares.sum(1)
    assert np.allclose(total[total > 0], 1.0) and (total == 0).mean() < 0.01
    assert (total[np.isin(fer.rows, UNRELIABLE_ROWS)] == 0).all()
    plus = load_faces(fer_path, labels="ferplus-soft")
    assert np.array_equal(shares[plus.rows], plus.targets)  # the rows FER+ labels keep


def test_ferplus_needs_row_order(small, tmp_path):
    write_folder(small.select(np.arange(10)), tmp_path)
    (tmp_path / "fer2013new.csv").write_text("Usage\n")
    with pytest.raises(EdgeferError, match="row order"):
        load_faces(tmp_path, labels="ferplus")


def test_stratified_sample_keeps_every_class(fer):
    sub = fer.split("train").sample(200, seed=1)
    assert 195 <= len(sub) <= 205
    assert set(sub.labels.tolist()) == set(range(len(EMOTIONS)))
    assert np.array_equal(sub.images, fer.split("train").sample(200, seed=1).images)


def test_resolve_data(monkeypatch, tmp_path):
    monkeypatch.delenv("EDGEFER_DATA", raising=False)
    monkeypatch.setenv("EDGEFER_CACHE", str(tmp_path))
    with pytest.raises(EdgeferError, match="pass --data PATH or set EDGEFER_DATA"):
        resolve_data(None)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "fer2013.csv").write_text("")
    assert resolve_data(None) == tmp_path / "data" / "fer2013.csv"
    assert resolve_data(tmp_path / "data") == tmp_path / "data" / "fer2013.csv"  # its folder
    monkeypatch.setenv("EDGEFER_DATA", str(tmp_path / "nope.npz"))
    with pytest.raises(EdgeferError, match="dataset not found"):
        resolve_data(None)


def test_data_info_cli(small_npz):
    out = run_cli("data", "info", str(small_npz)).stdout
    assert all(s in out for s in (*SPLITS, "angry", "neutral"))
    assert "has an exact copy in train" in out or "have an exact copy in train" in out


def test_data_info_missing_file_is_one_line_error(tmp_path):
    assert_one_line_error(run_cli("data", "info", str(tmp_path / "x.npz"), check=False),
                          "dataset not found")
