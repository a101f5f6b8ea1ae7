"""Many neighbour queries at once: one matrix product instead of one pass per query.

A single query reads the whole matrix to compute one column of scores, so its time is
one pass over memory. Answering Q queries together reads the matrix once for all of
them: the scores of a block of rows against every query are one matrix product (BLAS),
and the compiled `select_block` (src/_neighbours.pyx) offers each query's scores to that
query's heap of best candidates, where a score below the heap's worst costs one
comparison. Memory stays bounded: BLOCK_ROWS x QUERY_CHUNK scores at a time, however
large the vocabulary or the batch.

The scores and their order are those of `Vectors.most_similar` with the query words as
its positive words (see queries/neighbours.py): each query is the sum of its words'
unit vectors, scaled to length 1; a word's score is its dot product with the query
divided by its norm; the query words are left out; ties go to the more frequent word.
(The product's float32 sums may be ordered differently from the single query's, so
cosines can differ in the last bits.)
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, ContextManager, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import FastW2VError
from ..formats.files import read_failure
from .neighbours import empty_best, ranked, scan

if TYPE_CHECKING:
    from .vectors import Vectors

# Rows of the matrix per product, and queries per product: 4,096 x 1,024 float32 scores
# are 16 MB, written by the product and read once by the selection; a float16 block
# converted for the product is 4,096 x dim x 4 bytes.
BLOCK_ROWS = 4096
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


def one_blas_thread() -> ContextManager[Any]:
    """A context in which BLAS computes on the calling thread only.

    OpenBLAS spreads each product over every core, and its workers wait for each other
    at the end of every product: when other processes hold the cores, each product
    waits for a worker to be scheduled again (benchmarks/RESULTS.md, "Queries in one
    pass", measured the batch up to four times slower so on a shared machine). Limited by
    threadpoolctl (the `batch` extra); without it, BLAS runs as configured.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def top_neighbours(vectors: Vectors, queries: Sequence[Sequence[int]], n: int,
                   restrict: Optional[int] = None) -> List[List[Tuple[str, float]]]:
    """The n nearest words of every query, a query being the rows of its words."""
    end = len(vectors) if restrict is None else min(restrict, len(vectors))
    results: List[List[Tuple[str, float]]] = []
    for first in range(0, len(queries), QUERY_CHUNK):
        chunk = queries[first:first + QUERY_CHUNK]
        results += [[(vectors.words[row], score) for row, score in found]
                    for found in _chunk_neighbours(vectors, chunk, n, end)]
    return results


def _chunk_neighbours(vectors: Vectors, queries: Sequence[Sequence[int]], n: int,
                      end: int) -> List[List[Tuple[int, float]]]:
    size = min(n + max(len(set(rows)) for rows in queries), end)
    if size < 1:
        return [[] for _ in queries]
    q = np.stack([vectors.query_vector(rows, [1.0] * len(rows)) for rows in queries])
    divisors = vectors._divisors()
    best_scores, best_rows = empty_best(len(queries), size)
    with one_blas_thread():
        for start in range(0, end, BLOCK_ROWS):
            stop = min(end, start + BLOCK_ROWS)
            block = np.asarray(vectors.vectors[start:stop], dtype=np.float32)
            scan.select_block(q @ block.T, divisors[start:stop], start, best_scores,
                              best_rows)
    return [ranked(best_scores[i], best_rows[i], set(rows), n)
            for i, rows in enumerate(queries)]
