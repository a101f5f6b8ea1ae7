# Type stub for the compiled phrase detection built from src/_phrases.pyx
# (fastw2v._phrases): counting words and candidate phrases, scoring them, joining them.
from typing import Tuple

import numpy as np

from ._text import Scanner, WordTable

SCORER_WORD2VEC: int  # 0: (n_ab - min_count) / (n_a * n_b) * N
SCORER_NPMI: int  # 1: ln(p_ab / (p_a p_b)) / -ln(p_ab)

class PairTable:
    def __init__(self, max_pairs: int) -> None: ...
    def __len__(self) -> int: ...
    @property
    def n_prunes(self) -> int: ...
    @property
    def prune_threshold(self) -> int: ...
    @property
    def memory_bytes(self) -> int: ...

class PairCounter(Scanner):
    def __init__(
        self, words: WordTable, emit: bool, pairs: PairTable, linked: WordTable,
        connectors: WordTable,
    ) -> None: ...

class PhraseJoiner(Scanner):
    def __init__(self, phrases: WordTable, emit: bool, connectors: WordTable) -> None: ...
    @property
    def n_joined(self) -> int: ...
    def output(self) -> bytes: ...

def score_candidates(
    words: WordTable, pairs: PairTable, linked: WordTable, scorer: int, threshold: float,
    min_count: int, total_words: int,
) -> Tuple[
    Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],  # firsts, seconds, counts, scores
    Tuple[np.ndarray, np.ndarray, np.ndarray],  # linked entries, counts, scores
]: ...
