"""Knowledge distillation: soft targets from trained teachers on the student's own batch.

Teachers are edgefer checkpoints or exported models; several are averaged, and FER+'s vote
shares may join them (`with_votes`). Cross-fitted teachers (`edgefer train --folds K --fold I`)
each teach only the faces of the fold they never saw, so every face's target comes from models
that did not learn its label by heart. Checkpoints and edgefer's fp32 ONNX files run in PyTorch
on the student's device, under its autocast; other files (int8, ncnn, ...) on their runtime,
their probabilities turned back into log-probabilities, which soften at a temperature like
logits do.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from edgefer.errors import EdgeferError
from edgefer.preprocess import Preprocess
from edgefer.runtime.classifier import EmotionClassifier
from edgefer.runtime.formats import is_model_file
from edgefer.train.onnx_network import network_from_onnx
from edgefer.train.predictor import CheckpointClassifier


class Teacher:
    """Averaged, temperature-softened probabilities of one or more trained models."""

    def __init__(self, paths: list[str], spec: Preprocess, labels: list[str],
                 device: torch.device, flip: bool = False,
                 dtype: torch.dtype | None = None) -> None:
        if not paths:
            raise EdgeferError("--teacher needs at least one model")
        self.device, self.flip, self.dtype, self.classes = device, flip, dtype, len(labels)
        loaded = [self._load(Path(p), spec, labels) for p in paths]
        self.members = [m for m, _ in loaded]
        self.held_out = [None if h is None else h["fold"] for _, h in loaded]
        folds = sorted({h["folds"] for _, h in loaded if h is not None})
        if len(folds) > 1:
            raise EdgeferError(f"--teacher: cross-fitted teachers of {folds[0]} and {folds[1]} "
                               "folds: a face's fold must mean the same to all of them")
        self.folds: int | None = folds[0] if folds else None  # None: no cross-fitted teacher
        missing = sorted(set(range(self.folds or 0)) - set(self.held_out))
        if missing and None not in self.held_out:
            raise EdgeferError(f"--teacher: no teacher held out fold(s) {missing} of "
                               f"{self.folds}, so their faces would get no target")

    def _load(self, path: Path, spec: Preprocess, labels: list[str]):
        """A callable (normalised batch (N, C, H, W) -> (N, classes) log-probabilities) and
        the Training fold the model never saw (None: it saw all of Training)."""
        clf = EmotionClassifier(path) if is_model_file(path) else CheckpointClassifier(path)
        held = clf.held_out if isinstance(clf, CheckpointClassifier) else clf.meta.held_out
        affine = spec.affine_to(clf.preprocess)
        if affine is None or clf.labels != labels:
            raise EdgeferError(f"--teacher {path}: its input or labels differ from the "
                               "student's, so its outputs cannot be targets")
        # a teacher normalised otherwise (e.g. mean 0.5 against 128/255) sees its own input
        scale, shift = (torch.from_numpy(a).view(1, -1, 1, 1).to(self.device) for a in affine)
        if isinstance(clf, CheckpointClassifier):
            model = clf.model
        elif path.suffix == ".onnx" and clf.meta.precision == "fp32" and clf.meta.arch:
            model = network_from_onnx(path, "ONNX teachers")
        else:
            model = None
        if model is not None:  # in torch, on the student's device
            model = model.to(self.device, memory_format=torch.channels_last)

            def run(x: torch.Tensor) -> torch.Tensor:
                return model(x * scale + shift).float().log_softmax(1)
        else:
            def run(x: torch.Tensor) -> torch.Tensor:
                return torch.from_numpy(np.log(np.maximum(clf.run_tensor(
                    (x * scale + shift).float().contiguous().cpu().numpy()), 1e-8))
                ).to(self.device)
        return run, held

    @torch.no_grad()
    def soft_targets(self, x: torch.Tensor, temperature: float,
                     folds: torch.Tensor | None = None) -> torch.Tensor:
        """Mean over teachers (and with `flip`, over the face and its mirror) of
        softmax(log p / T): (N, classes). With cross-fitted teachers, `folds` holds each
        face's fold (`FaceSet.folds(self.folds)`), and a face's mean is over the teachers that
        never saw it."""
        views = torch.cat([x, x.flip(3)]) if self.flip else x  # one teacher call for both
        if self.folds is not None:
            if folds is None:
                raise EdgeferError("cross-fitted teachers need each face's fold")
            folds = folds.to(self.device).repeat(len(views) // len(x))
        total = torch.zeros(len(views), self.classes, device=self.device)
        count = torch.zeros(len(views), 1, device=self.device)
        with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None):
            for member, held in zip(self.members, self.held_out, strict=True):
                if held is None:
                    total += (member(views) / temperature).softmax(1)
                    count += 1
                elif (pick := folds == held).any():
                    total[pick] += (member(views[pick]) / temperature).softmax(1)
                    count[pick] += 1
        probs = total / count
        return probs.view(-1, len(x), probs.shape[1]).mean(0)


def with_votes(targets: torch.Tensor, shares: torch.Tensor, weight: float,
               temperature: float) -> torch.Tensor:
    """The teachers' `soft_targets` with human annotators' vote shares (N, classes) as one
    more member of `weight`, tempered alike; rows without a vote keep the teachers' alone."""
    tempered = (shares.clamp_min(1e-8).log() / temperature).softmax(1)
    w = weight * (shares.sum(1, keepdim=True) > 0)
    return (1 - w) * targets + w * tempered


def kd_loss(student_logits: torch.Tensor, targets: torch.Tensor,
            temperature: float) -> torch.Tensor:
    """Hinton's distillation term: T^2 * KL(targets || softmax(student / T)), batch mean."""
    log_p = (student_logits.float() / temperature).log_softmax(1)
    return F.kl_div(log_p, targets, reduction="batchmean") * temperature ** 2
