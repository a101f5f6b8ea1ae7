"""Training orchestration: corpus -> vocabulary -> encoded ids -> threads over the kernel.

This module is the only caller of the compiled kernel (fastw2v._kernel, or its AVX2
build; fastw2v/kernel.py picks one). It prepares
everything the kernel needs (tables, matrices, jobs), computes the learning rate from
global progress, runs one Python thread per core around the GIL-free kernel calls, adds
up each job's loss in float64, and stops on a NaN or infinite loss.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .kernel import kernel as _kernel
from .config import MAX_SENTENCE_TOKENS, TrainConfig, config_from_options
from .corpus import (MAX_TOKEN_BYTES, CorpusScan, EncodedCorpus, check_corpus_path,
                     encode_corpus, scan_corpus)
from .errors import CorpusError, TrainingDiverged, VocabularyError
from .model import Model, TrainStats
from .progress import ProgressPrinter
from .huffman import huffman_paths
from .sampling import (KernelTables, alias_table, keep_probabilities, log_noise,
                       noise_distribution)
from .vocab import Vocabulary

# Tokens per job: large enough that Python's share of the time is negligible, small
# enough that the learning rate moves smoothly and both threads finish together.
JOB_TOKENS = 20_000

assert _kernel.SENTENCE_END_ID == -1


def train(corpus: str, *, progress: bool = False, read_vocab: Optional[str] = None,
          save_vocab: Optional[str] = None, tmp_dir: Optional[str] = None,
          warn=None, **options) -> Model:
    """Train word vectors on the text file `corpus` and return the Model.

    `options` are the fields of TrainConfig (dim, window, negative, sample, alpha,
    min_alpha, epochs, min_count, max_vocab, threads, seed, architecture,
    ns_exponent). `progress=True` draws a progress line on stderr. `read_vocab` takes
    the vocabulary from a `word count` file instead of counting; `save_vocab` writes the
    counted one. `warn` receives warnings as strings (default: ignored).
    """
    config = config_from_options(**options)
    corpus = os.fspath(corpus)
    check_corpus_path(corpus)
    warn = warn or (lambda message: None)
    stats = TrainStats()

    started = time.perf_counter()
    scan = None if read_vocab is not None else scan_corpus(corpus, config.max_vocab, tmp_dir)
    vocab, entry_of_word = _build_vocabulary(corpus, config, read_vocab, scan, stats, warn)
    if save_vocab is not None:
        vocab.save(save_vocab)
    stats.seconds["vocab"] = time.perf_counter() - started

    started = time.perf_counter()
    encoded = encode_corpus(corpus, vocab.words, tmp_dir, scan=scan,
                            entry_of_word=entry_of_word)
    if scan is not None and scan.entries is not None:
        scan.entries.close()  # the scan's stream is spent; free its disk space now
    if encoded.n_words == 0:
        raise CorpusError(f"{corpus}: no token of the corpus is in the vocabulary")
    stats.n_words, stats.n_skipped = encoded.n_words, encoded.n_skipped
    stats.n_sentences = encoded.n_sentences
    stats.seconds["encode"] = time.perf_counter() - started

    started = time.perf_counter()
    tables = build_tables(vocab.counts, config)
    w_in, w_out, gamma, loss_history = _run_epochs(encoded, tables, vocab, config, stats,
                                                   progress)
    stats.seconds["train"] = time.perf_counter() - started
    return Model(vocab, w_in, w_out, config, loss_history, stats, gamma=gamma, tables=tables)


def _build_vocabulary(corpus: str, config: TrainConfig, read_vocab: Optional[str],
                      scan: Optional[CorpusScan], stats: TrainStats, warn):
    """The vocabulary, and the scan-table entry of each of its words (None when it was
    read from a file)."""
    entry_of_word = None
    if read_vocab is not None:
        counts = Vocabulary.read_counts(read_vocab)
        vocab = Vocabulary.from_counts(counts, config.min_count)
        source = read_vocab
    else:
        read = scan.stats
        stats.n_tokens_read = read.n_tokens
        stats.n_prunes, stats.prune_threshold = scan.n_prunes, scan.prune_threshold
        stats.n_invalid_bytes = read.n_invalid_bytes
        source = corpus
        if read.n_tokens == 0:
            raise CorpusError(f"{corpus}: the corpus is empty (no tokens)")
        if read.n_long_tokens:
            warn(f"{corpus}: {read.n_long_tokens} tokens longer than "
                 f"{MAX_TOKEN_BYTES:,} bytes were skipped")
        if read.n_invalid_bytes:
            warn(f"{corpus}: {read.n_invalid_bytes} invalid UTF-8 bytes were "
                 f"replaced by U+FFFD")
        if scan.n_prunes:
            warn(f"more than {config.max_vocab:,} distinct words (--max-vocab): pruned "
                 f"{scan.n_prunes} times; words seen up to {scan.prune_threshold} times "
                 f"at a pruning were dropped, so rare counts may be underestimated")
        vocab, entry_of_word = Vocabulary.from_table(scan.table, config.min_count)
        counts = None
    if len(vocab) == 0:
        if counts is None:
            table_counts = scan.table.counts()
            top = int(np.argmax(table_counts))
            top_word, top_count = scan.table.words([top])[0], int(table_counts[top])
        else:
            top_word, top_count = max(counts.items(), key=lambda item: item[1])
        raise VocabularyError(
            f"{source}: no word occurs at least {config.min_count} times (--min-count); "
            f"the most frequent, {top_word!r}, occurs {top_count} times"
        )
    if len(vocab) > 2**31 - 1:
        raise VocabularyError(f"{source}: {len(vocab):,} words is more than the 2^31 - 1 "
                              f"ids the kernel supports; raise --min-count")
    return vocab, entry_of_word


def _initial_arrays(n_words: int, config: TrainConfig):
    """The arrays training writes: w_in, w_out and NCE's gamma."""
    # word2vec.c's initialisation: input vectors uniform in [-0.5/dim, 0.5/dim), output
    # vectors zero (so early gradients flow to the output side first).
    rng = np.random.default_rng(config.seed)
    w_in = rng.random((n_words, config.dim), dtype=np.float32)
    w_in -= 0.5
    w_in /= config.dim
    # Hierarchical softmax's output rows are the tree's n_words - 1 inner nodes.
    n_out = max(1, n_words - 1) if config.loss == "hs" else n_words
    w_out = np.zeros((n_out, config.dim), dtype=np.float32)
    per_word = config.loss == "nce" and config.nce_gamma == "per-word"
    gamma = np.full(n_words if per_word else 1, config.nce_gamma_init, dtype=np.float32)
    return w_in, w_out, gamma


