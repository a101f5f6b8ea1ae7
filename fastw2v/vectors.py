"""Queries on trained vectors: cosine neighbours."""

from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

from .errors import FastW2VError


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (all-zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def most_similar(words: Sequence[str], unit: np.ndarray, index: dict,
                 positive: Sequence[str], negative: Sequence[str] = (),
                 n: int = 10) -> List[Tuple[str, float]]:
    """The n words closest by cosine to sum(positive) - sum(negative) of unit vectors,
    excluding the query words themselves."""
    missing = [w for w in list(positive) + list(negative) if w not in index]
    if missing:
        raise FastW2VError(f"not in the vocabulary: {', '.join(missing)}")
    query = np.zeros(unit.shape[1], dtype=np.float64)
    for w in positive:
        query += unit[index[w]]
    for w in negative:
        query -= unit[index[w]]
    norm = np.linalg.norm(query)
    if norm > 0:
        query /= norm
    scores = unit @ query.astype(unit.dtype)
    excluded = {index[w] for w in list(positive) + list(negative)}
    k = min(len(words), n + len(excluded))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(words[i], float(scores[i])) for i in top if i not in excluded][:n]
