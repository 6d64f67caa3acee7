"""What identifies a model in the cache."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelSpec:
    """One loadable model. Two equal specs are the same cache entry.

    ``source`` is a Hub id, a local folder, or ``tiny:<name>`` for a locally built
    random-weight twin; ``kind`` names the loader (see ``studio.models.loaders``).
    """

    kind: str
    source: str
    revision: str | None = None
    subfolder: str | None = None
    dtype: str = "auto"
    variant: str | None = None
    label: str = field(default="", compare=False)  # catalog name shown in the Models tab; not part of the identity

    @property
    def key(self) -> tuple:
        return (self.kind, self.source, self.revision, self.subfolder, self.dtype, self.variant)

    @property
    def is_tiny(self) -> bool:
        return self.source.startswith("tiny:")

    def __str__(self) -> str:
        where = f"{self.source}/{self.subfolder}" if self.subfolder else self.source
        return f"{self.kind}:{where}" + (f"@{self.revision}" if self.revision else "")
