# cython: language_level=3
"""Nearest neighbours by cosine, by brute force: the compiled side of fastw2v/queries.

A query's score for row r is dot(row r, query) / divisor[r], where the query has length 1
and divisor[r] is the row's norm (1 for an all-zero row, whose score is then 0): the
cosine as `Vectors.most_similar` defines it. Division rather than multiplication by a
precomputed inverse: it costs one instruction a row, hidden behind the row's 300 loads,
and gives the very score numpy's path gives for the same dot product.

What is kept is the `size` best (row, score) pairs, in a binary heap whose root is the
worst of them, so that a row that does not beat the root costs one comparison and no
N-long array of scores is ever written. The order, used by every comparison here and by
the Python side's final sort (fastw2v/queries/neighbours.py), is:

    a higher score first; of equal scores, the lower row (the more frequent word).

A NaN score compares false with everything and so never enters. Empty places hold
-inf and the row EMPTY_ROW (a row no matrix has), the worst pair of all; Python makes
the heaps (`neighbours.empty_best`) and drops the empty places after.

Three jobs, one entry point each:

* `scan_top`: one query against rows [start, stop) of the matrix (float32, or float16
  passed as its uint16 bits), in order, each row read once: one sequential stream,
  which the hardware prefetchers follow (interleaving four rows' dot products, as the
  training kernel's fw_dots does, and software prefetching both measured slower here).
  A float16 row is first widened into a one-row scratch (halves.h) in the L1 cache.
  A row's score does not depend on where the row sits, so equal rows tie exactly.
* `score_rows`: the same scores for a list of rows (an index's candidates).
* `select_block`: many queries' scores against a block of rows, a matrix product
  computed by BLAS on the Python side; each query's heap takes what beats its root.

All run without the GIL and allocate nothing: Python passes every buffer.
"""

import numpy as np

cimport numpy as cnp
from libc.stdint cimport int64_t, uint16_t

from kernel_defs cimport fw_dot

cnp.import_array()

cdef extern from "halves.h" nogil:
    void fw_halves_to_floats(const uint16_t *halves, float *out, Py_ssize_t n) noexcept

# The row of an empty place in a heap: larger than any row, so worse than any pair of
# equal score.
EMPTY_ROW = np.iinfo(np.int64).max

ctypedef fused stored_t:
    float
    uint16_t  # float16, by its bits

cdef struct HeapC:
    float *scores
    int64_t *rows
    Py_ssize_t size


cdef inline bint better(float score, int64_t row, float other_score,
                        int64_t other_row) noexcept nogil:
    return score > other_score or (score == other_score and row < other_row)


cdef inline void replace_root(HeapC *heap, float score, int64_t row) noexcept nogil:
    """Put (score, row), which beats the root, in the root's place. The callers compare
    with the root themselves, so that the common case, a row that does not enter, is
    one inline comparison."""
    cdef Py_ssize_t i = 0, child
    while True:  # sift the newcomer down from the root
        child = 2 * i + 1
        if child >= heap.size:
            break
        if child + 1 < heap.size and better(heap.scores[child], heap.rows[child],
                                            heap.scores[child + 1], heap.rows[child + 1]):
            child += 1  # the worse of the two children
        if not better(score, row, heap.scores[child], heap.rows[child]):
            break
        heap.scores[i] = heap.scores[child]
        heap.rows[i] = heap.rows[child]
        i = child
    heap.scores[i] = score
    heap.rows[i] = row


cdef inline float score_of(const stored_t *matrix, Py_ssize_t dim, const float *divisors,
                           const float *query, float *scratch, int64_t row) noexcept nogil:
    """The score of one row. Float16 rows are widened into `scratch` first."""
    cdef const float *values
    if stored_t is float:
        values = matrix + row * dim
    else:
        fw_halves_to_floats(matrix + row * dim, scratch, dim)
        values = scratch
    return fw_dot(values, query, <int>dim) / divisors[row]


cdef void scan_rows(const stored_t *matrix, Py_ssize_t dim, const float *divisors,
                    const float *query, float *scratch, Py_ssize_t start, Py_ssize_t stop,
                    HeapC *heap) noexcept nogil:
    cdef Py_ssize_t row
    cdef float score
    for row in range(start, stop):
        score = score_of(matrix, dim, divisors, query, scratch, row)
        if better(score, row, heap.scores[0], heap.rows[0]):
            replace_root(heap, score, row)


cdef _check_scan_arguments(Py_ssize_t n_rows, Py_ssize_t dim, const float[::1] divisors,
                           const float[::1] query, float[::1] scratch):
    if divisors.shape[0] < n_rows or query.shape[0] != dim:
        raise ValueError("need a divisor for every row and a query of the rows' length")
    if scratch.shape[0] < dim:
        raise ValueError("the scratch row is too short")


