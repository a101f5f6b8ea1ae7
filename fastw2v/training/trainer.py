"""Training orchestration: corpus -> vocabulary -> encoded ids -> threads over the kernel.

This module is the only caller of the compiled kernel (fastw2v._kernel, or its AVX2
build; fastw2v/kernel.py picks one). It prepares
everything the kernel needs (tables, matrices, jobs), computes the learning rate from
global progress, runs one Python thread per core around the GIL-free kernel calls, adds
up each job's loss in float64, and stops on a NaN or infinite loss. It also decides
when to take a checkpoint (between jobs, none in flight) and where a run starts: fresh,
from a checkpoint (--resume, fastw2v/checkpoint.py) or from a saved model (--init-from,
fastw2v/warmstart.py).
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .kernel import KernelSettings, KernelTables, build_tables
from .kernel import kernel as _kernel
from .checkpoint import (DEFAULT_INTERVAL, CheckpointInterval, CorpusFingerprint,
                         TrainingState, load_checkpoint, save_checkpoint)
from ..config import (MAX_SENTENCE_TOKENS, TrainConfig, config_from_options,
                     config_with_overrides)
from ..text.corpus import (MAX_TOKEN_BYTES, CorpusScan, EncodedCorpus, check_corpus_path,
                     encode_corpus, scan_corpus)
from ..errors import ConfigError, CorpusError, FastW2VError, TrainingDiverged, VocabularyError
from ..model import Model, TrainStats
from .progress import ProgressPrinter
from ..text.vocab import Vocabulary
from .warmstart import continued_config, load_base_model, report_unknown_words

# Tokens per job: large enough that Python's share of the time is negligible, small
# enough that the learning rate moves smoothly and both threads finish together.
JOB_TOKENS = 20_000

assert _kernel.SENTENCE_END_ID == -1


CHECKPOINT_EVERY_ALONE = "--checkpoint-every needs --checkpoint PATH (where to write)"


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped training after a checkpoint of the state was written.

    A KeyboardInterrupt, so code that handles interruption still does; `checkpoint` is
    the path to give to `--resume`.
    """

    def __init__(self, checkpoint: str, corpus: str):
        super().__init__(f"training state saved in {checkpoint}; continue with "
                         f"'fastw2v train {corpus} --resume {checkpoint}'")
        self.checkpoint = checkpoint


