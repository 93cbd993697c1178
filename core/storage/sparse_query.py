"""The check of a sparse Knn query that every backend runs before it reads any postings."""

from __future__ import annotations

import numpy as np

from huedb.errors import InvalidArgumentError


def query_terms(indices: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The query's terms (int64) and weights (float64), flat; refused unless they pair up one
    to one and no term repeats (a repeated term would be scored twice)."""
    terms = np.asarray(indices, dtype=np.int64).ravel()
    weights = np.asarray(values, dtype=np.float64).ravel()
    if len(terms) != len(weights):
        raise InvalidArgumentError(
            f"A sparse query needs as many values as indices, got {len(terms)} indices and {len(weights)} values"
        )
    if len(terms) and len(np.unique(terms)) != len(terms):
        raise InvalidArgumentError("A sparse query's indices must be unique")
    return terms, weights
