"""Collection's client-side embedding (a mixin of huedb.api.collection.Collection): which
embedding function embeds what a request gives (documents, images, data loaded from URIs)."""

from __future__ import annotations

from typing import Any

import numpy as np

from huedb.api.sparse_fill import fill_sparse
from huedb.errors import InvalidArgumentError
from huedb.requests import WriteRequest, check_embedded


class EmbedMixin:
    _embedding_function: Any
    _data_loader: Any
    name: Any

    def _ef(self, purpose: str) -> Any:
        if self._embedding_function is None:
            raise InvalidArgumentError(
                f"Collection {self.name!r} has no embedding function, so it cannot embed {purpose}. "
                "Pass embeddings= yourself, or open the collection with embedding_function=..."
            )
        return self._embedding_function

    def _embedder(self, documents: Any, images: Any, uris: Any) -> tuple[Any, Any, str]:
        """(embedding function, its inputs, what they are) for the modality given: documents,
        then images, then uris. Checks that the collection can embed it, and calls nothing."""
        if documents is not None:
            return self._ef("documents"), list(documents), "documents"
        if images is not None:  # any EF may embed images (chromadb's pattern): it is simply called
            return self._ef("images"), list(images), "images"
        if self._data_loader is None:
            raise InvalidArgumentError(
                f"Collection {self.name!r} has no data loader, so URIs cannot be loaded for embedding. "
                "Create or get the collection with data_loader=ImageLoader() (or pass embeddings=)"
            )
        return self._ef("data loaded from URIs"), list(uris), "uris"

    def _embed(self, documents: Any, images: Any, uris: Any, *, query: bool) -> np.ndarray:
        """Embeddings for whichever modality is given; called only on a validated request."""
        ef, inputs, source = self._embedder(documents, images, uris)
        if source == "uris":
            inputs = self._data_loader(inputs)
        try:
            vectors = ef.embed_query(inputs) if query and hasattr(ef, "embed_query") else ef(inputs)
        except Exception as e:
            add_note = getattr(e, "add_note", None)  # Python 3.11+: the EF's own error, with a hint
            if source != "documents" and not _supports_images(ef) and add_note is not None:
                add_note(
                    f"Collection {self.name!r}: its embedding function failed on {source}; if it "
                    "embeds text only, use a multimodal one such as OpenCLIPEmbeddingFunction"
                )
            raise
        return check_embedded(vectors, len(inputs), source)

    def _vectors(self, request: WriteRequest) -> np.ndarray | None:
        """The request's embeddings, or (only now that the request is valid) the embedding function's;
        fills the schema's sparse vector index from each record's source text first."""
        fill_sparse(self, request)
        if not request.needs_embedding():
            return request.embeddings
        return self._embed(request.documents, request.images, request.uris, query=False)


def _supports_images(ef: Any) -> bool:
    fn = getattr(ef, "supports_images", None)
    return bool(fn()) if callable(fn) else False
