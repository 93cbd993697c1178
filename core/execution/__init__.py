"""chromadb-compatible import path ``huedb.execution``: the Search API's expressions."""
