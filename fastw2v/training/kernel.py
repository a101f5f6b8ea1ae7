"""The compiled kernel's front door: the one module through which Python reaches it.

It picks the fastest build this CPU can run, and defines what the kernel is given:
`KernelSettings` (the scalar settings) and `KernelTables` (the read-only per-word
tables), with `build_tables` making the tables for a vocabulary and a config. The
kernel's own types are in fastw2v/_kernel.pyi.

Every build comes from src/_kernel.pyx and exposes the same interface: `_kernel` runs on
any CPU of the platform, `_kernel_avx2` (x86-64 only) uses AVX2 and FMA. Set
FASTW2V_KERNEL=baseline to force the portable build, e.g. to compare the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Dict

import numpy as np

from .. import _kernel as _baseline
from ..config import MAX_SENTENCE_TOKENS, TrainConfig
from ..cpu import pick_build, runnable_builds
from .huffman import huffman_paths
from .sampling import alias_table, keep_probabilities, log_noise, noise_distribution


def available_builds() -> Dict[str, ModuleType]:
    """Every build of the kernel that is installed and that this CPU can run, by name;
    "baseline" always. The tests check each against the numpy reference."""
    return runnable_builds(_baseline, "fastw2v._kernel_avx2", "AVX2", "FMA3")


_BUILDS = available_builds()
BUILD = pick_build(_BUILDS)
kernel = _BUILDS[BUILD]


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
    context_bias: bool = False

    @classmethod
    def from_config(cls, config: TrainConfig) -> KernelSettings:
        return cls(config.architecture, config.loss, config.nce_gamma,
                   config.nce_noise_correction, config.shared_negatives, config.window,
                   config.negative, MAX_SENTENCE_TOKENS, config.nce_context_bias)


@dataclass(frozen=True)
class KernelTables:
    """Every read-only per-word table the kernel samples from (see fastw2v._kernel)."""

    keep_probability: np.ndarray  # float32, subsampling
    noise_threshold: np.ndarray  # uint32, alias table
    noise_alias: np.ndarray  # int32, alias table
    log_noise: np.ndarray  # float32, log(k q(c))
    path_offsets: np.ndarray  # int64, HS paths (see huffman.py); [0] without HS
    path_nodes: np.ndarray  # int32
    path_codes: np.ndarray  # uint8


def build_tables(counts: np.ndarray, config: TrainConfig) -> KernelTables:
    """All the read-only tables the kernel samples from, for this vocabulary and config."""
    threshold, alias = alias_table(noise_distribution(counts, config.ns_exponent))
    if config.loss == "hs":
        offsets, nodes, codes = huffman_paths(counts)
    else:
        # No tree: the kernel never reads these (8 bytes a word saved at a million words).
        offsets = np.zeros(1, dtype=np.int64)
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
