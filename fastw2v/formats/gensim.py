"""gensim's own files and objects: `KeyedVectors` in memory, `.kv` and `.model` on disk.

gensim is optional (`pip install "fastw2v[gensim]"`): it is imported only when one of
these functions runs, and without it they fail with one line saying what to install.

Reading. gensim saves with Python's pickle: `KeyedVectors.save` writes `NAME.kv`,
`Word2Vec.save` (and FastText's, Doc2Vec's) `NAME.model`, and each array of 10 Mi values
(40 MB of float32: 35,000 words of dim 300) or more goes to a side file beside it
(`NAME.kv.vectors.npy`, `NAME.model.wv.vectors.npy`, ...), which must travel with the
main file. They are loaded with gensim's own `load`, the side files memory-mapped
read-only. **Unpickling a file can run any code it holds:
load only gensim files from a source you trust.** For that reason fastw2v takes a
pickle for a gensim file only when it is named .kv or .model, or when the format is
asked for by name (`--from gensim`, `fmt="gensim"`); see detect.py.

What a loaded object must hold, checked before anything is kept: a KeyedVectors (a
model's `.wv` for a model), string keys, one vector row per key, no NaN or infinite
value (and no row whose length overflows float32; queries divide by it). A key listed
twice in `index_to_key` (gensim never writes one, a hand-built object may hold one)
is a warning: the first row of each such word is kept, the later ones are dropped, as
fastw2v's vocabularies list the most frequent row first. gensim's per-word `count`
attribute, which `Word2Vec` models carry, is kept as the word counts.

Writing. `to_keyed_vectors` builds a `KeyedVectors` with the words in the same order,
the vectors as float32 (a float16 model is widened: gensim's queries and file
formats expect float32) and the counts, when known, as gensim's `count` attribute.
`save_gensim` writes it with `KeyedVectors.save`, in the layout gensim itself uses
(large arrays in `.npy` side files), into a temporary folder beside the destination;
the side files are then renamed into place and the main file last, so a failure while
writing (a full disk, say) leaves the destination as it was, and a reader never finds a
main file whose side files are still missing.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import shutil
import tempfile
from types import ModuleType
from typing import Any, Callable, List, NamedTuple, Optional, Sequence

import numpy as np

from ..errors import FastW2VError, FormatError, OutputError, python_warning
from .files import read_failure
from .rows import check_vectors, repeated_word, row_problem, unusable_rows

INSTALL_HINT = 'pip install "fastw2v[gensim]" (or pip install gensim)'
# The first major version whose KeyedVectors has index_to_key, key_to_index, vectors.
GENSIM_MAJOR = 4
# What loading a damaged or foreign pickle raises: pickle's own errors, and those its
# documentation lists as possible ("AttributeError, EOFError, ImportError, and
# IndexError"), ValueError and OSError from numpy reading a side file, TypeError and
# KeyError from objects rebuilt from damaged state. Anything else is left to surface.
_LOAD_ERRORS = (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError,
                ValueError, OSError, TypeError, KeyError)
# gensim's default: arrays of this many values or more are saved in .npy side files.
SEP_LIMIT = 10 * 1024**2
# How much of a foreign exception's text a message quotes.
_QUOTE_CHARS = 160

Warn = Callable[[str], None]


class GensimVectors(NamedTuple):
    """Words, vectors and (if gensim recorded them) counts taken from a KeyedVectors."""
    words: List[str]
    vectors: np.ndarray
    counts: Optional[np.ndarray]


def require_gensim(purpose: str) -> ModuleType:
    """gensim, imported; FastW2VError saying what to install if it is missing or older
    than gensim 4. `purpose` completes "... needs gensim"."""
    try:
        gensim = importlib.import_module("gensim")
    except ImportError:
        raise FastW2VError(f"{purpose} needs gensim, which is not installed: "
                           f"{INSTALL_HINT}") from None
    version = str(getattr(gensim, "__version__", "0"))
    major = version.split(".", 1)[0]
    if not major.isdigit() or int(major) < GENSIM_MAJOR:
        raise FastW2VError(f"{purpose} needs gensim {GENSIM_MAJOR} or newer, found "
                           f"{version}: pip install -U gensim")
    return gensim


def _keyed_vectors_class(purpose: str) -> Any:
    require_gensim(purpose)
    return importlib.import_module("gensim.models").KeyedVectors


# -- reading -----------------------------------------------------------------------------

def read_gensim(path: str, warn: Optional[Warn] = None) -> GensimVectors:
    """The word vectors of a file saved by gensim: a KeyedVectors (.kv) or a model
    (.model) whose `.wv` holds them. Loaded with gensim's own `load` (pickle: trusted
    files only), side files memory-mapped. FormatError, one line naming the file, for
    a missing, damaged or truncated file or side file, or one holding no word vectors."""
    path = os.fspath(path)
    require_gensim(f"reading {path} (a gensim file)")
    save_load = importlib.import_module("gensim.utils").SaveLoad
    if os.path.isdir(path):
        raise FormatError(f"{path}: is a folder, not a gensim file")
    try:
        loaded = save_load.load(path, mmap="r")
    except _LOAD_ERRORS as exc:
        raise _load_failure(path, exc) from None
    kv = loaded if _is_keyed_vectors(loaded) else getattr(loaded, "wv", None)
    if not _is_keyed_vectors(kv):
        raise FormatError(f"{path}: holds a {type(loaded).__name__}, which has no word "
                          f"vectors (expected gensim KeyedVectors, or a model with .wv)")
    return keyed_vectors_contents(kv, path, copy=False, warn=warn)


def _is_keyed_vectors(obj: Any) -> bool:
    keyed_vectors = importlib.import_module("gensim.models").KeyedVectors
    return isinstance(obj, keyed_vectors)


def _load_failure(path: str, exc: BaseException) -> FastW2VError:
    """One line for what gensim's load raised on `path`."""
    if isinstance(exc, OSError):
        side = getattr(exc, "filename", None)
        if side is not None and os.path.abspath(os.fspath(side)) != os.path.abspath(path):
            if isinstance(exc, FileNotFoundError):
                return FormatError(f"{path}: its side file {side} is missing (gensim keeps "
                                   f"large arrays in .npy files beside the main file; copy "
                                   f"them along with it)")
            return read_failure(FormatError, os.fspath(side), exc, "a gensim side file")
        return read_failure(FormatError, path, exc, "a gensim file")
    if isinstance(exc, EOFError):
        return FormatError(f"{path}: the file ends early (truncated, or empty): not a "
                           f"complete gensim file")
    if isinstance(exc, ValueError) and _side_files(path):
        return FormatError(f"{path}: a side file ({', '.join(_side_files(path))}) is damaged "
                           f"or truncated: {_quote(exc)}")
    if isinstance(exc, AttributeError) and "_load_specials" in str(exc):
        return FormatError(f"{path}: is a pickle but not a file saved by gensim")
    return FormatError(f"{path}: gensim cannot load it (damaged or truncated, or not "
                       f"saved by gensim): {_quote(exc)}")


