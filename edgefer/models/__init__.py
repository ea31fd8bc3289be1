"""Model registry (timm style): `create_model(name)`, `list_models()`, `register_model`."""

from edgefer.models import edge, seed  # noqa: F401  (registers the architectures)
from edgefer.models.profile import count_macs, count_params
from edgefer.models.registry import create_model, list_models, register_model

__all__ = ["count_macs", "count_params", "create_model", "list_models", "register_model"]