def train(corpus: str, *, progress: bool = False, read_vocab: Optional[str] = None,
          save_vocab: Optional[str] = None, tmp_dir: Optional[str] = None,
          warn=None, checkpoint: Optional[str] = None, checkpoint_every=None,
          resume: Optional[str] = None, init_from: Optional[str] = None,
          **options) -> Model:
    """Train word vectors on the text file `corpus` and return the Model.

    `options` are the fields of TrainConfig (dim, window, negative, sample, alpha,
    min_alpha, epochs, min_count, max_vocab, threads, seed, architecture,
    ns_exponent). `progress=True` draws a progress line on stderr. `read_vocab` takes
    the vocabulary from a `word count` file instead of counting; `save_vocab` writes the
    counted one. `warn` receives warnings as strings (default: ignored).

    `checkpoint` is a file where the whole training state is written every
    `checkpoint_every` ("30m", "2h", "1e" for every epoch, or a CheckpointInterval;
    default 30 minutes) and when Ctrl-C or SIGTERM stops training (which then raises
    TrainingInterrupted). The file is left in place when training ends.
    `resume` continues from such a file, on the same corpus and with the same settings
    (only `threads` may change); its checkpoints go to `checkpoint`, or by default back
    to `resume`. `init_from` continues training a saved .fw2v model on this corpus, its
    vocabulary fixed; its settings are the defaults of `options`.
    """
    check_starting_point(read_vocab, resume, init_from)
    if checkpoint is None and resume is not None:
        checkpoint = resume
    if checkpoint_every is not None and checkpoint is None:
        raise ConfigError(CHECKPOINT_EVERY_ALONE)
    if not isinstance(checkpoint_every, CheckpointInterval):
        checkpoint_every = CheckpointInterval.parse(checkpoint_every or DEFAULT_INTERVAL)
    saved = base = None
    if resume is not None:
        saved = load_checkpoint(resume)
        config = config_with_overrides(
            saved.config, options, _resume_fixed(),
            f"the checkpoint {resume}: a resumed run keeps its settings (only --threads "
            f"may change)")
    elif init_from is not None:
        base = load_base_model(init_from)
        config = continued_config(base, options)
    else:
        config = config_from_options(**options)
    corpus = os.fspath(corpus)
    check_corpus_path(corpus)
    warn = warn or (lambda message: None)
    stats = TrainStats()

    started = time.perf_counter()
    scan = entry_of_word = None
    if saved is not None:
        saved.corpus.check(corpus, resume)
        vocab = saved.vocab
        _restore_counting_stats(stats, saved.stats)
    elif base is not None:
        vocab = base.vocab
        # One counting pass of the new text serves both the unknown-word report and
        # (when it did not have to prune) the encoding.
        scan = scan_corpus(corpus, config.max_vocab, tmp_dir)
        stats.n_tokens_read = scan.stats.n_tokens
    elif read_vocab is None:
        scan = scan_corpus(corpus, config.max_vocab, tmp_dir)
    if saved is None and base is None:
        vocab, entry_of_word = _build_vocabulary(corpus, config, read_vocab, scan, stats,
                                                 warn)
    if save_vocab is not None:
        vocab.save(save_vocab)
    stats.seconds["vocab"] = time.perf_counter() - started

    started = time.perf_counter()
    # A resumed run has no scan: the corpus is read again with the saved vocabulary.
    encoded = encode_corpus(corpus, vocab.words, tmp_dir, scan=scan,
                            entry_of_word=entry_of_word)
    if scan is not None and scan.entries is not None:
        scan.entries.close()  # the scan's stream is spent; free its disk space now
    if encoded.n_words == 0:
        raise CorpusError(f"{corpus}: no token of the corpus is in the vocabulary")
    stats.n_words, stats.n_skipped = encoded.n_words, encoded.n_skipped
    stats.n_sentences = encoded.n_sentences
    if saved is not None:
        _check_same_stream(encoded, saved, corpus, resume)
    elif base is not None:
        report_unknown_words(corpus, vocab, scan, encoded.n_skipped, init_from, warn)
    # The counting table holds every distinct word of the corpus (most of them below
    # --min-count); training needs none of it, so let it go before the matrices come.
    scan = entry_of_word = None
    stats.seconds["encode"] = time.perf_counter() - started

    started = time.perf_counter()
    tables = build_tables(vocab.counts, config)
    if saved is not None:
        start = dataclasses.replace(saved, config=config)
    else:
        arrays = ((base.w_in, base.w_out, base.gamma) if base is not None
                  else _initial_arrays(len(vocab), config))
        if config.nce_gamma == "fixed":  # --nce-gamma-init may differ from the model's
            arrays[2][:] = config.nce_gamma_init
        start = _fresh_state(config, vocab, arrays, encoded, corpus)
    saver = None
    if checkpoint is not None:
        # A run resumed into its own checkpoint file finds the file already holding its
        # starting state, so an immediate interruption need not write it again.
        saver = _CheckpointWriter(checkpoint, checkpoint_every, corpus, warn,
                                  holds_start=resume is not None
                                  and _same_path(checkpoint, resume))
    w_in, w_out, gamma, loss_history = _run_epochs(encoded, tables, start, config, stats,
                                                   progress, saver)
    stats.seconds["train"] = (time.perf_counter() - started
                              + float(start.stats.get("train_seconds", 0.0)))
    return Model(vocab, w_in, w_out, config, loss_history, stats, gamma=gamma, tables=tables)


def check_starting_point(read_vocab, resume, init_from) -> None:
    given = [name for name, value in (("--read-vocab", read_vocab), ("--resume", resume),
                                      ("--init-from", init_from)) if value is not None]
    if len(given) > 1:
        raise ConfigError(f"{' and '.join(given)} cannot be combined: each sets where the "
                          f"vocabulary comes from")


def _resume_fixed():
    """Every setting but the thread count: the rest shape the matrices, the tables or
    the learning-rate schedule of the run being resumed."""
    return [f.name for f in dataclasses.fields(TrainConfig) if f.name != "threads"]


