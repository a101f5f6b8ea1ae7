# Type stub for the compiled kernel built from src/_kernel.pyx.
from typing import Tuple

import numpy as np

SIGMOID_TABLE: np.ndarray  # float32[SIGMOID_TABLE_SIZE]
LOG_SIGMOID_TABLE: np.ndarray  # float32[SIGMOID_TABLE_SIZE]
SENTENCE_END_ID: int  # -1
TABLE_RANGE: int  # 8

def sigmoid_tables() -> Tuple[np.ndarray, np.ndarray]: ...

class Worker:
    def __init__(self, dim: int, max_sentence: int, seed: int) -> None: ...
    @property
    def rng_state(self) -> int: ...
    @property
    def max_sentence(self) -> int: ...
    @property
    def dim(self) -> int: ...

class Trainer:
    def __init__(
        self,
        w_in: np.ndarray,  # float32[n_words, dim], C-contiguous, written in place
        w_out: np.ndarray,  # float32[n_words, dim], C-contiguous, written in place
        keep_probability: np.ndarray,  # float32[n_words]
        alias_threshold: np.ndarray,  # uint32[n_words]
        alias_index: np.ndarray,  # int32[n_words]
        cbow: bool,
        window: int,
        negative: int,
        max_sentence: int,
    ) -> None: ...
    def train_job(
        self, worker: Worker, tokens: np.ndarray, alpha_start: float, alpha_end: float
    ) -> Tuple[float, int, int, int]: ...
    def negative_sampling_update(
        self, worker: Worker, input_word: int, target: int, alpha: float
    ) -> float: ...
    def draw_noise(self, worker: Worker, n: int) -> np.ndarray: ...
    def classify(self, score: float, label: int) -> Tuple[float, float]: ...
