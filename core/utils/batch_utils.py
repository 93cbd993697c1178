"""chromadb-compatible ``create_batches``: split a write into batches the client accepts."""

from __future__ import annotations

from typing import Any

from huedb.api.types import Documents, Embeddings, IDs, Metadatas

Batch = tuple[IDs, Embeddings | None, Metadatas | None, Documents | None]


def create_batches(
    api: Any,
    ids: IDs,
    embeddings: Embeddings | None = None,
    metadatas: Metadatas | None = None,
    documents: Documents | None = None,
) -> list[Batch]:
    """(ids, embeddings, metadatas, documents) tuples of at most ``api.get_max_batch_size()``
    records each, in order; fields not given stay None in every batch. As in chromadb,
    no ids still gives one (empty) batch."""
    size = api.get_max_batch_size()
    if size < 1:
        raise ValueError(f"get_max_batch_size() must be positive, got {size}")
    batches: list[Batch] = []
    for start in range(0, max(len(ids), 1), size):
        end = start + size
        batches.append(
            (
                ids[start:end],
                embeddings[start:end] if embeddings is not None else None,
                metadatas[start:end] if metadatas is not None else None,
                documents[start:end] if documents is not None else None,
            )
        )
    return batches


__all__ = ["Documents", "Embeddings", "IDs", "Metadatas", "create_batches"]
