# Type stub for the compiled kernel built from src/_kernel.pyx (as fastw2v._kernel and,
# on x86-64, fastw2v._kernel_avx2; fastw2v/training/kernel.py picks one).
from typing import Dict, List, Optional, Tuple

import numpy as np

from .training.kernel import KernelSettings, KernelTables

SIGMOID_TABLE: np.ndarray  # float32[SIGMOID_TABLE_SIZE]
LOG_SIGMOID_TABLE: np.ndarray  # float32[SIGMOID_TABLE_SIZE]
SENTENCE_END_ID: int  # -1
TABLE_RANGE: int  # 8
ARCHITECTURES: Dict[str, int]  # "skipgram", "cbow"
LOSSES: Dict[str, int]  # "ns", "nce", "hs", "softmax"
GAMMA_MODES: Dict[str, int]  # "fixed", "global", "per-word"

def sigmoid_tables() -> Tuple[np.ndarray, np.ndarray]: ...

class Worker:
    dim: int
    max_sentence: int
    max_inputs: int
    max_targets: int
    def __init__(
        self, dim: int, max_sentence: int, max_inputs: int, max_targets: int, seed: int
    ) -> None: ...
    @property
    def rng_state(self) -> int: ...
    @rng_state.setter
    def rng_state(self, state: int) -> None: ...  # non-zero uint64

class Trainer:
    def __init__(
        self,
        w_in: np.ndarray,  # float32[n_words, dim], C-contiguous, written in place
        w_out: np.ndarray,  # float32[n_words or n_words - 1 (hs), dim], written in place
        gamma: np.ndarray,  # float32[1] or float32[n_words] (nce per-word), in place
        tables: KernelTables,
        settings: KernelSettings,
        context_bias: Optional[np.ndarray] = ...,  # float32[n_words] (nce), in place
    ) -> None: ...
    def new_worker(self, seed: int) -> Worker: ...
    def train_job(
        self,
        worker: Worker,
        tokens: np.ndarray,  # int32, SENTENCE_END_ID after each sentence
        alpha_start: float,
        alpha_end: float,
        gamma: float = ...,
    ) -> Tuple[float, int, int, int, float]: ...
    def train_pair(
        self, worker: Worker, input_word: int, word: int, alpha: float, gamma: float = ...
    ) -> Tuple[float, List[int], List[int], float]: ...
    def draw_noise(self, worker: Worker, n: int) -> np.ndarray: ...
    def classify(self, score: float, label: int) -> Tuple[float, float]: ...
