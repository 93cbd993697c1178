"""LlamaIndex vector store backed by huedb (no chromadb needed)."""

from llama_index.vector_stores.huedb.base import HuedbVectorStore, to_huedb_where

__all__ = ["HuedbVectorStore", "to_huedb_where"]
