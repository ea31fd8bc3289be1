"""Name -> constructor registry for the architectures edgefer can train."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from edgefer.errors import EdgeferError

_MODELS: dict[str, Callable[..., nn.Module]] = {}
_DOCS: dict[str, str] = {}


def register_model(name: str, doc: str) -> Callable:
    """Decorator: register `fn(num_classes, in_channels) -> nn.Module` under `name`."""

    def wrap(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        _MODELS[name] = fn
        _DOCS[name] = doc
        return fn

    return wrap


def list_models() -> dict[str, str]:
    """Registered names and their one-line descriptions."""
    return dict(_DOCS)


def create_model(name: str, num_classes: int = 7, in_channels: int = 1) -> nn.Module:
    """Build a registered architecture."""
    if name not in _MODELS:
        raise EdgeferError(f"unknown model {name!r}: choose one of {', '.join(_MODELS)}")
    return _MODELS[name](num_classes=num_classes, in_channels=in_channels)
