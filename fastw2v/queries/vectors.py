"""Queries on trained vectors: cosine neighbours, analogies, similarity; loading and saving.

`Vectors` holds a vocabulary and its matrix, from a trained Model or any supported
file. Cosines are computed as gensim's `most_similar` computes them: the query is the
sum of the unit vectors of the positive words minus those of the negative ones, scaled
to length 1; a word's score is its vector's dot product with the query divided by the
vector's norm. The norms are computed once (or read from a native file), so a query is
one pass over the rows searched (`most_similar`: a compiled scan that keeps only the
best, queries/neighbours.py), and the matrix itself is never copied (it may be a
read-only memory map).
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import FastW2VError
from ..formats.detect import FORMAT_NAMES, detect_format, format_for_path
from ..formats.native import write_native
from ..formats.rows import row_norms
from ..formats.word2vec import read_word2vec, save_word2vec
from ..state import ModelState
from ..text.words import WordList, first_rows
from ..version import WRITER
from .neighbours import nearest

METHODS = ("3cosadd", "3cosmul")
# 3CosMul's epsilon, from Levy & Goldberg (2014), "Linguistic Regularities in Sparse and
# Explicit Word Representations", section 6 (gensim uses 1e-6; rankings rarely differ).
COSMUL_EPSILON = 1e-3
# Up to this many lookups use a linear search of the word list; then a dict is built.
# A command-line query looks up one to three words: building the dict for 70,000 words
# would cost more (about 10 ms) than the searches.
_LINEAR_LOOKUPS = 8
# Rows of a float16 matrix converted to float32 at a time for a query: 16,384 rows of
# dim 300 are 20 MB, small beside any matrix worth storing in half precision.
_FLOAT16_BLOCK_ROWS = 16384

Query = Union[str, Sequence[str]]


class UnknownWordError(FastW2VError):
    """Words are not in the vocabulary; the message suggests close spellings."""

    def __init__(self, unknown: Dict[str, List[str]], n_words: int):
        self.unknown = unknown  # word -> suggested spellings
        parts = []
        for word, close in unknown.items():
            hint = f" (closest: {', '.join(close)})" if close else " (nothing close)"
            parts.append(f"{word!r}{hint}")
        noun = "word is" if len(unknown) == 1 else "words are"
        super().__init__(f"{noun} not in the vocabulary of {n_words:,} words: "
                         + "; ".join(parts))


def _scale_rows(vectors: np.ndarray, norms: np.ndarray) -> np.ndarray:
    safe = np.where(norms > 0, norms, 1).astype(np.float32)
    return (vectors / safe[:, None]).astype(np.float32, copy=False)


class Vectors:
    """Word vectors for queries: words (most frequent first), their matrix and norms.

    `counts` (word frequencies) and `metadata` (training settings, ...) are known for
    models trained by fastw2v and saved in the native format, else None and {}.
    """

    def __init__(self, words: Sequence[str], vectors: np.ndarray, *,
                 counts: Optional[np.ndarray] = None, norms: Optional[np.ndarray] = None,
                 metadata: Optional[Dict[str, Any]] = None, path: Optional[str] = None,
                 fmt: Optional[str] = None, format_version: Optional[int] = None):
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError("need one vector row per word")
        if vectors.dtype not in (np.float32, np.float16):  # float16: as a file stores it
            vectors = vectors.astype(np.float32)
        # A WordList (a native file's or a trained vocabulary's words) is kept as it is:
        # compact, and searched by bytes (text/words.py); other sequences are copied.
        self.words: Sequence[str] = words if isinstance(words, WordList) else list(words)
        self.vectors = vectors
        self.counts = counts
        self.metadata = dict(metadata or {})
        self.path = path
        self.format = fmt  # the file's format: native, bin, text, gensim (None: in memory)
        self.format_version = format_version
        self._norms = norms
        self._safe_norms: Optional[np.ndarray] = None
        self._index: Optional[Dict[str, int]] = None
        self._n_lookups = 0

    # -- construction, loading, saving ---------------------------------------------------

    @classmethod
    def from_state(cls, state: ModelState) -> Vectors:
        """The word vectors of a model's state (sharing its matrix, not copying it)."""
        vectors = cls(state.words, state.w_in, counts=state.vocab.counts, norms=state.norms,
                      metadata=state.metadata(), fmt="native" if state.format_version else None,
                      format_version=state.format_version)
        if state.vocab._index is not None:  # a trained vocabulary has one: share it
            vectors._index = state.vocab.index
        return vectors

    @classmethod
    def load(cls, path: str, fmt: str = "auto", warn: Optional[Callable[[str], None]] = None
             ) -> Vectors:
        """Load a native (.fw2v), word2vec binary or text, or gensim (.kv, .model) file.

        With `fmt="auto"` the format is detected from the file's first bytes and name.
        Raises FormatError for a missing, unreadable or malformed file. gensim's files
        are Python pickles, loaded with gensim's own `load` (gensim must be installed):
        unpickling can run code, so load them only from a source you trust. `warn`
        receives the warnings of a gensim file (a word listed twice); by default they
        go to Python's warnings as FastW2VWarning.
        """
        path = os.fspath(path)
        if fmt == "auto":
            fmt = detect_format(path)
        if fmt == "native":
            vectors = cls.from_state(ModelState.load(path))
            vectors.path = path
            return vectors
        if fmt == "gensim":
            from ..formats.gensim import read_gensim

            held = read_gensim(path, warn=warn)
            return cls(held.words, held.vectors, counts=held.counts, path=path, fmt=fmt)
        loaded = read_word2vec(path, fmt)
        return cls(loaded.words, loaded.vectors, norms=loaded.norms, path=path, fmt=fmt)

    @classmethod
    def from_gensim(cls, kv: Any, warn: Optional[Callable[[str], None]] = None) -> Vectors:
        """Vectors copied from a gensim `KeyedVectors` (or a model: its `.wv`), with
        its words in the same order and its per-word `count` attribute, if any, as the
        counts. FormatError for a key that is not a string, a row count that differs
        from the key count, or a NaN or infinite value; a key listed twice keeps its
        first row, with a warning (to `warn`, or Python's warnings)."""
        from ..formats.gensim import keyed_vectors_contents, require_gensim

        require_gensim("Vectors.from_gensim()")
        held = keyed_vectors_contents(getattr(kv, "wv", kv), "KeyedVectors", copy=True,
                                      warn=warn)
        return cls(held.words, held.vectors, counts=held.counts)

    def to_gensim(self) -> Any:
        """A new gensim `KeyedVectors` with the same words in the same order, a float32
        copy of the vectors (a float16 model's are widened to float32, which gensim
        expects) and the word counts, when known, as gensim's `count` attribute.
        Needs gensim: FastW2VError saying what to install if it is missing."""
        from ..formats.gensim import to_keyed_vectors

        return to_keyed_vectors(self.words, self.vectors, self.counts)

    def save(self, path: str, fmt: str = "auto", dtype: Optional[str] = None) -> str:
        """Save atomically in the native format (.fw2v), a word2vec format or gensim's
        (.kv, .model) (by suffix unless `fmt` says); returns the format written. Only
        the native format keeps the metadata, and can store float16 (`dtype`; None: as
        held now); native and gensim files keep the counts."""
        return save_vectors(path, self.words, self.vectors, fmt, counts=self.counts,
                            metadata=self.metadata, norms=self.norms,
                            dtype=dtype or self.dtype_name)

    def save_projector(self, folder: str) -> None:
        """Write `folder`/vectors.tsv and `folder`/metadata.tsv, the files the TensorFlow
        Embedding Projector loads (see fastw2v/formats/projector.py); `most_frequent(n)`
        first to write fewer words."""
        from ..formats.projector import write_projector

        write_projector(folder, self.words, self.vectors)

    def most_frequent(self, n: int) -> Vectors:
        """The first `n` words (the most frequent: fastw2v's files and word2vec's list
        them first) and their vectors, sharing this matrix."""
        if n < 0:
            raise ValueError("n must be at least 0")
        if n >= len(self.words):
            return self
        return Vectors(self.words[:n], self.vectors[:n],
                       counts=None if self.counts is None else self.counts[:n],
                       norms=None if self._norms is None else self._norms[:n],
                       metadata=self.metadata, path=self.path, fmt=self.format,
                       format_version=self.format_version)

    # -- the vocabulary ------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return self._lookup(word) is not None

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self.find(word)]

    def __repr__(self) -> str:
        where = f", path={self.path!r}" if self.path else ""
        return f"Vectors({len(self):,} words, dim {self.dim}{where})"

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def dtype_name(self) -> str:
        """How the matrix is held: float32, or float16 (a half-precision native file)."""
        return str(self.vectors.dtype)

    @property
    def format_name(self) -> str:
        name = FORMAT_NAMES.get(self.format or "", "in memory")
        return name + (f", version {self.format_version}" if self.format_version else "")

    @property
    def index(self) -> Dict[str, int]:
        """word -> row; a word listed twice maps to its first (most frequent) row."""
        if self._index is None:
            self._index = first_rows(self.words)
        return self._index

    def _lookup(self, word: str) -> Optional[int]:
        if self._index is None and self._n_lookups < _LINEAR_LOOKUPS:
            self._n_lookups += 1
            try:
                return self.words.index(word)
            except ValueError:
                return None
        return self.index.get(word)

    def find(self, word: str) -> int:
        """The row of `word`; UnknownWordError with close spellings if it is unknown."""
        return self.find_all([word])[0]

    def find_all(self, words: Sequence[str]) -> List[int]:
        """The rows of all `words`; one UnknownWordError naming every unknown word."""
        rows = [self._lookup(w) for w in words]
        unknown = {w: self.suggest(w) for w, row in zip(words, rows) if row is None}
        if unknown:
            raise UnknownWordError(unknown, len(self.words))
        return rows  # type: ignore[return-value]

    def suggest(self, word: str, n: int = 3) -> List[str]:
        """Up to n vocabulary words spelled like `word`, best first: its other
        capitalisations; then words one edit away (a letter deleted, inserted, replaced,
        or two neighbours swapped), then two edits away, the more frequent first; then,
        if still short, the closest by difflib's ratio (at least 0.6)."""
        folded = word.casefold()
        found = [w for w in self.words if w.casefold() == folded and w != word][:n]
        index = self.index
        alphabet = self._alphabet() | set(word)
        ring = _one_edit(word, alphabet)
        rounds = [ring] if len(word) > 12 else [ring, None]  # two edits of a long word:
        for candidates in rounds:  # too many strings to try
            if len(found) >= n:
                break
            if candidates is None:
                candidates = {two for one in ring for two in _one_edit(one, alphabet)}
            known = sorted((index[c], c) for c in candidates if c in index and c != word)
            found += [c for _, c in known if c not in found]
        if len(found) < n:
            import difflib

            similar_length = [w for w in self.words if abs(len(w) - len(word)) <= 2]
            close = difflib.get_close_matches(word, similar_length, n=n, cutoff=0.6)
            found += [c for c in close if c not in found]
        return found[:n]

    def _alphabet(self) -> set:
        """The 64 characters most used in the 5,000 most frequent words."""
        from collections import Counter

        counts = Counter("".join(self.words[:5000]))
        return {ch for ch, _ in counts.most_common(64)}

    # -- norms ---------------------------------------------------------------------------

    @property
    def norms(self) -> np.ndarray:
        """The Euclidean norm of every row (float32)."""
        if self._norms is None:
            self._norms = row_norms(self.vectors)
        return self._norms

    def _divisors(self) -> np.ndarray:
        # Norms with zeros replaced by 1: an all-zero vector has cosine 0 with anything.
        if self._safe_norms is None:
            norms = self.norms
            self._safe_norms = np.where(norms > 0, norms, 1).astype(np.float32)
        return self._safe_norms

    def unit(self, restrict: Optional[int] = None) -> np.ndarray:
        """A new float32 array of the first `restrict` rows (all by default) at length 1."""
        end = len(self.words) if restrict is None else min(restrict, len(self.words))
        return _scale_rows(self.vectors[:end], self.norms[:end])

    def unit_vector(self, word: str) -> np.ndarray:
        row = self.find(word)
        return self.vectors[row] / self._divisors()[row]

    # -- queries -------------------------------------------------------------------------

    def cosines(self, query: np.ndarray, restrict: Optional[int] = None) -> np.ndarray:
        """Cosine of `query` (any length) with each of the first `restrict` words."""
        query = np.asarray(query, dtype=np.float64)
        norm = np.linalg.norm(query)
        end = len(self.words) if restrict is None else min(restrict, len(self.words))
        if norm == 0:
            return np.zeros(end, dtype=np.float32)
        query = (query / norm).astype(np.float32)
        # einsum's own loop, not BLAS: OpenBLAS spreads a matrix-vector product over
        # threads, and when another process holds a core, waking its worker costs tens
        # of milliseconds (measured: ~100 ms more per `fastw2v similar` on 2 busy
        # cores), against 1 to 2 ms for the whole product in one thread.
        if self.vectors.dtype == np.float32:
            return np.einsum("ij,j->i", self.vectors[:end], query) / self._divisors()[:end]
        # float16 rows are computed on in float32 a block at a time: a float32 copy of
        # the whole matrix would undo the memory half precision saves.
        scores = np.empty(end, dtype=np.float32)
        for start in range(0, end, _FLOAT16_BLOCK_ROWS):
            stop = min(end, start + _FLOAT16_BLOCK_ROWS)
            block = self.vectors[start:stop].astype(np.float32)
            scores[start:stop] = np.einsum("ij,j->i", block, query)
        return scores / self._divisors()[:end]

    def similarity(self, words1: Query, words2: Query) -> float:
        """Cosine similarity of two words, or of two word lists.

        A list stands for the sum of its words' unit vectors, the query `most_similar`
        makes of several words, so `similarity(["king", "woman"], "queen")` is the
        cosine `most_similar(["king", "woman"])` reports for "queen". (gensim's
        `n_similarity` averages the raw vectors instead; for single words the two agree.)
        Raises UnknownWordError naming every unknown word, ValueError for an empty list.
        """
        first, second = _as_list(words1), _as_list(words2)
        if not first or not second:
            raise ValueError("similarity needs at least one word on each side")
        rows = self.find_all(first + second)
        v1 = self._unit_sum(rows[:len(first)])
        v2 = self._unit_sum(rows[len(first):])
        norms = np.linalg.norm(v1) * np.linalg.norm(v2)
        return float(v1 @ v2 / norms) if norms > 0 else 0.0

    def odd_one_out(self, words: Sequence[str]) -> str:
        """The word that least belongs with the others (gensim's `doesnt_match`): the one
        whose unit vector has the lowest cosine with the mean of all the words' unit
        vectors, that is the lowest summed cosine with the others. See `centrality`.
        Needs at least three words: of two, neither is odder than the other."""
        if len(_as_list(words)) < 3:
            raise ValueError("odd_one_out needs at least three words")
        return min(self.centrality(words), key=lambda item: item[1])[0]

    def centrality(self, words: Sequence[str]) -> List[Tuple[str, float]]:
        """Each word and the cosine of its unit vector with the mean of the words' unit
        vectors, in the order given. Needs at least two words; UnknownWordError names
        every unknown one."""
        words = _as_list(words)
        if len(words) < 2:
            raise ValueError("odd_one_out needs at least two words")
        rows = self.find_all(words)
        units = self.vectors[rows].astype(np.float64) / self._divisors()[rows, None]
        mean = units.mean(axis=0)
        norm = np.linalg.norm(mean)
        cosines = units @ mean / norm if norm > 0 else np.zeros(len(rows))
        return [(word, float(c)) for word, c in zip(words, cosines)]

    def _unit_sum(self, rows: Sequence[int]) -> np.ndarray:
        """The sum of the unit vectors of `rows`, in float64."""
        return (self.vectors[rows].astype(np.float64) / self._divisors()[rows, None]).sum(axis=0)

    def most_similar(self, positive: Query, negative: Query = (), n: int = 10,
                     restrict: Optional[int] = None) -> List[Tuple[str, float]]:
        """The n words with the highest cosine to the sum of the unit vectors of
        `positive` minus those of `negative`, leaving out the query words; of equal
        cosines, the more frequent word (the lower row) first.

        One pass over the rows, in compiled code (queries/neighbours.py).

        `restrict` searches only the most frequent words (the first rows). Raises
        UnknownWordError (with suggestions) if a query word is not in the vocabulary.
        """
        positive, negative = _as_list(positive), _as_list(negative)
        if not positive and not negative:
            raise ValueError("most_similar needs at least one word")
        if n < 1:
            raise ValueError("n must be at least 1")
        rows = self.find_all(positive + negative)
        query = self.query_vector(rows, [1.0] * len(positive) + [-1.0] * len(negative))
        end = len(self.words) if restrict is None else min(restrict, len(self.words))
        found = nearest(self.vectors, self._divisors(), query, n, rows, end)
        return [(self.words[row], score) for row, score in found]

    def query_vector(self, rows: Sequence[int], signs: Sequence[float]) -> np.ndarray:
        """The query `most_similar` makes of `rows`: the sum of their unit vectors, each
        times its sign, scaled to length 1 (float32). FastW2VError if the sum is zero."""
        divisors = self._divisors()
        query = np.zeros(self.dim, dtype=np.float64)
        for row, sign in zip(rows, signs):
            query += sign * self.vectors[row] / divisors[row]
        norm = np.linalg.norm(query)
        if norm == 0:
            raise FastW2VError("the query's vectors add up to zero: nothing is closer to it "
                               "than anything else")
        return (query / norm).astype(np.float32)

    def most_similar_batch(self, queries: Sequence[Query], n: int = 10,
                           restrict: Optional[int] = None) -> List[List[Tuple[str, float]]]:
        """`most_similar` for many queries at once (each a word or a list of positive
        words), computed as matrix products over blocks of rows: the matrix is read
        once for up to 1,024 queries (see queries/batch.py). One result list a query."""
        from .batch import top_neighbours

        if n < 1:
            raise ValueError("n must be at least 1")
        lists = [_as_list(query) for query in queries]
        if any(not words for words in lists):
            raise ValueError("every query needs at least one word")
        rows = [self.find_all(words) for words in lists]
        return top_neighbours(self, rows, n, restrict)

    def analogy(self, a: str, b: str, c: str, n: int = 5, method: str = "3cosadd",
                restrict: Optional[int] = None) -> List[Tuple[str, float]]:
        """a is to b as c is to ...? The n best answers (never a, b or c) and their scores.

        3cosadd ranks by cos(x, b - a + c) of unit vectors (word2vec's method; the score is
        that cosine); 3cosmul by cos'(x,b) cos'(x,c) / (cos'(x,a) + 0.001) with
        cos' = (1 + cos) / 2 (Levy & Goldberg 2014).
        """
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}")
        if method == "3cosadd":
            return self.most_similar([b, c], [a], n=n, restrict=restrict)
        if n < 1:
            raise ValueError("n must be at least 1")
        rows = self.find_all([a, b, c])
        divisors = self._divisors()
        shifted = []
        for row in rows:
            cosine = self.cosines(self.vectors[row] / divisors[row], restrict)
            shifted.append((1.0 + cosine.astype(np.float64)) / 2.0)
        scores = shifted[1] * shifted[2] / (shifted[0] + COSMUL_EPSILON)
        return self._top(scores, rows, n)

    def _top(self, scores: np.ndarray, exclude: Sequence[int],
             n: int) -> List[Tuple[str, float]]:
        scores = np.array(scores, dtype=np.float64)
        excluded = [row for row in set(exclude) if row < len(scores)]
        scores[excluded] = -np.inf
        k = min(n, len(scores) - len(excluded))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]  # by score, ties by frequency rank
        return [(self.words[i], float(scores[i])) for i in top]


