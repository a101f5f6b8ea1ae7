"""A trained model: its state, and what training read and did (TrainStats)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .config import TrainConfig
from .queries.estimates import Estimator
from .queries.vectors import Vectors
from .state import ModelState
from .text.vocab import Vocabulary
from .training.kernel import KernelTables


@dataclass
class TrainStats:
    """What training read and did, for the summary line and the benchmarks."""

    n_tokens_read: int = 0  # all tokens in the corpus (one pass)
    n_words: int = 0  # in-vocabulary tokens per epoch
    n_skipped: int = 0  # tokens of words below --min-count, per epoch
    n_sentences: int = 0
    n_words_trained: int = 0  # in-vocabulary tokens over all epochs
    n_kept: int = 0  # tokens left after subsampling, over all epochs
    n_examples: int = 0  # skip-gram: (word, context) pairs trained; CBOW: centre words
    n_invalid_bytes: int = 0
    n_prunes: int = 0
    n_new_words: int = 0  # --grow-vocab: words of the new text that joined the vocabulary
    prune_threshold: int = 0
    seconds: Dict[str, float] = field(default_factory=dict)  # per phase
    # Where a resumed run (--resume) took up: the epoch (1-based) and the share of the
    # whole run's words already trained. None for a run that started from the beginning.
    # A resumed run's "train" seconds and words/s cover the resumed part only.
    resumed_epoch: Optional[int] = None
    resumed_share: Optional[float] = None
    words_before_resume: int = 0  # of n_words_trained, those trained before the resume

    @property
    def words_per_second(self) -> float:
        """Words trained per second of training, in this run (a resumed run's part)."""
        train = self.seconds.get("train", 0.0)
        words = self.n_words_trained - self.words_before_resume
        return words / train if train > 0 else 0.0


class Model:
    """A trained model: its state (fastw2v.state.ModelState) and how training went.

    `vectors` (the input matrix, word2vec's syn0) are the word vectors everyone uses;
    `context_vectors` (the output matrix, syn1neg) are kept for those who want them.
    Every array belongs to `state`; the attributes here are views of it.
    """

    def __init__(self, state: ModelState, stats: Optional[TrainStats] = None,
                 tables: Optional[KernelTables] = None):
        self.state = state
        self.stats = stats or TrainStats()
        # The sampling tables and HS paths training used (None for a loaded model).
        self.tables = tables
        self._vectors: Optional[Vectors] = None

    @classmethod
    def load(cls, path: str) -> Model:
        """A model saved in the native format by training, with everything it needs to
        be scored and trained on (FormatError naming `path` otherwise)."""
        state = ModelState.load(os.fspath(path))
        return cls(state.require_training(os.fspath(path), "give a .fw2v model written by "
                                          "'fastw2v train'"))

    @property
    def vocab(self) -> Vocabulary:
        return self.state.vocab

    @property
    def vectors(self) -> np.ndarray:
        return self.state.w_in

    @property
    def context_vectors(self) -> np.ndarray:
        assert self.state.w_out is not None  # a Model's state is always a trained one
        return self.state.w_out

    @property
    def config(self) -> TrainConfig:
        assert self.state.config is not None
        return self.state.config

    @property
    def gamma(self) -> np.ndarray:
        """NCE's learned normaliser: one value, or one per word (--nce-gamma per-word)."""
        return self.state.gamma

    @property
    def loss_history(self) -> List[float]:
        return self.state.loss_history

    @property
    def words(self) -> Sequence[str]:
        return self.vocab.words

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self.vocab.index[word]]

    def save(self, path: str, fmt: str = "auto", context_path: Optional[str] = None,
             dtype: str = "float32") -> None:
        """Save the word vectors (and, if asked, the context vectors) atomically.

        The format is `fmt` ("native", "bin", "text" or "gensim"), or with "auto" from the
        suffix: fastw2v's native format for .fw2v (the whole state: the word counts, the
        output matrix, the training settings and the loss history), word2vec's text
        format for .txt and .vec, gensim's KeyedVectors for .kv and .model (needs
        gensim; keeps the counts), word2vec's binary format otherwise. `dtype="float16"`
        stores a native file's matrices in half precision (half the size).
        """
        started = time.perf_counter()
        self.state.save(path, fmt, context_path, dtype)
        self.stats.seconds["save"] = time.perf_counter() - started

    def as_vectors(self) -> Vectors:
        """The word vectors for queries (see fastw2v.Vectors); shares the matrix. Built
        once: a trained model's vectors no longer change."""
        if self._vectors is None:
            self._vectors = Vectors.from_state(self.state)
        return self._vectors

    def most_similar(self, positive: Sequence[str], negative: Sequence[str] = (),
                     n: int = 10) -> List[Tuple[str, float]]:
        """Nearest words by cosine to sum(positive) - sum(negative) (Vectors.most_similar)."""
        return self.as_vectors().most_similar(positive, negative, n=n)

    def estimator(self) -> Estimator:
        """What the model estimates, per its loss (fastw2v.queries.estimates)."""
        paths = None
        if self.tables is not None and self.config.loss == "hs":
            paths = (self.tables.path_offsets, self.tables.path_nodes, self.tables.path_codes)
        return Estimator(self.state, paths)

    def log_prob(self, word: str, context):
        """log p(context | word) as an NCE or HS model estimates it (docs/theory.md).

        `context` may be one word (returns a float) or a list (returns an array).
        """
        return self.estimator().log_prob(word, context)

    def pmi_estimate(self, word: str, context):
        """<u_word, v_context> + log k, a negative-sampling model's estimate of
        PMI(word, context) against the noise distribution (docs/theory.md)."""
        return self.estimator().pmi_estimate(word, context)
