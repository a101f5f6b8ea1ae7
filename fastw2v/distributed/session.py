"""A training run's Ray session: the connection and the worker actors, for the whole run.

The session opens before the corpus is read, because reading may happen on the workers
(reading.py), and closes after the last round. It starts one `ShardWorker` actor per
worker, reserving `threads` CPUs for each, and learns each one's node; `restart`
replaces them all after a failure (engine.py's `_recover`). `get` is how the driver
waits for the workers: an error a worker raised for the user (a corpus file it cannot
read) comes back as one line naming the worker's node.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, List, Optional

from ..errors import ClusterError, FastW2VError
from .cluster import connected
from .worker import ShardWorker

if TYPE_CHECKING:
    from .engine import RaySettings

# Seconds to wait for the workers to start before calling them unplaceable.
START_SECONDS = 120.0


class RaySession:
    """`with RaySession(settings, threads, tmp_dir) as session:` Ray connected, the
    workers started (`actors`, `nodes`), and all stopped at the end. Each worker
    reserves and runs `threads` threads; None shares the cluster's CPUs among the
    workers (at least one each), which `threads` then holds."""

    def __init__(self, settings: RaySettings, threads: Optional[int],
                 tmp_dir: Optional[str]):
        self.settings = settings
        self.asked_threads = threads
        self.threads = threads or 1
        self.tmp_dir = tmp_dir
        self.actors: list = []
        self.nodes: List[str] = []
        self.open_seconds = 0.0
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> RaySession:
        began = time.perf_counter()
        settings = self.settings
        what = (f"{settings.workers:,} workers x {self.threads:,} threads"
                if self.asked_threads else f"{settings.workers:,} workers")
        with contextlib.ExitStack() as stack:
            self.ray = stack.enter_context(
                connected(settings.address, settings.workers * self.threads, what))
            if not self.asked_threads:
                cpus = int(self.ray.cluster_resources().get("CPU", 0))
                self.threads = max(1, cpus // settings.workers)
            stack.callback(self._stop_actors)
            self._start_actors()
            self._stack = stack.pop_all()
        self.open_seconds = time.perf_counter() - began
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def _start_actors(self) -> None:
        ray = self.ray
        remote = ray.remote(num_cpus=self.threads, max_restarts=0)(ShardWorker)
        self.actors = [remote.remote(self.tmp_dir) for _ in range(self.settings.workers)]
        try:
            self.nodes = ray.get([a.node.remote() for a in self.actors], timeout=START_SECONDS)
        except ray.exceptions.GetTimeoutError:
            raise ClusterError(f"the Ray workers did not start within {START_SECONDS:g} s: "
                               f"the cluster has too few free CPUs for "
                               f"{self.settings.workers:,} workers x {self.threads:,} "
                               f"threads") from None

    def _stop_actors(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []

    def restart(self) -> None:
        """Replace every worker by a new one (which has no shard yet)."""
        self._stop_actors()
        self._start_actors()

    def get(self, refs: list) -> list:
        """The results of one call per worker (`refs[i]` is worker i's), in order."""
        return [self.get_one(i, ref) for i, ref in enumerate(refs)]

    def get_one(self, i: int, ref):
        """Worker i's result. A FastW2VError it raised (a corpus file it cannot read)
        becomes a ClusterError naming its node, as does its death here (a failure in a
        training round is the engine's to recover from, and never comes through here)."""
        ray = self.ray
        where = f"Ray worker {i + 1} (on node {self.nodes[i]})"
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, FastW2VError):
                raise ClusterError(f"{where}: {cause}") from None
            raise
        except ray.exceptions.RayActorError:
            raise ClusterError(f"{where} died before training began; the run stopped and "
                               f"no output was written") from None
