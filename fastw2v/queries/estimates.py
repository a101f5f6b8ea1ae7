"""What a trained model estimates, per the theory in docs/theory.md.

- Negative sampling (ns) fits <u_w, v_c> = PMI(w, c) - log k, the PMI taken against the
  noise distribution: log(p(c|w) / q(c)). `pmi_estimate` returns <u_w, v_c> + log k.
- Noise-contrastive estimation (nce) fits <u_w, v_c> - gamma_w = log p(c|w): a
  normalised distribution, with gamma the learned normaliser (global or per word).
  With a context bias (--nce-context-bias) it fits <u_w, v_c> + b_c - gamma_w instead.
- Hierarchical softmax (hs) defines p(c|w) as the product of branch probabilities along
  c's path in the Huffman tree; it sums to 1 over c by construction.
- The exact softmax (softmax) defines p(c|w) = exp(<u_w, v_c>) / sum over c' of
  exp(<u_w, v_c'>), normalised by construction.

Here w is the input word (a row of the input matrix) and c the predicted word (a row of
the output matrix, or for HS a path of inner-node rows).
"""

from __future__ import annotations

import os
from typing import Optional, Sequence, Tuple

import numpy as np

from ..errors import FastW2VError
from ..state import ModelState
from ..training.huffman import huffman_paths

Paths = Tuple[np.ndarray, np.ndarray, np.ndarray]  # HS: offsets, nodes, codes


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


class Estimator:
    """What a trained model's state estimates, per the loss it was trained with.

    `paths` are the HS tree's paths training used; without them they are rebuilt from
    the word counts (huffman_paths is deterministic, so the tree is the same).
    """

    def __init__(self, state: ModelState, paths: Optional[Paths] = None):
        assert state.config is not None and state.w_out is not None
        self.state = state
        self.loss = state.config.loss
        self.negative = state.config.negative
        self.w_in = state.w_in
        self.w_out = state.w_out
        self.gamma = state.gamma  # one value, or one per word
        self.context_bias = state.context_bias  # NCE's b_c, or empty
        if self.loss == "hs" and paths is None:
            paths = huffman_paths(np.asarray(state.vocab.counts))
        self.paths = paths

    @classmethod
    def from_file(cls, path: str) -> Estimator:
        """From a native model file written by training (it keeps the output matrix)."""
        path = os.fspath(path)
        state = ModelState.load(path).require_training(
            path, "only a .fw2v file written by 'fastw2v train' can be scored")
        return cls(state)

    @property
    def kind(self) -> str:
        """What `scores` returns: "log_prob" (nce, hs, softmax) or "pmi" (ns)."""
        return "pmi" if self.loss == "ns" else "log_prob"

    def ids(self, words: Sequence[str]) -> np.ndarray:
        """Rows of `words`; an unknown word raises UnknownWordError with close spellings."""
        from .vectors import Vectors

        return np.array(Vectors.from_state(self.state).find_all(list(words)), dtype=np.int64)

    def log_prob_matrix(self, word_ids: np.ndarray) -> np.ndarray:
        """log p(c | w) for each w in `word_ids` (rows) and every c (columns), float64."""
        word_ids = np.asarray(word_ids)
        u = self.w_in[word_ids].astype(np.float64)
        if self.loss == "softmax":
            scores = u @ self.w_out.astype(np.float64).T
            top = scores.max(axis=1, keepdims=True)
            return scores - (top + np.log(np.exp(scores - top).sum(axis=1, keepdims=True)))
        if self.loss == "nce":
            scores = u @ self.w_out.astype(np.float64).T
            if len(self.context_bias):
                scores += self.context_bias.astype(np.float64)[None, :]
            if len(self.gamma) == 1:
                return scores - self.gamma[0]
            return scores - self.gamma[word_ids][:, None]
        if self.loss == "hs":
            assert self.paths is not None
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
        """log p(c | word) (nce, hs, softmax) or the PMI estimate (ns) for each c in
        `contexts`."""
        row = self.ids([word])
        columns = self.ids(contexts)
        if self.kind == "pmi":
            u = self.w_in[row[0]].astype(np.float64)
            return self.w_out[columns].astype(np.float64) @ u + np.log(self.negative)
        return self.log_prob_matrix(row)[0, columns]

    def log_prob(self, word: str, context):
        """log p(context | word); `context` one word (a float) or a list (an array)."""
        if self.kind != "log_prob":
            raise FastW2VError("a negative-sampling model estimates shifted PMI, not a "
                               "normalised distribution: use pmi_estimate")
        return _one_or_many(self.scores(word, _as_list(context)), context)

    def pmi_estimate(self, word: str, context):
        """<u_word, v_context> + log k; `context` one word (a float) or a list."""
        if self.kind != "pmi":
            raise FastW2VError(f"pmi_estimate is for negative-sampling models; this one was "
                               f"trained with --loss {self.loss}: use log_prob")
        return _one_or_many(self.scores(word, _as_list(context)), context)


def _as_list(words) -> list:
    return [words] if isinstance(words, str) else list(words)


def _one_or_many(values: np.ndarray, query):
    return float(values[0]) if isinstance(query, str) else values


def log_prob_matrix(model, word_ids: np.ndarray) -> np.ndarray:
    """log p(c | w) for every word w in `word_ids` (rows) and every c (columns), float64."""
    return model.estimator().log_prob_matrix(word_ids)


def pmi_estimate_matrix(model, word_ids: np.ndarray) -> np.ndarray:
    """<u_w, v_c> + log k for every w in `word_ids` and every c (negative sampling)."""
    return model.estimator().pmi_matrix(word_ids)
