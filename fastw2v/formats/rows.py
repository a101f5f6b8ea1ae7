"""Checks every vector file shares: which words and rows can be written and read back."""

from __future__ import annotations

from typing import Optional, Sequence, Set

import numpy as np

from ..errors import OutputError
from ..text.words import WordList

MAX_DIM = 2**31 - 1  # the largest vector dimension any reader accepts
FLOAT32_MAX = float(np.finfo(np.float32).max)

# The bytes that separate words in the word2vec formats, and tokens in a corpus. Other
# Unicode white space (a no-break space, say) can be part of a word.
ASCII_WHITE_SPACE = frozenset(" \t\n\r\x0b\x0c")


def unusable_rows(vectors: np.ndarray) -> np.ndarray:
    """A mask of the rows no query can use: those with a NaN or infinite value, and
    those so long that their Euclidean norm, which cosines divide by and native files
    store as float32, overflows float32 (each value finite, the sum of squares not)."""
    return ~(_row_squares(vectors) <= FLOAT32_MAX ** 2)  # NaN compares false: unusable too


def _row_squares(matrix: np.ndarray) -> np.ndarray:
    """Each row's sum of squares in float64 (NaN or inf for a row holding one)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.einsum("ij,ij->i", matrix, matrix, dtype=np.float64)


def holds_nonfinite(matrix: np.ndarray) -> bool:
    """Whether any value is NaN or infinite, at the cost of one float64 per row: a row's
    float64 sum of squares is finite exactly when all its float32 (or float16) values
    are, whereas np.isfinite(matrix) would make a boolean copy of the whole matrix
    (286 MiB for a million rows of 300, at the end of training)."""
    return not np.isfinite(_row_squares(matrix)).all()


def row_problem(row: np.ndarray) -> str:
    """What makes an unusable row (see unusable_rows) unusable, for an error message."""
    if not np.isfinite(row).all():
        return "holds a NaN or infinite value"
    return "is too long: its length overflows float32"


def check_vectors(path: str, words: Sequence[str], vectors: np.ndarray) -> None:
    """Refuse to write vectors that no reader (ours included) accepts back."""
    bad = np.flatnonzero(unusable_rows(vectors))
    if len(bad):
        row = int(bad[0])
        raise OutputError(f"{path}: the vector of {words[row]!r} {row_problem(vectors[row])}"
                          f"; nothing was written")


def check_words(path: str, words: Sequence[str]) -> None:
    """Every word must be non-empty, free of ASCII white space and NUL, and listed once,
    or the file written would be one that no reader (ours included) accepts."""
    if isinstance(words, WordList):
        bad = _first_unwritable(words)
    else:
        bad = next((word for word in words if not word or "\0" in word
                    or any(ch in ASCII_WHITE_SPACE for ch in word)), None)
    if bad is not None:
        raise OutputError(f"{path}: word {bad!r} is empty or holds ASCII white space "
                          f"or NUL")
    if isinstance(words, WordList) and words.distinct:
        return  # distinct by construction; a set of a million strings costs 90 MiB
    repeated = repeated_word(words)
    if repeated is not None:
        raise OutputError(f"{path}: word {repeated!r} is listed twice")


def _first_unwritable(words: WordList) -> Optional[str]:
    """The first word holding ASCII white space or NUL, found in the words' buffer at
    numpy speed: the only line breaks there are the separators (WordList's rule), and
    no word is empty."""
    blob = np.frombuffer(words.blob, dtype=np.uint8)
    banned = np.zeros(256, dtype=bool)
    banned[[ord(ch) for ch in ASCII_WHITE_SPACE - {"\n"}] + [0]] = True
    hits = np.flatnonzero(banned[blob])
    if not len(hits):
        return None
    return words[words.row_at_byte(int(hits[0]))]


def repeated_word(words: Sequence[str]) -> Optional[str]:
    """The first word listed a second time, or None if every word is listed once."""
    if len(set(words)) == len(words):  # the common case, at C speed
        return None
    seen: Set[str] = set()
    for word in words:
        if word in seen:
            return word
        seen.add(word)
    return None  # unreachable: the sizes differ only when a word repeats


def row_norms(vectors: np.ndarray) -> np.ndarray:
    """The Euclidean norm of every row, summed in float64, returned as float32."""
    vectors = np.asarray(vectors)
    if vectors.shape[0] == 0:
        return np.zeros(0, dtype=np.float32)
    squares = np.einsum("ij,ij->i", vectors, vectors, dtype=np.float64)
    return np.sqrt(squares).astype(np.float32)
