"""Bad input to the CLI: each a one-line error naming the problem and a non-zero exit, or,
for unusual but valid images, the same answer as the plain image."""

from __future__ import annotations

import io
import json
import os
import pickle
import resource
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from helpers import assert_one_line_error, run_cli
from PIL import Image

from edgefer.modelmeta import KEY


def png_bomb(path: Path, side: int) -> None:
    """A valid side x side 8-bit gray PNG of zeros: a few hundred KB that decode to side**2
    bytes. Written row by row, so making it needs no such memory either."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + \
            struct.pack(">I", zlib.crc32(kind + body))

    z, row = zlib.compressobj(9), b"\x00" * (side + 1)  # filter byte + pixels
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side,
                                                                         8, 0, 0, 0, 0))
                     + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def detect(model: Path, yunet: Path, *args: str, **kw):
    return run_cli("detect", "--model", str(model), "--detector", str(yunet), *args, **kw)


def test_bad_images(tmp_path, exported, yunet, photo):
    jpeg = cv2.imencode(".jpg", cv2.imread(str(photo)))[1].tobytes()
    files = {
        "zero.png": (b"", "empty file"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "truncated JPEG"),
        "notes.png": (b"these are not pixels\n" * 50, "unreadable image"),
        "tiny.png": (cv2.imencode(".png", np.zeros((1, 1, 3), np.uint8))[1].tobytes(),
                     "image is 1x1, too small to hold a face"),
    }
    for name, (data, message) in files.items():
        (tmp_path / name).write_bytes(data)
        proc = detect(exported / "model.int8.onnx", yunet, "--source", str(tmp_path / name),
                      check=False)
        assert_one_line_error(proc, name, message)


def test_decompression_bomb_is_refused_with_bounded_memory(tmp_path, exported, yunet):
    bomb = tmp_path / "bomb.png"
    png_bomb(bomb, 20000)
    assert bomb.stat().st_size < 2_000_000  # 400 megapixels in under 2 MB
    proc = detect(exported / "model.int8.onnx", yunet, "--source", str(bomb), check=False,
                  preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_DATA, (2**30, 2**30)))
    assert_one_line_error(proc, "image is 20000x20000, above the 64 megapixel limit")


def test_unusual_valid_images_give_the_plain_answer(tmp_path, exported, yunet, photo):
    """16-bit, RGBA, palette, CMYK, TIFF and WebP versions of the photo: each read, one face,
    the same emotion as the plain PNG."""
    bgr = cv2.imread(str(photo))
    rgb = Image.fromarray(bgr[..., ::-1])
    folder = tmp_path / "variants"
    folder.mkdir()
    cv2.imwrite(str(folder / "plain.png"), bgr)
    cv2.imwrite(str(folder / "deep16.png"), bgr.astype(np.uint16) * 257)
    rgb.convert("RGBA").save(folder / "alpha.png")
    rgb.convert("P", palette=Image.Palette.ADAPTIVE).save(folder / "palette.png")
    rgb.convert("CMYK").save(folder / "cmyk.jpg", quality=95)
    rgb.save(folder / "plain.tiff")
    rgb.save(folder / "plain.webp", quality=95)
    proc = detect(exported / "model.int8.onnx", yunet, "--source", str(folder), "--json")
    lines = {Path(x["source"]).name: x for x in map(json.loads, proc.stdout.splitlines())}
    assert len(lines) == 7, proc.stderr
    plain = lines["plain.png"]["faces"]
    assert len(plain) == 1
    for name, line in lines.items():
        assert len(line["faces"]) == 1, name
        assert line["faces"][0]["emotion"] == plain[0]["emotion"], name


def test_a_directory_skips_bad_images_and_says_so(tmp_path, exported, yunet, photo):
    folder = tmp_path / "mixed"
    folder.mkdir()
    cv2.imwrite(str(folder / "a_good.png"), cv2.imread(str(photo)))
    (folder / "b_bad.jpg").write_bytes(b"\xff\xd8 broken")
    proc = detect(exported / "model.int8.onnx", yunet, "--source", str(folder), "--json")
    assert len(proc.stdout.splitlines()) == 1
    assert "warning: skipped" in proc.stderr and "b_bad.jpg" in proc.stderr
    (folder / "a_good.png").unlink()
    proc = detect(exported / "model.int8.onnx", yunet, "--source", str(folder), check=False)
    assert proc.returncode == 2 and "none of its 1 images could be read" in proc.stderr


def lying_model(src: Path, dst: Path, size: int) -> None:
    model = onnx.load(str(src))
    for prop in model.metadata_props:
        if prop.key == KEY:
            meta = json.loads(prop.value)
            meta["input"]["size"] = [size, size]
            prop.value = json.dumps(meta)
    onnx.save(model, str(dst))


def test_bad_models(tmp_path, exported, yunet, photo, fer_path):
    good = (exported / "model.int8.onnx").read_bytes()
    (tmp_path / "truncated.onnx").write_bytes(good[: len(good) // 3])
    (tmp_path / "random.onnx").write_bytes(np.random.default_rng(1).bytes(20000))
    lying_model(exported / "model.int8.onnx", tmp_path / "lying.onnx", 64)
    cases = [
        (tmp_path / "truncated.onnx", "not a loadable ONNX model"),
        (tmp_path / "random.onnx", "not a loadable ONNX model"),
        (yunet, "not an edgefer model"),
        (tmp_path / "lying.onnx", "metadata describes input [1, 64, 64] but the graph takes"),
        (tmp_path / "missing.onnx", "model not found"),
    ]
    for model, message in cases:
        proc = detect(model, yunet, "--source", str(photo), check=False)
        assert_one_line_error(proc, message)
        proc = run_cli("evaluate", str(model), "--limit", "5", "--data", str(fer_path),
                       check=False)
        assert_one_line_error(proc, message)


@pytest.mark.slow
def test_pickle_bearing_checkpoint_never_runs(tmp_path, fer_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil.pt"
    buf = io.BytesIO()
    pickle.dump({"format": "edgefer-checkpoint", "model": Payload()}, buf)
    evil.write_bytes(buf.getvalue())
    data = ["--data", str(fer_path)]
    for args in (["export", str(evil), "--out", str(tmp_path / "x"), *data],
                 ["evaluate", str(evil), "--limit", "5", *data],
                 ["train", "--resume", str(evil)]):
        proc = run_cli(*args, check=False)
        assert_one_line_error(proc, "not a loadable edgefer checkpoint")
    assert not marker.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["train", "--model", "resnet9000"], "unknown model 'resnet9000'"),
    (["detect", "--source", "{photo}", "--threads", "-2"], "threads must be at least 1"),
    (["detect", "--source", "{empty}"], "no images"),
    (["detect", "--source", "{photo}", "--backend", "tpu"], "unknown backend 'tpu'"),
    (["detect", "--source", "{photo}", "--max-frames", "0"], "max_frames must be at least 1"),
    (["evaluate", "{model}", "--split", "holdout"], "unknown split 'holdout'"),
    (["export", "{photo}"], "not a loadable edgefer checkpoint"),
])
def test_bad_cli_arguments(tmp_path, exported, photo, fer_path, yunet, args, message):
    (tmp_path / "empty").mkdir()
    fill = {"photo": str(photo), "empty": str(tmp_path / "empty"),
            "model": str(exported / "model.onnx")}
    extra = ["--detector", str(yunet)] if args[0] == "detect" else ["--data", str(fer_path)]
    proc = run_cli(*(a.format(**fill) for a in args), *extra, check=False)
    assert_one_line_error(proc, message)
