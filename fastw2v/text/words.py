"""A compact, read-only list of words: one UTF-8 buffer and the offsets of its words.

A million words held as Python strings cost about 61 MiB (a string object per word and
a list of pointers); held here they cost their UTF-8 bytes plus 8 bytes of offset each,
about 16 MiB. Training a million-word vocabulary keeps its words through the whole run
but needs them only to encode the corpus and to save the model, so the vocabulary holds
them this way (benchmarks/SCALE.md: the training overhead over the matrices).

The buffer is the words joined by "\\n", which is exactly the word list of a native file
(formats/native.py): a native file's words are read into a WordList without making a
string per word, and a WordList is written out as it is. A word is made into a `str`
only when it is asked for.

Words are never empty and never hold "\\n" (the separator); every other character is
allowed here, and the formats check their own rules (formats/rows.py).
"""

from __future__ import annotations

from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Union, overload

import numpy as np

SEPARATOR = b"\n"
# Words decoded at a time when iterating: whole-buffer speed (one decode and one split per
# block) with memory bounded by the block, not by the vocabulary.
_ITER_BLOCK = 65536


class WordList(Sequence[str]):
    """Words in a fixed order; word i is `blob[bounds[i]:bounds[i + 1] - 1]` in UTF-8.

    `distinct` records that the words are known to be listed once each (a vocabulary
    built from counts is); it is a promise made by whoever builds the list, which
    spares a writer the check (formats/rows.check_words).
    """

    __slots__ = ("_blob", "_bounds", "distinct")

    def __init__(self, blob: bytes, bounds: np.ndarray, distinct: bool = False):
        # Private: use WordList.of or WordList.from_blob, which check their input. The
        # compiled readers hand over a bytearray that nothing else holds (a copy to
        # bytes would cost its size at their memory peak); it is never changed here.
        self._blob = blob
        self._bounds = bounds  # int64, n + 1: word starts, then len(blob) + 1
        self.distinct = distinct

    @classmethod
    def of(cls, words: Iterable[str], distinct: bool = False) -> WordList:
        """The words of any iterable of strings (a WordList is returned as it is).
        ValueError if a word is empty or holds a line break."""
        if isinstance(words, WordList):
            return words
        listed = words if isinstance(words, (list, tuple)) else list(words)
        if any(not word for word in listed):
            raise ValueError("a word is empty")
        blob = "\n".join(listed).encode("utf-8")
        made = cls.from_blob(blob, len(listed), distinct)
        if made is None:
            raise ValueError("a word holds a line break")
        return made

    @classmethod
    def from_blob(cls, blob: bytes, n_words: int, distinct: bool = False
                  ) -> Optional[WordList]:
        """The `n_words` words of `blob` (UTF-8, joined by "\\n"), or None if the buffer
        does not hold exactly that many non-empty words. The UTF-8 is not checked here:
        a reader of untrusted bytes decodes them once first."""
        if n_words == 0:
            return cls(b"", np.zeros(1, dtype=np.int64), distinct) if not blob else None
        breaks = np.flatnonzero(np.frombuffer(blob, dtype=np.uint8) == SEPARATOR[0])
        if len(breaks) != n_words - 1:
            return None
        bounds = np.empty(n_words + 1, dtype=np.int64)
        bounds[0] = 0
        bounds[1:-1] = breaks + 1
        bounds[-1] = len(blob) + 1
        if (np.diff(bounds) < 2).any():  # an empty word
            return None
        return cls(blob, bounds, distinct)

    # -- the buffer, for the writers -------------------------------------------------------

    @property
    def blob(self) -> bytes:
        """The words in UTF-8, joined by "\\n" (no trailing separator)."""
        return self._blob

    @property
    def bounds(self) -> np.ndarray:
        """int64, one more than the words: word i is blob[bounds[i]:bounds[i + 1] - 1]."""
        return self._bounds

    @property
    def nbytes(self) -> int:
        return len(self._blob) + self._bounds.nbytes

    def row_at_byte(self, offset: int) -> int:
        """The row of the word at byte `offset` of the buffer."""
        return int(np.searchsorted(self._bounds, offset, side="right")) - 1

    # -- the Sequence ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._bounds) - 1

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[str]: ...

    def __getitem__(self, i: Union[int, slice]) -> Union[str, Sequence[str]]:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step != 1:
                return [self[j] for j in range(start, stop, step)]
            return self._part(start, max(start, stop))
        n = len(self)
        j = i + n if i < 0 else i
        if not 0 <= j < n:
            raise IndexError(f"word {i} out of range for {n:,} words")
        return self._blob[self._bounds[j]:self._bounds[j + 1] - 1].decode("utf-8")

    def _part(self, start: int, stop: int) -> WordList:
        if start == stop:
            return WordList(b"", np.zeros(1, dtype=np.int64), True)
        first, end = int(self._bounds[start]), int(self._bounds[stop])
        return WordList(self._blob[first:end - 1], self._bounds[start:stop + 1] - first,
                        self.distinct)

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self), _ITER_BLOCK):
            yield from self._part(start, min(start + _ITER_BLOCK, len(self)))._all()

    def _all(self) -> List[str]:
        return self._blob.decode("utf-8").split("\n") if len(self) else []

    def __reversed__(self) -> Iterator[str]:
        for stop in range(len(self), 0, -_ITER_BLOCK):
            yield from reversed(self._part(max(0, stop - _ITER_BLOCK), stop)._all())

    def index(self, word: str, start: int = 0, stop: Optional[int] = None) -> int:
        """The first row of `word` (within rows start..stop), found by a byte search of
        the buffer, without a string per word; ValueError if it is not there."""
        start, stop, _ = slice(start, stop).indices(len(self))
        key = word.encode("utf-8")
        if start < stop and key and SEPARATOR not in key:
            row = self._first_row_of(key, int(self._bounds[start]))
            if row is not None and row < stop:
                return row
        raise ValueError(f"{word!r} is not in the list")

    def _first_row_of(self, key: bytes, from_byte: int) -> Optional[int]:
        """The first row at or after byte `from_byte` (a word's start) holding `key`."""
        blob = self._blob
        if from_byte == 0 and blob.startswith(key) and (
                len(blob) == len(key) or blob[len(key)] == SEPARATOR[0]):
            return 0
        # Framed by separators, a match is a whole word; the first and last words have
        # a separator on one side only and are checked apart.
        found = blob.find(SEPARATOR + key + SEPARATOR, max(0, from_byte - 1))
        if found >= 0:
            return int(np.searchsorted(self._bounds, found + 1))
        if blob.endswith(SEPARATOR + key) and len(blob) - len(key) >= from_byte:
            return len(self) - 1
        return None

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        try:
            self.index(word)
        except ValueError:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if isinstance(other, WordList):
            return len(self) == len(other) and self._blob == other._blob
        if isinstance(other, (list, tuple)):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to lists, which do not hash

    def __repr__(self) -> str:
        shown = ", ".join(repr(word) for word in self[:3])
        more = ", ..." if len(self) > 3 else ""
        return f"WordList({len(self):,} words: {shown}{more})"

    def __reduce__(self):
        return (WordList, (self._blob, self._bounds, self.distinct))

def first_rows(words: Sequence[str]) -> Dict[str, int]:
    """word -> its first row: the lookup table of a vocabulary or a Vectors, for any
    sequence of words (a WordList is decoded a block at a time, not word by word)."""
    listed = list(words)
    # Reversed, so that a word listed twice keeps its first row.
    return dict(zip(reversed(listed), range(len(listed) - 1, -1, -1)))


def as_words(words: Sequence[str]) -> Sequence[str]:
    """`words` as a WordList when it can be one (non-empty words without line breaks),
    else as a list: the compact form where it is possible."""
    try:
        return WordList.of(words)
    except ValueError:
        return list(words)
