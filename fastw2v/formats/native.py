"""fastw2v's native vector format (`.fw2v`): one file, loaded in milliseconds.

The word2vec formats must be parsed row by row; this one is laid out so that loading
is a few small reads and a memory map. All integers are little-endian.

    offset 0     header, 128 bytes (HEADER below; the rest of the 128 is zero):
                   magic (8 bytes, NATIVE_MAGIC), format version (uint32, 1 or 2),
                   flags (uint32; bit 0: word counts present; bit 1: output matrix;
                   bit 2, version 2 only: the matrices are float16), n_words, dim,
                   vocab_offset, vocab_size, counts_offset, meta_offset, meta_size,
                   matrix_offset, norms_offset, file_size, context_offset, context_rows
                   (uint64 each)
    vocab_offset the words in UTF-8, separated by "\\n", most frequent first
    counts_offset n_words int64 counts, 8-byte aligned (absent when flag bit 0 is 0)
    meta_offset  UTF-8 JSON: who wrote the file and, for a trained model, the training
                 settings and loss history
    matrix_offset n_words x dim float32 (float16 with flag bit 2), row-major, 64-byte
                 aligned
    norms_offset the Euclidean norm of every row, float32, 64-byte aligned, so that a
                 query needs no pass over the matrix before its own
    context_offset (flag bit 1) the output matrix of a trained model, context_rows x
                 dim float32 (float16 with flag bit 2), 64-byte aligned: word2vec's
                 syn1neg, or for hierarchical softmax the tree's inner-node vectors.
                 `fastw2v score` needs it.

Version 2 differs from version 1 only by flag bit 2, half-precision storage: half the
file and half the memory, with queries computed in float32 (`fastw2v convert --dtype
float16`). A float32 file is still written as version 1, so that every fastw2v can read
it; an older fastw2v refuses a version 2 file as written by a newer one. The norms stay
float32, the norms of the stored (float16) rows.

`read_native` reads everything before the matrix in one read and maps the matrix and
the norms read-only (np.memmap): the operating system pages them in as a query touches
them, and several processes share one copy. The writer goes through `atomic_write`, so
the file appears complete or not at all. The loader checks the structure (magic,
version, every offset and size against the file's length, the word list against
n_words, finite norms) but does not scan the matrix: that would cost what the map saves.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Sequence

import numpy as np

from ..errors import FormatError, OutputError
from ..text.words import WordList
from .detect import NATIVE_MAGIC
from .files import atomic_write, read_failure
from .rows import MAX_DIM, check_vectors, check_words, holds_nonfinite

VERSION = 1  # float32 matrices
VERSION_FLOAT16 = 2  # the first version whose flags may say float16
READ_VERSIONS = (VERSION, VERSION_FLOAT16)
DTYPES = ("float32", "float16")
HEADER = struct.Struct("<8sII12Q")
HEADER_SIZE = 128
MATRIX_ALIGN = 64
FLAG_COUNTS = 1
FLAG_CONTEXT = 2
FLAG_FLOAT16 = 4
FLOAT16_MAX = float(np.finfo(np.float16).max)
# Rows converted to float16 at a time: a bounded buffer instead of a half-size copy.
_CONVERT_ROWS = 65536


@dataclass
class NativeFile:
    """What a native file holds. `vectors` and `norms` are read-only memory maps."""

    words: WordList
    vectors: np.ndarray
    norms: np.ndarray
    counts: Optional[np.ndarray] = None
    metadata: Dict[str, Any] = field(default_factory=dict)
    version: int = VERSION
    context: Optional[np.ndarray] = None  # the output matrix, when the file has one


def _align(offset: int, to: int) -> int:
    return -(-offset // to) * to


def write_native(path: str, words: Sequence[str], vectors: np.ndarray, norms: np.ndarray,
                 counts: Optional[np.ndarray] = None,
                 metadata: Optional[Dict[str, Any]] = None,
                 context: Optional[np.ndarray] = None, dtype: str = "float32") -> None:
    """Write a native file atomically. `norms` are the rows' Euclidean norms; `context`
    is a trained model's output matrix (any number of rows, the same dim). With
    `dtype="float16"` both matrices are stored in half precision (a value beyond
    float16's range is refused) and the norms are those of the float16 rows."""
    path = os.fspath(path)
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}")
    half = dtype == "float16"
    if vectors.dtype != np.float16 or not half:  # float16 widens to float32 exactly
        vectors = np.ascontiguousarray(vectors, dtype="<f4")
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError("need one vector row per word")
    n_words, dim = vectors.shape
    norms = np.ascontiguousarray(norms, dtype="<f4")
    if norms.shape != (n_words,):
        raise ValueError("need one norm per word")
    check_words(path, words)
    check_vectors(path, words, vectors)
    if half:
        _check_float16_range(path, words, vectors, "the vector of")
        norms = _float16_norms(vectors)
    if not np.isfinite(norms).all():
        raise ValueError("the norms must be finite")
    vocab = words.blob if isinstance(words, WordList) else "\n".join(words).encode("utf-8")
    meta = json.dumps(metadata or {}, sort_keys=True, ensure_ascii=False).encode("utf-8")

    vocab_offset = HEADER_SIZE
    flags = 0
    counts_offset = 0
    end = vocab_offset + len(vocab)
    if counts is not None:
        counts = np.ascontiguousarray(counts, dtype="<i8")
        if counts.shape != (n_words,):
            raise ValueError("need one count per word")
        flags |= FLAG_COUNTS
        counts_offset = _align(end, 8)
        end = counts_offset + counts.nbytes
    meta_offset = end
    itemsize = 2 if half else 4
    matrix_bytes = itemsize * n_words * dim
    matrix_offset = _align(meta_offset + len(meta), MATRIX_ALIGN)
    norms_offset = _align(matrix_offset + matrix_bytes, MATRIX_ALIGN)
    file_size = norms_offset + norms.nbytes
    context_offset = context_rows = 0
    if context is not None:
        if context.dtype != np.float16 or not half:
            context = np.ascontiguousarray(context, dtype="<f4")
        if context.ndim != 2 or context.shape[1] != dim:
            raise ValueError("the context matrix needs the vectors' dimension")
        if holds_nonfinite(context):
            raise OutputError(f"{path}: the output matrix holds a NaN or infinite value; "
                              f"nothing was written")
        if half:
            _check_float16_range(path, None, context, "the output matrix's row")
        flags |= FLAG_CONTEXT
        context_rows = context.shape[0]
        context_offset = _align(file_size, MATRIX_ALIGN)
        file_size = context_offset + itemsize * context.size
    if half:
        flags |= FLAG_FLOAT16
    version = VERSION_FLOAT16 if half else VERSION
    header = HEADER.pack(NATIVE_MAGIC, version, flags, n_words, dim, vocab_offset,
                         len(vocab), counts_offset, meta_offset, len(meta), matrix_offset,
                         norms_offset, file_size, context_offset, context_rows)

    with atomic_write(path, "wb") as out:
        out.write(header.ljust(HEADER_SIZE, b"\0"))
        out.write(vocab)
        if counts is not None:
            out.write(b"\0" * (counts_offset - vocab_offset - len(vocab)))
            out.write(counts.tobytes())
        out.write(meta)
        out.write(b"\0" * (matrix_offset - meta_offset - len(meta)))
        _write_matrix(out, vectors, half)
        out.write(b"\0" * (norms_offset - matrix_offset - matrix_bytes))
        out.write(norms.tobytes())
        if context is not None:
            out.write(b"\0" * (context_offset - norms_offset - norms.nbytes))
            _write_matrix(out, context, half)


