"""Vector files in word2vec.c's formats: reading and writing them.

Text format: a header line `V D`, then one line per word: the word, a space, and D
numbers separated by spaces. Binary format: the same header, then per word the word's
UTF-8 bytes, a space, D little-endian float32 values, and a newline (word2vec.c writes
that newline; gensim 4 leaves it out; both are read).

Variants read without complaint: trailing spaces (fastText's `.vec`), Windows line ends,
blank lines in a text file, a UTF-8 byte-order mark, non-ASCII words, binary rows with
or without a newline after the values, a binary file without its final newline. Anything
else that is wrong stops the load with `path: line N: what is wrong` (text) or
`path: vector N: what is wrong` (binary, which has no lines), among them:

- a NaN or infinite value (and a text value too large for float32), or a vector whose
  length overflows float32: refused, naming the line or vector, since no cosine with
  that vector could be computed. The writers refuse such vectors too;
- a word listed twice: refused, naming both places, since a query could only ever
  reach the first of the two vectors;
- a text file whose last row ends without a line end (or fastText's trailing space):
  refused, because a file cut short inside its last number ("0.25" cut to "0.2") would
  otherwise load with a wrong value. Every writer we know ends its rows with a line end;
- a word holding a NUL byte, or a binary word holding ASCII white space: refused; in a
  binary file either means the reader lost its place in the rows (a wrong dimension
  in the header).

The rows are parsed and written by compiled code (src/_word2vec.pyx), streaming: the
file is read in blocks into a matrix allocated once, so loading takes the matrix, the
words and one block of memory, never a copy of the whole file. A problem is reported at
the first damaged row in file order.

Format detection lives in `detect.py`, the native format in `native.py`.
"""

from __future__ import annotations

import io
import os
import stat
import sys
from typing import IO, NamedTuple, Sequence, Tuple

import numpy as np

from .._word2vec import read_binary, read_text, write_binary, write_text
from ..errors import FormatError, OutputError
from ..text.words import WordList, as_words
from .detect import FORMAT_NAMES, detect_format, format_for_path
from .files import atomic_write, bom_length, read_failure
from .rows import MAX_DIM, check_vectors, check_words


def save_word2vec(path: str, words: Sequence[str], vectors: np.ndarray,
                  fmt: str = "auto") -> None:
    """Save vectors in word2vec's binary or text format (by suffix unless `fmt` says)."""
    fmt = format_for_path(path, fmt)
    if fmt == "native":
        fmt = "bin"  # a .fw2v name given to the word2vec writer: the caller chose it
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError("need one vector row per word")
    _require_little_endian(path)
    # The writers take the words as one UTF-8 buffer; a list that cannot be one (an
    # empty word, a line break, a lone surrogate) is refused with the word named.
    words = as_words(words)
    check_words(path, words)
    if not isinstance(words, WordList):
        bad = next(w for w in words if w.encode("utf-8", "surrogatepass") != w.encode(
            "utf-8", "replace"))
        raise OutputError(f"{path}: word {bad!r} cannot be written in UTF-8")
    check_vectors(path, words, vectors)
    n_words, dim = vectors.shape
    with atomic_write(path, "wb") as out:
        out.write(f"{n_words} {dim}\n".encode("ascii"))
        if fmt == "bin":
            write_binary(out, words.blob, words.bounds, vectors)
        else:
            write_text(out, words.blob, words.bounds, vectors)


class Word2VecFile(NamedTuple):
    """What a word2vec file holds: its words in file order (a WordList: no string is
    made per word until one is asked for), their float32 matrix, and the norm of every
    row (computed while reading, so queries need no second pass)."""
    words: WordList
    vectors: np.ndarray
    norms: np.ndarray


def load_word2vec(path: str, fmt: str = "auto") -> Tuple[Sequence[str], np.ndarray]:
    """Load a word2vec binary or text file; malformed input raises FormatError.

    With `fmt="auto"` the format comes from `detect_format`. Returns the words in file
    order and a float32 matrix with one row per word.
    """
    loaded = read_word2vec(path, fmt)
    return loaded.words, loaded.vectors


# How far into a file the header line is looked for. A real header ("3000000 300") is a
# few bytes; anything longer is damage, quoted in the message.
_HEADER_SEARCH_BYTES = 1 << 16


def read_word2vec(path: str, fmt: str = "auto") -> Word2VecFile:
    """`load_word2vec`, also returning the row norms."""
    path = os.fspath(path)
    if fmt == "auto":
        fmt = detect_format(path)
        if fmt in ("native", "gensim"):
            raise FormatError(f"{path}: is a {FORMAT_NAMES[fmt]} file, not a word2vec file")
    if fmt == "bin":
        _require_little_endian(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            source: IO[bytes] = f
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                # A pipe or device has no size to bound the rows by: read it whole.
                source = io.BytesIO(f.read())
                size = len(source.getbuffer())
            head = source.read(_HEADER_SEARCH_BYTES)
            start = bom_length(head)
            header_end = head.find(b"\n", start)
            if header_end < 0:
                if len(head) < _HEADER_SEARCH_BYTES:
                    raise FormatError(f"{path}: line 1: no header line 'words dimensions'")
                header_end = len(head)  # refused below, quoting its start
            n_words, dim = _parse_header(path, head[start:header_end])
            body = head[header_end + 1:]
            body_bytes = size - (header_end + 1)
            read = read_binary if fmt == "bin" else read_text
            words, vectors, norms = read(source, body, path, n_words, dim, body_bytes)
    except OSError as exc:
        raise read_failure(FormatError, path, exc, "a vector file") from None
    return Word2VecFile(words, vectors, norms)


def _require_little_endian(path: str) -> None:
    # The compiled reader and writer copy float32 values as the machine holds them; the
    # format is little-endian, and no big-endian machine is among those we test on.
    if sys.byteorder != "little":
        raise FormatError(f"{path}: word2vec binary files are read and written only on "
                          f"little-endian machines")


def _parse_header(path: str, line: bytes) -> Tuple[int, int]:
    parts = line.split()
    # Plain ASCII digits only: int() would also take "1_000", "+5" and " ５".
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise FormatError(f"{path}: line 1: expected header 'words dimensions', "
                          f"got {line[:60]!r}")
    n_words, dim = (int(p) for p in parts)
    # The kernel and numpy index a row with a C int; a larger dimension is damage.
    if not 1 <= dim <= MAX_DIM:
        # The header is quoted as the file has it, not in our number style.
        raise FormatError(f"{path}: line 1: impossible header {n_words} {dim} (the "
                          f"dimension must be 1 to {MAX_DIM:,})")
    return n_words, dim
