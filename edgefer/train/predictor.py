"""`CheckpointClassifier`: a training checkpoint behind the runtime classifier's interface."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from edgefer.errors import EdgeferError
from edgefer.runtime.classifier import FaceClassifier
from edgefer.train.checkpoint import held_out, load_checkpoint, model_from_checkpoint


class CheckpointClassifier(FaceClassifier):
    """An edgefer checkpoint (a .pt file or run directory's best.pt) run by PyTorch in eval
    mode; `model` is the torch module itself (for hooks and gradients)."""

    backend = "torch"

    def __init__(self, path: str | Path, threads: int | None = None,
                 flip_tta: bool = False) -> None:
        if threads is not None and threads < 1:
            raise EdgeferError(f"threads must be at least 1, not {threads}")
        if threads:
            torch.set_num_threads(threads)
        ckpt = load_checkpoint(path)
        self.path, self.arch, self.flip_tta = Path(ckpt["path"]), ckpt["arch"], flip_tta
        self.model, self.preprocess, self.labels = model_from_checkpoint(ckpt)
        self.held_out = held_out(ckpt)

    @torch.no_grad()
    def run_tensor(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        return self.model(torch.from_numpy(np.ascontiguousarray(x))).softmax(1).numpy()
