"""The vocabulary: frequency-sorted word ids, from a corpus scan or a `word count` file.

Counting itself happens in the compiled word table (fastw2v._text.WordTable, driven by
fastw2v.corpus.scan_corpus), which bounds its memory by pruning as word2vec.c does.

Ids run from the most to the least frequent word; ties are broken by the words' code
points, so the same counts always give the same ids whatever order the corpus was read in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from ..errors import VocabularyError
from ..formats.files import atomic_write, bom_length
from .words import WordList, as_words, first_rows

# Counts are held as int64 and summed (Vocabulary.total): a larger total would wrap.
MAX_TOTAL_COUNT = 2**63 - 1


@dataclass
class Vocabulary:
    """Words sorted by descending count (ties by code point) and their counts.

    The words are held compactly (text/words.py: a million words in about 16 MiB instead
    of 61 as strings), since training keeps them to the end but rarely reads them.
    """

    words: Sequence[str]
    counts: np.ndarray  # int64, one per word, non-increasing
    _index: Optional[Dict[str, int]] = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self.words = as_words(self.words)

    @classmethod
    def from_counts(cls, counts: Dict[str, int], min_count: int) -> Vocabulary:
        kept = [(w, c) for w, c in counts.items() if c >= min_count]
        kept.sort(key=lambda item: (-item[1], item[0]))
        words = WordList.of([w for w, _ in kept], distinct=True)  # keys of a dict
        return cls(words, np.array([c for _, c in kept], dtype=np.int64))

    @classmethod
    def from_table(cls, table, min_count: int) -> Tuple[Vocabulary, np.ndarray]:
        """The vocabulary of a counted WordTable, and the table entry of each word.

        Only the words that reach min_count are turned into Python strings: most of a
        corpus's distinct words are rare, and the encoder needs entry ids, not strings.
        """
        counts = table.counts()
        entries = np.flatnonzero(counts >= min_count)
        words = table.words(entries.tolist())
        # By code point, then a stable sort by descending count: the same order as a key
        # of (-count, word), without building a tuple per word (a million words' tuples
        # are over 100 MB at the memory peak before training).
        by_word = np.array(sorted(range(len(words)), key=words.__getitem__), dtype=np.int64)
        order = by_word[np.argsort(-counts[entries[by_word]], kind="stable")]
        # The table's entries are distinct words.
        vocab = cls(WordList.of([words[i] for i in order], distinct=True),
                    counts[entries[order]])
        return vocab, entries[order]

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    @property
    def index(self) -> Dict[str, int]:
        """word -> id, built on first use."""
        if self._index is None:
            self._index = first_rows(self.words)
        return self._index

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def save(self, path: str) -> None:
        """Write word2vec.c's vocabulary format: `word count` per line, atomically."""
        with atomic_write(path, "w") as out:
            for word, count in zip(self.words, self.counts.tolist()):
                out.write(f"{word} {count}\n")

    @staticmethod
    def read_counts(path: str) -> Dict[str, int]:
        """Read a `word count` per line file (word2vec.c -save-vocab, ours, gensim's).

        Lines end with \n (a \r before it is white space); fields are separated by ASCII
        white space, as corpus tokens are; blank lines are skipped; a
        UTF-8 byte-order mark at the start is dropped (else it would glue itself to the
        most frequent word, which would then never match the corpus). Counts are plain
        ASCII digits, and their total must fit the int64 the tables use.
        """
        counts: Dict[str, int] = {}
        total = 0
        try:
            with open(path, "rb") as f:
                for line_no, raw in enumerate(f, start=1):
                    if line_no == 1:
                        raw = raw[bom_length(raw):]
                    try:
                        # Split at ASCII white space only, as the corpus reader splits
                        # tokens: a no-break space is part of a word (and of its line).
                        parts = [part.decode("utf-8") for part in raw.split()]
                    except UnicodeDecodeError as exc:
                        raise VocabularyError(
                            f"{path}: line {line_no:,}: not valid UTF-8 ({exc.reason})"
                        ) from None
                    if not parts:
                        continue
                    if len(parts) != 2:
                        raise VocabularyError(
                            f"{path}: line {line_no:,}: expected 'word count', "
                            f"got {len(parts)} fields"
                        )
                    word, raw_count = parts
                    # isascii: str.isdigit also takes "٣" and other scripts' digits.
                    if not (raw_count.isascii() and raw_count.isdigit()):
                        what = ("is a negative count" if raw_count[1:].isdigit()
                                and raw_count.startswith("-") else "is not a whole number")
                        raise VocabularyError(
                            f"{path}: line {line_no:,}: count {raw_count!r} {what}"
                        )
                    count = int(raw_count)
                    total += count
                    if total > MAX_TOTAL_COUNT:
                        raise VocabularyError(
                            f"{path}: line {line_no:,}: the counts add up to more than "
                            f"2^63 - 1, which no corpus holds (file damaged?)"
                        )
                    if word in counts:
                        raise VocabularyError(
                            f"{path}: line {line_no:,}: word {word!r} is listed twice"
                        )
                    counts[word] = count
        except OSError as exc:
            raise VocabularyError(f"{path}: cannot read vocabulary: {exc.strerror}") from None
        if not counts:
            raise VocabularyError(f"{path}: the vocabulary file is empty")
        return counts
