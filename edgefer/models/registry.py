"""Name -> constructor registry for the architectures edgefer can train."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from edgefer.errors import EdgeferError

_MODELS: dict[str, Callable[..., nn.Module]] = {}
_DOCS: dict[str, str] = {}
_REPARAM: set[str] = set()  # architectures that can train with fusable branches


def register_model(name: str, doc: str, reparam: bool = False) -> Callable:
    """Decorator: register `fn(num_classes, in_channels) -> nn.Module` under `name`; with
    `reparam`, `fn` also takes `reparam=True` (train-time branches, see `reparameterize`)."""

    def wrap(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        _MODELS[name] = fn
        _DOCS[name] = doc
        if reparam:
            _REPARAM.add(name)
        return fn

    return wrap


def list_models() -> dict[str, str]:
    """Registered names and their one-line descriptions."""
    return dict(_DOCS)


def create_model(name: str, num_classes: int = 7, in_channels: int = 1,
                 reparam: bool = False) -> nn.Module:
    """Build a registered architecture (with train-time branches when `reparam`)."""
    if name not in _MODELS:
        raise EdgeferError(f"unknown model {name!r}: choose one of {', '.join(_MODELS)}")
    if not reparam:
        return _MODELS[name](num_classes=num_classes, in_channels=in_channels)
    if name not in _REPARAM:
        raise EdgeferError(f"--reparam: {name} has no train-time branches (choose one of "
                           f"{', '.join(sorted(_REPARAM))})")
    return _MODELS[name](num_classes=num_classes, in_channels=in_channels, reparam=True)
