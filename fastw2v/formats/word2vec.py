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

Format detection lives in `detect.py`, the native format in `native.py`.
"""

from __future__ import annotations

import os
import re
from typing import IO, List, Sequence, Tuple

import numpy as np

from ..errors import FormatError
from .detect import detect_format, format_for_path
from .files import atomic_write, bom_length, read_failure
from .rows import MAX_DIM, check_vectors, check_words, row_problem, unusable_rows


def save_word2vec(path: str, words: Sequence[str], vectors: np.ndarray,
                  fmt: str = "auto") -> None:
    """Save vectors in word2vec's binary or text format (by suffix unless `fmt` says)."""
    fmt = format_for_path(path, fmt)
    if fmt == "native":
        fmt = "bin"  # a .fw2v name given to the word2vec writer: the caller chose it
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError("need one vector row per word")
    check_words(path, words)
    check_vectors(path, words, vectors)
    n_words, dim = vectors.shape
    with atomic_write(path, "wb") as out:
        out.write(f"{n_words} {dim}\n".encode("ascii"))
        if fmt == "bin":
            _write_binary_rows(out, words, vectors)
        else:
            _write_text_rows(out, words, vectors)


def _write_binary_rows(out: IO, words: Sequence[str], vectors: np.ndarray) -> None:
    batch: List[bytes] = []
    for word, row in zip(words, vectors):
        batch.append(word.encode("utf-8") + b" " + row.tobytes() + b"\n")
        if len(batch) >= 4096:
            out.write(b"".join(batch))
            batch.clear()
    out.write(b"".join(batch))


def _write_text_rows(out: IO, words: Sequence[str], vectors: np.ndarray) -> None:
    row_format = " ".join(["%.6g"] * vectors.shape[1])
    batch: List[str] = []
    for word, row in zip(words, vectors.tolist()):
        batch.append(word + " " + row_format % tuple(row) + "\n")
        if len(batch) >= 4096:
            out.write("".join(batch).encode("utf-8"))
            batch.clear()
    out.write("".join(batch).encode("utf-8"))


def load_word2vec(path: str, fmt: str = "auto") -> Tuple[List[str], np.ndarray]:
    """Load a word2vec binary or text file; malformed input raises FormatError.

    With `fmt="auto"` the format comes from `detect_format`. Returns the words in file
    order and a float32 matrix with one row per word.
    """
    path = os.fspath(path)
    if fmt == "auto":
        fmt = detect_format(path)
        if fmt == "native":
            raise FormatError(f"{path}: is a fastw2v native file, not a word2vec file")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise read_failure(FormatError, path, exc, "a vector file") from None
    start = bom_length(data)
    header_end = data.find(b"\n", start)
    if header_end < 0:
        raise FormatError(f"{path}: line 1: no header line 'words dimensions'")
    n_words, dim = _parse_header(path, data[start:header_end])
    if fmt == "bin":
        words, vectors = _parse_binary(path, data, header_end + 1, n_words, dim)
    else:
        words, vectors = _parse_text(path, data, header_end + 1, n_words, dim)
    return words, vectors


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


