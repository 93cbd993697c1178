"""Collection.fork and Collection.fork_count (a mixin of huedb.api.collection.Collection)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from huedb.api.steps import Steps, api_call, steps

if TYPE_CHECKING:
    from huedb.api.collection import Collection
    from huedb.api.server_api import ServerAPI
    from huedb.types import CollectionModel


class ForkMixin:
    if TYPE_CHECKING:
        _client: Any
        _model: CollectionModel
        _embedding_function: Any
        _data_loader: Any

        @property
        def _api(self) -> ServerAPI: ...

        def _scope(self) -> dict[str, str]: ...

        def _perform(self, call: Any) -> Any: ...

    @steps
    def fork(self, new_name: str) -> Steps[Collection]:
        """A copy of this collection under ``new_name``: same records, configuration and
        embedding function, made atomically and independent afterwards. huedb forks locally
        (embedded and over its own server), where Chroma forks only in its cloud."""
        from huedb.api.collection import Collection

        model = yield api_call("_fork", self._model.id, new_name, **self._scope())
        return Collection(self._client, model, self._embedding_function, self._data_loader)

    @steps
    def fork_count(self) -> Steps[int]:
        """How many forks were made in this collection's lineage (its source's and its forks' too)."""
        return (yield api_call("_fork_count", self._model.id, **self._scope()))
