"""A trained model: the vocabulary, both matrices, the loss history and how it was made."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .config import TrainConfig
from .errors import FastW2VError
from .queries.vectors import Vectors, save_vectors, training_metadata
from .text.vocab import Vocabulary


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
    prune_threshold: int = 0
    seconds: Dict[str, float] = field(default_factory=dict)  # per phase
    # Where a resumed run (--resume) took up: the epoch (1-based) and the share of the
    # whole run's words already trained. None for a run that started from the beginning.
    # A resumed run's "train" seconds and words/s cover the resumed part only.
    resumed_epoch: Optional[int] = None
    resumed_share: Optional[float] = None

    @property
    def words_per_second(self) -> float:
        train = self.seconds.get("train", 0.0)
        return self.n_words_trained / train if train > 0 else 0.0


class Model:
    """Word vectors with their vocabulary.

    `vectors` (the input matrix, word2vec's syn0) are the word vectors everyone uses;
    `context_vectors` (the output matrix, syn1neg) are kept for those who want them.
    """

    def __init__(self, vocab: Vocabulary, w_in: np.ndarray, w_out: np.ndarray,
                 config: TrainConfig, loss_history: List[float],
                 stats: Optional[TrainStats] = None, gamma: Optional[np.ndarray] = None,
                 tables=None):
        self.vocab = vocab
        self.vectors = w_in
        self.context_vectors = w_out
        self.config = config
        self.loss_history = loss_history
        self.stats = stats or TrainStats()
        # NCE's learned normaliser: one value, or one per word (--nce-gamma per-word).
        self.gamma = gamma if gamma is not None else np.zeros(1, dtype=np.float32)
        # The sampling tables and HS paths training used (None for a loaded model).
        self.tables = tables
        self._vectors: Optional[Vectors] = None

    @property
    def words(self) -> List[str]:
        return self.vocab.words

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self.vocab.index[word]]

    def save(self, path: str, fmt: str = "auto", context_path: Optional[str] = None) -> None:
        """Save the word vectors (and, if asked, the context vectors) atomically.

        The format is `fmt` ("native", "bin" or "text"), or with "auto" comes from the
        suffix: fastw2v's native format for .fw2v (it also keeps the word counts, the
        training settings and the loss history), word2vec's text format for .txt and
        .vec, word2vec's binary format otherwise.
        """
        started = time.perf_counter()
        metadata = training_metadata(self)
        # A native file also keeps the output matrix, so that the saved model can still
        # score (word, context) pairs (fastw2v score, fastw2v.estimates).
        save_vectors(path, self.words, self.vectors, fmt, counts=self.vocab.counts,
                     metadata=dict(metadata, matrix="input"), context=self.context_vectors)
        if context_path is not None:
            save_vectors(context_path, self.words, self.context_vectors, fmt,
                         counts=self.vocab.counts, metadata=dict(metadata, matrix="context"))
        self.stats.seconds["save"] = time.perf_counter() - started

    def as_vectors(self) -> Vectors:
        """The word vectors for queries (see fastw2v.Vectors); shares the matrix. Built
        once: a trained model's vectors no longer change."""
        if self._vectors is None:
            self._vectors = Vectors.from_model(self)
        return self._vectors

    def most_similar(self, positive: Sequence[str], negative: Sequence[str] = (),
                     n: int = 10) -> List[Tuple[str, float]]:
        """Nearest words by cosine to sum(positive) - sum(negative) (Vectors.most_similar)."""
        return self.as_vectors().most_similar(positive, negative, n=n)

    def log_prob(self, word: str, context):
        """log p(context | word) as an NCE or HS model estimates it (docs/theory.md).

        `context` may be one word (returns a float) or a list (returns an array).
        """
        from .queries.estimates import Estimator

        estimator = Estimator.from_model(self)
        if estimator.kind != "log_prob":
            raise FastW2VError("a negative-sampling model estimates shifted PMI, not a "
                               "normalised distribution: use pmi_estimate")
        return _one_or_many(estimator.scores(word, _as_list(context)), context)

    def pmi_estimate(self, word: str, context):
        """<u_word, v_context> + log k, a negative-sampling model's estimate of
        PMI(word, context) against the noise distribution (docs/theory.md)."""
        from .queries.estimates import Estimator

        estimator = Estimator.from_model(self)
        if estimator.kind != "pmi":
            raise FastW2VError(f"pmi_estimate is for negative-sampling models; this one was "
                               f"trained with --loss {self.config.loss}: use log_prob")
        return _one_or_many(estimator.scores(word, _as_list(context)), context)


def _as_list(words) -> List[str]:
    return [words] if isinstance(words, str) else list(words)


def _one_or_many(values: np.ndarray, query):
    return float(values[0]) if isinstance(query, str) else values