def _same_path(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


# What the vocabulary pass found; a resumed run does not count again, so it carries
# these over from the checkpoint for its statistics.
_COUNTING_STATS = ("n_tokens_read", "n_prunes", "prune_threshold", "n_invalid_bytes")


def _restore_counting_stats(stats: TrainStats, saved: dict) -> None:
    for name in _COUNTING_STATS:
        setattr(stats, name, int(saved.get(name, 0)))


def _check_same_stream(encoded: EncodedCorpus, saved: TrainingState, corpus: str,
                       checkpoint: str) -> None:
    """The re-encoded corpus must be the stream the checkpoint's positions refer to."""
    if len(encoded) != saved.stream_length or encoded.n_words != saved.n_words:
        raise CorpusError(
            f"{corpus}: encodes to {len(encoded):,} ids ({encoded.n_words:,} words) "
            f"with the vocabulary of {checkpoint}, which was made on {saved.stream_length:,}"
            f" ({saved.n_words:,} words); resume with the corpus and fastw2v version it "
            f"was made with")


def _fresh_state(config: TrainConfig, vocab: Vocabulary, arrays, encoded: EncodedCorpus,
                 corpus: str) -> TrainingState:
    """The state before the first job: nothing trained yet."""
    w_in, w_out, gamma = arrays
    return TrainingState(
        config=config, vocab=vocab, w_in=w_in, w_out=w_out, gamma=gamma,
        global_gamma=float(gamma[0]), epoch=0, position=0, words_done=0, kept=0,
        epoch_loss=[0.0] * config.epochs, epoch_examples=[0] * config.epochs,
        rng_states=[], corpus=CorpusFingerprint.of(corpus), stream_length=len(encoded),
        n_words=encoded.n_words, job_tokens=JOB_TOKENS, stats={})


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


class _SharedProgress:
    """What the worker threads share, guarded by one lock: the sums, and the job pointer.

    Jobs are numbered epoch by epoch; `next_job` is the first not yet handed out. A
    checkpoint is taken by the worker that finds one due: it sets `holding` (no worker
    takes a job while it is set), waits for `in_flight` to reach 0, and writes the state,
    which then holds every job before `next_job` and nothing of any later one.
    """

    def __init__(self, start: TrainingState, next_job: int):
        self.lock = threading.Lock()
        # Signalled when a job ends or a checkpoint is done.
        self.changed = threading.Condition(self.lock)
        self.next_job = next_job
        self.in_flight = 0
        self.holding = False
        self.words_done = start.words_done
        self.loss = list(start.epoch_loss)
        self.examples = list(start.epoch_examples)
        self.kept = start.kept
        # The global NCE normaliser lives here, in Python: each job starts from its
        # current value and reports the change its thread made, so no scalar is shared
        # in the kernel.
        self.global_gamma = start.global_gamma
        self.current_epoch = min(start.epoch, len(self.loss) - 1)
        self.current_alpha = 0.0
        self.stop = False
        self.error: Optional[BaseException] = None


class _CheckpointWriter:
    """When this run's checkpoints are due, and what a failure to write one means."""

    def __init__(self, path: str, interval: CheckpointInterval, corpus: str, warn,
                 holds_start: bool):
        self.path = path
        self.interval = interval
        self.corpus = corpus
        self.warn = warn
        self.holds_start = holds_start  # the file already holds the state training starts from
        self.saved_job: Optional[int] = None  # the job whose starting state the file holds
        self.last_job: Optional[int] = None  # where a checkpoint was last tried
        self.last_time = time.monotonic()

    def start(self, job: int) -> None:
        self.last_job, self.last_time = job, time.monotonic()
        if self.holds_start:
            self.saved_job = job

    def due(self, job: int, jobs_per_epoch: int) -> bool:
        if job == self.last_job:
            return False
        if self.interval.epochs is not None:
            return job % (jobs_per_epoch * self.interval.epochs) == 0
        return time.monotonic() - self.last_time >= self.interval.seconds

    def write(self, state: TrainingState, job: int) -> bool:
        """Write the state before `job`. A failure (disk full, ...) is only a warning:
        the previous checkpoint is intact, and the run itself is still good."""
        self.last_job = job
        try:
            save_checkpoint(self.path, state)
        except FastW2VError as exc:
            self.warn(f"checkpoint not written, training goes on: {exc}")
            return False
        finally:
            self.last_time = time.monotonic()
        self.saved_job = job
        return True

    def write_on_interrupt(self, state: TrainingState, job: int) -> None:
        """Raise TrainingInterrupted once the file holds the state before `job`; return
        (and let the interruption go on as usual) if it could not be written."""
        if self.saved_job == job or self.write(state, job):
            raise TrainingInterrupted(self.path, self.corpus) from None


def _run_epochs(encoded: EncodedCorpus, tables: KernelTables, start: TrainingState,
                config: TrainConfig, stats: TrainStats, show_progress: bool,
                saver: Optional[_CheckpointWriter]):
    """Train every job from `start` on; returns w_in, w_out, gamma and the loss history."""
    began = time.perf_counter()
    w_in, w_out, gamma = start.w_in, start.w_out, start.gamma
    trainer = _kernel.Trainer(w_in, w_out, gamma, tables, KernelSettings.from_config(config))
    bounds = encoded.job_bounds(start.job_tokens)
    jobs_per_epoch = len(bounds)
    n_jobs = jobs_per_epoch * config.epochs
    first_job = _job_index(start, bounds, n_jobs)
    stream_length = len(encoded)
    total_positions = stream_length * config.epochs
    alpha0, alpha_min = config.alpha, config.min_alpha

    def alpha_at(epoch: int, position: int) -> float:
        done = (epoch * stream_length + position) / total_positions
        return alpha0 - (alpha0 - alpha_min) * done

    shared = _SharedProgress(start, first_job)
    workers = [trainer.new_worker(config.seed * 65536 + i) for i in range(config.threads)]
    # A resumed run continues each thread's random stream where it stood (more threads
    # than before: the new ones start from their seeds).
    for worker, state in zip(workers, start.rng_states):
        worker.rng_state = state

    def snapshot() -> TrainingState:
        """The state between jobs; call only with no job in flight."""
        epoch, position = divmod(shared.next_job, jobs_per_epoch)
        position = bounds[position][0] if epoch < config.epochs else 0
        counting = {name: getattr(stats, name) for name in _COUNTING_STATS}
        seconds = float(start.stats.get("train_seconds", 0.0)) + time.perf_counter() - began
        return dataclasses.replace(
            start, global_gamma=shared.global_gamma, epoch=epoch, position=position,
            words_done=shared.words_done, kept=shared.kept, epoch_loss=list(shared.loss),
            epoch_examples=list(shared.examples),
            rng_states=[worker.rng_state for worker in workers],
            stats=dict(counting, train_seconds=seconds))

    def take_job() -> Optional[int]:
        """The next job's number, or None when training is over; first writes a
        checkpoint if one is due."""
        with shared.lock:
            while True:
                while shared.holding:
                    shared.changed.wait()
                if shared.stop or shared.next_job >= n_jobs:
                    return None
                if saver is None or not saver.due(shared.next_job, jobs_per_epoch):
                    break
                shared.holding = True
                try:
                    while shared.in_flight:
                        shared.changed.wait()
                    # A job that ended meanwhile may have diverged (or Ctrl-C came): its
                    # state must not replace the last good checkpoint.
                    if not shared.stop:
                        saver.write(snapshot(), shared.next_job)
                finally:
                    shared.holding = False
                    shared.changed.notify_all()
            shared.next_job += 1
            shared.in_flight += 1
            return shared.next_job - 1

    finished = [False] * len(workers)

    def work(number: int, worker: "_kernel.Worker") -> None:
        try:
            while True:
                job = take_job()
                if job is None:
                    return
                epoch, (begin, end) = job // jobs_per_epoch, bounds[job % jobs_per_epoch]
                a_start, a_end = alpha_at(epoch, begin), alpha_at(epoch, end)
                loss, n_examples, n_words, n_kept, gamma_change = trainer.train_job(
                    worker, encoded.read(begin, end), a_start, a_end, shared.global_gamma)
                with shared.lock:
                    shared.global_gamma += gamma_change
                    shared.loss[epoch] += loss
                    shared.examples[epoch] += n_examples
                    shared.words_done += n_words
                    shared.kept += n_kept
                    shared.current_epoch = epoch
                    shared.current_alpha = a_end
                    shared.in_flight -= 1
                    shared.changed.notify_all()
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
        finally:
            finished[number] = True

    threads = [threading.Thread(target=work, args=(i, w), daemon=True)
               for i, w in enumerate(workers)]
    total_words = encoded.n_words * config.epochs
    printer = (ProgressPrinter(total_words, words_before=start.words_done)
               if show_progress else None)
    if saver is not None:
        saver.start(first_job)
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
    except BaseException as exc:
        shared.stop = True  # one attribute store: atomic, and needs no lock
        # Wait on the workers' own flags, not Thread.join: on Python 3.11 a join that
        # Ctrl-C interrupted may have marked a thread that is still running as stopped
        # (threading's bpo-45274 handling releases the lock the running thread holds),
        # and the state below must not be taken while a job is in flight.
        while not all(finished):
            time.sleep(0.005)
        # Every job handed out has now ended and been added up, so the state is
        # consistent: save it for --resume unless a worker failed.
        if isinstance(exc, KeyboardInterrupt) and saver is not None and shared.error is None:
            saver.write_on_interrupt(snapshot(), shared.next_job)
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
        gamma[0] = shared.global_gamma
    return w_in, w_out, gamma, history


def _job_index(start: TrainingState, bounds, n_jobs: int) -> int:
    """The number of the job that begins at the start state's (epoch, position)."""
    if start.epoch == start.config.epochs:
        return n_jobs
    starts = {begin: i for i, (begin, _) in enumerate(bounds)}
    if start.position not in starts:
        raise CorpusError(f"the saved position (token {start.position:,} of epoch "
                          f"{start.epoch + 1}) is not the start of a job in this corpus")
    return start.epoch * len(bounds) + starts[start.position]
