"""Word classes: k-means clustering of the word vectors by cosine (`fastw2v classes`).

word2vec.c's `-classes K` clusters the unit vectors by k-means whose centroids are kept
at length 1 (spherical k-means): a word joins the class whose centroid has the highest
cosine with it, and a class's centroid is the direction of the sum of its words' unit
vectors. This module does the same, with three differences: the centroids start from
greedy k-means++ (Arthur & Vassilvitskii 2007: each next centre drawn with probability
proportional to a word's squared distance to the nearest chosen one, which on unit
vectors is 2 - 2 cos; greedy: the best of a few such draws, as scikit-learn does), so a
seed makes the result repeatable and bad starts are rare;
it iterates until at most a share `tolerance` of the words (1 % by default; 0: none)
changed class in a round (word2vec.c stops after 10 rounds, converged or not), up to
`max_iterations`, and says which happened (in a large vocabulary a few words can keep
swapping between neighbouring classes long after the rest has settled); and a
class left empty takes the word farthest from its own centroid instead of staying empty.

numpy serves: a round is one (words x dim) by (dim x K) matrix product, which BLAS
does well (benchmarks/RESULTS.md has the time for wiki8 into 500 classes).
scikit-learn's KMeans would add a heavy dependency and clusters by Euclidean distance
with centroids off the unit sphere, which is not the cosine clustering asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

import numpy as np

from ..errors import ConfigError
from ..formats.files import atomic_write
from .vectors import Vectors

DEFAULT_MAX_ITERATIONS = 100
# The share of the words that may still change class in a converged round. A round
# costs the same whether many words move or few, and the last few percent of moving
# words barely change the mean cosine (benchmarks/RESULTS.md, word classes).
DEFAULT_TOLERANCE = 0.01
# k-means++ draws its centres from a uniform sample of this many words per class (at
# least _SEEDING_WORDS_MIN): each of its k steps passes over every word it draws from,
# which on a large vocabulary costs more than many rounds of k-means. A sample of that
# size still holds every sizeable group of words many times over.
_SEEDING_WORDS_PER_CLASS = 40
_SEEDING_WORDS_MIN = 20_000
# Rows of the (words x classes) cosine matrix computed at once: bounds the memory of an
# assignment to ROWS x K floats (32 MB at 500 classes) whatever the vocabulary size.
_ROWS_PER_BLOCK = 16_384


@dataclass
class WordClasses:
    """The class of every word, and how k-means got there."""

    words: List[str]
    labels: np.ndarray  # int64 class of each word; class 0 holds the most frequent word
    centroids: np.ndarray  # float32 (k, dim), unit length (zero for a class of zero vectors)
    iterations: int  # assignment rounds run
    converged: bool  # the last round moved at most a share `tolerance` of the words
    n_changed: int  # words that changed class in the last round
    mean_cosine: float  # mean cosine of a word with its class's centroid (higher: tighter)

    @property
    def k(self) -> int:
        return int(self.centroids.shape[0])

    def sizes(self) -> np.ndarray:
        """The number of words in each class."""
        return np.bincount(self.labels, minlength=self.k)

    def members(self, label: int) -> List[str]:
        """The words of one class, most frequent first."""
        return [self.words[i] for i in np.flatnonzero(self.labels == label)]

    def save(self, path: str) -> None:
        """Write `word class` per line, the words in vocabulary order (word2vec.c's
        -classes output), atomically."""
        with atomic_write(path, "w") as out:
            for word, label in zip(self.words, self.labels.tolist()):
                out.write(f"{word} {label}\n")


def word_classes(vectors: Vectors, k: int, seed: int = 1,
                 max_iterations: int = DEFAULT_MAX_ITERATIONS,
                 tolerance: float = DEFAULT_TOLERANCE) -> WordClasses:
    """Cluster the words of `vectors` into `k` classes by spherical k-means (see the
    module's docstring), until a round moves at most a share `tolerance` of the words
    (0: none) or after `max_iterations` rounds. The same seed gives the same classes.
    ConfigError if k is below 2 or above the number of words, max_iterations below 1
    or tolerance outside [0, 1]."""
    n_words = len(vectors)
    if k < 2 or k > n_words:
        raise ConfigError(
            f"k must be between 2 and the {n_words:,} words of the vocabulary (got {k:,})",
            f"-k/--classes must be between 2 and the {n_words:,} words of the model "
            f"(got {k:,})")
    if max_iterations < 1:
        raise ConfigError(f"max_iterations must be at least 1 (got {max_iterations:,})",
                          f"--max-iter must be at least 1 (got {max_iterations:,})")
    if not 0 <= tolerance <= 1:
        raise ConfigError(f"tolerance must be between 0 and 1 (got {tolerance:g})",
                          f"--tol must be between 0 and 1 (got {tolerance:g})")
    allowed = int(tolerance * n_words)  # words that may still move at convergence
    units = vectors.unit()
    rng = np.random.default_rng(seed)
    n_sample = max(_SEEDING_WORDS_PER_CLASS * k, _SEEDING_WORDS_MIN)
    sample = (np.sort(rng.choice(n_words, size=n_sample, replace=False))
              if n_sample < n_words else np.arange(n_words))
    centroids = _kmeans_plus_plus(units[sample], k, rng)
    labels = np.full(n_words, -1, dtype=np.int64)
    iterations = n_changed = 0
    while iterations < max_iterations:
        iterations += 1
        new_labels, best = _assign(units, centroids)
        _fill_empty_classes(new_labels, best, k)
        n_changed = int(np.count_nonzero(new_labels != labels))
        labels = new_labels
        centroids = _centroids(units, labels, k)
        if n_changed <= allowed:
            break
    labels, centroids = _number_by_first_word(labels, centroids)
    cosines = np.einsum("ij,ij->i", units, centroids[labels])
    return WordClasses(list(vectors.words), labels, centroids, iterations,
                       n_changed <= allowed, n_changed, float(cosines.mean()))


def _kmeans_plus_plus(units: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k starting centroids by greedy k-means++: the first a uniformly drawn word; for
    each next one, 2 + ln k candidates drawn with probability proportional to
    1 - (their highest cosine with a chosen centroid), half their squared distance to
    the nearest one, and the candidate that leaves the least total distance is kept.
    (Plain k-means++ draws one candidate; with well separated groups it still puts two
    centres in one group about once in ten draws, which k-means cannot undo.)"""
    n_words = units.shape[0]
    n_candidates = 2 + int(np.log(k))
    chosen = [int(rng.integers(n_words))]
    nearest = units @ units[chosen[0]]  # each word's highest cosine with a chosen centre
    for _ in range(1, k):
        weights = np.clip(1.0 - nearest.astype(np.float64), 0.0, None)
        weights[chosen] = 0.0
        total = weights.sum()
        if total > 0:
            draws = rng.random(n_candidates) * total
            candidates = np.minimum(np.searchsorted(np.cumsum(weights), draws, side="right"),
                                    n_words - 1)
        else:  # every word sits on a chosen centre (repeated vectors): any other words
            candidates = rng.choice(np.setdiff1d(np.arange(n_words), chosen),
                                    size=1)
        closer = np.maximum(nearest[:, None], units @ units[candidates].T)
        best = int(np.argmax(closer.sum(axis=0)))  # highest cosines: least distance
        chosen.append(int(candidates[best]))
        nearest = closer[:, best].copy()
    return units[chosen].copy()


def _assign(units: np.ndarray, centroids: np.ndarray):
    """Each word's class (the centroid of highest cosine; ties to the lower class) and
    that cosine, a block of words at a time."""
    n_words = units.shape[0]
    labels = np.empty(n_words, dtype=np.int64)
    best = np.empty(n_words, dtype=np.float32)
    for start in range(0, n_words, _ROWS_PER_BLOCK):
        block = units[start:start + _ROWS_PER_BLOCK] @ centroids.T
        rows = block.argmax(axis=1)
        labels[start:start + len(block)] = rows
        best[start:start + len(block)] = block[np.arange(len(block)), rows]
    return labels, best


def _fill_empty_classes(labels: np.ndarray, best: np.ndarray, k: int) -> None:
    """Give each empty class the word farthest from its centroid among the words of
    classes with more than one word, so that k classes come out."""
    sizes = np.bincount(labels, minlength=k)
    empty = np.flatnonzero(sizes == 0)
    if not len(empty):
        return
    for word in np.argsort(best, kind="stable"):
        if not len(empty):
            break
        if sizes[labels[word]] > 1:
            sizes[labels[word]] -= 1
            labels[word] = empty[0]
            sizes[empty[0]] += 1
            empty = empty[1:]


def _centroids(units: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """The direction of the sum of each class's unit vectors."""
    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(k))
    sums = np.add.reduceat(units[order], starts, axis=0)  # float32: ample for a direction
    norms = np.linalg.norm(sums, axis=1)
    return (sums / np.where(norms > 0, norms, 1)[:, None]).astype(np.float32, copy=False)


def _number_by_first_word(labels: np.ndarray, centroids: np.ndarray):
    """Renumber the classes in the order of their most frequent word, so that the
    numbers say something (class 0 holds the most frequent word) and do not depend on
    which centroid k-means++ happened to draw first."""
    _, first = np.unique(labels, return_index=True)
    old_by_rank = labels[np.sort(first)]
    new_of_old = np.empty(len(centroids), dtype=np.int64)
    new_of_old[old_by_rank] = np.arange(len(old_by_rank))
    return new_of_old[labels], centroids[old_by_rank]
