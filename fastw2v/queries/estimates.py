"""What a trained model estimates, per the theory in docs/theory.md.

- Negative sampling (ns) fits <u_w, v_c> = PMI(w, c) - log k, the PMI taken against the
  noise distribution: log(p(c|w) / q(c)). `pmi_estimate` returns <u_w, v_c> + log k.
- Noise-contrastive estimation (nce) fits <u_w, v_c> - gamma_w = log p(c|w): a
  normalised distribution, with gamma the learned normaliser (global or per word).
- Hierarchical softmax (hs) defines p(c|w) as the product of branch probabilities along
  c's path in the Huffman tree; it sums to 1 over c by construction.

Here w is the input word (a row of the input matrix) and c the predicted word (a row of
the output matrix, or for HS a path of inner-node rows).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import FastW2VError, FormatError
from ..training.huffman import huffman_paths


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


@dataclass
class Estimator:
    """The parts of a trained model that define its estimates."""

    loss: str
    negative: int
    words: List[str]
    index: Dict[str, int]
    w_in: np.ndarray
    w_out: np.ndarray
    gamma: np.ndarray  # one value, or one per word
    paths: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]] = None  # HS only

    @classmethod
    def from_model(cls, model) -> "Estimator":
        tables = model.tables
        paths = None
        if model.config.loss == "hs":
            paths = ((tables.path_offsets, tables.path_nodes, tables.path_codes)
                     if tables is not None else huffman_paths(model.vocab.counts))
        return cls(model.config.loss, model.config.negative, model.words, model.vocab.index,
                   model.vectors, model.context_vectors, np.asarray(model.gamma), paths)

    @classmethod
    def from_file(cls, path: str) -> "Estimator":
        """From a native model file written by training (it keeps the output matrix)."""
        from ..formats.native import read_native

        path = os.fspath(path)
        native = read_native(path)
        training = native.metadata.get("training")
        if native.context is None or not isinstance(training, dict):
            raise FormatError(f"{path}: holds no output matrix and training settings; only "
                              f"a .fw2v file written by 'fastw2v train' can be scored")
        loss = training.get("loss", "ns")
        negative = training.get("negative", 5)
        gamma = native.metadata.get("nce_gamma")  # absent or null: the default, 0
        gamma = np.asarray([0.0] if gamma is None else gamma, dtype=np.float64)
        # What training writes, checked so that a damaged or hand-edited file fails here
        # with its name rather than inside the matrix products below.
        n_words = len(native.words)
        context_rows = max(1, n_words - 1) if loss == "hs" else n_words
        if loss not in ("ns", "nce", "hs"):
            problem = f"its training loss {loss!r} is not ns, nce or hs"
        elif not isinstance(negative, int) or isinstance(negative, bool) or negative < 1:
            problem = f"its training setting negative {negative!r} is not a positive integer"
        elif n_words and native.context.shape[0] != context_rows:
            problem = (f"its output matrix has {native.context.shape[0]:,} rows, a {loss} "
                       f"model of {n_words:,} words has {context_rows:,}")
        elif len(gamma) not in (1, n_words):
            problem = f"it has {len(gamma):,} NCE normalisers for {n_words:,} words"
        else:
            problem = ""
        if problem:
            raise FormatError(f"{path}: cannot be scored: {problem} (file damaged)")
        paths = None
        if loss == "hs":
            if native.counts is None:
                raise FormatError(f"{path}: a hierarchical-softmax model needs its word "
                                  f"counts to rebuild the tree")
            paths = huffman_paths(native.counts)
        index = {w: i for i, w in enumerate(native.words)}
        return cls(loss, negative, native.words, index,
                   native.vectors, native.context, gamma, paths)

    @property
    def kind(self) -> str:
        """What `scores` returns: "log_prob" (nce, hs) or "pmi" (ns)."""
        return "pmi" if self.loss == "ns" else "log_prob"

    def ids(self, words: Sequence[str]) -> np.ndarray:
        """Rows of `words`; an unknown word raises UnknownWordError with close spellings."""
        from .vectors import Vectors

        lookup = Vectors(self.words, self.w_in)
        lookup._index = self.index
        return np.array(lookup.find_all(list(words)), dtype=np.int64)

    def log_prob_matrix(self, word_ids: np.ndarray) -> np.ndarray:
        """log p(c | w) for each w in `word_ids` (rows) and every c (columns), float64."""
        word_ids = np.asarray(word_ids)
        u = self.w_in[word_ids].astype(np.float64)
        if self.loss == "nce":
            scores = u @ self.w_out.astype(np.float64).T
            if len(self.gamma) == 1:
                return scores - self.gamma[0]
            return scores - self.gamma[word_ids][:, None]
        if self.loss == "hs":
            offsets, nodes, codes = self.paths
            node_scores = u @ self.w_out.astype(np.float64).T
            signs = 1.0 - 2.0 * codes.astype(np.float64)
            terms = _log_sigmoid(node_scores[:, nodes] * signs)
            running = np.concatenate([np.zeros((len(u), 1)), np.cumsum(terms, axis=1)], axis=1)
            return running[:, offsets[1:]] - running[:, offsets[:-1]]
        raise FastW2VError("a negative-sampling model estimates shifted PMI, not a "
                           "normalised distribution: use pmi_estimate")

    def pmi_matrix(self, word_ids: np.ndarray) -> np.ndarray:
        """<u_w, v_c> + log k for each w in `word_ids` and every c (negative sampling)."""
        if self.loss != "ns":
            raise FastW2VError(f"pmi_estimate is for negative-sampling models; this one was "
                               f"trained with --loss {self.loss}: use log_prob")
        u = self.w_in[np.asarray(word_ids)].astype(np.float64)
        return u @ self.w_out.astype(np.float64).T + np.log(self.negative)

    def scores(self, word: str, contexts: Sequence[str]) -> np.ndarray:
        """log p(c | word) (nce, hs) or the PMI estimate (ns) for each c in `contexts`."""
        row = self.ids([word])
        columns = self.ids(contexts)
        if self.kind == "pmi":
            u = self.w_in[row[0]].astype(np.float64)
            return self.w_out[columns].astype(np.float64) @ u + np.log(self.negative)
        return self.log_prob_matrix(row)[0, columns]


def log_prob_matrix(model, word_ids: np.ndarray) -> np.ndarray:
    """log p(c | w) for every word w in `word_ids` (rows) and every c (columns), float64."""
    return Estimator.from_model(model).log_prob_matrix(word_ids)


def pmi_estimate_matrix(model, word_ids: np.ndarray) -> np.ndarray:
    """<u_w, v_c> + log k for every w in `word_ids` and every c (negative sampling)."""
    return Estimator.from_model(model).pmi_matrix(word_ids)