def _side_files(path: str) -> List[str]:
    """The names of the .npy side files gensim may have written beside `path`."""
    folder = os.path.dirname(path) or "."
    prefix = os.path.basename(path) + "."
    with contextlib.suppress(OSError):
        return sorted(os.path.join(os.path.dirname(path), name) for name in os.listdir(folder)
                      if name.startswith(prefix) and name.endswith(".npy"))
    return []


def _quote(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > _QUOTE_CHARS:
        text = text[:_QUOTE_CHARS - 3] + "..."
    return f"{type(exc).__name__}: {text}"


def keyed_vectors_contents(kv: Any, where: str, copy: bool = True,
                           warn: Optional[Warn] = None) -> GensimVectors:
    """Check a KeyedVectors and take its words (in order), vectors and counts.

    `where` names it in messages (a path, or "KeyedVectors"). `copy=False` keeps a
    float32 matrix as it is (a read-only memory map when loaded from a side file).
    FormatError for a non-string key, a row count that differs from the key count, or
    a NaN or infinite value; a key listed twice is dropped after its first row, with
    a warning to `warn` (or Python's warnings)."""
    keys = list(getattr(kv, "index_to_key", None) or [])
    matrix = getattr(kv, "vectors", None)
    if matrix is None or np.ndim(matrix) != 2:
        raise FormatError(f"{where}: holds no 2-dimensional vector matrix")
    matrix = np.asarray(matrix)
    if matrix.shape[0] != len(keys):
        raise FormatError(f"{where}: {len(keys):,} words but {matrix.shape[0]:,} vector rows "
                          f"(damaged, or changed by hand)")
    for row, key in enumerate(keys):
        if not isinstance(key, str):
            raise FormatError(f"{where}: key {key!r} (row {row + 1:,}) is a "
                              f"{type(key).__name__}, not a word; fastw2v holds words only")
    vectors = _as_query_matrix(where, keys, matrix, copy)
    counts = _counts(kv, len(keys))
    keep = _first_of_each(keys)
    if keep is not None:
        dropped = len(keys) - len(keep)
        rows = "1 row repeats a word" if dropped == 1 else f"{dropped:,} rows repeat words"
        report = warn or python_warning
        report(f"{where}: {rows} listed earlier; kept the first row of each word (the more "
               f"frequent) and dropped the later {'one' if dropped == 1 else 'ones'}")
        keys = [keys[i] for i in keep]
        vectors = vectors[keep]
        counts = None if counts is None else counts[keep]
    return GensimVectors(keys, vectors, counts)


def _as_query_matrix(where: str, keys: Sequence[str], matrix: np.ndarray,
                     copy: bool) -> np.ndarray:
    """float32 (or float16, kept) rows, refusing values no query can use."""
    if matrix.dtype not in (np.float32, np.float16):
        if not np.issubdtype(matrix.dtype, np.number) or np.iscomplexobj(matrix):
            raise FormatError(f"{where}: the vectors are {matrix.dtype}, not real numbers")
        with np.errstate(over="ignore", invalid="ignore"):
            converted = matrix.astype(np.float32)
        too_big = np.flatnonzero(np.isfinite(matrix).all(axis=1)
                                 & ~np.isfinite(converted).all(axis=1))
        if len(too_big):
            row = int(too_big[0])
            raise FormatError(f"{where}: the vector of {keys[row]!r} (row {row + 1:,}) holds a "
                              f"value beyond float32's range")
        matrix, copy = converted, False
    bad = np.flatnonzero(unusable_rows(matrix))
    if len(bad):
        row = int(bad[0])
        raise FormatError(f"{where}: the vector of {keys[row]!r} (row {row + 1:,}) "
                          f"{row_problem(matrix[row])}; no cosine with it can be computed")
    return np.array(matrix, order="C") if copy else np.ascontiguousarray(matrix)


def _counts(kv: Any, n_words: int) -> Optional[np.ndarray]:
    """gensim's per-word `count` attribute, when present and usable."""
    expandos = getattr(kv, "expandos", None)
    counts = expandos.get("count") if isinstance(expandos, dict) else None
    if counts is None:
        return None
    counts = np.asarray(counts)
    if (counts.shape != (n_words,) or not np.issubdtype(counts.dtype, np.integer)
            or (n_words and counts.min() < 0)):
        return None
    return counts.astype(np.int64)


def _first_of_each(keys: Sequence[str]) -> Optional[List[int]]:
    """The rows to keep when a key repeats (the first of each); None if none repeats."""
    if len(set(keys)) == len(keys):
        return None
    seen: set = set()
    keep = []
    for row, key in enumerate(keys):
        if key not in seen:
            seen.add(key)
            keep.append(row)
    return keep


# -- writing -----------------------------------------------------------------------------

def to_keyed_vectors(words: Sequence[str], vectors: np.ndarray,
                     counts: Optional[np.ndarray] = None) -> Any:
    """A new gensim KeyedVectors holding `words` in order, a float32 copy of `vectors`
    and, if given, `counts` as gensim's per-word `count` attribute."""
    keyed_vectors = _keyed_vectors_class("to_gensim()")
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError("need one vector row per word")
    kv = keyed_vectors(vector_size=vectors.shape[1], count=0, dtype=np.float32)
    if len(words):
        kv.add_vectors(list(words), vectors.astype(np.float32))
    if counts is not None and len(words):
        kv.allocate_vecattrs(attrs=["count"], types=[np.int64])
        kv.expandos["count"][:] = np.asarray(counts, dtype=np.int64)
    return kv


def save_gensim(path: str, words: Sequence[str], vectors: np.ndarray,
                counts: Optional[np.ndarray] = None, sep_limit: int = SEP_LIMIT) -> None:
    """Save as gensim's KeyedVectors.save does (`KeyedVectors.load(path)` reads it),
    refusing first, with nothing written, vectors no reader accepts and repeated
    words. An array of `sep_limit` values or more goes to a .npy side file, as gensim
    does by default. The files appear at `path` (and beside it) only when all are
    written."""
    path = os.fspath(path)
    require_gensim(f"writing {path} (a gensim file)")
    words = list(words)
    repeated = repeated_word(words)
    if repeated is not None:
        raise OutputError(f"{path}: word {repeated!r} is listed twice; nothing was written")
    check_vectors(path, words, vectors)
    kv = to_keyed_vectors(words, vectors, counts)
    folder = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(path)
    try:
        staging = tempfile.mkdtemp(prefix="." + name + ".", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create a file in {folder}: "
                          f"{exc.strerror or exc}") from None
    try:
        kv.save(os.path.join(staging, name), sep_limit=sep_limit)
        written = sorted(os.listdir(staging), key=lambda f: f == name)  # main file last
        for file in written:
            _sync(os.path.join(staging, file))
        for file in written:
            os.replace(os.path.join(staging, file), os.path.join(folder, file))
    except OSError as exc:
        raise OutputError(f"{path}: write failed: {exc.strerror or exc}; the file was left "
                          f"as it was") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _sync(path: str) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())
