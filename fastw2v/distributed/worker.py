"""One Ray worker: a copy of the model state, its shard of the id stream, and a Trainer.

The worker is a plain class; the session makes it a Ray actor (`ray.remote`), so this
module needs no Ray. It gets its shard in one of two ways (reading.py): it counts and
encodes its share of the corpus files itself (`count`, then `encode` with the driver's
vocabulary), or it takes the ids the driver encoded (`take_ids`). Then, from `start`,
it runs the same `Trainer` as a single-machine run, on its shard
(kept in its own temporary file for every epoch: no epoch reads text again), one round
at a time, and reports what the round changed: the rows of its working copy that
differ from the synchronised model, as rounded deltas (exchange.py, which also says
why every worker's synchronised model stays identical to the driver's). The driver
combines every worker's deltas and sends back one rounded update, which `apply` adds
to both the synchronised model and the working copy.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..model import TrainStats
from ..state import ModelState
from ..text.corpus import CorpusScan, EncodedCorpus
from ..text.sources import CorpusShare
from ..training.checkpoint import TrainingPosition
from ..training.kernel import KernelTables
from ..training.trainer import Trainer
from .exchange import Message, apply_update, full_message, worker_message
from .reading import (
    ShardSummary,
    ShareCounts,
    count_share,
    encode_share,
    ids_shard,
    probe_files,
)

# The arrays a round changes, by name; gamma is seen as a column so that all are rows.
ARRAYS = ("w_in", "w_out", "gamma")


def _arrays(state: ModelState) -> Dict[str, np.ndarray]:
    assert state.w_out is not None
    return {"w_in": state.w_in, "w_out": state.w_out, "gamma": state.gamma.reshape(-1, 1)}


class ShardWorker:
    """Reads or takes its shard of the corpus, then trains it on its copy of the state,
    a round at a time."""

    def __init__(self, tmp_dir: Optional[str] = None):
        self.tmp_dir = tmp_dir
        self.scan: Optional[CorpusScan] = None  # between `count` and `encode`
        self.encoded: Optional[EncodedCorpus] = None

    def node(self) -> str:
        import ray  # only ever called inside a Ray actor
        return str(ray.util.get_node_ip_address())

    def probe(self, paths: Sequence[str]) -> List[Tuple[int, str]]:
        return probe_files(paths)

    def count(self, share: CorpusShare, max_vocab: int) -> ShareCounts:
        self.scan, counts = count_share(share, max_vocab, self.tmp_dir)
        return counts

    def encode(self, share: CorpusShare, words: Sequence[str]) -> ShardSummary:
        """Encode `share` with the vocabulary `words`, from this worker's counting pass
        if it made one."""
        scan, self.scan = self.scan, None
        self.encoded = encode_share(share, words, self.tmp_dir, scan)
        return ShardSummary.of(self.encoded)

    def take_ids(self, shard: np.ndarray) -> ShardSummary:
        self.encoded = ids_shard(shard, self.tmp_dir)
        return ShardSummary.of(self.encoded)

    def start(self, state: ModelState, tables: KernelTables,
              at: Optional[TrainingPosition] = None) -> int:
        """Begin training the shard from `state` at `at` (a replacement for a failed
        worker takes up where the shard stood at the last synchronisation); return the
        shard's number of jobs."""
        assert self.encoded is not None, "the shard comes before training"
        self.state = state.writable()
        assert self.state.config is not None
        self.trainer = Trainer(self.state, self.encoded, tables, TrainStats())
        self.at = at or TrainingPosition.beginning(self.state.config.epochs,
                                                   float(self.state.gamma[0]))
        # The synchronised model: the same on every worker and on the driver.
        self.synced = {name: array.copy() for name, array in _arrays(self.state).items()}
        return self.trainer.n_jobs

    def train_round(self, until_job: int, threshold: float,
                    full: bool) -> Tuple[List[Message], TrainingPosition]:
        """Train up to job `until_job`; return the deltas of the rows that moved by at
        least `threshold` since the last synchronisation (exchange.worker_message), in
        one message, or of every row that moved, in the messages of a full round
        (exchange.full_message), and the position (whose sums are this worker's since
        the run began)."""
        self.trainer.run(self.at, until_job=until_job)
        self.at = self.trainer.position()
        arrays = _arrays(self.state)
        if full:
            return full_message(arrays, self.synced), self.at
        return [worker_message(arrays, self.synced, threshold)], self.at

    def apply(self, update: Message) -> None:
        """Add the driver's update to the synchronised model and the working copy."""
        apply_update(self.synced, update)
        apply_update(_arrays(self.state), update)
        if self.state.config.nce_gamma == "global":  # type: ignore[union-attr]
            self.at.global_gamma = float(self.state.gamma[0])
