"""Plain data passed between the client-side Collection and a ServerAPI."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional


@dataclass
class CollectionModel:
    id: str
    name: str
    metadata: Optional[Dict[str, Any]]
    configuration_json: Dict[str, Any]
    dimension: Optional[int]
    tenant: str
    database: str
    version: int = 0
    internal_id: Optional[int] = field(default=None, repr=False)
