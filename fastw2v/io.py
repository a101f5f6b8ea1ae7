"""Vector files in word2vec.c's formats, and atomic writes.

Text format: a header line `V D`, then one line per word: the word, a space, and D
numbers separated by spaces. Binary format: the same header, then per word the word's
UTF-8 bytes, a space, D little-endian float32 values, and a newline (word2vec.c writes
that newline; gensim and fastText read and write it too).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import IO, Iterator, List, Sequence, Tuple

import numpy as np

from .errors import FormatError, OutputError

TEXT_SUFFIXES = (".txt", ".vec")
FORMATS = ("bin", "text")


def format_for_path(path: str, requested: str = "auto") -> str:
    """`bin` or `text`: as requested, else from the suffix (.txt/.vec are text)."""
    if requested != "auto":
        return requested
    return "text" if str(path).lower().endswith(TEXT_SUFFIXES) else "bin"


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
            raise OutputError(f"{path}: write failed: {exc.strerror or exc}") from None
        raise


def _permissions_for(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def save_word2vec(path: str, words: Sequence[str], vectors: np.ndarray,
                  fmt: str = "auto") -> None:
    """Save vectors in word2vec's binary or text format (by suffix unless `fmt` says)."""
    fmt = format_for_path(path, fmt)
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError("need one vector row per word")
    for word in words:
        if not word or any(ch.isspace() for ch in word):
            raise OutputError(f"{path}: word {word!r} is empty or holds white space")
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
    """Load a word2vec binary or text file; malformed input raises FormatError."""
    fmt = format_for_path(path, fmt)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise FormatError(f"{path}: cannot read: {exc.strerror}") from None
    header_end = data.find(b"\n")
    if header_end < 0:
        raise FormatError(f"{path}: line 1: no header line 'words dimensions'")
    n_words, dim = _parse_header(path, data[:header_end])
    if fmt == "bin":
        words, vectors = _parse_binary(path, data, header_end + 1, n_words, dim)
    else:
        words, vectors = _parse_text(path, data[header_end + 1:], n_words, dim)
    if not np.all(np.isfinite(vectors)):
        bad = int(np.flatnonzero(~np.isfinite(vectors).all(axis=1))[0])
        raise FormatError(f"{path}: vector of {words[bad]!r} holds a NaN or infinite value")
    return words, vectors


def _parse_header(path: str, line: bytes) -> Tuple[int, int]:
    parts = line.split()
    try:
        n_words, dim = (int(p) for p in parts)
    except ValueError:
        raise FormatError(f"{path}: line 1: expected header 'words dimensions', "
                          f"got {line[:60]!r}") from None
    if n_words < 0 or dim < 1:
        raise FormatError(f"{path}: line 1: impossible header {n_words} {dim}")
    return n_words, dim


def _decode_word(path: str, raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(f"{path}: {where}: word is not valid UTF-8") from None


def _parse_binary(path: str, data: bytes, pos: int, n_words: int,
                  dim: int) -> Tuple[List[str], np.ndarray]:
    row_bytes = 4 * dim
    words: List[str] = []
    vectors = np.empty((n_words, dim), dtype=np.float32)
    for i in range(n_words):
        while pos < len(data) and data[pos:pos + 1] in (b"\n", b"\r"):
            pos += 1  # the newline after the previous vector
        space = data.find(b" ", pos)
        if space < 0 or space + 1 + row_bytes > len(data):
            raise FormatError(f"{path}: vector {i + 1} of {n_words}: file ends early "
                              f"(truncated, or the header overstates the word count)")
        words.append(_decode_word(path, data[pos:space], f"vector {i + 1}"))
        vectors[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=space + 1)
        pos = space + 1 + row_bytes
    if data[pos:].strip():
        raise FormatError(f"{path}: data after the {n_words} vectors the header announces")
    return words, vectors


def _parse_text(path: str, body: bytes, n_words: int,
                dim: int) -> Tuple[List[str], np.ndarray]:
    lines = [line for line in body.split(b"\n") if line.strip()]
    if len(lines) != n_words:
        raise FormatError(f"{path}: header announces {n_words} words, file has {len(lines)}")
    words: List[str] = []
    vectors = np.empty((n_words, dim), dtype=np.float32)
    for i, line in enumerate(lines):
        parts = line.split()
        line_no = i + 2
        if len(parts) != dim + 1:
            raise FormatError(f"{path}: line {line_no}: expected a word and {dim} values, "
                              f"got {len(parts) - 1} values")
        words.append(_decode_word(path, parts[0], f"line {line_no}"))
        try:
            vectors[i] = [float(x) for x in parts[1:]]
        except ValueError:
            raise FormatError(f"{path}: line {line_no}: a value is not a number") from None
    return words, vectors
