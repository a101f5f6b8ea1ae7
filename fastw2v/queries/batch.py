"""Many neighbour queries at once: one matrix product instead of one pass per query.

A single query reads the whole matrix to compute one column of scores, so its time is
one pass over memory. Answering Q queries together reads the matrix once for all of
them: the scores of a block of rows against every query are one matrix product (BLAS),
and each query keeps its best n candidates from block to block. Memory stays bounded:
BLOCK_ROWS x QUERY_CHUNK scores at a time, however large the vocabulary or the batch.

The scores are those of `Vectors.most_similar` with the query words as its positive
words: each query is the sum of its words' unit vectors, scaled to length 1; a word's
score is its dot product with the query divided by its norm; the query words are left
out; ties go to the more frequent word. (The product's float32 sums may be ordered
differently from the single query's, so cosines can differ in the last bits.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import FastW2VError
from ..formats.files import read_failure

if TYPE_CHECKING:
    from .vectors import Vectors

# Rows of the matrix per product, and queries per product: 16,384 x 1,024 float32 scores
# are 64 MB, and a float16 block converted for the product 16,384 x dim x 4 bytes.
BLOCK_ROWS = 16384
QUERY_CHUNK = 1024


class QueryFileError(FastW2VError):
    """A batch query file cannot be read or holds a malformed line."""


def read_queries(path: str) -> List[Tuple[int, List[str]]]:
    """The queries of a batch file: one a line, its words separated by white space,
    with their line numbers. Blank lines and lines starting with '#' are skipped; bytes
    that are not UTF-8 are refused with the line's number."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise read_failure(QueryFileError, path, exc, "a query file") from None
    queries = []
    for line_no, raw in enumerate(data.split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise QueryFileError(f"{path}: line {line_no:,}: not valid UTF-8") from None
        words = line.split()
        if words and not words[0].startswith("#"):
            queries.append((line_no, words))
    if not queries:
        raise QueryFileError(f"{path}: holds no query (one query a line: its words)")
    return queries


def top_neighbours(vectors: Vectors, queries: Sequence[Sequence[int]], n: int,
                   restrict: Optional[int] = None) -> List[List[Tuple[str, float]]]:
    """The n nearest words of every query, a query being the rows of its words."""
    end = len(vectors) if restrict is None else min(restrict, len(vectors))
    divisors = vectors._divisors()
    results: List[List[Tuple[str, float]]] = []
    for first in range(0, len(queries), QUERY_CHUNK):
        chunk = queries[first:first + QUERY_CHUNK]
        results += _chunk_neighbours(vectors, divisors, chunk, n, end)
    return results


def _query_matrix(vectors: Vectors, divisors: np.ndarray,
                  queries: Sequence[Sequence[int]]) -> np.ndarray:
    matrix = np.zeros((len(queries), vectors.dim), dtype=np.float64)
    for i, rows in enumerate(queries):
        for row in rows:
            matrix[i] += vectors.vectors[row] / divisors[row]
        norm = np.linalg.norm(matrix[i])
        if norm == 0:
            raise FastW2VError("a query's vectors add up to zero: nothing is closer to it "
                               "than anything else")
        matrix[i] /= norm
    return matrix.astype(np.float32)


def _chunk_neighbours(vectors: Vectors, divisors: np.ndarray,
                      queries: Sequence[Sequence[int]], n: int,
                      end: int) -> List[List[Tuple[str, float]]]:
    q = _query_matrix(vectors, divisors, queries)
    n_queries = len(queries)
    keep = min(n + max(len(rows) for rows in queries), end)  # room for excluded words
    best_scores = np.full((n_queries, 0), -np.inf)
    best_rows = np.zeros((n_queries, 0), dtype=np.int64)
    for start in range(0, end, BLOCK_ROWS):
        stop = min(end, start + BLOCK_ROWS)
        block = np.asarray(vectors.vectors[start:stop], dtype=np.float32)
        scores = (q @ block.T) / divisors[start:stop]  # (queries, rows)
        take = min(keep, stop - start)
        part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        best_scores = np.concatenate(
            [best_scores, np.take_along_axis(scores, part, axis=1)], axis=1)
        best_rows = np.concatenate([best_rows, part + start], axis=1)
        if best_scores.shape[1] > keep:
            top = np.argpartition(-best_scores, keep - 1, axis=1)[:, :keep]
            best_scores = np.take_along_axis(best_scores, top, axis=1)
            best_rows = np.take_along_axis(best_rows, top, axis=1)
    results = []
    for i, rows in enumerate(queries):
        excluded = set(rows)
        pairs = [(float(s), int(r)) for s, r in zip(best_scores[i], best_rows[i])
                 if int(r) not in excluded]
        pairs.sort(key=lambda pair: (-pair[0], pair[1]))  # ties: the more frequent first
        results.append([(vectors.words[r], s) for s, r in pairs[:n]])
    return results
