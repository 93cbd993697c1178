"""LangChain vector store backed by huedb (no chromadb needed)."""

from langchain_huedb.vectorstores import HuedbVectorStore

__all__ = ["HuedbVectorStore"]
