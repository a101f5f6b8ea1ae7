# Type stub for the compiled readers and writers of word2vec's vector files, built from
# src/_word2vec.pyx (fastw2v._word2vec).
from typing import IO, Tuple

import numpy as np

from .text.words import WordList

BLOCK_BYTES: int  # how many bytes each read of the file asks for

def rows_fitting(n_words: int, body_bytes: int, min_row_bytes: int) -> int: ...
def read_binary(
    source: IO[bytes], head: bytes, path: str, n_words: int, dim: int, body_bytes: int
) -> Tuple[WordList, np.ndarray, np.ndarray]: ...  # words, float32 matrix, norms
def read_text(
    source: IO[bytes], head: bytes, path: str, n_words: int, dim: int, body_bytes: int
) -> Tuple[WordList, np.ndarray, np.ndarray]: ...
# The words as a WordList's buffer and bounds.
def write_binary(out: IO[bytes], blob: bytes, bounds: np.ndarray,
                 vectors: np.ndarray) -> None: ...
def write_text(out: IO[bytes], blob: bytes, bounds: np.ndarray,
               vectors: np.ndarray) -> None: ...
