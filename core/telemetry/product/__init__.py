"""No-op stand-ins for chromadb's product telemetry classes (huedb sends nothing)."""

from __future__ import annotations

from typing import Any, ClassVar


class ProductTelemetryEvent:
    """An event chromadb would send; huedb builds none, but code may subclass or create one."""

    max_batch_size: ClassVar[int] = 1

    def __init__(self, batch_size: int = 1) -> None:
        self.batch_size = batch_size

    @property
    def properties(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "batch_size"}

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def batch_key(self) -> str:
        return self.name

    def batch(self, other: ProductTelemetryEvent) -> ProductTelemetryEvent:
        raise NotImplementedError(f"{self.name} events are not batched")


class ProductTelemetryClient:
    """Accepts events and drops them: huedb never sends telemetry."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def capture(self, event: ProductTelemetryEvent) -> None:
        """Does nothing (no network, no file)."""

    @property
    def context(self) -> dict[str, Any]:
        return {}

    @property
    def user_id(self) -> str:
        return "huedb-sends-no-telemetry"


__all__ = ["ProductTelemetryClient", "ProductTelemetryEvent"]
