# Type stub for the compiled one-byte rows of a Ray synchronisation, built from
# src/_exchange.pyx (fastw2v._exchange).
from typing import List, Tuple

import numpy as np

MAX_DIM: int  # wider rows take exchange.py's numpy path

def take_rows(
    working: np.ndarray, synced: np.ndarray, threshold: float
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]: ...  # rows, int8 codes, float32 scales
def add_rows(array: np.ndarray, rows: np.ndarray, codes: np.ndarray,
             scales: np.ndarray) -> None: ...
def combine_rows(
    synced: np.ndarray, residual: np.ndarray, union: np.ndarray, rows: List[np.ndarray],
    codes: List[np.ndarray], scales: List[np.ndarray], n_workers: float, gain: float,
    carry: float = ...
) -> Tuple[np.ndarray, np.ndarray]: ...  # int8 codes, float32 scales
