"""The two TSV files the TensorFlow Embedding Projector (projector.tensorflow.org) loads.

`FOLDER/vectors.tsv` holds one vector a line, its values separated by tabs, as C's
"%.6g" prints them (6 significant digits, as word2vec's text format; plenty for a
picture); `FOLDER/metadata.tsv` holds the words, one a line, in the same order. The
metadata has a single column, and the projector's documentation says a single-column
metadata file has no header row, so neither file has one.

A word holding a tab, a line end (\\n or \\r), or nothing but white space cannot be
written faithfully: a tab or line end would split it into columns or rows, and a
blank line may be skipped, shifting every later word onto the wrong vector. Such a
word is refused, naming its row; it is never altered. So are vectors holding a NaN or
infinite value. All checks run before the folder or a file is made; each file is then
written atomically (a temporary file renamed over the old one).
"""

from __future__ import annotations

import io
import os
from typing import Sequence

import numpy as np

from .._word2vec import write_text
from ..errors import OutputError
from .files import atomic_write, check_writable_path
from .rows import check_vectors

VECTORS_FILE = "vectors.tsv"
METADATA_FILE = "metadata.tsv"
# Beyond this many points the projector's page grows slow in a browser (its t-SNE
# samples 10,000 points); `convert --to projector` suggests --limit above it.
BROWSER_POINTS = 100_000
# Rows formatted at a time: a bounded buffer, never the whole text in memory.
_BLOCK_ROWS = 8192
_UNWRITABLE = ("\t", "\n", "\r")


def write_projector(folder: str, words: Sequence[str], vectors: np.ndarray) -> None:
    """Write `folder`/vectors.tsv and `folder`/metadata.tsv for `words` and `vectors`.

    `folder` is created if missing (its parent must exist). OutputError, one line
    naming the folder and nothing written, for a word that cannot be written
    faithfully or a vector holding a NaN or infinite value."""
    folder = os.fspath(folder)
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError("need one vector row per word")
    _check_words(folder, words)
    check_vectors(folder, words, vectors)
    _make_folder(folder)
    with atomic_write(os.path.join(folder, VECTORS_FILE), "wb") as out:
        for start in range(0, len(words), _BLOCK_ROWS):
            out.write(_tsv_rows(vectors[start:start + _BLOCK_ROWS]))
    with atomic_write(os.path.join(folder, METADATA_FILE), "wb") as out:
        for start in range(0, len(words), _BLOCK_ROWS):
            block = words[start:start + _BLOCK_ROWS]
            out.write("".join(word + "\n" for word in block).encode("utf-8"))


def _check_words(folder: str, words: Sequence[str]) -> None:
    for row, word in enumerate(words):
        if any(ch in word for ch in _UNWRITABLE) or not word.strip():
            raise OutputError(f"{folder}: the word at row {row + 1:,} ({word!r}) is blank or "
                              f"holds a tab or line end, which the projector's TSV files "
                              f"cannot hold; nothing was written")


def check_projector_folder(folder: str, option: str) -> None:
    """Fail early unless `folder` is a folder or can be made one, and files can be
    created in it."""
    folder = os.fspath(folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise OutputError(f"{option} {folder}: is a file; the projector's output is a "
                          f"folder (of {VECTORS_FILE} and {METADATA_FILE})")
    if os.path.isdir(folder):
        check_writable_path(os.path.join(folder, VECTORS_FILE), option)
    else:
        parent = os.path.dirname(os.path.abspath(folder))
        if not os.path.isdir(parent):
            raise OutputError(f"{option} {folder}: folder {parent} does not exist")
        check_writable_path(folder, option)  # can the folder be made there?


def _make_folder(folder: str) -> None:
    if os.path.isdir(folder):
        return
    try:
        os.mkdir(folder)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the folder: "
                          f"{exc.strerror or exc}") from None


def _tsv_rows(block: np.ndarray) -> bytes:
    """The rows as tab-separated "%.6g" values, one a line: word2vec's compiled text
    writer, given empty words, writes " v1 v2 ...\\n" a row; the spaces become tabs and
    the one before each row's first value goes."""
    buffer = io.BytesIO()
    # n empty words: word i is the buffer's bytes bounds[i] to bounds[i + 1] - 1.
    write_text(buffer, b"\n" * len(block), np.arange(len(block) + 1, dtype=np.int64),
               np.ascontiguousarray(block, dtype=np.float32))
    text = buffer.getvalue().replace(b" ", b"\t").replace(b"\n\t", b"\n")
    return text[1:] if text.startswith(b"\t") else text
