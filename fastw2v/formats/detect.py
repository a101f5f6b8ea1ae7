"""Format names, suffixes and detection: which vector format a path is, or should be.

The native format is recognised by its magic bytes (NATIVE_MAGIC, written by
fastw2v/formats/native.py); the word2vec formats by their suffix, or, for any other
name, by what the first vector looks like; gensim's own files (fastw2v/formats/gensim.py)
by being a Python pickle named .kv or .model. A pickle by any other name is refused, not
loaded: unpickling runs whatever code the file holds, so a file the user takes for a
vector file is never unpickled behind their back (`--from gensim` / `fmt="gensim"`
loads one under another name on purpose).
"""

from __future__ import annotations

import os

from ..errors import FormatError
from .files import bom_length, read_failure

TEXT_SUFFIXES = (".txt", ".vec")
BINARY_SUFFIXES = (".bin",)
# gensim's names: KeyedVectors.save (.kv), Word2Vec/FastText/Doc2Vec.save (.model).
GENSIM_SUFFIXES = (".kv", ".model")
NATIVE_SUFFIX = ".fw2v"
# The first 8 bytes of every native file. The non-ASCII first byte and the \r\n pair
# (as in PNG's signature) catch a file mangled by a text-mode transfer.
NATIVE_MAGIC = b"\x89FW2V\r\n\x1a"
# A pickle of protocol 2 or later starts with PROTO (0x80) and the protocol number;
# gensim 4 writes protocol 4.
PICKLE_PROTOCOLS = range(2, 6)
# numpy's .npy files (gensim's side files) start with this.
NPY_MAGIC = b"\x93NUMPY"
# The word2vec formats, which `train --format` offers.
FORMATS = ("bin", "text")
# Every format fastw2v reads and writes (`convert --from/--to`, `train --format`).
ALL_FORMATS = ("native",) + FORMATS + ("gensim",)
FORMAT_NAMES = {"native": "fastw2v native", "bin": "word2vec binary",
                "text": "word2vec text", "gensim": "gensim KeyedVectors"}

def format_for_path(path: str, requested: str = "auto") -> str:
    """The format to write: as requested, else from the suffix (.fw2v is native,
    .txt/.vec text, .kv/.model gensim, anything else word2vec binary)."""
    if requested != "auto":
        return requested
    lower = os.fspath(path).lower()
    if lower.endswith(NATIVE_SUFFIX):
        return "native"
    if lower.endswith(GENSIM_SUFFIXES):
        return "gensim"
    return "text" if lower.endswith(TEXT_SUFFIXES) else "bin"


def detect_format(path: str) -> str:
    """The format of an existing file: `native` by its magic bytes; `gensim` for a
    pickle named .kv or .model; otherwise `text` for .txt/.vec, `bin` for .bin, and for
    other names whatever the first vector looks like. Raises FormatError if the file
    cannot be read or is no vector file, and for a pickle by another name."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError as exc:
        raise read_failure(FormatError, path, exc, "a vector file") from None
    if head.startswith(NATIVE_MAGIC):
        return "native"
    lower = path.lower()
    if len(head) >= 2 and head[0] == 0x80 and head[1] in PICKLE_PROTOCOLS:
        if lower.endswith(GENSIM_SUFFIXES):
            return "gensim"
        raise FormatError(
            f"{path}: is a Python pickle (saved by gensim?); unpickling runs any code a "
            f"file holds, so fastw2v loads pickles only named .kv or .model or with "
            f"--from gensim, and only from a source you trust")
    if head.startswith(NPY_MAGIC):
        raise FormatError(f"{path}: is a NumPy array (.npy), not a vector file; for a side "
                          f"file of a gensim save, give the main .kv or .model file")
    head = head[bom_length(head):]
    header_end = head.find(b"\n")
    header = head[:header_end] if header_end >= 0 else head
    if not _looks_like_header(header) and lower.endswith(GENSIM_SUFFIXES):
        what = "empty" if not head else f"starts with {head[:20]!r}"
        raise FormatError(f"{path}: not a gensim file (gensim saves .kv and .model files "
                          f"as Python pickles; this one is {what})")
    if not _looks_like_header(header):
        raise FormatError(
            f"{path}: not a vector file: expected a fastw2v model (.fw2v) or a word2vec "
            f"file whose line 1 is 'words dimensions', found {head[:40]!r}")
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