def _one_edit(word: str, alphabet: set) -> set:
    """Every string one deletion, swap of neighbours, replacement or insertion away."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + ch + b[1:] for a, b in splits if b for ch in alphabet}
    edits |= {a + ch + b for a, b in splits for ch in alphabet}
    return edits


def _as_list(words: Query) -> List[str]:
    if isinstance(words, str):
        return [words]
    return list(words)


def save_vectors(path: str, words: Sequence[str], vectors: np.ndarray, fmt: str = "auto",
                 counts: Optional[np.ndarray] = None,
                 metadata: Optional[Dict[str, Any]] = None,
                 norms: Optional[np.ndarray] = None,
                 context: Optional[np.ndarray] = None, dtype: str = "float32") -> str:
    """Save atomically in `fmt` (native, bin, text, gensim; auto: by suffix, see
    `formats.detect.format_for_path`). Returns the format written. Only the native
    format keeps `metadata` and the output matrix `context`; native and gensim keep
    `counts`."""
    fmt = format_for_path(path, fmt)
    if fmt == "gensim":
        from ..formats.gensim import save_gensim

        save_gensim(path, words, vectors, counts)
    elif fmt == "native":
        if metadata is None or "writer" not in metadata:
            metadata = dict(metadata or {}, writer=WRITER)
        write_native(path, words, vectors, row_norms(vectors) if norms is None else norms,
                     counts=counts, metadata=metadata, context=context, dtype=dtype)
    else:
        save_word2vec(path, words, vectors, fmt)
    return fmt
