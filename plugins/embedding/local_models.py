"""What the local-model embedding functions share (huggingface_sparse, fastembed_sparse,
instructor, text2vec): chromadb's ``task`` / ``query_config`` arguments, persisted kwargs, and
the rule that a config *rebuilt from a collection* names hub model ids only (a local path,
a cache folder or ``trust_remote_code`` would make every reader load files or run code the
collection's creator chose)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from huedb.errors import InvalidArgumentError

TASKS = ("document", "query")


class TaskSparseMixin:
    """chromadb's sparse EFs with a ``task`` and a ``query_config``: calling embeds as ``task``
    (documents by default), ``embed_query`` as ``query_config["task"]`` when one is given.
    The class supplies ``_encode(input, task)``."""

    task: str | None
    query_config: dict[str, Any] | None

    def _encode(self, input: Any, task: str) -> Any:
        raise NotImplementedError

    def __call__(self, input: Any) -> Any:
        return self._encode(input, self.task or "document")

    def embed_query(self, input: Any) -> Any:
        task = self.query_config["task"] if self.query_config else self.task
        return self._encode(input, task or "document")

    @staticmethod
    def is_sparse() -> bool:
        return True


def check_model_unchanged(ef_name: str, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
    """A stored collection's model cannot change: its vectors would no longer match new ones."""
    if "model_name" in new_config and new_config["model_name"] != old_config.get("model_name"):
        raise InvalidArgumentError(
            f"The model_name of a {ef_name} embedding function cannot change "
            f"({old_config.get('model_name')!r} -> {new_config['model_name']!r}): stored vectors would no longer "
            f"match. Create a new collection instead."
        )


def check_task(ef_name: str, task: Any, query_config: Any) -> None:
    if task not in TASKS:
        raise InvalidArgumentError(f"{ef_name}: task must be 'document' or 'query', got {task!r}")
    if query_config is not None and (
        not isinstance(query_config, dict) or query_config.get("task") not in TASKS or set(query_config) - {"task"}
    ):
        raise InvalidArgumentError(
            f"{ef_name}: query_config must be {{'task': 'document'}} or {{'task': 'query'}}, got {query_config!r}"
        )


def check_kwargs(ef_name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """kwargs are persisted: only JSON-like values."""
    for key, value in kwargs.items():
        if not isinstance(value, (str, int, float, bool, list, dict, tuple)):
            raise InvalidArgumentError(
                f"{ef_name}: keyword argument {key!r} is not a primitive type (it is persisted), "
                f"got {type(value).__name__}"
            )
    return dict(kwargs)


def local_path_problem(
    model: Any, kwargs: dict[str, Any] | None, risky: Iterable[str] = ("trust_remote_code",)
) -> str | None:
    """Why a stored config may not be rebuilt as it is (``persisted_config_problem``), or None."""
    model = str(model or "")
    if os.path.isabs(model) or model.startswith((".", "~")) or "\\" in model or os.path.exists(model):
        return f"model_name {model!r}, a local path (only Hugging Face model ids are rebuilt from a config)"
    for key in risky:
        if (kwargs or {}).get(key):
            return f"kwargs[{key!r}] = {kwargs[key]!r} (it could load files or run code the creator chose)"  # type: ignore[index]
    return None
