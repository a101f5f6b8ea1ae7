"""Cosine top-n stated in numpy, float64, independently of fastw2v's code: the oracle of
the neighbour tests (tests/unit/test_neighbours.py, tests/cli/test_cli_similar_scan.py)."""

import numpy as np


def reference(matrix, words, positive, negative=(), n=10, restrict=None):
    """The n (word, cosine) pairs nearest the sum of the unit vectors of the `positive`
    rows minus those of the `negative` rows, at length 1. A zero row scores 0; the query
    rows are left out; of equal cosines the lower row comes first."""
    m = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(m, axis=1)
    safe = np.where(norms > 0, norms, 1.0)
    query = np.zeros(m.shape[1])
    for rows, sign in ((positive, 1.0), (negative, -1.0)):
        for r in rows:
            query += sign * m[r] / safe[r]
    query /= np.linalg.norm(query)
    end = len(m) if restrict is None else min(restrict, len(m))
    scores = m[:end] @ query / safe[:end]
    left = [r for r in range(end) if r not in set(positive) | set(negative)]
    ranked = sorted(left, key=lambda r: (-scores[r], r))[:n]
    return [(words[r], float(scores[r])) for r in ranked]