def _decode_word(path: str, raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(f"{path}: {where}: word is not valid UTF-8") from None


def _check_unique(path: str, words: List[str], where) -> None:
    """Refuse a word listed twice; `where(i)` names the place of the i-th word."""
    if len(set(words)) == len(words):  # the common case, at C speed
        return
    first: dict = {}
    for i, word in enumerate(words):
        if word in first:
            raise FormatError(f"{path}: {where(i)}: word {word!r} is listed twice (first "
                              f"at {where(first[word])}); a query could only reach one of "
                              f"the two vectors")
        first[word] = i


# Bytes that never belong in a word: ASCII white space ends one, and a NUL is no text
# (in a binary file it means the reader is inside the float values of a row).
_NOT_IN_WORD = re.compile(rb"[\x00\t\n\x0b\x0c\r ]")


def _parse_binary(path: str, data: bytes, pos: int, n_words: int,
                  dim: int) -> Tuple[List[str], np.ndarray]:
    """Find each word and the offset of its values; then gather all rows at once."""
    row_bytes = 4 * dim
    size = len(data)
    words: List[str] = []
    rows: List[bytes] = []
    newline_after_rows = None  # decided by the first row, then required of every row
    for i in range(n_words):
        if i > 0:
            ends_line = data[pos:pos + 1] in (b"\n", b"\r")
            if newline_after_rows is None:
                newline_after_rows = ends_line
            elif newline_after_rows and not ends_line:
                raise FormatError(
                    f"{path}: vector {i:,} of {n_words:,}: no line end after its {dim:,} values "
                    f"as after the first vector (is the header's dimension {dim:,} right?)")
        while pos < size and data[pos] in (10, 13):  # \n, \r after the previous vector
            pos += 1
        space = data.find(b" ", pos)
        if space < 0 or space + 1 + row_bytes > size:
            raise FormatError(f"{path}: vector {i + 1:,} of {n_words:,}: file ends early "
                              f"(truncated, or the header overstates the word count)")
        raw = data[pos:space]
        if not raw:
            raise FormatError(f"{path}: vector {i + 1:,} of {n_words:,}: no word before the "
                              f"values (is the header's dimension {dim:,} right?)")
        if _NOT_IN_WORD.search(raw):
            raise FormatError(f"{path}: vector {i + 1:,} of {n_words:,}: word {raw[:40]!r} holds "
                              f"white space or a NUL byte (is the header's dimension "
                              f"{dim:,} right?)")
        words.append(_decode_word(path, raw, f"vector {i + 1:,}"))
        pos = space + 1 + row_bytes
        rows.append(data[space + 1:pos])
    if data[pos:].strip():
        raise FormatError(f"{path}: data after the {n_words:,} vectors the header announces "
                          f"(the header understates the word count, or its dimension "
                          f"{dim:,} is wrong)")
    body = bytearray().join(rows)  # a bytearray, so the matrix below is writable
    vectors = np.frombuffer(body, dtype="<f4").astype(np.float32, copy=False)
    vectors = vectors.reshape(n_words, dim)
    bad = np.flatnonzero(unusable_rows(vectors))
    if len(bad):
        row = int(bad[0])
        raise FormatError(f"{path}: vector {row + 1:,} ({words[row]!r}) "
                          f"{row_problem(vectors[row])}")
    _check_unique(path, words, lambda i: f"vector {i + 1:,}")
    return words, vectors


def _parse_text(path: str, data: bytes, pos: int, n_words: int,
                dim: int) -> Tuple[List[str], np.ndarray]:
    words: List[str] = []
    # A row takes at least 2 * dim + 1 bytes (a word and dim values, one byte each,
    # separated by spaces) and a line end between rows, so the body holds at most this
    # many rows. Allocating for the header's count instead would let a damaged header
    # ("99999999999 300") ask for terabytes before any row is read.
    max_rows = (len(data) - pos + 1) // (2 * dim + 2)
    vectors = np.empty((min(n_words, max_rows), dim), dtype=np.float32)
    lines = data[pos:].split(b"\n")
    line_numbers: List[int] = []
    row = 0
    for line_no, line in enumerate(lines, start=2):
        parts = line.split()  # also drops a \r and trailing spaces
        if not parts:
            continue
        if row == n_words:
            n_rows = n_words + sum(1 for rest in lines[line_no - 2:] if rest.strip())
            raise FormatError(f"{path}: line {line_no:,}: header announces {n_words:,} words, "
                              f"file has {n_rows:,}")
        if len(parts) != dim + 1:
            raise FormatError(f"{path}: line {line_no:,}: expected a word and {dim:,} values, "
                              f"got {len(parts) - 1:,} values")
        if b"\0" in parts[0]:
            raise FormatError(f"{path}: line {line_no:,}: the word holds a NUL byte (is this "
                              f"a binary file?)")
        words.append(_decode_word(path, parts[0], f"line {line_no:,}"))
        try:
            with np.errstate(over="ignore"):
                values = np.array(parts[1:], dtype=np.float32)
        except ValueError:
            raise FormatError(f"{path}: line {line_no:,}: a value is not a number") from None
        if not np.isfinite(values).all():
            raise FormatError(f"{path}: line {line_no:,}: a value is NaN, infinite or too "
                              f"large for float32")
        if line_no == len(lines) + 1 and not line[-1:].isspace():
            raise FormatError(f"{path}: line {line_no:,}: the file ends inside this row, "
                              f"without a line end (truncated? a complete file ends every "
                              f"row with a line end)")
        vectors[row] = values
        line_numbers.append(line_no)
        row += 1
    if row != n_words:
        raise FormatError(f"{path}: header announces {n_words:,} words, file has {row:,}")
    bad = np.flatnonzero(unusable_rows(vectors))
    if len(bad):
        raise FormatError(f"{path}: line {line_numbers[bad[0]]:,}: the vector "
                          f"{row_problem(vectors[bad[0]])}")
    _check_unique(path, words, lambda i: f"line {line_numbers[i]:,}")
    return words, vectors
