"""Vector files in word2vec.c's formats, format names and detection, and atomic writes.

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

The native format lives in `native.py`; this module only knows its name, suffix and
magic bytes.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from typing import IO, Iterator, List, Sequence, Tuple

import numpy as np

from .errors import FormatError, OutputError

TEXT_SUFFIXES = (".txt", ".vec")
BINARY_SUFFIXES = (".bin",)
NATIVE_SUFFIX = ".fw2v"
# The first 8 bytes of every native file. The non-ASCII first byte and the \r\n pair
# (as in PNG's signature) catch a file mangled by a text-mode transfer.
NATIVE_MAGIC = b"\x89FW2V\r\n\x1a"
# The word2vec formats, which `train --format` offers.
FORMATS = ("bin", "text")
# Every format fastw2v reads and writes (`convert --to`).
ALL_FORMATS = ("native",) + FORMATS
FORMAT_NAMES = {"native": "fastw2v native", "bin": "word2vec binary",
                "text": "word2vec text"}
UTF8_BOM = b"\xef\xbb\xbf"  # some Windows editors start a text file with it
MAX_DIM = 2**31 - 1  # the largest vector dimension any reader accepts
FLOAT32_MAX = float(np.finfo(np.float32).max)


def format_for_path(path: str, requested: str = "auto") -> str:
    """The format to write: as requested, else from the suffix (.fw2v is native,
    .txt/.vec text, anything else word2vec binary)."""
    if requested != "auto":
        return requested
    lower = os.fspath(path).lower()
    if lower.endswith(NATIVE_SUFFIX):
        return "native"
    return "text" if lower.endswith(TEXT_SUFFIXES) else "bin"


def detect_format(path: str) -> str:
    """The format of an existing file: `native` by its magic bytes; otherwise `text`
    for .txt/.vec, `bin` for .bin, and for other names whatever the first vector
    looks like. Raises FormatError if the file cannot be read or is no vector file."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FormatError(f"{path}: is a folder, not a vector file") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot read: {exc.strerror}") from None
    if head.startswith(NATIVE_MAGIC):
        return "native"
    head = head.removeprefix(UTF8_BOM)
    header_end = head.find(b"\n")
    header = head[:header_end] if header_end >= 0 else head
    if not _looks_like_header(header):
        raise FormatError(
            f"{path}: not a vector file: expected a fastw2v model (.fw2v) or a word2vec "
            f"file whose line 1 is 'words dimensions', found {head[:40]!r}")
    lower = path.lower()
    if lower.endswith(TEXT_SUFFIXES):
        return "text"
    if lower.endswith(BINARY_SUFFIXES):
        return "bin"
    dim = int(header.split()[1])
    first_row = head[header_end + 1:].split(b"\n", 1)[0]
    parts = first_row.split()
    if len(parts) == dim + 1:
        try:
            [float(x) for x in parts[1:]]
            return "text"
        except ValueError:
            pass
    return "bin"


def _looks_like_header(line: bytes) -> bool:
    parts = line.split()
    return len(parts) == 2 and all(p.isdigit() for p in parts)


def check_writable_path(path: str, option: str) -> None:
    """Fail before any work if `path` cannot be written (missing folder, a folder)."""
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise OutputError(f"{option} {path}: folder {parent} does not exist")
    if os.path.isdir(path):
        raise OutputError(f"{option} {path}: is a folder, not a file")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{option} {path}: folder {parent} is not writable")


