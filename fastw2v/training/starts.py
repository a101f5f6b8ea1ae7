"""Where a training run starts: fresh, resumed from a checkpoint, or continued from a model.

Each start is a strategy with the same three steps, which `train` calls in order:
- `configure(options)`: the run's settings. Fresh: the options. Resumed: the
  checkpoint's (only the thread count may change). Continued: the model's, with the
  options given overriding all but those that define what its matrices mean (FIXED).
- `read_corpus(...)`: text in, vocabulary and id stream out. Fresh: count the corpus
  (or read the counts of --read-vocab). Resumed: the checkpoint's vocabulary, and the
  corpus must encode to the stream its position refers to. Continued: the model's
  vocabulary, fixed; tokens of other words are left out and reported. Grown
  (--grow-vocab): the model's vocabulary plus the new text's words that reach
  --min-count, with the counts of both texts (fastw2v/training/growth.py).
- `initial(...)`: the model state and training position the trainer starts from.
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Callable, Dict, Optional, Tuple

import numpy as np

from ..config import TrainConfig, config_from_options, config_with_overrides, option_name
from ..errors import ConfigError, CorpusError, VocabularyError
from ..state import ModelState
from ..text.corpus import (
    MAX_TOKEN_BYTES,
    CorpusScan,
    EncodedCorpus,
    ReadStats,
    encode_corpus,
    scan_corpus,
)
from ..text.sources import CorpusArgument, CorpusFiles
from ..text.vocab import Vocabulary
from .checkpoint import Checkpoint, TrainingPosition, load_checkpoint
from .growth import Growth, grow_state, grow_vocabulary

Warn = Callable[[str], None]

# --init-from: the dimension, the loss (what w_out's rows are), NCE's normaliser mode
# (the shape of gamma) and its context bias (whether there is one) are the model's;
# every other setting may change.
FIXED = ("dim", "loss", "nce_gamma", "nce_context_bias")
# How many of the most frequent unknown words the --init-from warning names.
SHOWN_UNKNOWN = 5
# What the vocabulary pass found; a resumed run does not count again, so it carries
# these over from the checkpoint for its statistics.
COUNTING_STATS = ("n_tokens_read", "n_prunes", "prune_threshold", "n_invalid_bytes")


class FreshStart:
    """Count the corpus (or read --read-vocab's counts), then train from random vectors."""

    def __init__(self, read_vocab: Optional[str] = None):
        self.read_vocab = read_vocab

    def configure(self, options: Dict) -> TrainConfig:
        return config_from_options(**options)

    def read_corpus(self, corpus: CorpusFiles, config: TrainConfig,
                    tmp_dir: Optional[str], stats,
                    warn: Warn) -> Tuple[Vocabulary, EncodedCorpus]:
        if self.read_vocab is not None:
            counts = Vocabulary.read_counts(self.read_vocab)
            vocab = Vocabulary.from_counts(counts, config.min_count)
            if len(vocab) == 0:
                top_word, top_count = max(counts.items(), key=lambda item: item[1])
                raise no_word_error(self.read_vocab, config, top_word, top_count)
            check_id_range(self.read_vocab, vocab)
            return vocab, _encode(corpus, vocab, tmp_dir, stats)
        scan = scan_corpus(corpus, config.max_vocab, tmp_dir)
        report_counting(corpus, config, scan.stats, scan.n_prunes, scan.prune_threshold,
                        stats, warn)
        vocab, entry_of_word = Vocabulary.from_table(scan.table, config.min_count)
        if len(vocab) == 0:
            table_counts = scan.table.counts()
            top = int(np.argmax(table_counts))
            raise no_word_error(str(corpus), config, scan.table.words([top])[0],
                                 int(table_counts[top]))
        check_id_range(str(corpus), vocab)
        return vocab, _encode(corpus, vocab, tmp_dir, stats, scan, entry_of_word)

    def initial(self, vocab: Vocabulary, config: TrainConfig,
                encoded: EncodedCorpus) -> Tuple[ModelState, TrainingPosition]:
        state = ModelState.initial(vocab, config)
        return state, TrainingPosition.beginning(config.epochs, float(state.gamma[0]))


class ResumedStart:
    """Continue a run from its checkpoint, on the same corpus and settings."""

    def __init__(self, path: str):
        self.path = path
        self.saved: Checkpoint = load_checkpoint(path)

    def configure(self, options: Dict) -> TrainConfig:
        fixed = [f.name for f in dataclasses.fields(TrainConfig) if f.name != "threads"]
        return config_with_overrides(
            self.saved.config, options, fixed,
            lambda name: f"the checkpoint {self.path}: a resumed run keeps its settings "
                         f"(only {name('threads')} may change)")

    def read_corpus(self, corpus: CorpusFiles, config: TrainConfig,
                    tmp_dir: Optional[str], stats,
                    warn: Warn) -> Tuple[Vocabulary, EncodedCorpus]:
        saved = self.saved
        saved.corpus.check(corpus, self.path)
        for name in COUNTING_STATS:
            setattr(stats, name, int(saved.counting.get(name, 0)))
        # No scan: the corpus is read again with the saved vocabulary.
        encoded = _encode(corpus, saved.state.vocab, tmp_dir, stats)
        if len(encoded) != saved.stream_length or encoded.n_words != saved.n_words:
            raise CorpusError(
                f"{corpus}: encodes to {len(encoded):,} ids ({encoded.n_words:,} words) "
                f"with the vocabulary of {self.path}, which was made on "
                f"{saved.stream_length:,} ({saved.n_words:,} words); resume with the corpus "
                f"and fastw2v version it was made with")
        return saved.state.vocab, encoded

    def initial(self, vocab: Vocabulary, config: TrainConfig,
                encoded: EncodedCorpus) -> Tuple[ModelState, TrainingPosition]:
        # The checkpoint's arrays are writable copies already (np.load).
        return dataclasses.replace(self.saved.state, config=config), self.saved.at


class ContinuedStart:
    """Continue training a saved .fw2v model on this corpus, its vocabulary fixed.

    Continuing needs the output matrix (and NCE's gamma), the word counts and the
    training settings, which only a native file written by training keeps. The corpus
    is encoded with the model's vocabulary, so word ids, the noise and subsampling
    tables and the HS tree (which all follow from the model's counts) stay what the
    output matrix was trained with. With `grow` (--grow-vocab) the new text's frequent
    words join instead, and the counts of both texts make the tables
    (fastw2v/training/growth.py); a hierarchical-softmax model is refused.
    """

    def __init__(self, path: str, grow: bool = False):
        self.path = os.fspath(path)
        self.model = ModelState.load(self.path).require_training(
            self.path, "--init-from needs a .fw2v model written by 'fastw2v train'")
        self.grow = grow  # --grow-vocab: new words join (fastw2v/training/growth.py)
        self.growth: Optional[Growth] = None

    def configure(self, options: Dict) -> TrainConfig:
        # The thread count is not inherited: it belongs to the machine, not the model.
        assert self.model.config is not None
        base = dataclasses.replace(self.model.config, threads=None)
        config = config_with_overrides(
            base, options, FIXED,
            lambda name: f"the model {self.path}: {name('init_from')} keeps its "
                         f"{', '.join(name(field) for field in FIXED)}")
        if self.grow and config.loss == "hs":
            def message(name):
                return (f"{self.path}: {name('grow_vocab')} cannot grow a model trained "
                        f"with {name('loss')} hs: its output rows are the inner nodes of a "
                        f"Huffman tree built from the counts, and new words make another "
                        f"tree, whose nodes have no trained vectors; continue it with its "
                        f"vocabulary fixed (without {name('grow_vocab')}), or train afresh "
                        f"on both texts")
            raise ConfigError(message(lambda field: field), message(option_name))
        return config

    def read_corpus(self, corpus: CorpusFiles, config: TrainConfig,
                    tmp_dir: Optional[str], stats,
                    warn: Warn) -> Tuple[Vocabulary, EncodedCorpus]:
        vocab = self.model.vocab
        # One counting pass of the new text serves both the unknown-word report and
        # (when it did not have to prune) the encoding.
        scan = scan_corpus(corpus, config.max_vocab, tmp_dir)
        stats.n_tokens_read = scan.stats.n_tokens
        why = "(fixed by --init-from) and are left out"
        if self.grow:
            self.growth = _grown(vocab, scan, config.min_count)
            vocab = self.growth.vocab
            check_id_range(str(corpus), vocab)
            stats.n_new_words = self.growth.n_new
            why = (f"and occur fewer than {config.min_count:,} times (--min-count), so "
                   f"they did not join it; they are left out")
        encoded = _encode(corpus, vocab, tmp_dir, stats, scan)
        _report_unknown_words(corpus, vocab, scan, encoded.n_skipped, self.path, warn, why)
        return vocab, encoded

    def initial(self, vocab: Vocabulary, config: TrainConfig,
                encoded: EncodedCorpus) -> Tuple[ModelState, TrainingPosition]:
        if self.growth is not None:
            state = grow_state(self.model, self.growth, config)
        else:
            state = dataclasses.replace(self.model.writable(), config=config)
        if config.nce_gamma == "fixed":  # --nce-gamma-init may differ from the model's
            state.gamma[:] = config.nce_gamma_init
        return state, TrainingPosition.beginning(config.epochs, float(state.gamma[0]))


def choose_start(read_vocab: Optional[str], resume: Optional[str],
                 init_from: Optional[str], grow_vocab: bool = False):
    """The start the arguments ask for; ConfigError if they ask for more than one, or
    to grow the vocabulary of no model."""
    check_starting_point(read_vocab, resume, init_from)
    if grow_vocab and init_from is None:
        raise ConfigError("grow_vocab needs init_from (the model whose vocabulary grows)",
                          "--grow-vocab needs --init-from MODEL (the model whose "
                          "vocabulary grows)")
    if resume is not None:
        return ResumedStart(resume)
    if init_from is not None:
        return ContinuedStart(init_from, grow_vocab)
    return FreshStart(read_vocab)


def check_starting_point(read_vocab, resume, init_from) -> None:
    given = [name for name, value in (("read_vocab", read_vocab), ("resume", resume),
                                      ("init_from", init_from)) if value is not None]
    if len(given) > 1:
        def message(names):
            return (f"{' and '.join(names)} cannot be combined: each sets where the "
                    f"vocabulary comes from")
        raise ConfigError(message(given), message([option_name(name) for name in given]))


def _encode(corpus: CorpusFiles, vocab: Vocabulary, tmp_dir: Optional[str], stats,
            scan: Optional[CorpusScan] = None, entry_of_word=None) -> EncodedCorpus:
    """The corpus as the kernel's id stream, and the counts of what it holds."""
    began = time.perf_counter()
    encoded = encode_corpus(corpus, vocab.words, tmp_dir, scan=scan,
                            entry_of_word=entry_of_word)
    if scan is not None and scan.entries is not None:
        # The scan's stream is spent; free its disk space now. (The counting table goes
        # with the scan itself, when the start's read_corpus returns: training needs
        # none of it, so it is gone before the matrices are allocated.)
        scan.entries.close()
    if encoded.n_words == 0:
        raise CorpusError(f"{corpus}: no token of the corpus is in the vocabulary")
    stats.n_words, stats.n_skipped = encoded.n_words, encoded.n_skipped
    stats.n_sentences = encoded.n_sentences
    stats.seconds["encode"] = time.perf_counter() - began
    return encoded


def report_counting(corpus: CorpusArgument, config: TrainConfig, read: ReadStats,
                    n_prunes: int, prune_threshold: int, stats, warn: Warn) -> None:
    """Record what the counting pass found (`read`, and the pruning's figures), and warn
    about what it had to change."""
    stats.n_tokens_read = read.n_tokens
    stats.n_prunes, stats.prune_threshold = n_prunes, prune_threshold
    stats.n_invalid_bytes = read.n_invalid_bytes
    if read.n_tokens == 0:
        raise CorpusError(f"{corpus}: the corpus is empty (no tokens)")
    if read.n_long_tokens:
        warn(f"{corpus}: {read.n_long_tokens:,} tokens longer than {MAX_TOKEN_BYTES:,} bytes "
             f"were skipped")
    if read.n_invalid_bytes:
        warn(f"{corpus}: {read.n_invalid_bytes:,} invalid UTF-8 bytes were replaced by "
             f"U+FFFD")
    if n_prunes:
        warn(f"more than {config.max_vocab:,} distinct words (--max-vocab): pruned "
             f"{n_prunes:,} times; words seen up to {prune_threshold:,} times at "
             f"a pruning were dropped, so rare counts may be underestimated")


def no_word_error(source: str, config: TrainConfig, top_word: str,
                   top_count: int) -> VocabularyError:
    return VocabularyError(
        f"{source}: no word occurs at least {config.min_count:,} times (--min-count); the "
        f"most frequent, {top_word!r}, occurs {top_count:,} times")


def check_id_range(source: str, vocab: Vocabulary) -> None:
    if len(vocab) > 2**31 - 1:
        raise VocabularyError(f"{source}: {len(vocab):,} words is more than the 2^31 - 1 "
                              f"ids the kernel supports; raise --min-count")


def _grown(vocab: Vocabulary, scan: CorpusScan, min_count: int) -> Growth:
    """`vocab` grown by the words the counting pass `scan` of the new text found at
    least `min_count` times, every count the sum of both texts'."""
    counts = scan.table.counts()
    known = scan.table.entries_of(vocab.words)
    present = known >= 0
    added = np.zeros(len(vocab), dtype=np.int64)
    added[present] = counts[known[present]]
    joins = counts >= min_count
    joins[known[present]] = False
    entries = np.flatnonzero(joins)
    return grow_vocabulary(vocab, added, scan.table.words(entries.tolist()), counts[entries])


def _report_unknown_words(corpus: CorpusFiles, vocab: Vocabulary, scan: CorpusScan,
                          n_unknown: int, model_path: str, warn: Warn,
                          why: str = "(fixed by --init-from) and are left out") -> None:
    """Warn about the `n_unknown` tokens (the encoder's exact count) of words outside
    `vocab`, saying `why` they are; the distinct words and the most frequent ones come
    from the counting pass `scan`, which may have pruned rare ones."""
    if not n_unknown:
        return
    counts = scan.table.counts()
    known = scan.table.entries_of(vocab.words)
    unknown = np.ones(len(counts), dtype=bool)
    unknown[known[known >= 0]] = False
    entries = np.flatnonzero(unknown)
    distinct = (f"at least {len(entries):,}" if scan.n_prunes else f"{len(entries):,}")
    top = entries[np.argsort(-counts[entries], kind="stable")[:SHOWN_UNKNOWN]]
    shown = ", ".join(f"{word} ({int(counts[entry]):,})"
                      for word, entry in zip(scan.table.words(top.tolist()), top))
    warn(f"{corpus}: {n_unknown:,} tokens of {distinct} distinct words are not in the "
         f"vocabulary of {model_path} {why}; the most frequent: {shown}")
