"""Training: text in, vocabulary, tables, state, trainer, model, in that order.

`train` is the whole run, one step after the other: a start strategy
(fastw2v/training/starts.py: fresh, resumed from a checkpoint, or continued from a
saved model) reads the corpus into a vocabulary and an id stream and yields the model
state and position to begin from; the sampling tables follow from the vocabulary; a
`Trainer` runs the jobs; the result is a Model over the trained state.

`Trainer` is the only caller of the compiled kernel's training entry points (reached
through fastw2v/training/kernel.py). It cuts the id stream into jobs, runs one Python
thread per worker around the GIL-free kernel calls, computes the learning rate from
global progress, adds up each job's loss in float64, stops on a NaN or infinite loss,
and takes checkpoints between jobs, with none in flight. It knows nothing of where
the corpus or the state came from, so an engine that trains a shard of the corpus on
another machine can run it unchanged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import threading
import time
from typing import TYPE_CHECKING, List, Optional, Union

from ..config import available_cores, check_vocabulary
from ..errors import (
    ConfigError,
    CorpusError,
    FastW2VError,
    TrainingDiverged,
    python_warning,
)
from ..model import Model, TrainStats
from ..state import ModelState
from ..text.corpus import EncodedCorpus, check_corpus_path
from ..text.sources import CorpusArgument, CorpusFiles
from .checkpoint import (
    DEFAULT_INTERVAL,
    Checkpoint,
    CheckpointInterval,
    CorpusFingerprint,
    TrainingPosition,
    save_checkpoint,
)
from .heap import return_free_heap
from .kernel import KernelSettings, KernelTables, build_tables
from .kernel import kernel as _kernel
from .progress import ProgressPrinter
from .starts import COUNTING_STATS, ResumedStart, check_starting_point, choose_start

if TYPE_CHECKING:
    from ..distributed.reading import ShardedCorpus

__all__ = ["train", "Trainer", "TrainingInterrupted", "check_starting_point"]

# Tokens per job: large enough that Python's share of the time is negligible, small
# enough that the learning rate moves smoothly and both threads finish together.
JOB_TOKENS = 20_000

assert _kernel.SENTENCE_END_ID == -1

CHECKPOINT_EVERY_ALONE = "--checkpoint-every needs --checkpoint PATH (where to write)"


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped training after a checkpoint of the state was written.

    A KeyboardInterrupt, so code that handles interruption still does; `checkpoint` is
    the path to give to `resume=` (the CLI's --resume).
    """

    def __init__(self, checkpoint: str, corpus: CorpusFiles):
        given = corpus.given[0] if len(corpus.given) == 1 else list(corpus.given)
        super().__init__(f"training state saved in {checkpoint}; continue with "
                         f"fastw2v.train({given!r}, resume={checkpoint!r})")
        self.checkpoint = checkpoint
        self.corpus = " ".join(corpus.given)
        # The command line that finishes the run, when the CLI started it
        # (fastw2v/cli/training.py sets it).
        self.resume_command: Optional[str] = None