@contextlib.contextmanager
def atomic_write(path: str, mode: str = "wb") -> Iterator[IO]:
    """Write to a temporary file beside `path`, then rename it over `path`.

    Readers see the old file or the complete new one, never a half-written one; if
    writing fails the temporary file is removed and the old file is untouched.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                                   dir=folder)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create a file in {folder}: {exc.strerror}") from None
    try:
        # mkstemp makes the file private (0600); give the result the permissions the
        # user would get from a plain open(): the old file's, or 0666 less the umask.
        os.chmod(tmp, _permissions_for(path))
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            # Say what the user most needs to know after a full disk: nothing is lost.
            raise OutputError(f"{path}: write failed: {exc.strerror or exc}; the file was "
                              f"left as it was") from None
        raise


def _permissions_for(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# The bytes that separate words in the word2vec formats, and tokens in a corpus. Other
# Unicode white space (a no-break space, say) can be part of a word.
ASCII_WHITE_SPACE = frozenset(" \t\n\r\x0b\x0c")


def unusable_rows(vectors: np.ndarray) -> np.ndarray:
    """A mask of the rows no query can use: those with a NaN or infinite value, and
    those so long that their Euclidean norm, which cosines divide by and native files
    store as float32, overflows float32 (each value finite, the sum of squares not)."""
    with np.errstate(over="ignore", invalid="ignore"):
        squares = np.einsum("ij,ij->i", vectors, vectors, dtype=np.float64)
    return ~(squares <= FLOAT32_MAX ** 2)  # NaN compares false: unusable too


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
    for word in words:
        if not word or "\0" in word or any(ch in ASCII_WHITE_SPACE for ch in word):
            raise OutputError(f"{path}: word {word!r} is empty or holds ASCII white space "
                              f"or NUL")
    if len(set(words)) != len(words):
        seen: set = set()
        twice = next(w for w in words if w in seen or seen.add(w))
        raise OutputError(f"{path}: word {twice!r} is listed twice")


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
        raise FormatError(f"{path}: cannot read: {exc.strerror}") from None
    start = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
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
                    f"{path}: vector {i} of {n_words}: no line end after its {dim} values "
                    f"as after the first vector (is the header's dimension {dim} right?)")
        while pos < size and data[pos] in (10, 13):  # \n, \r after the previous vector
            pos += 1
        space = data.find(b" ", pos)
        if space < 0 or space + 1 + row_bytes > size:
            raise FormatError(f"{path}: vector {i + 1} of {n_words}: file ends early "
                              f"(truncated, or the header overstates the word count)")
        raw = data[pos:space]
        if not raw:
            raise FormatError(f"{path}: vector {i + 1} of {n_words}: no word before the "
                              f"values (is the header's dimension {dim} right?)")
        if _NOT_IN_WORD.search(raw):
            raise FormatError(f"{path}: vector {i + 1} of {n_words}: word {raw[:40]!r} holds "
                              f"white space or a NUL byte (is the header's dimension "
                              f"{dim} right?)")
        words.append(_decode_word(path, raw, f"vector {i + 1}"))
        pos = space + 1 + row_bytes
        rows.append(data[space + 1:pos])
    if data[pos:].strip():
        raise FormatError(f"{path}: data after the {n_words} vectors the header announces "
                          f"(the header understates the word count, or its dimension "
                          f"{dim} is wrong)")
    body = bytearray().join(rows)  # a bytearray, so the matrix below is writable
    vectors = np.frombuffer(body, dtype="<f4").astype(np.float32, copy=False)
    vectors = vectors.reshape(n_words, dim)
    bad = np.flatnonzero(unusable_rows(vectors))
    if len(bad):
        row = int(bad[0])
        raise FormatError(f"{path}: vector {row + 1} ({words[row]!r}) "
                          f"{row_problem(vectors[row])}")
    _check_unique(path, words, lambda i: f"vector {i + 1}")
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
            raise FormatError(f"{path}: line {line_no}: header announces {n_words} words, "
                              f"file has {n_rows}")
        if len(parts) != dim + 1:
            raise FormatError(f"{path}: line {line_no}: expected a word and {dim} values, "
                              f"got {len(parts) - 1} values")
        if b"\0" in parts[0]:
            raise FormatError(f"{path}: line {line_no}: the word holds a NUL byte (is this "
                              f"a binary file?)")
        words.append(_decode_word(path, parts[0], f"line {line_no}"))
        try:
            with np.errstate(over="ignore"):
                values = np.array(parts[1:], dtype=np.float32)
        except ValueError:
            raise FormatError(f"{path}: line {line_no}: a value is not a number") from None
        if not np.isfinite(values).all():
            raise FormatError(f"{path}: line {line_no}: a value is NaN, infinite or too "
                              f"large for float32")
        if line_no == len(lines) + 1 and not line[-1:].isspace():
            raise FormatError(f"{path}: line {line_no}: the file ends inside this row, "
                              f"without a line end (truncated? a complete file ends every "
                              f"row with a line end)")
        vectors[row] = values
        line_numbers.append(line_no)
        row += 1
    if row != n_words:
        raise FormatError(f"{path}: header announces {n_words} words, file has {row}")
    bad = np.flatnonzero(unusable_rows(vectors))
    if len(bad):
        raise FormatError(f"{path}: line {line_numbers[bad[0]]}: the vector "
                          f"{row_problem(vectors[bad[0]])}")
    _check_unique(path, words, lambda i: f"line {line_numbers[i]}")
    return words, vectors
