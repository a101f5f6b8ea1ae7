"""What each estimator learns, measured on a language whose truth is known.

`compare_estimators` trains negative sampling, NCE, hierarchical softmax and the exact
softmax (and NCE with a context bias, and NCE at several k) on the Markov language of
fastw2v/text/markov.py and sets each one's estimate beside the truth it should
converge to (docs/theory.md):

- NS:  <u_w, v_c> + log k  against  PMI(w, c) = log(p(c|w) / q(c))   (q: unigram)
- NCE, HS, softmax:  log p-hat(c|w)  against  log p(c|w)

on the pairs seen at least MIN_PAIR_COUNT times, with Pearson's r, the mean absolute
error (nats), and, for the normalised estimators, the range of sum over c of p-hat(c|w)
over the words with enough data. `fastw2v theory` prints and draws these figures; the
tests in tests/integration/test_theory.py assert on them.
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..config import available_cores
from ..text.markov import MarkovLanguage, markov_language

# Pairs seen fewer times than this have too noisy an empirical p(c|w) to judge by.
MIN_PAIR_COUNT = 50
# Words with fewer neighbours than this have too noisy a distribution to sum.
MIN_WORD_COUNT = 5000
# Window 1 and no subsampling: training sees exactly the counted pairs. dim >= the
# vocabulary, so the vectors can represent any matrix of scores. The noise is the
# unigram distribution (ns_exponent 1), so NS's target is the plain PMI.
TRAIN = dict(dim=64, window=1, sample=0, min_count=1, ns_exponent=1.0, epochs=10,
             threads=1, seed=1)
# NCE's most probable pairs converge slowest (the classifier saturates there): it gets
# twice the epochs of the others, which brings every frequent word's total within a
# few per cent of 1 (docs/theory.md has the figures).
NCE_EPOCHS = 20
NCE_KS = (1, 5, 25)
DEFAULT_K = 5


@dataclass
class Fit:
    """One trained estimator, its estimate beside the truth, and the figures."""

    name: str  # a label: "ns", "nce", "nce k=1", "hs", "softmax", "nce + bias"
    loss: str
    negative: int
    measure: str  # "pmi" (NS) or "log_prob"
    estimate: np.ndarray = field(repr=False)  # on the judged pairs
    truth: np.ndarray = field(repr=False)
    pearson: float
    mae: float
    sum_min: Optional[float]  # range of sum_c p-hat(c|w) over the frequent words
    sum_max: Optional[float]
    seconds: float
    bias_pearson: Optional[float] = None  # NCE + bias: r(b_c, log p(c)), frequent c

    def figures(self) -> Dict[str, object]:
        """The figures, for JSON and the table."""
        figures: Dict[str, object] = {
            "name": self.name, "loss": self.loss, "negative": self.negative,
            "measure": self.measure, "pairs": int(len(self.truth)),
            "pearson": self.pearson, "mae": self.mae,
            "sum_min": self.sum_min, "sum_max": self.sum_max, "seconds": self.seconds}
        if self.bias_pearson is not None:
            figures["bias_pearson"] = self.bias_pearson
        return figures


@dataclass
class Comparison:
    """Every fit of one run, by name, and the language they were trained on."""

    fits: Dict[str, Fit]
    n_words: int
    n_tokens: int

    def k_sweep(self) -> List[Fit]:
        """NCE at each k of NCE_KS, in order."""
        return [self.fits[nce_name(k)] for k in NCE_KS]


def nce_name(k: int) -> str:
    return "nce" if k == DEFAULT_K else f"nce k={k}"


# What `compare_estimators` trains: name -> fastw2v.train options beyond TRAIN.
def _runs(with_bias: bool) -> Dict[str, dict]:
    runs: Dict[str, dict] = {"ns": dict(loss="ns", negative=DEFAULT_K)}
    for k in NCE_KS:
        runs[nce_name(k)] = dict(loss="nce", negative=k, epochs=NCE_EPOCHS)
    runs["hs"] = dict(loss="hs")
    runs["softmax"] = dict(loss="softmax")
    if with_bias:
        runs["nce + bias"] = dict(loss="nce", negative=DEFAULT_K, epochs=NCE_EPOCHS,
                                  nce_context_bias=True)
    return runs


def compare_estimators(language: Optional[MarkovLanguage] = None, *,
                       names: Optional[Sequence[str]] = None, with_bias: bool = True,
                       tmp_dir: Optional[str] = None) -> Comparison:
    """Train the estimators (all, or those in `names`) on `language` (by default
    markov_language()) and measure each against the truth.

    Each model trains on one thread, so its figures are the same on every run; the
    models train side by side, one per core (the kernel releases the GIL).
    """
    from ..training.trainer import train

    language = language or markov_language()
    runs = _runs(with_bias)
    if names is not None:
        runs = {name: runs[name] for name in names}
    counts = language.pair_counts()
    with tempfile.TemporaryDirectory(dir=tmp_dir) as folder:
        corpus = os.path.join(folder, "markov.txt")
        language.write(corpus)

        def fit(name: str) -> Fit:
            began = time.perf_counter()
            model = train(corpus, **dict(TRAIN, **runs[name]), tmp_dir=folder)
            return measure(name, model, language.words, counts, time.perf_counter() - began)

        with ThreadPoolExecutor(max_workers=available_cores()) as pool:
            fits = dict(zip(runs, pool.map(fit, runs)))
    return Comparison(fits, len(language.words), int(language.tokens.size))


def measure(name: str, model, words: Sequence[str], counts: np.ndarray,
            seconds: float = 0.0) -> Fit:
    """Set a trained model's estimate beside the truth of the pair counts `counts`
    (rows and columns in the order of `words`). Words the text never visited, hence not
    in the model's vocabulary, have no pairs and are left out."""
    estimator = model.estimator()
    present = [i for i, w in enumerate(words) if w in model.vocab.index]
    counts = counts[np.ix_(present, present)]
    order = np.array([model.vocab.index[words[i]] for i in present])
    p = counts / counts.sum(axis=1, keepdims=True)
    seen = counts >= MIN_PAIR_COUNT
    frequent = counts.sum(axis=1) >= MIN_WORD_COUNT
    if not frequent.any():  # a short text: sum over every word rather than none
        frequent = counts.sum(axis=1) > 0
    unigram = counts.sum(axis=0) / counts.sum()
    sum_min = sum_max = bias_pearson = None
    if estimator.kind == "pmi":
        matrix = estimator.pmi_matrix(order)[:, order]
        truth = np.log(p[seen] / np.broadcast_to(unigram, p.shape)[seen])
    else:
        matrix = estimator.log_prob_matrix(order)[:, order]
        truth = np.log(p[seen])
        totals = np.exp(matrix).sum(axis=1)[frequent]
        sum_min, sum_max = float(totals.min()), float(totals.max())
    estimate = matrix[seen]
    if len(estimator.context_bias):
        bias = np.asarray(estimator.context_bias, dtype=np.float64)[order]
        bias_pearson = float(np.corrcoef(bias[frequent], np.log(unigram[frequent]))[0, 1])
    config = model.config
    return Fit(name=name, loss=config.loss, negative=config.negative,
               measure=estimator.kind, estimate=estimate, truth=truth,
               pearson=float(np.corrcoef(estimate, truth)[0, 1]),
               mae=float(np.abs(estimate - truth).mean()),
               sum_min=sum_min, sum_max=sum_max, seconds=seconds,
               bias_pearson=bias_pearson)
