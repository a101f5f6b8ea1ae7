"""fastw2v's native vector format (`.fw2v`): one file, loaded in milliseconds.

The word2vec formats must be parsed row by row; this one is laid out so that loading
is a few small reads and a memory map. All integers are little-endian.

    offset 0     header, 128 bytes (HEADER below; the rest of the 128 is zero):
                   magic (8 bytes, NATIVE_MAGIC), format version (uint32, 1),
                   flags (uint32; bit 0: word counts present), n_words, dim,
                   vocab_offset, vocab_size, counts_offset, meta_offset, meta_size,
                   matrix_offset, norms_offset, file_size, context_offset, context_rows
                   (uint64 each)
    vocab_offset the words in UTF-8, separated by "\\n", most frequent first
    counts_offset n_words int64 counts, 8-byte aligned (absent when flag bit 0 is 0)
    meta_offset  UTF-8 JSON: who wrote the file and, for a trained model, the training
                 settings and loss history
    matrix_offset n_words x dim float32, row-major, 64-byte aligned
    norms_offset the Euclidean norm of every row, float32, 64-byte aligned, so that a
                 query needs no pass over the matrix before its own
    context_offset (flag bit 1) the output matrix of a trained model, context_rows x
                 dim float32, 64-byte aligned: word2vec's syn1neg, or for hierarchical
                 softmax the tree's inner-node vectors. `fastw2v score` needs it.

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
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ..errors import FormatError, OutputError
from .detect import NATIVE_MAGIC
from .files import atomic_write, read_failure
from .rows import MAX_DIM, check_vectors, check_words

VERSION = 1
HEADER = struct.Struct("<8sII12Q")
HEADER_SIZE = 128
MATRIX_ALIGN = 64
FLAG_COUNTS = 1
FLAG_CONTEXT = 2


@dataclass
class NativeFile:
    """What a native file holds. `vectors` and `norms` are read-only memory maps."""

    words: List[str]
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
                 context: Optional[np.ndarray] = None) -> None:
    """Write a native file atomically. `norms` are the rows' Euclidean norms; `context`
    is a trained model's output matrix (any number of rows, the same dim)."""
    path = os.fspath(path)
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError("need one vector row per word")
    n_words, dim = vectors.shape
    norms = np.ascontiguousarray(norms, dtype="<f4")
    if norms.shape != (n_words,):
        raise ValueError("need one norm per word")
    check_words(path, words)
    check_vectors(path, words, vectors)
    if not np.isfinite(norms).all():
        raise ValueError("the norms must be finite")
    vocab = "\n".join(words).encode("utf-8")
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
    matrix_offset = _align(meta_offset + len(meta), MATRIX_ALIGN)
    norms_offset = _align(matrix_offset + vectors.nbytes, MATRIX_ALIGN)
    file_size = norms_offset + norms.nbytes
    context_offset = context_rows = 0
    if context is not None:
        context = np.ascontiguousarray(context, dtype="<f4")
        if context.ndim != 2 or context.shape[1] != dim:
            raise ValueError("the context matrix needs the vectors' dimension")
        if not np.isfinite(context).all():
            raise OutputError(f"{path}: the output matrix holds a NaN or infinite value; "
                              f"nothing was written")
        flags |= FLAG_CONTEXT
        context_rows = context.shape[0]
        context_offset = _align(file_size, MATRIX_ALIGN)
        file_size = context_offset + context.nbytes
    header = HEADER.pack(NATIVE_MAGIC, VERSION, flags, n_words, dim, vocab_offset,
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
        if vectors.size:
            out.write(vectors.data.cast("B"))
        out.write(b"\0" * (norms_offset - matrix_offset - vectors.nbytes))
        out.write(norms.tobytes())
        if context is not None:
            out.write(b"\0" * (context_offset - norms_offset - norms.nbytes))
            if context.size:
                out.write(context.data.cast("B"))


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

    try:
        text = part(vocab_offset, vocab_size).decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(f"{path}: the word list is not valid UTF-8 (file damaged)") from None
    words = text.split("\n") if n_words else []
    if len(words) != n_words:
        raise FormatError(f"{path}: the word list holds {len(words):,} words, the header "
                          f"announces {n_words:,} (file damaged)")
    if "" in words:  # the writer never writes one (io.check_words)
        raise FormatError(f"{path}: the word list holds an empty word (file damaged)")
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

    if n_words:
        vectors = np.asarray(np.memmap(path, dtype="<f4", mode="r", offset=matrix_offset,
                                       shape=(n_words, dim)))
        norms = np.asarray(np.memmap(path, dtype="<f4", mode="r", offset=norms_offset,
                                     shape=(n_words,)))
    else:
        vectors = np.zeros((0, dim), dtype=np.float32)
        norms = np.zeros(0, dtype=np.float32)
        vectors.flags.writeable = norms.flags.writeable = False
    if not (np.isfinite(norms).all() and (norms >= 0).all()):
        raise FormatError(f"{path}: a stored norm is negative, NaN or infinite "
                          f"(file damaged, or a vector holds non-finite values)")
    context = None
    if flags & FLAG_CONTEXT and context_rows:
        context = np.asarray(np.memmap(path, dtype="<f4", mode="r", offset=context_offset,
                                       shape=(context_rows, dim)))
    elif flags & FLAG_CONTEXT:
        context = np.zeros((0, dim), dtype=np.float32)
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
    if version != VERSION:
        newer = " by a newer fastw2v; upgrade fastw2v to read it" if version > VERSION else ""
        raise FormatError(f"{path}: native format version {version} written{newer} "
                          f"(this fastw2v reads version {VERSION})")
    if actual_size < file_size:
        raise FormatError(f"{path}: file ends early: the header announces {file_size:,} "
                          f"bytes, the file has {actual_size:,} (truncated)")
    if actual_size > file_size:
        raise FormatError(f"{path}: {actual_size - file_size:,} bytes after the end the "
                          f"header announces (file damaged)")
    matrix_bytes = 4 * n_words * dim
    counts_end = counts_offset + 8 * n_words if flags & FLAG_COUNTS else 0
    consistent = (
        1 <= dim <= MAX_DIM
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
                   and context_offset + 4 * context_rows * dim == file_size))
    )
    if not consistent:
        raise FormatError(f"{path}: the header's sizes and offsets disagree (file damaged)")
    return (version, flags, n_words, dim, vocab_offset, vocab_size, counts_offset,
            meta_offset, meta_size, matrix_offset, norms_offset, context_offset, context_rows)