def _write_matrix(out, matrix: np.ndarray, half: bool) -> None:
    """The rows as stored: float32 as they are; float16 converted a block at a time."""
    if not matrix.size:
        return
    if not half or matrix.dtype == np.float16:
        out.write(np.ascontiguousarray(matrix, dtype="<f2" if half else "<f4").data.cast("B"))
        return
    for start in range(0, matrix.shape[0], _CONVERT_ROWS):
        out.write(matrix[start:start + _CONVERT_ROWS].astype("<f2").data.cast("B"))


def _check_float16_range(path: str, words: Optional[Sequence[str]], matrix: np.ndarray,
                         what: str) -> None:
    """Refuse a value beyond float16's range: it would be stored as infinite."""
    for start in range(0, matrix.shape[0], _CONVERT_ROWS):
        block = np.abs(matrix[start:start + _CONVERT_ROWS]).max(axis=1)
        over = np.flatnonzero(block > FLOAT16_MAX)
        if len(over):
            row = start + int(over[0])
            name = repr(words[row]) if words is not None else f"{row:,}"
            raise OutputError(f"{path}: {what} {name} holds a value beyond float16's range "
                              f"(+-{FLOAT16_MAX:,.0f}); write it as float32; nothing was "
                              f"written")


def _float16_norms(matrix: np.ndarray) -> np.ndarray:
    """The norms of the rows as float16 stores them, a block at a time."""
    norms = np.empty(matrix.shape[0], dtype=np.float32)
    for start in range(0, matrix.shape[0], _CONVERT_ROWS):
        block = matrix[start:start + _CONVERT_ROWS].astype(np.float16).astype(np.float64)
        norms[start:start + _CONVERT_ROWS] = np.sqrt(np.einsum("ij,ij->i", block, block))
    return norms