def build_tables(counts: np.ndarray, config: TrainConfig) -> KernelTables:
    """All the read-only tables the kernel samples from, for this vocabulary and config."""
    threshold, alias = alias_table(noise_distribution(counts, config.ns_exponent))
    if config.loss == "hs":
        offsets, nodes, codes = huffman_paths(counts)
    else:
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        nodes, codes = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.uint8)
    return KernelTables(
        keep_probability=keep_probabilities(counts, config.sample),
        noise_threshold=threshold,
        noise_alias=alias,
        log_noise=log_noise(counts, config.ns_exponent, config.negative),
        path_offsets=offsets,
        path_nodes=nodes,
        path_codes=codes,
    )


@dataclass(frozen=True)
class KernelSettings:
    """The scalar settings the kernel reads (see fastw2v._kernel.Trainer)."""

    architecture: str
    loss: str
    gamma_mode: str
    noise_correction: bool
    shared_negatives: bool
    window: int
    negative: int
    max_sentence: int

    @classmethod
    def from_config(cls, config: TrainConfig) -> "KernelSettings":
        return cls(config.architecture, config.loss, config.nce_gamma,
                   config.nce_noise_correction, config.shared_negatives, config.window,
                   config.negative, MAX_SENTENCE_TOKENS)


class _SharedProgress:
    """Counters shared by the worker threads, guarded by one lock."""

    def __init__(self, epochs: int):
        self.lock = threading.Lock()
        self.words_done = 0
        self.loss = [0.0] * epochs
        self.examples = [0] * epochs
        self.kept = 0
        self.current_epoch = 0
        self.current_alpha = 0.0
        self.stop = False
        self.error: Optional[BaseException] = None


