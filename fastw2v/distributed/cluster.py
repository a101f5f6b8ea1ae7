"""Joining a Ray cluster for one training run, and what it can host.

`connected(address, ...)` is the only place that starts or joins Ray, so every way of
failing to reach a cluster ends here in one line: Ray not installed (say what to
install), an address nobody answers at (a plain TCP probe first, so the error comes in
seconds rather than after Ray's own minute of retries), no running cluster for `auto`,
and a cluster too small for the workers asked for (an actor that cannot be placed would
otherwise wait for ever).

Decisions:
- `local` starts a Ray instance with as many CPUs as this process may use, no dashboard,
  and stops it when the run ends; `auto` and HOST:PORT join a cluster and only
  disconnect from it.
- A Ray session already open in this process (a notebook's `ray.init()`) is used as it
  is and left open.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
from typing import Iterator

from ..config import available_cores
from ..errors import ClusterError, ConfigError

# Seconds to wait for a TCP answer from HOST:PORT before calling it unreachable.
PROBE_SECONDS = 5.0


def import_ray():
    """The ray module, or a one-line ConfigError saying how to install it."""
    try:
        import ray
    except ImportError:
        advice = 'Ray is not installed; install it with: pip install "fastw2v[ray]"'
        raise ConfigError(f"ray= needs Ray. {advice}", f"--ray needs Ray. {advice}") from None
    return ray


def _probe(address: str) -> None:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"ray={address!r}: expected 'local', 'auto' or HOST:PORT",
                          f"--ray {address}: expected local, auto or HOST:PORT")
    try:
        with socket.create_connection((host, int(port)), timeout=PROBE_SECONDS):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise ClusterError(f"cannot reach the Ray head node at {address}: {reason}") from None


@contextlib.contextmanager
def connected(address: str, cpus_needed: int, what: str) -> Iterator:
    """Ray, connected to the cluster `address` names, for the duration of the block.

    `cpus_needed` CPUs must exist in the cluster, or ClusterError says so, naming
    `what` needs them ("4 workers x 2 threads").
    """
    ray = import_ray()
    opened_here = not ray.is_initialized()
    if opened_here:
        with _own_sigterm():
            _open(ray, address)
    try:
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if cpus_needed > cpus:
            raise ClusterError(
                f"{what} need {cpus_needed:,} CPUs, but the Ray cluster ({address}) has "
                f"{cpus:,}; lower the number of workers or threads, or add nodes")
        yield ray
    finally:
        if opened_here:
            ray.shutdown()


@contextlib.contextmanager
def _own_sigterm() -> Iterator[None]:
    """Keep the process's SIGTERM handling through `ray.init`, which installs its own
    (exit at once): the CLI turns SIGTERM into Ctrl-C, so the workers are stopped and
    the interruption reported like any other."""
    main = threading.current_thread() is threading.main_thread()
    handler = signal.getsignal(signal.SIGTERM) if main else None
    try:
        yield
    finally:
        if main and handler is not None:
            signal.signal(signal.SIGTERM, handler)


def _open(ray, address: str) -> None:
    """Start (local) or join (auto, HOST:PORT) Ray, quiet: one progress line only."""
    quiet = dict(logging_level=logging.ERROR, log_to_driver=False,
                 configure_logging=True)
    if address == "local":
        # address="local": a Ray of our own even when `ray start` left a cluster on
        # this machine, which ray.init() would otherwise join (and refuse num_cpus).
        ray.init(address="local", num_cpus=available_cores(), include_dashboard=False,
                 **quiet)
    else:
        if address != "auto":
            _probe(address)
        try:
            ray.init(address=address, **quiet)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            raise ClusterError(f"cannot join the Ray cluster at {address}: "
                               f"{' '.join(str(exc).split())[:300]}") from None
