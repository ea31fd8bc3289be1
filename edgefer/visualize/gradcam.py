"""Grad-CAM (Selvaraju et al. 2017) on the last convolution block of a checkpoint."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edgefer.errors import EdgeferError


class GradCam:
    """Class-activation heatmaps: the last 4-D ReLU output weighted by the mean gradient of
    the class score over each channel, ReLU'd and scaled to 0..1."""

    def __init__(self, checkpoint: Path) -> None:
        if checkpoint.suffix == ".onnx":
            raise EdgeferError(f"{checkpoint}: Grad-CAM needs gradients, so a checkpoint "
                               "(.pt or run dir), not an exported model")
        from torch import nn

        from edgefer.train.predictor import CheckpointClassifier

        clf = CheckpointClassifier(checkpoint)
        self.model, self.spec, self.labels = clf.model, clf.preprocess, clf.labels
        self._act = None
        for m in self.model.modules():  # the last ReLU with a 4-D output wins
            if isinstance(m, nn.ReLU):
                m.inplace = False
                m.register_forward_hook(self._keep)

    def _keep(self, _module, _inputs, output) -> None:
        if output.ndim == 4:
            self._act = output
            output.retain_grad()

    def __call__(self, face: np.ndarray, target: str | None = None
                 ) -> tuple[np.ndarray, str, float]:
        """(heatmap HxW in 0..1 at the model's input size, class explained, its probability);
        the class is the predicted one unless `target` names another."""
        import torch

        x = torch.from_numpy(self.spec([face]))
        logits = self.model(x)
        probs = logits.softmax(1)[0].detach().numpy()
        k = int(probs.argmax()) if target is None else self._index(target)
        self.model.zero_grad()
        logits[0, k].backward()
        act, grad = self._act[0], self._act.grad[0]
        cam = torch.relu((grad.mean((1, 2))[:, None, None] * act).sum(0)).detach().numpy()
        cam = cv2.resize(cam, self.spec.size[::-1], interpolation=cv2.INTER_LINEAR)
        return cam / cam.max() if cam.max() > 0 else cam, self.labels[k], float(probs[k])

    def _index(self, name: str) -> int:
        if name not in self.labels:
            raise EdgeferError(f"unknown emotion {name!r}: choose one of {', '.join(self.labels)}")
        return self.labels.index(name)