def read_native(path: str) -> NativeFile:
    """Read a native file: the words, counts and metadata; the matrix and norms mapped."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            actual_size = os.fstat(f.fileno()).st_size
            head = f.read(HEADER_SIZE)
            fields = _check_header(path, head, actual_size)
            (version, flags, n_words, dim, vocab_offset, vocab_size, counts_offset,
             meta_offset, meta_size, matrix_offset, norms_offset, context_offset,
             context_rows) = fields
            f.seek(vocab_offset)
            front = f.read(matrix_offset - vocab_offset)
    except OSError as exc:
        raise read_failure(FormatError, path, exc, "a vector file") from None

    def part(offset: int, size: int) -> bytes:
        return front[offset - vocab_offset:offset - vocab_offset + size]

    blob = part(vocab_offset, vocab_size)
    try:
        blob.decode("utf-8")  # checked once; each word is decoded when it is asked for
    except UnicodeDecodeError:
        raise FormatError(f"{path}: the word list is not valid UTF-8 (file damaged)") from None
    # The file's word list is a WordList's buffer: no string is made per word.
    words = WordList.from_blob(blob, n_words)
    if words is None:  # the writer never writes an empty word (rows.check_words)
        found = blob.count(b"\n") + 1 if blob else 0
        what = (f"holds {found:,} words, the header announces {n_words:,}" if found != n_words
                else "holds an empty word")
        raise FormatError(f"{path}: the word list {what} (file damaged)")
    counts = None
    if flags & FLAG_COUNTS:
        counts = np.frombuffer(part(counts_offset, 8 * n_words), dtype="<i8")
        if n_words and counts.min() < 0:
            raise FormatError(f"{path}: a stored word count is negative (file damaged)")
    try:
        metadata = json.loads(part(meta_offset, meta_size).decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: "[[[[..."
        raise FormatError(f"{path}: the metadata is not valid JSON (file damaged)") from None
    _check_metadata(path, metadata)

    stored = "<f2" if flags & FLAG_FLOAT16 else "<f4"
    if n_words:
        vectors = np.asarray(np.memmap(path, dtype=stored, mode="r", offset=matrix_offset,
                                       shape=(n_words, dim)))
        norms = np.asarray(np.memmap(path, dtype="<f4", mode="r", offset=norms_offset,
                                     shape=(n_words,)))
    else:
        vectors = np.zeros((0, dim), dtype=stored)
        norms = np.zeros(0, dtype=np.float32)
        vectors.flags.writeable = norms.flags.writeable = False
    if not (np.isfinite(norms).all() and (norms >= 0).all()):
        raise FormatError(f"{path}: a stored norm is negative, NaN or infinite "
                          f"(file damaged, or a vector holds non-finite values)")
    context = None
    if flags & FLAG_CONTEXT and context_rows:
        context = np.asarray(np.memmap(path, dtype=stored, mode="r", offset=context_offset,
                                       shape=(context_rows, dim)))
    elif flags & FLAG_CONTEXT:
        context = np.zeros((0, dim), dtype=stored)
    return NativeFile(words, vectors, norms, counts, metadata, version, context)


# The metadata entries fastw2v itself reads back (`fastw2v info`, `fastw2v score`), and
# the JSON type each must have. Any other entry is kept as it is.
_METADATA_TYPES = {"writer": str, "matrix": str, "training": dict, "loss_history": list,
                   "nce_gamma": list, "context_bias": list, "corpus_tokens": int,
                   "words_trained": int}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_metadata(path: str, metadata: Any) -> None:
    """Refuse metadata whose known entries have the wrong type, so that no command
    fails later, deep inside, on a damaged or hand-edited file."""
    if not isinstance(metadata, dict):
        raise FormatError(f"{path}: the metadata is not a JSON object (file damaged)")
    for key, kind in _METADATA_TYPES.items():
        value = metadata.get(key)
        if value is None:
            continue
        wrong = not isinstance(value, kind) or isinstance(value, bool)
        if kind is list and not wrong:
            wrong = not all(_is_number(x) and math.isfinite(x) for x in value)
        if wrong:
            expected = "a list of finite numbers" if kind is list else f"a JSON {kind.__name__}"
            raise FormatError(f"{path}: the metadata's {key!r} is not {expected} (file "
                              f"damaged)")


def _check_header(path: str, head: bytes, actual_size: int) -> tuple:
    if not head.startswith(NATIVE_MAGIC):
        raise FormatError(f"{path}: not a fastw2v native file (no FW2V signature)")
    if len(head) < HEADER_SIZE:
        raise FormatError(f"{path}: file ends early, inside its {HEADER_SIZE}-byte header "
                          f"(truncated)")
    (_, version, flags, n_words, dim, vocab_offset, vocab_size, counts_offset, meta_offset,
     meta_size, matrix_offset, norms_offset, file_size, context_offset,
     context_rows) = HEADER.unpack_from(head)
    if version not in READ_VERSIONS:
        newest = READ_VERSIONS[-1]
        newer = " by a newer fastw2v; upgrade fastw2v to read it" if version > newest else ""
        raise FormatError(f"{path}: native format version {version} written{newer} "
                          f"(this fastw2v reads versions {VERSION} to {newest})")
    if actual_size < file_size:
        raise FormatError(f"{path}: file ends early: the header announces {file_size:,} "
                          f"bytes, the file has {actual_size:,} (truncated)")
    if actual_size > file_size:
        raise FormatError(f"{path}: {actual_size - file_size:,} bytes after the end the "
                          f"header announces (file damaged)")
    itemsize = 2 if flags & FLAG_FLOAT16 else 4
    matrix_bytes = itemsize * n_words * dim
    counts_end = counts_offset + 8 * n_words if flags & FLAG_COUNTS else 0
    consistent = (
        1 <= dim <= MAX_DIM
        and (version >= VERSION_FLOAT16 or not flags & FLAG_FLOAT16)
        and vocab_offset >= HEADER_SIZE
        and vocab_offset + vocab_size <= meta_offset
        and (not flags & FLAG_COUNTS
             or (counts_offset % 8 == 0 and counts_offset >= vocab_offset + vocab_size
                 and counts_end <= meta_offset))
        and meta_offset + meta_size <= matrix_offset
        and matrix_offset % MATRIX_ALIGN == 0
        and matrix_offset + matrix_bytes <= norms_offset
        and norms_offset % MATRIX_ALIGN == 0
        and (norms_offset + 4 * n_words == file_size if not flags & FLAG_CONTEXT
             else (context_offset % MATRIX_ALIGN == 0
                   and context_offset >= norms_offset + 4 * n_words
                   and context_offset + itemsize * context_rows * dim == file_size))
    )
    if not consistent:
        raise FormatError(f"{path}: the header's sizes and offsets disagree (file damaged)")
    return (version, flags, n_words, dim, vocab_offset, vocab_size, counts_offset,
            meta_offset, meta_size, matrix_offset, norms_offset, context_offset, context_rows)