def train(corpus: CorpusArgument, *, progress: bool = False, read_vocab: Optional[str] = None,
          save_vocab: Optional[str] = None, tmp_dir: Optional[str] = None,
          warn=None, checkpoint: Optional[str] = None, checkpoint_every=None,
          resume: Optional[str] = None, init_from: Optional[str] = None,
          grow_vocab: bool = False, ray: Optional[str] = None,
          ray_workers: Optional[int] = None, sync_every: Optional[int] = None,
          ray_max_worker_rate: Optional[float] = None, ray_read: Optional[str] = None,
          **options) -> Model:
    """Train word vectors on `corpus` and return the Model.

    `corpus` is a text file, a folder (its files, sorted by name), or a sequence of
    them, read in order as one text (fastw2v/text/sources.py).

    `options` are the fields of TrainConfig (dim, window, negative, sample, alpha,
    min_alpha, epochs, min_count, max_vocab, threads, seed, architecture, loss, ...).
    `progress=True` draws a progress line on stderr. `read_vocab` takes the vocabulary
    from a `word count` file instead of counting; `save_vocab` writes the counted one.
    Warnings (invalid UTF-8 replaced, rare words pruned, more threads than cores) go to
    Python's `warnings` as FastW2VWarning, or to `warn(message)` if given.

    `checkpoint` is a file where the whole training state is written every
    `checkpoint_every` ("30m", "2h", "1e" for every epoch, or a CheckpointInterval;
    default 30 minutes) and when Ctrl-C or SIGTERM stops training (which then raises
    TrainingInterrupted). The file is left in place when training ends.
    `resume` continues from such a file, on the same corpus and with the same settings
    (only `threads` may change); its checkpoints go to `checkpoint`, or by default back
    to `resume`. `init_from` continues training a saved .fw2v model on this corpus, its
    vocabulary fixed; its settings are the defaults of `options`. With `grow_vocab` the
    words of this corpus that reach `min_count` join its vocabulary instead
    (fastw2v/training/growth.py; not for hierarchical softmax).

    `ray` trains on a Ray cluster instead ("local", "auto" or "HOST:PORT"; needs
    `pip install "fastw2v[ray]"`): `ray_workers` workers of `threads` threads each,
    synchronised every `sync_every` words per worker (fastw2v/distributed/engine.py)
    with workers that train at most at the learning rate `ray_max_worker_rate` (default
    0.0667; the driver multiplies their mean change by what the rate could not give, up
    to 2 times for skip-gram and 3 for CBOW, above which the workers' rate goes past it).
    `ray_read` says where the corpus is read: "workers" (each worker counts and encodes
    its share of the files: they must be on a file system every node reads), "driver"
    (the driver encodes it and ships each worker its ids), or "auto" (the default:
    workers when every worker opens every file, driver otherwise, saying why);
    fastw2v/distributed/reading.py.
    """
    from ..distributed.engine import RayEngine, RaySettings  # Ray itself only if asked for

    start = choose_start(read_vocab, resume, init_from, grow_vocab)
    saved_ray = start.saved.ray if isinstance(start, ResumedStart) else None
    config = start.configure(options)
    # Ray's defaults depend on the architecture (a resumed run's is the checkpoint's).
    cluster = RaySettings.of(ray, ray_workers, sync_every, resumed=saved_ray,
                             resuming=resume, max_worker_rate=ray_max_worker_rate,
                             read=ray_read, architecture=config.architecture)
    if checkpoint is None and resume is not None:
        checkpoint = resume
    if checkpoint_every is not None and checkpoint is None:
        raise ConfigError("checkpoint_every needs checkpoint=PATH (where to write)",
                          CHECKPOINT_EVERY_ALONE)
    if not isinstance(checkpoint_every, CheckpointInterval):
        checkpoint_every = CheckpointInterval.parse(checkpoint_every or DEFAULT_INTERVAL)
    corpus = check_corpus_path(corpus)  # its files, in reading order
    warn = warn or python_warning
    cores = available_cores()
    if cluster is None and config.threads is not None and config.threads > cores:
        warn(f"{config.threads} threads on {cores} cores: the threads beyond {cores} only "
             f"take turns, so training is no faster (and may be slower)")
    stats = TrainStats()
    # On Ray, threads not asked for are the cluster's CPUs shared among the workers (all
    # of this machine's cores each would ask Ray for workers x cores CPUs).
    threads = options.get("threads")
    with _session(cluster, tmp_dir, threads) as session:
        began = time.perf_counter()
        reading = None
        if session is not None:
            from ..distributed.reading import choose_reading

            config = dataclasses.replace(config, threads=session.threads)

            reading = choose_reading(session, corpus, session.settings.read,
                                     _driver_option(read_vocab, resume, init_from), warn)
        if reading is not None:
            vocab, encoded = reading.read_corpus(config, stats, warn)
        else:
            vocab, encoded = start.read_corpus(corpus, config, tmp_dir, stats, warn)
        check_vocabulary(config, len(vocab))
        if save_vocab is not None:
            vocab.save(save_vocab)
        # Counting and encoding; `read_corpus` timed the encoding on its own.
        stats.seconds["vocab"] = time.perf_counter() - began - stats.seconds["encode"]

        began = time.perf_counter()
        tables = build_tables(vocab.counts, config)
        # Before the matrices: what counting freed would otherwise stay resident beside
        # them.
        return_free_heap()
        state, at = start.initial(vocab, config, encoded)
        writer = None
        if checkpoint is not None:
            # A run resumed into its own checkpoint file finds the file already holding
            # its starting state, so an immediate interruption need not write it again.
            holds_start = resume is not None and _same_path(checkpoint, resume)
            writer = CheckpointWriter(checkpoint, checkpoint_every, corpus, warn,
                                      holds_start, run=_RunIdentity.of(corpus, encoded, stats))
        if isinstance(start, ResumedStart):
            stats.resumed_epoch = min(at.epoch + 1, config.epochs)
            stats.resumed_share = at.share_done(encoded.n_words * config.epochs)
            stats.words_before_resume = at.words_done
        try:
            if session is not None:
                RayEngine(session, state, encoded, tables, stats, job_tokens=JOB_TOKENS,
                          reading=reading, progress=progress, warn=warn,
                          checkpoints=writer, resumed=saved_ray).run(at)
            else:
                assert isinstance(encoded, EncodedCorpus)
                sgd_began = time.perf_counter()
                Trainer(state, encoded, tables, stats, progress=progress,
                        checkpoints=writer).run(at)
                # The training alone, without the tables and the initial matrices (on
                # Ray, the engine times its rounds under the same name).
                stats.seconds["sgd"] = time.perf_counter() - sgd_began
        finally:
            encoded.close()  # its file was unlinked on creation: this frees the disk
    # A resumed run's time covers the part it trained (see TrainStats.words_per_second).
    stats.seconds["train"] = time.perf_counter() - began
    return Model(state, stats, tables)


