"""A plugin that cannot be imported: it depends on a module that does not exist."""

import huedb_nonexistent_dependency  # noqa: F401  (the point: this raises ImportError)

from huedb.hookspecs import hookimpl


@hookimpl
def register_embedding_functions(register):  # never reached
    raise AssertionError("unreachable")
