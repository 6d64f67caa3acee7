"""Model catalog, tiny twins and the one shared ModelCache."""

from studio.models.cache import ModelCache
from studio.models.specs import ModelSpec

__all__ = ["ModelCache", "ModelSpec"]
