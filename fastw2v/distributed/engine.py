"""Data-parallel training on Ray: the driver's side.

The session (session.py) has started one `ShardWorker` actor per worker, reserving
`threads` CPUs for each, and every worker has its shard of the corpus, or gets it here:
either the workers read and encoded their own shares of the files (reading.py's
`WorkerReading`), or the driver read and encoded the corpus (fastw2v/training/starts.py,
as for any run), and the engine cuts the id stream at sentence ends into one shard per
worker and ships each once through Ray's object store (`ShippedShards`). Training then
goes in rounds: every worker trains
`sync_every` words of its shard (the same share of each shard, so all workers stand at
the same global progress and the learning rate, a function of that progress, is the
same everywhere), reports the rows it changed, and receives the combined rows.

The synchronisation rule (measured in benchmarks/RESULTS.md, argued in
docs/distributed.md): the synchronised model moves by the mean of the workers' deltas
times a block learning rate B, and the workers train with the learning rate times F,
where F x B = W. Averaging W models divides each worker's step by W; F and B give it
back between them. F is as large as it can be without a worker's rate passing
`max_worker_rate` (0.0667 by default: F = 2.67 for skip-gram's 0.025, 1.33 for CBOW's
0.05), so up to that the rule is the plain average of the workers' models with the
rate x W (B = 1), and beyond it the driver's B does the rest, but B never passes
MAX_BLOCK_RATE (2 for skip-gram, 3 for CBOW), where F goes above the limit instead:
the larger a worker's rate, the further its steps are from one process's small ones
(4 skip-gram workers at 0.1 lost 1.3 analogy points, at 0.0667 0.3). B is spread over
two rounds (`block_split`): applied at once, a B of 2 overshoots for ever on the rows
every worker settles within a round (they rang at 2 and diverged above); split, such
rows settle, while rows that move the same way every round still move B mean deltas a
round. The update is computed from changed rows only: a row no worker changed is the
same in every model, so only changed rows travel, both ways, as one-byte deltas; rows
that moved by less than a small fraction of the learning rate wait on their worker
until they have moved enough (exchange.py).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from ..errors import ClusterError, ConfigError
from ..model import TrainStats
from ..state import ModelState
from ..text.corpus import EncodedCorpus
from ..training.checkpoint import TrainingPosition
from ..training.kernel import KernelTables
from ..training.progress import ProgressPrinter
from .exchange import FULL_ROUND_PARTS, SKIP_BELOW, combine, wire_bytes
from .reading import READ_MODES, ShardedCorpus, ShippedShards, WorkerReading
from .session import RaySession
from .worker import _arrays

if TYPE_CHECKING:
    from ..training.trainer import CheckpointWriter

# When --sync-every is not given, the workers together train DEFAULT_ROUND_WORDS words
# between two synchronisations, each at least MIN_DEFAULT_SYNC_EVERY, by architecture
# (benchmarks/RESULTS.md, "Ray", and docs/distributed.md, "The interval"). Skip-gram: 4
# workers at 400,000 words each match one process's quality (about 50 rounds in 5
# epochs of wiki8), and shorter rounds gain nothing; fewer workers keep the length of a
# round in words, so as many rounds, and synchronise less often; more workers keep
# 400,000 words each, below which the bytes per trained word pass the 50. CBOW:
# 4 workers at 250,000 words each (with B up to 3, below) came 0.68 analogy points
# nearer one process than at 400,000 with B = 2 ("Ray's rule, sixth session").
DEFAULT_ROUND_WORDS = {"skipgram": 1_600_000, "cbow": 1_000_000}
MIN_DEFAULT_SYNC_EVERY = {"skipgram": 400_000, "cbow": 250_000}


def default_sync_every(workers: int, architecture: str = "skipgram") -> int:
    """Words each of `workers` workers trains between two synchronisations by default."""
    return max(MIN_DEFAULT_SYNC_EVERY[architecture],
               DEFAULT_ROUND_WORDS[architecture] // workers)

# The largest learning rate a worker trains with by default: beyond it the driver's block
# learning rate multiplies the mean delta instead (benchmarks/RESULTS.md, "the combining
# rule for 8 workers and CBOW" and "Ray's rule, fifth session": 4 skip-gram workers lost
# 1.3 analogy points to one process at 0.1 and 0.3 at 0.0667, the similarity sets held).
DEFAULT_MAX_WORKER_RATE = 0.0667
# The largest block learning rate, which takes precedence over the largest worker rate,
# by architecture. Applied at once, a B of 2 rings and above it diverges (block_split);
# spread over two rounds, B = 2 damps a settled row's error by 0.41 a round and B = 3
# by only 0.73. 8 skip-gram workers at F = 2.67 with B = 3 lost more than at F = 4 with
# B = 2, on SimLex most; 4 CBOW workers at F = 1.33 with B = 3, in rounds of 250,000
# words, gained 0.68 analogy points on F = 2 with B = 2 over five seeds (RESULTS.md,
# "Ray's rule, sixth session"). A CBOW row takes one update a position where a
# skip-gram row takes one a context word, so fewer CBOW rows settle within a round,
# where the slower damping costs.
MAX_BLOCK_RATE = {"skipgram": 2.0, "cbow": 3.0}
# Worker failures a run recovers from before it gives up (a node that keeps dying is
# better reported than retried for ever).
MAX_RESTARTS = 3


def block_split(block: float) -> Tuple[float, float]:
    """The block learning rate B as the multiples of a round's mean delta that the
    driver adds at once, a = 2 sqrt(B) - 1, and with the row's next update, b = (sqrt(B)
    - 1)^2 (a + b = B; (B, 0) for B of 1 or less: the plain average, or less).

    Why (docs/distributed.md, "The synchronisation rule"): a row that moves the same way
    in every round moves B mean deltas a round either way. A row every worker settles
    within a round at the same place has a mean delta of minus its error e; applied at
    once, e becomes (1 - B) e, which never shrinks from B = 2 on. Split, e_next = (1 - a)
    e - b e_before, whose roots are both 1 - sqrt(B) for this a and b, the smallest
    that B allows: 0.41 at B = 2, 0.73 at B = 3, and below 1 in size for every row
    between settled and moving as long as B < 4."""
    if block <= 1:
        return block, 0.0
    root = math.sqrt(block)
    return 2 * root - 1, (root - 1) ** 2


@dataclass(frozen=True)
class RaySettings:
    """Where and how wide to train: `address` (local, auto or HOST:PORT), `workers`,
    `sync_every` (words per worker between synchronisations), `max_worker_rate`, the
    largest learning rate a worker trains with (the module's comment), and `read`, where
    the corpus is read (READ_MODES; reading.py)."""

    address: str
    workers: int
    sync_every: int
    max_worker_rate: float = DEFAULT_MAX_WORKER_RATE
    read: str = "auto"
    # A run resumed from a checkpoint written before the block rate had a limit keeps
    # none, and one written before it was spread over two rounds applies it at once (the
    # rule it was trained with).
    max_block_rate: float = MAX_BLOCK_RATE["skipgram"]
    split_block: bool = True

    def rate_factor(self, alpha: float) -> float:
        """F: what every worker's learning rate is multiplied by, for the rate `alpha`;
        as close to W as `max_worker_rate` allows, and at least 1, but never so small
        that B = W / F passes `max_block_rate` (a worker's rate above the largest
        costs quality; a block rate above its largest damps settled rows too little, or
        not at all)."""
        capped = min(float(self.workers), max(1.0, self.max_worker_rate / alpha))
        return max(capped, self.workers / self.max_block_rate)

    def block_rate(self, alpha: float) -> float:
        """B = W / F: what the driver multiplies the workers' mean delta by."""
        return self.workers / self.rate_factor(alpha)

    def block_split(self, alpha: float) -> Tuple[float, float]:
        """B as (at once, later): block_split's, or (B, 0) for a run resumed from a
        checkpoint of the rule that applied B at once."""
        block = self.block_rate(alpha)
        return block_split(block) if self.split_block else (block, 0.0)

    @classmethod
    def of(cls, address: Optional[str], workers: Optional[int],
           sync_every: Optional[int], resumed: Optional[Dict] = None,
           resuming: Optional[str] = None,
           max_worker_rate: Optional[float] = None,
           read: Optional[str] = None,
           architecture: str = "skipgram") -> Optional[RaySettings]:
        """The settings, or None for a run on this machine alone; ConfigError for
        worker options without an address or values out of range. The default interval
        and the largest block rate are the `architecture`'s. Resuming the checkpoint
        `resuming` (whose Ray part, Checkpoint.ray, is `resumed`), the workers, the
        interval and both largest rates are the checkpoint's, and only a run on Ray
        resumes a run on Ray."""
        options = (("ray_workers", workers), ("sync_every", sync_every),
                   ("ray_max_worker_rate", max_worker_rate), ("ray_read", read))
        if read is not None and read not in READ_MODES:
            raise ConfigError(f"ray_read must be one of {', '.join(READ_MODES)} (got {read!r})",
                              f"--ray-read must be one of {', '.join(READ_MODES)} (got {read})")
        read = read or "auto"
        if address is None:
            for name, value in options:
                if value is not None:
                    option = "--" + name.replace("_", "-")
                    raise ConfigError(f"{name} needs ray= (local, auto or HOST:PORT)",
                                      f"{option} needs --ray (local, auto or HOST:PORT)")
            if resumed is not None:
                what = (f"the checkpoint {resuming} was written by a run on Ray "
                        f"({resumed['workers']:,} workers): resume it on Ray")
                raise ConfigError(f"{what} (ray=local, auto or HOST:PORT)",
                                  f"{what} (--ray local, auto or HOST:PORT)")
            return None
        for name, value in options[:2]:
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
                option = "--" + name.replace("_", "-")
                raise ConfigError(f"{name} must be a whole number of at least 1 "
                                  f"(got {value!r})",
                                  f"{option} must be at least 1 (got {value})")
        if max_worker_rate is not None and (
                isinstance(max_worker_rate, bool)
                or not isinstance(max_worker_rate, (int, float))
                or not 0 < max_worker_rate < math.inf):
            raise ConfigError(f"ray_max_worker_rate must be a positive number "
                              f"(got {max_worker_rate!r})",
                              f"--ray-max-worker-rate must be positive (got {max_worker_rate})")
        if resuming is None:
            workers = workers or 2
            return cls(address, workers,
                       sync_every or default_sync_every(workers, architecture),
                       float(max_worker_rate or DEFAULT_MAX_WORKER_RATE), read,
                       max_block_rate=MAX_BLOCK_RATE[architecture])
        if resumed is None:
            what = f"the checkpoint {resuming} was written by a run on one machine"
            raise ConfigError(f"{what}: resume it without ray=", f"{what}: resume it "
                              f"without --ray")
        # A checkpoint that names no largest worker rate was written by the first rule,
        # the plain average with the rate x W: no largest rate.
        saved_values = {"ray_workers": resumed["workers"], "sync_every": resumed["sync_every"],
                        "ray_max_worker_rate": resumed.get("max_worker_rate") or math.inf}
        for name, value in options[:3]:
            saved = saved_values[name]
            if value is not None and value != saved:
                option = "--" + name.replace("_", "-")
                what = f"the checkpoint {resuming}: a resumed run on Ray keeps its"
                raise ConfigError(f"{what} {name} ({saved:,}; got {value:,})",
                                  f"{what} {option} ({saved:,}; got {value:,})")
        return cls(address, int(resumed["workers"]), int(resumed["sync_every"]),
                   float(saved_values["ray_max_worker_rate"]), read,
                   max_block_rate=float(resumed.get("max_block_rate") or math.inf),
                   split_block=bool(resumed.get("split_block", False)))


@dataclass
class Traffic:
    """Bytes moved through Ray by the synchronisations, each way, over all workers."""

    to_driver: int = 0
    from_driver: int = 0
    rounds: int = 0
    # Rows of each array the workers sent, and the driver sent back, over all rounds.
    rows_to_driver: Dict[str, int] = dataclasses.field(default_factory=dict)
    rows_from_driver: Dict[str, int] = dataclasses.field(default_factory=dict)

    def count_rows(self, messages: list, update: Dict) -> None:
        for name, packed in update.items():
            sent = sum(int(np.count_nonzero(np.unpackbits(m[name].mask))) for m in messages)
            self.rows_to_driver[name] = self.rows_to_driver.get(name, 0) + sent
            self.rows_from_driver[name] = (self.rows_from_driver.get(name, 0)
                                           + len(packed.values))


class RayEngine:
    """Trains the driver's state on the session's workers; `run` leaves the result in
    the state and the sums in the statistics, as `Trainer.run` does. `encoded` is the
    driver's id stream, or the workers' shards when `reading` (the WorkerReading that
    made them) is given."""

    def __init__(self, session: RaySession, state: ModelState,
                 encoded: Union[EncodedCorpus, ShardedCorpus], tables: KernelTables,
                 stats: TrainStats, *, job_tokens: int,
                 reading: Optional[WorkerReading] = None, progress: bool = False,
                 warn: Callable[[str], None] = print,
                 checkpoints: Optional[CheckpointWriter] = None,
                 resumed: Optional[Dict] = None):
        assert state.config is not None and state.config.threads is not None
        assert state.config.alpha is not None
        self.session = session
        self.settings = settings = session.settings
        self.state = state
        self.config = state.config
        self.encoded = encoded
        self.reading = reading
        self.tables = tables
        self.stats = stats
        self.job_tokens = job_tokens
        self.show_progress = progress
        self.traffic = Traffic()
        self.warn = warn
        self.restarts = 0
        self.checkpoints = checkpoints
        self.resumed = resumed
        # Where each shard stands (at the last synchronisation), and the rounds done.
        epochs = state.config.epochs
        gamma = float(state.gamma[0])
        self.positions = [TrainingPosition(**p) for p in resumed["shards"]] if resumed else [
            TrainingPosition.beginning(epochs, gamma) for _ in range(settings.workers)]
        self.rounds_done = resumed["rounds_done"] if resumed else 0
        # The rule's two factors (the module's comment): the workers' rate x F, the mean
        # delta x B.
        self.rate_factor = settings.rate_factor(state.config.alpha)
        self.block_rate = settings.block_rate(state.config.alpha)
        self.block_now, self.block_later = settings.block_split(state.config.alpha)

    def run(self, at: TrainingPosition) -> None:
        assert not at.words_done or self.rounds_done, "a run on Ray resumes only its own"
        session = self.session
        began = time.perf_counter()
        self.shards: Union[WorkerReading, ShippedShards]
        if self.reading is not None:
            self.shards = self.reading
        else:
            # A resumed run's shards end where the checkpoint's did (a checkpoint from
            # before they were recorded: where the same cutting put them then).
            lengths = self.resumed.get("shard_lengths") if self.resumed else None
            assert isinstance(self.encoded, EncodedCorpus)
            self.shards = ShippedShards(session, self.encoded, self.job_tokens, lengths)
        self.shard_lengths = [s.length for s in self.shards.summaries]
        self.tables_ref = session.ray.put(self.tables)
        self._start_workers(self.positions)
        # Joining or starting Ray, shipping the shards, starting the workers: the part
        # of the training time a one-process run does not have.
        self.stats.seconds["ray_start"] = (session.open_seconds + time.perf_counter()
                                           - began)
        began = time.perf_counter()
        self._rounds(session.ray)
        # The rounds alone (training and synchronising): what a one-process run's
        # Trainer.run time ("sgd" in both) compares with.
        self.stats.seconds["sgd"] = time.perf_counter() - began

    def _start_workers(self, positions: List[TrainingPosition]) -> None:
        """Start every worker, which holds its shard, from the driver's state (the last
        synchronisation) and its shard's position then."""
        settings, config, session = self.settings, self.config, self.session
        assert config.alpha is not None
        starts = []
        for i, actor in enumerate(session.actors):
            # Each worker trains with the rate times F (see the module's comment) and
            # draws its own random numbers.
            factor = self.rate_factor
            worker_config = dataclasses.replace(
                config, alpha=config.alpha * factor, min_alpha=config.min_alpha * factor,
                seed=config.seed + 7919 * (i + 1 + settings.workers * self.restarts))
            state = dataclasses.replace(self.state, config=worker_config)
            starts.append(actor.start.remote(state, self.tables_ref, positions[i]))
        self.n_jobs = session.get(starts)

    def _rounds(self, ray) -> None:
        settings, config = self.settings, self.config
        # The workers' shards hold the corpus's words, whichever way they were read.
        total_words = sum(s.n_words for s in self.shards.summaries) * config.epochs
        words_per_worker = total_words / settings.workers
        n_rounds = max(1, math.ceil(words_per_worker / settings.sync_every))
        printer = ProgressPrinter(total_words) if self.show_progress else None
        # The synchronised model (the state's own arrays) and what the driver could not
        # send of it yet (exchange.combine).
        synced = _arrays(self.state)
        residual = {name: np.zeros_like(array) for name, array in synced.items()}
        writer = self.checkpoints
        if writer is not None:
            writer.start(self.rounds_done)
        r = self.rounds_done
        try:
            while r < n_rounds:
                last = r + 1 == n_rounds
                # A checkpoint follows a round in which every worker sends all it has.
                checkpoint = not last and self._checkpoint_due(r, n_rounds)
                full = last or checkpoint
                threshold = 0.0 if full else SKIP_BELOW * self._worker_rate((r + 1) / n_rounds)
                pending = [actor.train_round.remote(round(n * (r + 1) / n_rounds), threshold,
                                                    full)
                           for actor, n in zip(self.session.actors, self.n_jobs)]
                try:
                    results = ray.get(pending)
                except ray.exceptions.RayActorError as exc:
                    self._recover(ray, pending, exc, r)
                    continue  # the round again, from the last synchronisation
                self.traffic.to_driver += sum(wire_bytes(result) for result in results)
                # Until the round is added in, the synchronised model and the positions
                # still describe the end of the round before.
                self.positions, self.rounds_done = [], None
                # Every message of every worker (two a worker in a full round); the mean
                # is still over the workers.
                messages = [m for parts, _ in results for m in parts]
                update = combine(synced, residual, messages, settings.workers,
                                 gain=self.block_now, carry=self.block_later)
                self.positions, self.rounds_done = [p for _, p in results], r + 1
                self.traffic.count_rows([parts[0] for parts, _ in results], update)
                if not last:
                    self.traffic.from_driver += wire_bytes(update) * settings.workers
                    ref = ray.put(update)
                    for actor in self.session.actors:
                        actor.apply.remote(ref)
                self.traffic.rounds += 1
                if printer is not None:
                    self._show(printer, self.positions, total_words)
                r += 1
                if checkpoint:
                    assert writer is not None
                    state, at, ray_part = self._checkpoint(synced, residual)
                    writer.write(state, at, r, ray_part)
        except KeyboardInterrupt:
            # (Before the first synchronisation there is nothing to save.)
            if writer is not None and self.rounds_done:
                state, at, ray_part = self._checkpoint(synced, residual)
                writer.write_on_interrupt(state, at, self.rounds_done, ray_part)
            raise
        finally:
            if printer is not None:
                printer.finish()
        # The output: everything the workers sent, to the last float32 bit.
        for name, array in synced.items():
            array += residual[name]
        self._finish(self.positions, n_rounds)

    def _checkpoint_due(self, r: int, n_rounds: int) -> bool:
        """Whether a checkpoint is to be written after round `r` (counted from 0)."""
        writer = self.checkpoints
        if writer is None:
            return False
        interval = writer.interval
        if interval.epochs is not None:
            # After the round that reaches the start of every interval.epochs-th epoch.
            every = interval.epochs * n_rounds / self.config.epochs
            return math.floor((r + 1) / every + 1e-9) > math.floor(r / every + 1e-9)
        assert interval.seconds is not None
        return time.monotonic() - writer.last_time >= interval.seconds

    def _checkpoint(self, synced: Dict[str, np.ndarray],
                    residual: Dict[str, np.ndarray]) -> Tuple[ModelState, TrainingPosition,
                                                               Dict]:
        """What a checkpoint at the last synchronisation holds: the output as it stands
        (the synchronised model plus the driver's residual), one position for the whole
        run (the sums, the earliest shard's epoch, every thread's random state) and the
        Ray part (Checkpoint.ray) with each shard's own."""
        arrays = {name: array + residual[name] for name, array in synced.items()}
        state = dataclasses.replace(self.state, w_in=arrays["w_in"], w_out=arrays["w_out"],
                                    gamma=arrays["gamma"].reshape(-1))
        positions, epochs = self.positions, self.config.epochs
        at = TrainingPosition(
            epoch=min(p.epoch for p in positions), token=0,
            words_done=sum(p.words_done for p in positions),
            kept=sum(p.kept for p in positions),
            epoch_loss=[sum(p.epoch_loss[e] for p in positions) for e in range(epochs)],
            epoch_examples=[sum(p.epoch_examples[e] for p in positions)
                            for e in range(epochs)],
            rng_states=[s for p in positions for s in p.rng_states],
            global_gamma=positions[0].global_gamma,
            train_seconds=max(p.train_seconds for p in positions))
        ray_part = {"workers": self.settings.workers, "sync_every": self.settings.sync_every,
                    "max_worker_rate": _finite(self.settings.max_worker_rate),
                    "max_block_rate": _finite(self.settings.max_block_rate),
                    "split_block": self.settings.split_block,
                    "rounds_done": self.rounds_done,
                    # Where each shard ends in the corpus's id stream: a resumed run cuts
                    # it there, however this run read it.
                    "shard_lengths": self.shard_lengths,
                    "shards": [dataclasses.asdict(p) for p in positions]}
        return state, at, ray_part

    def _worker_rate(self, share: float) -> float:
        """The learning rate every worker trains with at `share` of the run."""
        config = self.config
        assert config.alpha is not None
        rate = config.alpha - (config.alpha - config.min_alpha) * share
        return rate * self.rate_factor

    def _recover(self, ray, pending: list, exc: Exception, round_number: int) -> None:
        """A worker died during a round: restart every worker from the last
        synchronisation (the driver's state, each shard's position then) and let the
        round run again; the dead worker's shard goes to its replacement, wherever Ray
        can place it. After MAX_RESTARTS, or when no replacement can be placed, stop
        with ClusterError: the output is not written, so nothing damaged is saved."""
        which = next((i for i, ref in enumerate(pending) if _failed(ray, ref)), None)
        worker = f"worker {which + 1}" if which is not None else "a worker"
        node = getattr(exc, "ip", None) or "its node"
        where = f"Ray {worker} (on {node}) died in synchronisation round {round_number + 1:,}"
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise ClusterError(f"{where}, after {MAX_RESTARTS:,} restarts already; the run "
                               f"stopped and no output was written") from None
        self.warn(f"{where}; every worker restarts from the last synchronisation")
        try:
            self.session.restart()
            # Their shards again: read once more from the shared files, or the driver's.
            self.shards.reload(self.session)
            self._start_workers(self.positions)
        except ClusterError as error:
            raise ClusterError(f"{where}, and no replacement could start: {error}") from None

    def _show(self, printer: ProgressPrinter, positions: List[TrainingPosition],
              total_words: int) -> None:
        """One progress line for all workers: their words, the latest epoch trained."""
        config = self.config
        assert config.alpha is not None
        examples = [sum(p.epoch_examples[e] for p in positions) for e in range(config.epochs)]
        epoch = max([e for e, n in enumerate(examples) if n] or [0])
        loss = sum(p.epoch_loss[epoch] for p in positions) / max(1, examples[epoch])
        words = sum(p.words_done for p in positions)
        share = min(1.0, words / total_words)
        printer.update(words, epoch + 1,
                       config.alpha - (config.alpha - config.min_alpha) * share, loss)

    def _finish(self, positions: List[TrainingPosition], n_rounds: int) -> None:
        config, state, stats = self.config, self.state, self.stats
        epochs = config.epochs
        loss = [sum(p.epoch_loss[e] for p in positions) for e in range(epochs)]
        examples = [sum(p.epoch_examples[e] for p in positions) for e in range(epochs)]
        state.loss_history = [s / max(1, n) for s, n in zip(loss, examples)]
        stats.n_words_trained = sum(p.words_done for p in positions)
        stats.n_kept = sum(p.kept for p in positions)
        stats.n_examples = sum(examples)
        traffic = self.traffic
        words = max(1, stats.n_words_trained)
        state.provenance.update(
            corpus_tokens=int(stats.n_tokens_read), words_trained=int(stats.n_words_trained),
            distributed={
                "engine": "ray", "workers": self.settings.workers,
                "threads_per_worker": config.threads,
                "sync_every": self.settings.sync_every, "rounds": n_rounds,
                "restarts": self.restarts,
                # Where the corpus was read: each worker its share, or the driver all.
                "corpus_read_on": "workers" if self.reading is not None else "driver",
                "sync_rule": self._rule_text(),
                "max_worker_rate": _finite(self.settings.max_worker_rate),
                "worker_rate_factor": round(self.rate_factor, 4),
                "block_learning_rate": round(self.block_rate, 4),
                # B's parts added at once and with the row's next update (block_split).
                "block_split": [round(self.block_now, 4), round(self.block_later, 4)],
                "max_block_rate": _finite(self.settings.max_block_rate),
                "sync_encoding": f"deltas in 8 bits ({FULL_ROUND_PARTS} x 8 in the last "
                                 f"round and before a checkpoint), rows below "
                                 f"{SKIP_BELOW:g} x rate wait",
                "bytes_to_driver_per_word": round(traffic.to_driver / words, 2),
                "bytes_from_driver_per_word": round(traffic.from_driver / words, 2),
                # Per worker and round: what the traffic grows with (the vocabulary
                # touched in a round), to project it to other models.
                "rows_to_driver_per_round": {
                    name: round(n / (traffic.rounds * self.settings.workers))
                    for name, n in traffic.rows_to_driver.items()},
                "rows_from_driver_per_round": {
                    name: round(n / traffic.rounds)
                    for name, n in traffic.rows_from_driver.items()},
            })


    def _rule_text(self) -> str:
        factor, block, settings = self.rate_factor, self.block_rate, self.settings
        assert self.config.alpha is not None
        if block == 1:
            return (f"average of the workers' models (changed rows only), learning rate x "
                    f"{factor:g}")
        if factor * self.config.alpha <= settings.max_worker_rate * (1 + 1e-9):
            limit = f"at most {settings.max_worker_rate:g}"
        elif factor == 1:  # never below the rate asked for
            limit = (f"the rate asked for, above the largest worker rate, "
                     f"{settings.max_worker_rate:g}")
        else:  # B reached its largest first (RaySettings.rate_factor)
            limit = (f"above the largest worker rate, {settings.max_worker_rate:g}, as the "
                     f"mean delta is multiplied by at most {settings.max_block_rate:g}")
        split = (f" ({self.block_now:.3g} at once, {self.block_later:.3g} with the row's "
                 f"next update)" if self.block_later else "")
        return (f"mean of the workers' deltas (changed rows only) x {block:g}{split}, "
                f"learning rate x {factor:g} ({limit})")


def _finite(value: float) -> Optional[float]:
    """`value` for a JSON file, None for no limit (JSON has no infinity)."""
    return None if math.isinf(value) else value


def _failed(ray, ref) -> bool:
    try:
        ray.get(ref, timeout=0)
    except ray.exceptions.RayActorError:
        return True
    except Exception:
        return False
    return False
