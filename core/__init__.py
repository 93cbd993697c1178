"""huedb: a vector database that speaks Chroma's API."""
__version__ = "0.1.0"