def _session(cluster, tmp_dir: Optional[str], threads: Optional[int]):
    """The Ray session of a run on Ray (its workers started before the corpus is read,
    since they may read it), or no session. Each worker runs `threads` threads, or, if
    None, the cluster's CPUs divided among the workers."""
    if cluster is None:
        return contextlib.nullcontext()
    from ..distributed.session import RaySession

    return RaySession(cluster, threads, tmp_dir)


def _driver_option(read_vocab, resume, init_from) -> Optional[str]:
    """The option whose start needs the corpus read on the driver, if one is given:
    --resume (the checkpoint's shards are cut from the driver's stream), --init-from
    (its unknown words are reported from one counting pass), --read-vocab (kept simple;
    the workers could encode with it). fastw2v/distributed/reading.py."""
    for name, value in (("resume", resume), ("init_from", init_from),
                        ("read_vocab", read_vocab)):
        if value is not None:
            return name
    return None


def _same_path(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


@dataclasses.dataclass(frozen=True)
class _RunIdentity:
    """What a checkpoint records besides the state and position: the corpus it was made
    from, how it encoded, and what the counting pass found."""

    corpus: CorpusFingerprint
    stream_length: int
    n_words: int
    counting: dict

    @classmethod
    def of(cls, corpus: CorpusFiles, encoded: Union[EncodedCorpus, ShardedCorpus],
           stats: TrainStats) -> _RunIdentity:
        return cls(CorpusFingerprint.of(corpus), len(encoded), encoded.n_words,
                   {name: getattr(stats, name) for name in COUNTING_STATS})


class CheckpointWriter:
    """When this run's checkpoints are due, and what a failure to write one means."""

    def __init__(self, path: str, interval: CheckpointInterval, corpus: CorpusFiles, warn,
                 holds_start: bool, run: _RunIdentity):
        self.path = path
        self.interval = interval
        self.corpus = corpus
        self.warn = warn
        self.holds_start = holds_start  # the file already holds the state training starts from
        self.run = run
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
        assert self.interval.seconds is not None  # an interval is epochs or seconds
        return time.monotonic() - self.last_time >= self.interval.seconds

    def write(self, state: ModelState, at: TrainingPosition, job: int,
              ray: Optional[dict] = None) -> bool:
        """Write the state before `job` (a run on Ray: before round `job`, with `ray`,
        Checkpoint.ray). A failure (disk full, ...) is only a warning: the previous
        checkpoint is intact, and the run itself is still good."""
        self.last_job = job
        checkpoint = Checkpoint(state, at, self.run.corpus, self.run.stream_length,
                                self.run.n_words, JOB_TOKENS, self.run.counting, ray)
        try:
            save_checkpoint(self.path, checkpoint)
        except FastW2VError as exc:
            self.warn(f"checkpoint not written, training goes on: {exc}")
            return False
        finally:
            self.last_time = time.monotonic()
        self.saved_job = job
        return True

    def write_on_interrupt(self, state: ModelState, at: TrainingPosition, job: int,
                           ray: Optional[dict] = None) -> None:
        """Raise TrainingInterrupted once the file holds the state before `job`; return
        (and let the interruption go on as usual) if it could not be written."""
        if self.saved_job == job or self.write(state, at, job, ray):
            raise TrainingInterrupted(self.path, self.corpus) from None


class _Shared:
    """What the worker threads share, guarded by one lock: the sums, and the job pointer.

    Jobs are numbered epoch by epoch; `next_job` is the first not yet handed out. A
    checkpoint is taken by the worker that finds one due: it sets `holding` (no worker
    takes a job while it is set), waits for `in_flight` to reach 0, and writes the state,
    which then holds every job before `next_job` and nothing of any later one.
    """

    def __init__(self, at: TrainingPosition, next_job: int):
        self.lock = threading.Lock()
        # Signalled when a job ends or a checkpoint is done.
        self.changed = threading.Condition(self.lock)
        self.next_job = next_job
        self.in_flight = 0
        self.holding = False
        self.words_done = at.words_done
        self.loss = list(at.epoch_loss)
        self.examples = list(at.epoch_examples)
        self.kept = at.kept
        # The global NCE normaliser lives here, in Python: each job starts from its
        # current value and reports the change its thread made, so no scalar is shared
        # in the kernel.
        self.global_gamma = at.global_gamma
        self.current_epoch = min(at.epoch, len(self.loss) - 1)
        self.stop = False
        self.error: Optional[BaseException] = None


class Trainer:
    """Trains a model state on an encoded corpus, from a position to the end of the run.

    `run(at)` trains every job from `at` on, updating the state's arrays in place, and
    fills the state's loss history and the statistics. The worker threads, the job
    pointer and the checkpoints are its concern; the state and the corpus are given.
    """

    # Seconds between two redraws of the progress line.
    progress_interval = 0.5

    def __init__(self, state: ModelState, encoded: EncodedCorpus, tables: KernelTables,
                 stats: TrainStats, *, progress: bool = False,
                 checkpoints: Optional[CheckpointWriter] = None):
        assert state.config is not None and state.w_out is not None
        # A resolved config: alpha and threads are known.
        assert state.config.alpha is not None and state.config.threads is not None
        self.state = state
        self.config = state.config
        self.alpha0: float = state.config.alpha
        self.threads: int = state.config.threads
        self.encoded = encoded
        self.stats = stats
        self.show_progress = progress
        self.checkpoints = checkpoints
        self.kernel_tables = tables
        self.kernel = _kernel.Trainer(state.w_in, state.w_out, state.gamma, tables,
                                      KernelSettings.from_config(self.config),
                                      state.context_bias)
        self.bounds = encoded.job_bounds(JOB_TOKENS)
        self.jobs_per_epoch = len(self.bounds)
        self.n_jobs = self.jobs_per_epoch * self.config.epochs
        self.workers = [self.kernel.new_worker(self.config.seed * 65536 + i)
                        for i in range(self.threads)]

    # -- the learning rate and the jobs --------------------------------------------------

    def alpha_at(self, share_done: float) -> float:
        """word2vec's linear decay from --alpha to --min-alpha over the whole run."""
        return self.alpha0 - (self.alpha0 - self.config.min_alpha) * share_done

    def _alpha_at_token(self, epoch: int, token: int) -> float:
        total = len(self.encoded) * self.config.epochs
        return self.alpha_at((epoch * len(self.encoded) + token) / total)

    def _job_index(self, at: TrainingPosition) -> int:
        """The number of the job that begins at (epoch, token)."""
        if at.epoch == self.config.epochs:
            return self.n_jobs
        starts = {begin: i for i, (begin, _) in enumerate(self.bounds)}
        if at.token not in starts:
            raise CorpusError(f"the saved position (token {at.token:,} of epoch "
                              f"{at.epoch + 1}) is not the start of a job in this corpus")
        return at.epoch * self.jobs_per_epoch + starts[at.token]

    def _position(self) -> TrainingPosition:
        """Where the run stands between jobs; call only with no job in flight."""
        shared = self.shared
        epoch, job_in_epoch = divmod(shared.next_job, self.jobs_per_epoch)
        token = self.bounds[job_in_epoch][0] if epoch < self.config.epochs else 0
        return TrainingPosition(
            epoch=epoch, token=token, words_done=shared.words_done, kept=shared.kept,
            epoch_loss=list(shared.loss), epoch_examples=list(shared.examples),
            rng_states=[worker.rng_state for worker in self.workers],
            global_gamma=shared.global_gamma,
            train_seconds=self.seconds_before + time.perf_counter() - self.began)

    def _take_job(self) -> Optional[int]:
        """The next job's number, or None when training is over; first writes a
        checkpoint if one is due."""
        shared, writer = self.shared, self.checkpoints
        with shared.lock:
            while True:
                while shared.holding:
                    shared.changed.wait()
                if shared.stop or shared.next_job >= self.until_job:
                    return None
                if writer is None or not writer.due(shared.next_job, self.jobs_per_epoch):
                    break
                shared.holding = True
                try:
                    while shared.in_flight:
                        shared.changed.wait()
                    # A job that ended meanwhile may have diverged (or Ctrl-C came): its
                    # state must not replace the last good checkpoint.
                    if not shared.stop:
                        writer.write(self._state_now(), self._position(), shared.next_job)
                finally:
                    shared.holding = False
                    shared.changed.notify_all()
            shared.next_job += 1
            shared.in_flight += 1
            return shared.next_job - 1

    def _state_now(self) -> ModelState:
        """The state with the global normaliser as it stands (it is summed in Python)."""
        if self.config.nce_gamma == "global":
            self.state.gamma[0] = self.shared.global_gamma
        return self.state

    def _work(self, number: int, worker) -> None:
        """One thread: take jobs and run them through the kernel until none is left."""
        shared = self.shared
        try:
            while True:
                job = self._take_job()
                if job is None:
                    return
                epoch, job_in_epoch = divmod(job, self.jobs_per_epoch)
                begin, end = self.bounds[job_in_epoch]
                loss, n_examples, n_words, n_kept, gamma_change = self.kernel.train_job(
                    worker, self.encoded.read(begin, end), self._alpha_at_token(epoch, begin),
                    self._alpha_at_token(epoch, end), shared.global_gamma)
                with shared.lock:
                    shared.global_gamma += gamma_change
                    shared.loss[epoch] += loss
                    shared.examples[epoch] += n_examples
                    shared.words_done += n_words
                    shared.kept += n_kept
                    shared.current_epoch = epoch
                    shared.in_flight -= 1
                    shared.changed.notify_all()
                    if not math.isfinite(loss) and shared.error is None:
                        shared.stop = True
                        shared.error = TrainingDiverged(
                            f"training diverged in epoch {epoch + 1}: the loss became "
                            f"{loss}; lower --alpha (it was {self.config.alpha})")
        except BaseException as exc:  # re-raised by the main thread after join
            with shared.lock:
                shared.stop = True
                if shared.error is None:
                    shared.error = exc
        finally:
            self.finished[number] = True

    # -- the run -------------------------------------------------------------------------

    def position(self) -> TrainingPosition:
        """Where the last `run` stopped (a distributed worker's next round starts here)."""
        return self._position()

    def run(self, at: TrainingPosition, until_job: Optional[int] = None) -> None:
        """Train every job from `at` on (up to job `until_job`, exclusive, when given: a
        distributed worker's round); the state's arrays and loss history hold the
        result."""
        self.until_job = self.n_jobs if until_job is None else min(until_job, self.n_jobs)
        self.began = time.perf_counter()
        self.seconds_before = at.train_seconds
        # A resumed run continues each thread's random stream where it stood (more
        # threads than before: the new ones start from their seeds).
        for worker, rng_state in zip(self.workers, at.rng_states):
            worker.rng_state = rng_state
        first_job = self._job_index(at)
        self.shared = _Shared(at, first_job)
        self.finished = [False] * len(self.workers)
        total_words = self.encoded.n_words * self.config.epochs
        printer = None
        if self.show_progress:
            printer = ProgressPrinter(total_words, words_before=at.words_done)
            if at.words_done:
                printer.announce(
                    f"resuming at epoch {min(at.epoch + 1, self.config.epochs)} of "
                    f"{self.config.epochs}, {100 * at.share_done(total_words):.1f}% of the "
                    f"run already trained")
        if self.checkpoints is not None:
            self.checkpoints.start(first_job)
        threads = [threading.Thread(target=self._work, args=(i, worker), daemon=True)
                   for i, worker in enumerate(self.workers)]
        for thread in threads:
            thread.start()
        try:
            self._watch(threads, printer, total_words)
        except BaseException as exc:
            self._stop_after_interruption(exc)
            raise
        finally:
            if printer is not None:
                printer.finish()
        shared = self.shared
        if shared.error is not None:
            raise shared.error
        self._state_now()
        self.state.loss_history = [loss / max(1, n)
                                   for loss, n in zip(shared.loss, shared.examples)]
        self.stats.n_words_trained = shared.words_done
        self.stats.n_kept = shared.kept
        self.stats.n_examples = sum(shared.examples)
        self.state.provenance.update(corpus_tokens=int(self.stats.n_tokens_read),
                                     words_trained=int(shared.words_done))

    def _watch(self, threads: List[threading.Thread], printer: Optional[ProgressPrinter],
               total_words: int) -> None:
        """Wait for the workers, redrawing the progress line."""
        shared = self.shared
        while True:
            alive = [t for t in threads if t.is_alive()]
            if not alive:
                return
            alive[0].join(timeout=self.progress_interval)
            if printer is not None:
                # Read without the lock: a display may mix two jobs' counts, but the main
                # thread must never hold the lock when Ctrl-C arrives, or it could leave
                # it held (an interrupt between acquiring and the with-block) and every
                # worker would then wait on it for ever. The rate shown follows the words
                # done, so it falls steadily even when jobs end out of order.
                epoch, words = shared.current_epoch, shared.words_done
                loss = shared.loss[epoch] / max(1, shared.examples[epoch])
                printer.update(words, epoch + 1, self.alpha_at(min(1.0, words / total_words)),
                               loss)

    def _stop_after_interruption(self, exc: BaseException) -> None:
        """Stop the workers after Ctrl-C (or any error in the main thread), and save the
        state for --resume if a checkpoint file was asked for."""
        self.shared.stop = True  # one attribute store: atomic, and needs no lock
        # Wait on the workers' own flags, not Thread.join: on Python 3.11 a join that
        # Ctrl-C interrupted may have marked a thread that is still running as stopped
        # (threading's bpo-45274 handling releases the lock the running thread holds),
        # and the state below must not be taken while a job is in flight.
        while not all(self.finished):
            time.sleep(0.005)
        # Every job handed out has now ended and been added up, so the state is
        # consistent: save it for --resume unless a worker failed.
        if (isinstance(exc, KeyboardInterrupt) and self.checkpoints is not None
                and self.shared.error is None):
            self.checkpoints.write_on_interrupt(self._state_now(), self._position(),
                                                self.shared.next_job)
