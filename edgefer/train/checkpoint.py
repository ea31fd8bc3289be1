"""Checkpoints: atomic writes, and safe loads (`weights_only=True`: nothing is unpickled)."""

from __future__ import annotations

import io
import pickle
import warnings
import zipfile
from pathlib import Path

import torch
from torch import nn

from edgefer.atomic import atomic_write
from edgefer.errors import EdgeferError
from edgefer.models import create_model
from edgefer.models.layers import reparameterize
from edgefer.preprocess import Preprocess

FORMAT = "edgefer-checkpoint"


def save_checkpoint(path: Path, payload: dict) -> None:
    """Write a checkpoint so that a kill or a full disk never leaves a truncated file.

    Serialised in memory first: torch's own file writer turns a failed write (disk full)
    into an opaque RuntimeError, a plain write gives the OSError `atomic_write` reports.
    """
    buf = io.BytesIO()
    torch.save({"format": FORMAT, **payload}, buf)
    atomic_write(path, lambda tmp: tmp.write_bytes(buf.getbuffer()))


def load_checkpoint(path: str | Path, name: str = "best.pt") -> dict:
    """Read an edgefer checkpoint (a file, or a run directory's `name`) without unpickling."""
    path = Path(path)
    if path.is_dir():
        path = path / name
    if not path.is_file():
        raise EdgeferError(f"checkpoint not found: {path}")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols on odd files
            warnings.simplefilter("ignore")
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise EdgeferError(f"{path}: not a loadable edgefer checkpoint (it holds Python objects "
                           "beyond tensors and plain data; refused unopened)") from None
    except (RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError) as e:
        reason = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise EdgeferError(f"{path}: not a loadable edgefer checkpoint ({reason})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise EdgeferError(f"{path}: not an edgefer checkpoint (a foreign or raw state_dict file)")
    ckpt["path"] = str(path)
    return ckpt


def held_out(ckpt: dict) -> dict | None:
    """The Training fold a cross-fitted run never saw (`--folds`/`--fold`), else None."""
    cfg = ckpt.get("config", {})
    return {"fold": cfg.get("fold", 0), "folds": cfg["folds"]} if cfg.get("folds") else None


def model_from_checkpoint(ckpt: dict) -> tuple[nn.Module, Preprocess, list[str]]:
    """The evaluated-mode model, its preprocessing and label names stored in a checkpoint;
    a model trained with `--reparam` comes fused, as the plain architecture."""
    labels = list(ckpt["labels"])
    spec = Preprocess.from_dict(ckpt["preprocess"])
    model = create_model(ckpt["arch"], num_classes=len(labels), in_channels=spec.channels,
                         reparam=bool(ckpt.get("config", {}).get("reparam")))
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as e:
        raise EdgeferError(f"{ckpt['path']}: weights do not fit '{ckpt['arch']}': "
                           f"{str(e).splitlines()[0]}") from None
    return reparameterize(model).eval(), spec, labels
