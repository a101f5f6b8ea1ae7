# Type stub for the compiled text pipeline built from src/_text.pyx (fastw2v._text):
# tokenising, counting and encoding a corpus. The `readonly` attributes of the C classes
# are properties here, so that the type checker refuses a write as Cython does.
from typing import Iterable, List, Optional, Sequence, Union

import numpy as np

LINE_END: int  # -1, in a Scanner's output: the end of a line
SENTENCE_END: int  # -1, in an encoded stream: the end of a sentence (the kernel's id)
MAX_TOKEN_BYTES: int  # 1000: longer tokens are skipped and counted, never truncated

class WordTable:
    def __init__(self, max_vocab: int = ...) -> None: ...  # counting mode
    @staticmethod
    def fixed(words: Iterable[str]) -> WordTable: ...  # word i has id i
    def __len__(self) -> int: ...
    @property
    def n_prunes(self) -> int: ...
    @property
    def prune_threshold(self) -> int: ...
    @property
    def memory_bytes(self) -> int: ...
    def counts(self) -> np.ndarray: ...  # int64, in entry order
    def words(self, entries: Optional[Iterable[int]] = None) -> List[str]: ...
    def entries_of(self, words: Sequence[str]) -> np.ndarray: ...  # int64, -1: not held
    def count_words(self, tokens: Iterable[str]) -> None: ...

class Scanner:
    def __init__(self, table: WordTable, emit: bool = True) -> None: ...
    @property
    def stream_valid(self) -> bool: ...
    @property
    def n_tokens(self) -> int: ...
    @property
    def n_unknown(self) -> int: ...
    @property
    def n_long_tokens(self) -> int: ...
    @property
    def n_invalid_bytes(self) -> int: ...
    @property
    def line(self) -> int: ...
    @property
    def nul_line(self) -> int: ...  # 0: no NUL byte seen
    def feed(
        self,
        block: Union[bytes, bytearray, memoryview, np.ndarray],  # contiguous uint8
        final: bool = False,
    ) -> np.ndarray: ...  # int32 ids, LINE_END after each line

class StreamEncoder:
    def __init__(self, max_sentence: int) -> None: ...
    @property
    def max_sentence(self) -> int: ...
    @property
    def n_words(self) -> int: ...
    @property
    def n_skipped(self) -> int: ...
    @property
    def n_sentences(self) -> int: ...
    def encode(
        self,
        ids: np.ndarray,  # int32, contiguous
        id_map: Optional[np.ndarray] = None,  # int32: entry id -> word id, < 0: dropped
    ) -> np.ndarray: ...  # int32, SENTENCE_END after each sentence
    def finish(self) -> np.ndarray: ...
