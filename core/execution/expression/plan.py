"""``Search``: one search of a batch (where, rank, group_by, limit, select), immutable and
built either directly (objects or dicts) or with the builder methods."""

from __future__ import annotations

from typing import Any

from huedb.execution.expression.operator import GroupBy, Key, Limit, Select
from huedb.execution.expression.rank import Rank
from huedb.execution.expression.where import Where


def _typed(value: Any, cls: type, what: str, allowed: str) -> Any:
    if value is None or isinstance(value, cls):
        return value
    if isinstance(value, dict):
        return cls.from_dict(value)  # type: ignore[attr-defined]
    raise TypeError(f"{what} must be {allowed}, got {type(value).__name__}")


class Search:
    """A search: ``where`` filters, ``rank`` scores (lower first; None keeps insertion order),
    ``group_by`` keeps the best of each group, ``limit`` pages and ``select`` projects."""

    def __init__(
        self,
        where: Where | dict[str, Any] | None = None,
        rank: Rank | dict[str, Any] | None = None,
        group_by: GroupBy | dict[str, Any] | None = None,
        limit: Limit | dict[str, Any] | int | None = None,
        select: Select | dict[str, Any] | list[str] | set[Any] | None = None,
    ) -> None:
        self._where = _typed(where, Where, "where", "a Where object, dict, or None")
        self._rank = _typed(rank, Rank, "rank", "a Rank object, dict, or None")
        self._group_by = _typed(group_by, GroupBy, "group_by", "a GroupBy object, dict, or None") or GroupBy()
        if isinstance(limit, int) and not isinstance(limit, bool):
            limit = Limit.from_dict({"limit": limit, "offset": 0})
        self._limit = _typed(limit, Limit, "limit", "a Limit object, dict, int, or None") or Limit()
        if isinstance(select, (list, set)):
            select = Select.from_dict({"keys": list(select)})
        self._select = _typed(select, Select, "select", "a Select object, dict, list, set, or None") or Select()

    def to_dict(self) -> dict[str, Any]:
        """The JSON payload chromadb's client sends for this search."""
        return {
            "filter": self._where.to_dict() if self._where is not None else None,
            "rank": self._rank.to_dict() if self._rank is not None else None,
            "group_by": self._group_by.to_dict(),
            "limit": self._limit.to_dict(),
            "select": self._select.to_dict(),
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Search:
        """Parses a payload as ``to_dict`` gives it (``filter`` or ``where`` for the filter)."""
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Search, got {type(data).__name__}")
        where = data.get("filter", data.get("where"))
        return Search(
            where=where or None,
            rank=data.get("rank"),
            group_by=data.get("group_by"),
            limit=data.get("limit"),
            select=data.get("select"),
        )

    def __repr__(self) -> str:
        return f"Search({self.to_dict()!r})"

    def _with(self, **changes: Any) -> Search:
        fields = {
            "where": self._where,
            "rank": self._rank,
            "group_by": self._group_by,
            "limit": self._limit,
            "select": self._select,
        }
        fields.update(changes)
        return Search(**fields)

    def select_all(self) -> Search:
        """Select the document, embedding, metadata and score."""
        return self._with(select=Select(keys={Key.DOCUMENT, Key.EMBEDDING, Key.METADATA, Key.SCORE}))

    def select(self, *keys: Key | str) -> Search:
        return self._with(select=Select(keys=set(keys)))

    def where(self, where: Where | dict[str, Any] | None) -> Search:
        return self._with(where=where)

    def rank(self, rank_expr: Rank | dict[str, Any] | None) -> Search:
        return self._with(rank=rank_expr)

    def group_by(self, group_by: GroupBy | dict[str, Any] | None) -> Search:
        return self._with(group_by=group_by)

    def limit(self, limit: int, offset: int = 0) -> Search:
        return self._with(limit=Limit(offset=offset, limit=limit))
