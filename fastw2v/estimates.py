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

import numpy as np

from .errors import FastW2VError


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def log_prob_matrix(model, word_ids: np.ndarray) -> np.ndarray:
    """log p(c | w) for every word w in `word_ids` (rows) and every c (columns), float64."""
    loss = model.config.loss
    u = model.vectors[np.asarray(word_ids)].astype(np.float64)
    if loss == "nce":
        scores = u @ model.context_vectors.astype(np.float64).T
        gamma = model.gamma.astype(np.float64)
        if len(gamma) == 1:
            return scores - gamma[0]
        return scores - gamma[np.asarray(word_ids)][:, None]
    if loss == "hs":
        tables = model.tables
        if tables is None:
            raise FastW2VError("this model does not carry its Huffman tree; "
                               "log probabilities need the model as trained")
        node_scores = u @ model.context_vectors.astype(np.float64).T
        signs = 1.0 - 2.0 * tables.path_codes.astype(np.float64)
        terms = _log_sigmoid(node_scores[:, tables.path_nodes] * signs)
        cumulative = np.concatenate([np.zeros((len(u), 1)), np.cumsum(terms, axis=1)], axis=1)
        offsets = tables.path_offsets
        return cumulative[:, offsets[1:]] - cumulative[:, offsets[:-1]]
    raise FastW2VError(f"a model trained with --loss {loss} estimates shifted PMI, not a "
                       f"normalised distribution; use pmi_estimate")


def pmi_estimate_matrix(model, word_ids: np.ndarray) -> np.ndarray:
    """<u_w, v_c> + log k for every w in `word_ids` and every c (negative sampling)."""
    if model.config.loss != "ns":
        raise FastW2VError(f"pmi_estimate is for negative-sampling models; this one was "
                           f"trained with --loss {model.config.loss}: use log_prob")
    u = model.vectors[np.asarray(word_ids)].astype(np.float64)
    return u @ model.context_vectors.astype(np.float64).T + np.log(model.config.negative)
