"""chromadb's Posthog telemetry client, as a no-op: code that patches ``Posthog.capture`` to
silence Chroma's telemetry runs unchanged, and there is nothing to silence."""

from __future__ import annotations

from huedb.telemetry.product import ProductTelemetryClient, ProductTelemetryEvent


class Posthog(ProductTelemetryClient):
    def capture(self, event: ProductTelemetryEvent) -> None:
        """Does nothing: huedb sends no telemetry."""


__all__ = ["Posthog", "ProductTelemetryClient", "ProductTelemetryEvent"]
