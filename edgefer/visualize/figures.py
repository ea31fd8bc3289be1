"""Figures of what a model sees: channel grids, Grad-CAM panels, per-class bars, mistakes.

One colour map for activations and heatmaps (viridis), class names on every axis, sizes
that fit a laptop screen.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from edgefer.atomic import atomic_write
from edgefer.plots import pyplot
from edgefer.visualize.features import FeatureMap

CMAP = "viridis"


def _save(fig, path: Path) -> None:
    plt = pyplot()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)


def _gray(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def channel_mosaic(maps: np.ndarray, pad: int = 1) -> tuple[np.ndarray, int]:
    """(C, H, W) -> one near-square mosaic, each channel scaled to 0..1, NaN between tiles;
    also the number of columns."""
    c, h, w = maps.shape
    cols = math.ceil(math.sqrt(c))
    rows = math.ceil(c / cols)
    mosaic = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), np.nan, np.float32)
    for i, m in enumerate(maps):
        lo, hi = float(m.min()), float(m.max())
        r, k = divmod(i, cols)
        mosaic[r * (h + pad):r * (h + pad) + h, k * (w + pad):k * (w + pad) + w] = \
            (m - lo) / (hi - lo) if hi > lo else 0.0
    return mosaic, cols


def plot_feature_map(fm: FeatureMap, path: Path, face_name: str) -> None:
    """All channels of one layer as a grid (row-major channel order), each scaled to its own
    range."""
    plt = pyplot()
    c, h, w = fm.maps.shape
    mosaic, cols = channel_mosaic(fm.maps)
    fig, ax = plt.subplots(figsize=(8, 8 * mosaic.shape[0] / mosaic.shape[1] + 0.8), dpi=100)
    im = ax.imshow(mosaic, cmap=CMAP, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([(k + 0.5) * (w + 1) - 1 for k in range(cols)], range(cols))
    ax.set_yticks([(r + 0.5) * (h + 1) - 1 for r in range(math.ceil(c / cols))],
                  [str(r * cols) for r in range(math.ceil(c / cols))])
    ax.set(xlabel="channel (column offset)", ylabel="channel (row start)")
    ax.tick_params(labelsize=7)
    fig.colorbar(im, ax=ax, shrink=0.7, label="activation (per-channel scale)")
    ax.set_title(f"{fm.name} ({fm.source}): {c} channels x {h}x{w}\n{face_name}", fontsize=9)
    fig.tight_layout()
    _save(fig, path)


def plot_gradcam(rows: Sequence[tuple[str, np.ndarray, list[tuple[np.ndarray, str, float]]]],
                 path: Path) -> None:
    """One row per face: the crop, then one Grad-CAM overlay per explained class."""
    plt = pyplot()
    cols = 1 + max(len(cams) for _, _, cams in rows)
    fig, axes = plt.subplots(len(rows), cols, figsize=(2.6 * cols, 2.8 * len(rows)), dpi=100,
                             squeeze=False)
    for r, (name, face, cams) in enumerate(rows):
        gray = _gray(face)
        axes[r, 0].imshow(gray, cmap="gray")
        axes[r, 0].set_title(name, fontsize=8)
        for c, (cam, label, prob) in enumerate(cams, start=1):
            axes[r, c].imshow(gray, cmap="gray")
            heat = cv2.resize(cam, gray.shape[::-1], interpolation=cv2.INTER_LINEAR)
            im = axes[r, c].imshow(heat, cmap=CMAP, alpha=0.5, vmin=0, vmax=1)
            axes[r, c].set_title(f"Grad-CAM: {label} (p={prob:.2f})", fontsize=8)
        for ax in axes[r]:
            ax.axis("off")
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.6, label="class evidence")
    _save(fig, path)


def plot_per_class(recall: dict[str, float], support: dict[str, int], path: Path,
                   title: str) -> None:
    """Per-class accuracy (recall) bars with the number of faces of each class."""
    plt = pyplot()
    names = list(recall)
    fig, ax = plt.subplots(figsize=(7, 3.8), dpi=100)
    bars = ax.bar(names, [recall[n] for n in names], color=plt.get_cmap(CMAP)(0.55))
    for bar, n in zip(bars, names, strict=True):
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 0.01,
                f"{recall[n]:.2f}\nn={support[n]}", ha="center", va="bottom", fontsize=8)
    ax.set(ylim=(0, 1.12), ylabel="accuracy (recall)", xlabel="true class", title=title)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    _save(fig, path)


def plot_mistakes(images: np.ndarray, truth: np.ndarray, probs: np.ndarray,
                  labels: Sequence[str], path: Path, per_class: int = 6) -> int:
    """For each true class, its most confident wrong predictions; returns the panel count."""
    plt = pyplot()
    pred = probs.argmax(1)
    fig, axes = plt.subplots(len(labels), per_class, figsize=(1.5 * per_class, 1.7 * len(labels)),
                             dpi=100, squeeze=False)
    shown = 0
    for c, name in enumerate(labels):
        wrong = np.flatnonzero((truth == c) & (pred != c))
        wrong = wrong[np.argsort(-probs[wrong, pred[wrong]])][:per_class]
        for j, ax in enumerate(axes[c]):
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(f"true {name}", fontsize=8)
            if j < len(wrong):
                k = wrong[j]
                ax.imshow(images[k], cmap="gray", vmin=0, vmax=255)
                ax.set_title(f"{labels[pred[k]]} {probs[k, pred[k]]:.2f}", fontsize=7, pad=2)
                shown += 1
            else:
                for spine in ax.spines.values():
                    spine.set_visible(False)
    fig.suptitle("Most confident mistakes per true class (title: predicted class, confidence)",
                 fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    _save(fig, path)
    return shown


def plot_layer_means(rows: Sequence[tuple[str, np.ndarray, list[FeatureMap]]], path: Path) -> None:
    """One row per face: the face, then each layer's mean activation over its channels."""
    plt = pyplot()
    n_layers = len(rows[0][2])
    fig, axes = plt.subplots(len(rows), n_layers + 1,
                             figsize=(min(1.3 * (n_layers + 1), 13), 1.45 * len(rows)), dpi=100,
                             squeeze=False)
    for r, (name, face, layers) in enumerate(rows):
        axes[r, 0].imshow(_gray(face), cmap="gray")
        axes[r, 0].set_ylabel(name, fontsize=8)
        for c, fm in enumerate(layers, start=1):
            axes[r, c].imshow(fm.maps.mean(0), cmap=CMAP)
            if r == 0:
                axes[r, c].set_title(f"{fm.name}\n{fm.maps.shape[1]}x{fm.maps.shape[2]}",
                                     fontsize=7)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("Mean activation per layer, one face per emotion", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    _save(fig, path)
