"""``example_text_loader``: a DataLoader that reads UTF-8 text files named by URIs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from urllib.parse import unquote, urlparse

from huedb.errors import InvalidArgumentError
from huedb.hookspecs import hookimpl


class ExampleTextLoader:
    """Loads local paths or ``file://`` URIs as text (None stays None)."""

    name = "example_text_loader"

    def __init__(self, encoding: str = "utf-8") -> None:
        self.encoding = encoding

    def __call__(self, uris: Sequence[str | None]) -> list[str | None]:
        return [None if uri is None else self._read(uri) for uri in uris]

    def _read(self, uri: str) -> str:
        parsed = urlparse(str(uri))
        path = unquote(parsed.path) if parsed.scheme == "file" else os.fspath(uri)
        try:
            with open(path, encoding=self.encoding) as f:
                return f.read()
        except OSError as e:
            raise InvalidArgumentError(f"example_text_loader cannot read {uri!r}: {e.strerror or e}") from e


@hookimpl
def register_data_loaders(register):
    register(ExampleTextLoader)
