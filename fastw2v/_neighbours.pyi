# Type stub for the compiled neighbour scan built from src/_neighbours.pyx (as
# fastw2v._neighbours and, on x86-64, fastw2v._neighbours_avx2; fastw2v/queries/neighbours.py
# picks one). Every array is C-contiguous; the heaps are updated in place.
import numpy as np

EMPTY_ROW: int  # int64 max: the row of an empty place in a heap

def scan_top(
    matrix: np.ndarray,  # float32 or uint16 (float16 bits)[n_rows, dim]
    divisors: np.ndarray,  # float32[>= n_rows]
    query: np.ndarray,  # float32[dim], length 1
    scratch: np.ndarray,  # float32[>= dim]
    best_scores: np.ndarray,  # float32[size], size >= 1
    best_rows: np.ndarray,  # int64[size]
    start: int,  # Py_ssize_t
    stop: int,  # Py_ssize_t
) -> None: ...
def score_rows(
    matrix: np.ndarray,  # float32 or uint16 (float16 bits)[n_rows, dim]
    divisors: np.ndarray,  # float32[>= n_rows]
    query: np.ndarray,  # float32[dim]
    scratch: np.ndarray,  # float32[>= dim]
    rows: np.ndarray,  # int64[n]
    scores: np.ndarray,  # float32[n], written
) -> None: ...
def select_block(
    dots: np.ndarray,  # float32[n_queries, n_block]
    divisors: np.ndarray,  # float32[n_block]
    first_row: int,  # Py_ssize_t
    best_scores: np.ndarray,  # float32[n_queries, size]
    best_rows: np.ndarray,  # int64[n_queries, size]
) -> None: ...
