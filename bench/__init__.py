"""Benchmark harness: one workload on huedb, raw hnswlib (the floor) and, if
installed, Chroma; each engine in its own subprocess. Run ``python -m bench``.

This package must import with numpy alone (the Chroma child runs it under
Chroma's interpreter), so engine libraries are imported lazily.
"""