def scan_top(const stored_t[:, ::1] matrix, const float[::1] divisors,
             const float[::1] query, float[::1] scratch, float[::1] best_scores,
             int64_t[::1] best_rows, Py_ssize_t start, Py_ssize_t stop):
    """Keep the best of rows [start, stop) for one query in a heap.

    Parameters
    ----------
    matrix : float32 or uint16 (float16 bits) array, shape (n_rows, dim), C-contiguous
        The word vectors; only read.
    divisors : float32 array, shape (n_rows,)
        Each row's norm, 1 for an all-zero row.
    query : float32 array, shape (dim,)
        The query at length 1.
    scratch : float32 array, at least dim long
        Where a float16 row is widened (unused for float32).
    best_scores, best_rows : float32 and int64 arrays, shape (size,), size >= 1
        The heap, as `neighbours.empty_best` makes it or as a previous call left it;
        updated in place. Its pairs are in heap order, not sorted.
    start, stop : int
        The rows scanned, 0 <= start <= stop <= n_rows.
    """
    cdef Py_ssize_t dim = matrix.shape[1]
    cdef HeapC heap
    _check_scan_arguments(matrix.shape[0], dim, divisors, query, scratch)
    if not 0 <= start <= stop <= matrix.shape[0]:
        raise ValueError("the rows scanned must lie within the matrix")
    if best_scores.shape[0] < 1 or best_rows.shape[0] != best_scores.shape[0]:
        raise ValueError("the heap needs at least one place, a score and a row each")
    if start == stop:
        return
    heap.scores = &best_scores[0]
    heap.rows = &best_rows[0]
    heap.size = best_scores.shape[0]
    with nogil:
        scan_rows(&matrix[0, 0], dim, &divisors[0], &query[0], &scratch[0], start, stop,
                  &heap)


def score_rows(const stored_t[:, ::1] matrix, const float[::1] divisors,
               const float[::1] query, float[::1] scratch, const int64_t[::1] rows,
               float[::1] scores):
    """The scores of the given rows for one query, computed exactly as `scan_top`
    computes them (the same bits).

    Parameters
    ----------
    matrix, divisors, query, scratch
        As for `scan_top`.
    rows : int64 array, shape (n,)
        The rows to score, each 0 <= row < n_rows, in any order.
    scores : float32 array, shape (n,)
        Receives scores[i], the score of rows[i].
    """
    cdef Py_ssize_t dim = matrix.shape[1], n = rows.shape[0], i
    _check_scan_arguments(matrix.shape[0], dim, divisors, query, scratch)
    if scores.shape[0] != n:
        raise ValueError("need a place for every row's score")
    for i in range(n):
        if not 0 <= rows[i] < matrix.shape[0]:
            raise ValueError(f"row {rows[i]} is not in the matrix")
    if n == 0:
        return
    with nogil:
        for i in range(n):
            scores[i] = score_of(&matrix[0, 0], dim, &divisors[0], &query[0], &scratch[0],
                                 rows[i])


def select_block(const float[:, ::1] dots, const float[::1] divisors, Py_ssize_t first_row,
                 float[:, ::1] best_scores, int64_t[:, ::1] best_rows):
    """Offer every query's scores against a block of rows to that query's heap.

    Parameters
    ----------
    dots : float32 array, shape (n_queries, n_block)
        dots[q, j]: the dot product of query q (at length 1) with row first_row + j.
    divisors : float32 array, shape (n_block,)
        The norms of the block's rows, 1 for an all-zero row.
    first_row : int
        The row of the block's first column (rows are reported by their number).
    best_scores, best_rows : float32 and int64 arrays, shape (n_queries, size), size >= 1
        One heap a query, as `neighbours.empty_best` makes them; updated in place.
    """
    cdef Py_ssize_t n_queries = dots.shape[0], n_block = dots.shape[1]
    cdef Py_ssize_t q, j
    cdef HeapC heap
    cdef float score
    cdef const float *row
    if divisors.shape[0] != n_block:
        raise ValueError("need a divisor for every row of the block")
    if (best_scores.shape[0] != n_queries or best_rows.shape[0] != n_queries
            or best_scores.shape[1] < 1 or best_rows.shape[1] != best_scores.shape[1]):
        raise ValueError("need one heap of at least one place for every query")
    if n_queries == 0 or n_block == 0:
        return
    heap.size = best_scores.shape[1]
    with nogil:
        for q in range(n_queries):
            heap.scores = &best_scores[q, 0]
            heap.rows = &best_rows[q, 0]
            row = &dots[q, 0]
            for j in range(n_block):
                score = row[j] / divisors[j]
                if better(score, first_row + j, heap.scores[0], heap.rows[0]):
                    replace_root(&heap, score, first_row + j)
