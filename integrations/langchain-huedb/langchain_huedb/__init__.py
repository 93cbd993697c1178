"""LangChain vector store backed by huedb (no chromadb needed)."""

from langchain_huedb.vectorstores import HuedbRetriever, HuedbVectorStore

__all__ = ["HuedbRetriever", "HuedbVectorStore"]
