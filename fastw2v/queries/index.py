"""An approximate nearest-neighbour index (HNSW, by faiss) for the queries of a large model.

A brute-force query reads the whole matrix (benchmarks/RESULTS.md times it). An
HNSW graph (Malkov & Yashunin 2016) finds nearly the same neighbours by visiting a few
thousand rows. The index holds the model's rows scaled to length 1 and searches by
inner product, which on unit vectors is the cosine. Its candidates are scored again
from the model's own rows, exactly as `Vectors.most_similar` scores them, so a word
the index finds has the cosine brute force gives it and ties go to the more frequent
word; what the index may miss is a true neighbour (recall below 1).

`fastw2v index -m MODEL` writes MODEL.hnsw, one file:

    faiss's serialized index (the graph and a float32 copy of the unit vectors),
    the metadata (UTF-8 JSON), then a 32-byte trailer: the sizes of the two
    (uint64 each), the format version (uint32), zero (uint32), magic (INDEX_MAGIC)

faiss's part comes first so that faiss can read it from the path and map the vectors
(IO_FLAG_MMAP_IFC) instead of copying them: loading then reads the graph only, a fifth
of the file at M 32 and dim 300, and processes share the mapped vectors.

The metadata says what the index was built from (the model file's size, modification
time in nanoseconds, a fingerprint of sampled bytes and the hash of all of them, its
word count and dimension), with what (the library and its version, the HNSW
parameters, the fastw2v that wrote it) and how long it took. Loading reads the
metadata first and refuses the index, before reading the graph, unless it matches the
model: a stale or foreign index is never used, since its answers would be other
words' (IndexMismatchError says to rebuild it or to query with --exact).

faiss is an optional extra (`pip install "fastw2v[index]"`); without it, building or
using an index fails with that advice, and brute-force queries work as ever.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import struct
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import FastW2VError, FormatError
from ..formats.files import atomic_write, read_failure
from ..version import WRITER
from .neighbours import scores_of
from .vectors import Query, Vectors, _as_list, _scale_rows

INSTALL_HINT = 'pip install "fastw2v[index]"'
INDEX_SUFFIX = ".hnsw"
INDEX_MAGIC = b"FW2VHNSW"
INDEX_VERSION = 1
_TRAILER = struct.Struct("<QQII8s")
# Metadata larger than this is no metadata of ours: refuse before allocating it.
_MAX_METADATA = 1 << 20

# HNSW's parameters. M links per node (2M on the bottom layer) and efConstruction, the
# candidate list while linking, make the graph: faiss's usual 32 and a generous 200 (a
# build-time cost only). efSearch, a query's candidate list, is the recall/speed dial,
# stored with the index and changeable per query. Its default is sized for the hardest
# case, random normal vectors of dim 300, which have no cluster structure to guide the
# search. Recall@10 against brute force at a fixed efSearch falls as the model grows:
# at efSearch 1024 it was 0.964 on 100,000 of them and 0.895 on 200,000; at 2048,
# 0.997 and 0.967 (benchmarks/RESULTS.md, "Approximate neighbours"). 2048 is the
# smallest value measured above 0.95 at the largest size measured; a random million
# likely needs more.
# Trained vectors reach a given recall at a lower efSearch, which `--ef-search` sets.
DEFAULT_M = 32
DEFAULT_EF_CONSTRUCTION = 200
DEFAULT_EF_SEARCH = 2048
# Rows scaled to unit length and added to the graph at a time: a bounded float32 copy
# (65,536 x 300 x 4 bytes = 79 MB) instead of a second matrix.
_ADD_ROWS = 65536

# The model's fingerprint: its first and last MiB (the header, the word list's start,
# the norms of a native file) and _SAMPLES blocks spread over the rest. A few
# milliseconds on a gigabyte file, against a second for hashing all of it; the whole
# file's hash is recorded too and checked only when the modification time differs.
_EDGE_BYTES = 1 << 20
_SAMPLES = 64
_SAMPLE_BYTES = 1 << 16
_HASH_BLOCK = 1 << 23


class IndexFileError(FastW2VError):
    """An index file cannot be read, or is not an index written by `fastw2v index`."""


class IndexMismatchError(FastW2VError):
    """An index was not built from this model as it is now: stale or foreign."""


def require_faiss(alternative: str = "") -> Any:
    """The faiss module, or FastW2VError saying how to install it (and `alternative`,
    what else the user can do).

    Imported by name rather than with an import statement: faiss ships no type
    information, and everything of it used here is checked by the tests instead.
    """
    try:
        return importlib.import_module("faiss")
    except ImportError:
        raise FastW2VError(f"approximate neighbour indexes need faiss, which is not "
                           f"installed: {INSTALL_HINT}{alternative}") from None


def index_path_for(model_path: str) -> str:
    """Where `fastw2v index` writes the index of `model_path`, and where queries look."""
    return os.fspath(model_path) + INDEX_SUFFIX


@dataclass(frozen=True)
class HnswSettings:
    m: int = DEFAULT_M
    ef_construction: int = DEFAULT_EF_CONSTRUCTION
    ef_search: int = DEFAULT_EF_SEARCH

    def __post_init__(self):
        for name in ("m", "ef_construction", "ef_search"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


# -- what the index was built from ---------------------------------------------------------

def sampled_fingerprint(path: str) -> str:
    """SHA-256 of the file's size, first and last MiB, and _SAMPLES blocks spread evenly
    between them (all of it for a small file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        digest.update(str(size).encode())
        if size <= 2 * _EDGE_BYTES + _SAMPLES * _SAMPLE_BYTES:
            _hash_stream(f, digest)
            return digest.hexdigest()
        starts = [0, size - _EDGE_BYTES]
        middle = size - 2 * _EDGE_BYTES - _SAMPLE_BYTES
        starts[1:1] = [_EDGE_BYTES + middle * i // (_SAMPLES - 1) for i in range(_SAMPLES)]
        for start in starts:
            f.seek(start)
            digest.update(f.read(_EDGE_BYTES if start in (0, size - _EDGE_BYTES)
                                  else _SAMPLE_BYTES))
    return digest.hexdigest()


def full_hash(path: str) -> str:
    """SHA-256 of the whole file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        _hash_stream(f, digest)
    return digest.hexdigest()


def _hash_stream(f, digest) -> None:
    for block in iter(lambda: f.read(_HASH_BLOCK), b""):
        digest.update(block)


def describe_model(path: str, n_words: int, dim: int) -> Dict[str, Any]:
    """What the metadata records of a model file, to recognise it later."""
    stat = os.stat(path)
    return {"path": os.path.abspath(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
            "sampled_sha256": sampled_fingerprint(path), "sha256": full_hash(path),
            "words": n_words, "dim": dim}


def check_source(recorded: Dict[str, Any], model_path: str, vectors: Vectors,
                 index_path: str) -> None:
    """IndexMismatchError unless the index recorded as built from `recorded` was built
    from the file `model_path` as it is now (whose vectors are `vectors`).

    Size, modification time and the sampled fingerprint must all agree. A different
    modification time alone (a copy made without keeping it) is forgiven when the whole
    file hashes as recorded: that costs a pass over the file, but never trusts a guess.
    """
    advice = (f"rebuild it with 'fastw2v index -m {model_path}', or query with --exact")

    def mismatch(reason: str) -> IndexMismatchError:
        return IndexMismatchError(f"{index_path} does not match {model_path}: {reason}; "
                                  f"{advice}")

    words, dim = recorded.get("words"), recorded.get("dim")
    if (words, dim) != (len(vectors), vectors.dim):
        raise mismatch(f"it was built from another model ({_count(words)} words of dim "
                       f"{dim}, this one has {len(vectors):,} of dim {vectors.dim})")
    try:
        stat = os.stat(model_path)
    except OSError as exc:
        raise read_failure(FormatError, model_path, exc, "a model") from None
    if stat.st_size != recorded.get("size"):
        raise mismatch("the model file was rewritten after the index was built (its size "
                       "differs)")
    if sampled_fingerprint(model_path) != recorded.get("sampled_sha256"):
        raise mismatch("the model's contents differ from those the index was built from")
    if stat.st_mtime_ns != recorded.get("mtime_ns") and \
            full_hash(model_path) != recorded.get("sha256"):
        raise mismatch("the model file was modified after the index was built")


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "?"


# -- the index -----------------------------------------------------------------------------

class AnnIndex:
    """An HNSW index of a model's unit vectors, answering `most_similar` approximately.

    Build it with `AnnIndex.build(vectors)` (vectors loaded from a file), save it with
    `save()`, and load it with `AnnIndex.load(path, vectors)`, which refuses an index not
    built from that file as it is now. Queries return what `Vectors` returns for the
    same arguments, less any true neighbour the graph missed.
    """

    def __init__(self, graph: Any, vectors: Vectors, settings: HnswSettings,
                 metadata: Dict[str, Any], path: Optional[str] = None):
        self._graph = graph
        self.vectors = vectors
        self.settings = settings
        self.metadata = metadata
        self.path = path

    def __repr__(self) -> str:
        where = f", path={self.path!r}" if self.path else ""
        return (f"AnnIndex({len(self.vectors):,} words, M {self.settings.m}, efSearch "
                f"{self.ef_search}{where})")

    @property
    def ef_search(self) -> int:
        return int(self._graph.hnsw.efSearch)

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        if value < 1:
            raise ValueError("ef_search must be at least 1")
        self._graph.hnsw.efSearch = int(value)

    # -- building, saving, loading -----------------------------------------------------

    @classmethod
    def build(cls, vectors: Vectors, settings: Optional[HnswSettings] = None) -> AnnIndex:
        """Build the graph of every row of `vectors`, which must come from a file (the
        index records which). Takes minutes for a million words; uses every core."""
        faiss = require_faiss()
        settings = settings or HnswSettings()
        if vectors.path is None:
            raise FastW2VError("an index is built from a model file: save the vectors "
                               "first, then load them")
        source = describe_model(vectors.path, len(vectors), vectors.dim)
        started = time.perf_counter()
        graph = faiss.IndexHNSWFlat(vectors.dim, settings.m, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = settings.ef_construction
        for start in range(0, len(vectors), _ADD_ROWS):
            stop = min(len(vectors), start + _ADD_ROWS)
            # An all-zero row stays zero: cosine 0 with anything, as brute force has it.
            rows = _scale_rows(vectors.vectors[start:stop], vectors.norms[start:stop])
            graph.add(np.ascontiguousarray(rows))
        seconds = time.perf_counter() - started
        # The model must not have changed while it was read: the record is of the file as
        # it was before, and an atomic rewrite would leave the map on the old file.
        if describe_model(vectors.path, len(vectors), vectors.dim) != source:
            raise FastW2VError(f"{vectors.path} changed while the index was built; build "
                               f"it again")
        metadata = {"writer": WRITER, "library": "faiss-cpu",
                    "library_version": faiss.__version__, "kind": "IndexHNSWFlat",
                    "metric": "inner product of unit vectors (cosine)",
                    "hnsw": {"m": settings.m, "ef_construction": settings.ef_construction,
                             "ef_search": settings.ef_search},
                    "model": source, "build_seconds": seconds}
        index = cls(graph, vectors, settings, metadata)
        index.ef_search = settings.ef_search
        return index

    def save(self, path: Optional[str] = None) -> str:
        """Write the index atomically (by default beside its model); returns the path."""
        faiss = require_faiss()
        if path is None:
            path = index_path_for(self.metadata["model"]["path"])
        meta = json.dumps(self.metadata, ensure_ascii=False).encode("utf-8")
        with atomic_write(path) as out:
            faiss.write_index(self._graph, faiss.PyCallbackIOWriter(out.write))
            graph_size = out.tell()
            out.write(meta)
            out.write(_TRAILER.pack(graph_size, len(meta), INDEX_VERSION, 0, INDEX_MAGIC))
        self.path = os.fspath(path)
        return self.path

    @classmethod
    def load(cls, path: str, vectors: Vectors, model_path: Optional[str] = None) -> AnnIndex:
        """Load the index at `path` for `vectors` (read from `model_path`, by default
        `vectors.path`). IndexMismatchError if it was not built from that file as it is
        now; IndexFileError if it is no index; the faiss advice if faiss is missing."""
        path = os.fspath(path)
        model_path = model_path or vectors.path
        if model_path is None:
            raise FastW2VError("an index is checked against its model file: load the "
                               "vectors from a file")
        try:
            with open(path, "rb") as f:
                metadata = read_metadata(f, path)
                check_source(metadata.get("model") or {}, model_path, vectors, path)
            faiss = require_faiss(f" (to use {path}), or query with --exact")
            # Mapped, not copied, where this faiss can (older ones lack the flag).
            flags = getattr(faiss, "IO_FLAG_MMAP_IFC", 0)
            try:
                graph = faiss.read_index(path, flags)
            except RuntimeError as exc:  # faiss reports a damaged file this way
                raise IndexFileError(f"{path}: damaged index ({_first_line(exc)})") \
                    from None
        except OSError as exc:
            raise read_failure(IndexFileError, path, exc, "an index") from None
        if graph.ntotal != len(vectors) or graph.d != vectors.dim:
            raise IndexMismatchError(f"{path}: holds {graph.ntotal:,} vectors of dim "
                                     f"{graph.d}, not the {len(vectors):,} of dim "
                                     f"{vectors.dim} its metadata says; rebuild it with "
                                     f"'fastw2v index -m {model_path}'")
        hnsw = metadata.get("hnsw") or {}
        settings = HnswSettings(int(hnsw.get("m", DEFAULT_M)),
                                int(hnsw.get("ef_construction", DEFAULT_EF_CONSTRUCTION)),
                                int(hnsw.get("ef_search", DEFAULT_EF_SEARCH)))
        return cls(graph, vectors, settings, metadata, path)

    # -- queries -----------------------------------------------------------------------

    def most_similar(self, positive: Query, negative: Query = (),
                     n: int = 10) -> List[Tuple[str, float]]:
        """`Vectors.most_similar` through the graph: the n words it finds nearest to the
        sum of the unit vectors of `positive` minus those of `negative`, query words
        left out, with their exact cosines."""
        positive, negative = _as_list(positive), _as_list(negative)
        if not positive and not negative:
            raise ValueError("most_similar needs at least one word")
        if n < 1:
            raise ValueError("n must be at least 1")
        rows = self.vectors.find_all(positive + negative)
        signs = [1.0] * len(positive) + [-1.0] * len(negative)
        query = self.vectors.query_vector(rows, signs)
        return self._search(query[None, :], [rows], n)[0]

    def most_similar_batch(self, queries: Sequence[Query],
                           n: int = 10) -> List[List[Tuple[str, float]]]:
        """`Vectors.most_similar_batch` through the graph: one search for all queries
        (faiss spreads them over the cores)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        lists = [_as_list(query) for query in queries]
        if any(not words for words in lists):
            raise ValueError("every query needs at least one word")
        rows = [self.vectors.find_all(words) for words in lists]
        matrix = (np.stack([self.vectors.query_vector(r, [1.0] * len(r)) for r in rows])
                  if rows else np.zeros((0, self.vectors.dim), dtype=np.float32))
        return self._search(matrix, rows, n)

    def analogy(self, a: str, b: str, c: str, n: int = 5) -> List[Tuple[str, float]]:
        """3CosAdd through the graph: the words nearest to b - a + c (unit vectors).
        3CosMul needs every word's score against a, b and c, which a graph does not
        give: ask `Vectors.analogy(..., method="3cosmul")`."""
        return self.most_similar([b, c], [a], n=n)

    def _search(self, queries: np.ndarray, excluded: Sequence[Sequence[int]],
                n: int) -> List[List[Tuple[str, float]]]:
        """The n best of each query's candidates, less its own words. The graph is asked
        for n more than the query has words; a query left short (its words among many
        near-duplicates) asks again for twice as many, up to the whole vocabulary."""
        total = len(self.vectors)
        results: List[List[Tuple[str, float]]] = [[] for _ in excluded]
        pending = list(range(len(excluded)))
        k = n + max((len(set(rows)) for rows in excluded), default=0)
        while pending:
            k = min(k, total)
            _, found = self._graph.search(queries[pending], k)
            short = []
            for i, candidates in zip(pending, found):
                skip = set(excluded[i])
                kept = [int(r) for r in candidates if r >= 0 and int(r) not in skip]
                if len(kept) < n and k < total:
                    short.append(i)
                else:
                    results[i] = self._rescore(queries[i], kept, n)
            pending, k = short, 2 * k
        return results

    def _rescore(self, query: np.ndarray, rows: List[int], n: int) -> List[Tuple[str, float]]:
        """The candidates' cosines computed as brute force computes them, best first,
        ties to the more frequent word."""
        if not rows:
            return []
        scores = scores_of(self.vectors.vectors, self.vectors._divisors(), query, rows)
        order = sorted(range(len(rows)), key=lambda j: (-float(scores[j]), rows[j]))[:n]
        return [(self.vectors.words[rows[j]], float(scores[j])) for j in order]


def read_metadata(f, path: str) -> Dict[str, Any]:
    """The metadata of an open index file, from its trailer; IndexFileError unless the
    trailer is ours and its sizes add up to the file's (a truncated copy fails here)."""
    size = os.fstat(f.fileno()).st_size
    if size < _TRAILER.size:
        raise IndexFileError(f"{path}: not an index written by 'fastw2v index'")
    f.seek(size - _TRAILER.size)
    graph_size, meta_size, version, _, magic = _TRAILER.unpack(f.read(_TRAILER.size))
    if magic != INDEX_MAGIC:
        raise IndexFileError(f"{path}: not an index written by 'fastw2v index' (or a "
                             f"truncated one)")
    if version != INDEX_VERSION:
        raise IndexFileError(f"{path}: index format version {version}, this fastw2v "
                             f"reads version {INDEX_VERSION}; rebuild it with 'fastw2v "
                             f"index'")
    if meta_size > _MAX_METADATA or graph_size + meta_size + _TRAILER.size != size:
        raise IndexFileError(f"{path}: damaged index (its parts do not add up to the "
                             f"file's {size:,} bytes)")
    f.seek(graph_size)
    try:
        metadata = json.loads(f.read(meta_size).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise IndexFileError(f"{path}: damaged index (unreadable metadata)") from None
    if not isinstance(metadata, dict):
        raise IndexFileError(f"{path}: damaged index (unreadable metadata)")
    return metadata


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
