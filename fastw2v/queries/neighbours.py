"""Brute-force nearest neighbours: the front door of the compiled scan (src/_neighbours.pyx).

One query reads each row of the matrix once, in compiled code, and keeps its best
candidates in a small heap (`nearest`); many queries at once are matrix products over
blocks of rows with the same heaps fed from each product (queries/batch.py). This module
prepares the arrays, picks the build, and turns heaps into ranked lists; the maths and
the order are stated once, at the top of src/_neighbours.pyx:

    score(row) = dot(row, query) / divisor(row), the query at length 1 and the divisor
    the row's norm (1 for an all-zero row); a higher score first, of equal scores the
    lower row (the more frequent word).

The heaps hold n plus the number of query words, so that the query words, dropped
afterwards, never leave fewer than n others.

Two builds of the same source: `_neighbours` runs on any CPU of the platform,
`_neighbours_avx2` (x86-64) needs AVX2, FMA and F16C. FASTW2V_KERNEL=baseline forces the
portable one, as it does for the training kernel.
"""

from __future__ import annotations

from types import ModuleType
from typing import Collection, Dict, List, Sequence, Tuple

import numpy as np

from .. import _neighbours as _baseline
from ..cpu import pick_build, runnable_builds

EMPTY_ROW = _baseline.EMPTY_ROW


def available_builds() -> Dict[str, ModuleType]:
    """Every build of the scan that is installed and that this CPU can run, by name;
    "baseline" always. The tests check each against a numpy statement of the maths."""
    return runnable_builds(_baseline, "fastw2v._neighbours_avx2", "AVX2", "FMA3", "F16C")


_BUILDS = available_builds()
BUILD = pick_build(_BUILDS)
scan = _BUILDS[BUILD]


def empty_best(n_queries: int, size: int) -> Tuple[np.ndarray, np.ndarray]:
    """`n_queries` empty heaps of `size` places: scores -inf, rows EMPTY_ROW (the worst
    pair of all, so that any real row displaces them)."""
    return (np.full((n_queries, size), -np.inf, dtype=np.float32),
            np.full((n_queries, size), EMPTY_ROW, dtype=np.int64))


def ranked(scores: np.ndarray, rows: np.ndarray, excluded: Collection[int],
           n: int) -> List[Tuple[int, float]]:
    """A heap's pairs, best first (ties: the lower row), without the empty places and the
    `excluded` rows: at most n (row, score) pairs."""
    order = np.lexsort((rows, -scores))
    pairs = []
    for i in order:
        row = int(rows[i])
        if row == EMPTY_ROW:
            break  # the empty places sort last
        if row not in excluded:
            pairs.append((row, float(scores[i])))
            if len(pairs) == n:
                break
    return pairs


def stored(matrix: np.ndarray) -> np.ndarray:
    """The matrix as the scan reads it: C-contiguous rows (a copy only for a matrix
    built in memory with other strides), float16 as its uint16 bits."""
    matrix = np.ascontiguousarray(matrix)
    return matrix.view(np.uint16) if matrix.dtype == np.float16 else matrix


def scratch_for(dim: int) -> np.ndarray:
    """Where a float16 scan widens a row."""
    return np.empty(dim, dtype=np.float32)


def nearest(matrix: np.ndarray, divisors: np.ndarray, query: np.ndarray, n: int,
            excluded: Sequence[int], end: int) -> List[Tuple[int, float]]:
    """The n best rows among the first `end` for `query` (float32, length 1), leaving
    out the `excluded` rows, as (row, score) pairs best first. One pass over the rows."""
    left_out = set(excluded)
    size = min(n + len(left_out), end)
    if size < 1:
        return []
    matrix = stored(matrix)
    scores, rows = empty_best(1, size)
    scan.scan_top(matrix, divisors, np.ascontiguousarray(query, dtype=np.float32),
                  scratch_for(matrix.shape[1]), scores[0], rows[0], 0, end)
    return ranked(scores[0], rows[0], left_out, n)


def scores_of(matrix: np.ndarray, divisors: np.ndarray, query: np.ndarray,
              rows: Sequence[int]) -> np.ndarray:
    """The scores of `rows` for `query` (float32, length 1), the same bits as `nearest`
    gives them: for candidates found another way (an index) that must be reported as
    brute force reports them."""
    matrix = stored(matrix)
    scores = np.empty(len(rows), dtype=np.float32)
    scan.score_rows(matrix, divisors, np.ascontiguousarray(query, dtype=np.float32),
                    scratch_for(matrix.shape[1]), np.asarray(rows, dtype=np.int64), scores)
    return scores
