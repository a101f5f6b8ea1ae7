"""A small language whose true distribution is known: a random sparse Markov chain.

Each of `n_words` words is followed by one of `successors` others, with probabilities
drawn from a flat Dirichlet. Lines of text are walks of the chain. With a window of 1
and no subsampling, training sees exactly the pairs of neighbouring tokens, in both
directions, so the pair counts of the generated text are what every estimator is asked
to fit: p(c | w) = C[w, c] / sum over c' of C[w, c']. The estimators of docs/theory.md
are consistent for that distribution, which is why the tests and `fastw2v theory`
compare them with it (and not with the chain's own transition matrix, which a finite
text only approximates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

import numpy as np

from ..formats.files import atomic_write


@dataclass(frozen=True)
class MarkovLanguage:
    """The generated text (`tokens`, one row per line) and the words it is made of."""

    words: List[str]
    tokens: np.ndarray  # int64 (n_lines, line_length), word ids

    def write(self, path: str) -> None:
        """Write the text, one line per walk, atomically."""
        with atomic_write(path, "w") as out:
            for line in self.tokens:
                out.write(" ".join(self.words[i] for i in line))
                out.write("\n")

    def pair_counts(self) -> np.ndarray:
        """C[w, c]: how often c stands right next to w (window 1, both directions)."""
        n = len(self.words)
        counts = np.zeros((n, n))
        left, right = self.tokens[:, :-1].ravel(), self.tokens[:, 1:].ravel()
        np.add.at(counts, (left, right), 1)
        np.add.at(counts, (right, left), 1)
        return counts

    def true_distribution(self) -> np.ndarray:
        """p(c | w) from the pair counts, one row per word (rows of unseen words: 0)."""
        counts = self.pair_counts()
        totals = counts.sum(axis=1, keepdims=True)
        return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def markov_language(n_words: int = 50, successors: int = 6, n_lines: int = 300,
                    line_length: int = 1000, seed: int = 2024) -> MarkovLanguage:
    """Generate the language: words w0 .. w{n-1}, `n_lines` walks of `line_length`."""
    rng = np.random.default_rng(seed)
    transition = np.zeros((n_words, n_words))
    for w in range(n_words):
        following = rng.choice(n_words, size=successors, replace=False)
        transition[w, following] = rng.dirichlet(np.ones(successors))
    cumulative = np.cumsum(transition, axis=1)
    tokens = np.empty((n_lines, line_length), dtype=np.int64)
    tokens[:, 0] = rng.integers(n_words, size=n_lines)
    for t in range(1, line_length):  # all lines advance together
        draws = rng.random(n_lines)[:, None]
        tokens[:, t] = np.minimum((cumulative[tokens[:, t - 1]] < draws).sum(axis=1),
                                  n_words - 1)
    return MarkovLanguage([f"w{i}" for i in range(n_words)], tokens)