def _run_epochs(encoded: EncodedCorpus, tables: KernelTables, vocab: Vocabulary,
                config: TrainConfig, stats: TrainStats, show_progress: bool):
    w_in, w_out, gamma = _initial_arrays(len(vocab), config)
    trainer = _kernel.Trainer(w_in, w_out, gamma, tables, KernelSettings.from_config(config))
    # The global NCE normaliser lives here, in Python: each job starts from its current
    # value and reports the change its thread made, so no scalar is shared in the kernel.
    global_gamma = [float(gamma[0])]
    bounds = encoded.job_bounds(JOB_TOKENS)
    stream_length = len(encoded)
    total_positions = stream_length * config.epochs
    alpha0, alpha_min = config.alpha, config.min_alpha

    def alpha_at(epoch: int, position: int) -> float:
        done = (epoch * stream_length + position) / total_positions
        return alpha0 - (alpha0 - alpha_min) * done

    jobs = ((epoch, start, end) for epoch in range(config.epochs) for start, end in bounds)
    shared = _SharedProgress(config.epochs)

    def work(worker: "_kernel.Worker") -> None:
        try:
            while True:
                with shared.lock:
                    job = None if shared.stop else next(jobs, None)
                if job is None:
                    return
                epoch, start, end = job
                a_start, a_end = alpha_at(epoch, start), alpha_at(epoch, end)
                loss, n_examples, n_words, n_kept, gamma_change = trainer.train_job(
                    worker, encoded.read(start, end), a_start, a_end, global_gamma[0])
                with shared.lock:
                    global_gamma[0] += gamma_change
                    shared.loss[epoch] += loss
                    shared.examples[epoch] += n_examples
                    shared.words_done += n_words
                    shared.kept += n_kept
                    shared.current_epoch = epoch
                    shared.current_alpha = a_end
                    if not math.isfinite(loss) and shared.error is None:
                        shared.stop = True
                        shared.error = TrainingDiverged(
                            f"training diverged in epoch {epoch + 1}: the loss became "
                            f"{loss}; lower --alpha (it was {alpha0})")
        except BaseException as exc:  # re-raised by the main thread after join
            with shared.lock:
                shared.stop = True
                if shared.error is None:
                    shared.error = exc

    workers = [trainer.new_worker(config.seed * 65536 + i) for i in range(config.threads)]
    threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in workers]
    total_words = encoded.n_words * config.epochs
    printer = ProgressPrinter(total_words) if show_progress else None
    for thread in threads:
        thread.start()
    try:
        while True:
            alive = [t for t in threads if t.is_alive()]
            if not alive:
                break
            alive[0].join(timeout=0.5)
            if printer is not None:
                # Read without the lock: a display may mix two jobs' counts, but the main
                # thread must never hold the lock when Ctrl-C arrives, or it could leave
                # it held (an interrupt between acquiring and the with-block) and every
                # worker would then wait on it for ever.
                epoch = shared.current_epoch
                loss = shared.loss[epoch] / max(1, shared.examples[epoch])
                printer.update(shared.words_done, epoch + 1, shared.current_alpha, loss)
    except BaseException:
        shared.stop = True  # one attribute store: atomic, and needs no lock
        for thread in threads:
            thread.join()
        raise
    finally:
        if printer is not None:
            printer.finish()
    if shared.error is not None:
        raise shared.error
    stats.n_words_trained = shared.words_done
    stats.n_kept = shared.kept
    stats.n_examples = sum(shared.examples)
    history = [loss / max(1, n) for loss, n in zip(shared.loss, shared.examples)]
    if config.nce_gamma == "global":
        gamma[0] = global_gamma[0]
    return w_in, w_out, gamma, history
