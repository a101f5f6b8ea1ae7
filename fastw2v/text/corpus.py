"""Reading a corpus, counting its words, and encoding it into the kernel's id stream.

A corpus is UTF-8 text, one sentence per line, tokens separated by ASCII white space.
It may be plain or compressed (.gz, .bz2, .xz). The file is read in blocks of
BLOCK_BYTES, and the compiled text pipeline (src/_text.pyx) tokenises, counts and
encodes them without making a Python object per token; lines of any length work and
memory does not depend on the length of a line.

One pass does the work when it can: `scan_corpus` counts the words and at the same time
writes each token's provisional id (its hash-table entry) to a temporary file;
`encode_corpus` then maps those ids to vocabulary ids. Only when the count had to prune
rare words (more than --max-vocab distinct words: the provisional ids of early tokens
are then stale), or when the vocabulary comes from elsewhere (--read-vocab), does
encoding read the corpus a second time.

Decisions a user should know:
- Tokens are split at ASCII white space only (space, tab, newline, CR, vertical tab,
  form feed), as word2vec.c and fastText do; a no-break space is part of a word.
- Invalid UTF-8 bytes are replaced by U+FFFD and counted; training goes on and a warning
  gives the count. (Refusing would lose a whole web crawl to a few stray bytes.)
- Tokens longer than MAX_TOKEN_BYTES (1,000 bytes) are skipped and counted in a warning,
  never truncated.
- A NUL byte means the file is binary, not text: it is refused, naming the line. A UTF-8
  byte-order mark at the start of the file is dropped.
- Sentences are lines. A line with more than MAX_SENTENCE_TOKENS in-vocabulary tokens is
  cut into sentences of that many (no token is dropped); context windows do not cross
  sentence ends.
- Tokens of words below --min-count are removed before windows are formed, as word2vec.c
  and gensim do; their number is reported.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import math
import os
import tempfile
import zlib
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from .. import _text
from ..config import MAX_SENTENCE_TOKENS
from ..errors import CorpusError
from ..formats.files import UTF8_BOM
from .sources import CorpusArgument, CorpusFiles, CorpusShare, FilePart, check_readable

SENTENCE_END = _text.SENTENCE_END  # the id that ends a sentence (the kernel's SENTENCE_END)
MAX_TOKEN_BYTES = _text.MAX_TOKEN_BYTES
# Text read per step. The compiled scanner keeps no per-token objects, so this only sets
# how often Python is entered: 1 MiB is a few hundred microseconds of scanning.
BLOCK_BYTES = 1 << 20
# Ids read or written per step when a stream is re-encoded (1 MiB of int32): enough to
# make Python's share negligible, small enough not to show in the peak memory.
STREAM_CHUNK = 1 << 18
# What the reading functions read: a corpus, or a part of one (a Ray worker's share).
CorpusSource = Union[CorpusArgument, CorpusShare]


@dataclass
class ReadStats:
    """What reading the corpus found besides the words."""

    n_tokens: int = 0  # tokens read (over-long ones excluded)
    n_invalid_bytes: int = 0
    n_long_tokens: int = 0  # tokens over MAX_TOKEN_BYTES, skipped
    n_lines: int = 0


def check_corpus_path(corpus: CorpusArgument) -> CorpusFiles:
    """Fail early, naming the file or folder, when `corpus` cannot be a readable corpus;
    return its files."""
    return CorpusFiles.of(corpus)


def _open_binary(path: str) -> io.BufferedIOBase:
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.open(path, "rb")
    if lower.endswith(".bz2"):
        return bz2.open(path, "rb")
    if lower.endswith(".xz"):
        return lzma.open(path, "rb")
    return open(path, "rb")


def _parts_of(corpus: CorpusSource) -> Tuple[FilePart, ...]:
    if isinstance(corpus, CorpusShare):
        return corpus.parts
    return tuple(FilePart(path) for path in CorpusFiles.of(corpus).paths)


def _scan_files(corpus: CorpusSource, scanner: _text.Scanner, sink=None) -> ReadStats:
    """Feed every file (or file part) of the corpus to `scanner`, in order, as one text
    with a line end between two of them; pass each block's emitted ids to `sink`."""
    parts = _parts_of(corpus)
    n_lines = 0
    for part in parts:
        first_line = scanner.line
        _feed_file(part, scanner, sink, first_line)
        n_lines += scanner.line - first_line
        # The file's last line ends with the file, even without a final newline. The
        # scanner never doubles a line end, so a file that had one gets no empty line
        # (nor does a part, which always ends with one or with its file).
        _feed(scanner, b"\n", sink, str(part), first_line)
    _feed(scanner, b"", sink, str(parts[-1]), scanner.line, final=True)
    return ReadStats(n_tokens=scanner.n_tokens, n_invalid_bytes=scanner.n_invalid_bytes,
                     n_long_tokens=scanner.n_long_tokens, n_lines=n_lines)


def _scan_file(path: str, scanner: _text.Scanner, sink=None) -> ReadStats:
    """One file as a text of its own, with no line end added after it: for rewriting a
    file line for line (fastw2v/text/phrases.py), where `_scan_files`'s line end between
    two files would add a line."""
    first_line = scanner.line
    _feed_file(FilePart(path), scanner, sink, first_line)
    _feed(scanner, b"", sink, path, first_line, final=True)
    return ReadStats(n_tokens=scanner.n_tokens, n_invalid_bytes=scanner.n_invalid_bytes,
                     n_long_tokens=scanner.n_long_tokens, n_lines=scanner.line - first_line)


def _feed(scanner: _text.Scanner, block: bytes, sink, path: str, first_line: int,
          final: bool = False) -> None:
    try:
        ids = scanner.feed(block, final=final)
    except ValueError:
        line = scanner.nul_line - first_line + 1
        raise CorpusError(f"{path}: line {line:,}: NUL byte; this looks like a binary "
                          f"file, not text") from None
    if sink is not None:  # also without ids: a sink may want every block (phrases)
        sink(ids)


def _feed_file(part: FilePart, scanner: _text.Scanner, sink, first_line: int) -> None:
    check_readable(part.path)
    try:
        with _open_binary(part.path) as f:
            for block in _blocks(f, part):
                _feed(scanner, block, sink, str(part), first_line)
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CorpusError(f"{part}: cannot read: {reason}") from None


def _blocks(f, part: FilePart) -> Iterator[bytes]:
    """The bytes of `part` of the open file `f`, in blocks of at most BLOCK_BYTES."""
    if part.start:
        f.seek(part.start)  # an uncompressed file (FilePart's rule): a byte is a byte
    left = math.inf if part.end is None else part.end - part.start
    first = part.start == 0
    while left > 0:
        # The file's first bytes alone, to see whether they are a UTF-8 byte-order mark,
        # a file marker rather than text of the first word.
        block = f.read(int(min(len(UTF8_BOM) if first else BLOCK_BYTES, left)))
        if not block:
            return
        left -= len(block)
        if not (first and block == UTF8_BOM):
            yield block
        first = False


def line_start_at(path: str, offset: int) -> int:
    """The first line start at or after `offset` in the uncompressed file `path`: `offset`
    itself when the byte before it is a line end, else the byte after the next line end,
    or the file's size when no line end follows. (A line end is \\n alone, as for the
    scanner: a \\r is white space within the line.)"""
    if offset <= 0:
        return 0
    try:
        with open(path, "rb") as f:
            pos = offset - 1
            f.seek(pos)
            while True:
                block = f.read(BLOCK_BYTES)
                if not block:
                    return pos
                at = block.find(b"\n")
                if at >= 0:
                    return pos + at + 1
                pos += len(block)
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read: {exc.strerror or exc}") from None


class IdStream:
    """An int32 stream in an unlinked temporary file, read by position (`IdStream.of`
    makes one from an array).

    The file is unlinked as soon as it is created, so nothing is left on disk even if the
    process dies. Reads go through pread rather than a memory map: the stream's pages
    then stay in the page cache and do not count towards the process's memory.
    """

    def __init__(self, tmp_dir: Optional[str], prefix: str):
        directory = tmp_dir or tempfile.gettempdir()
        try:
            self._file = tempfile.TemporaryFile(prefix=prefix, suffix=".int32", dir=tmp_dir)
        except OSError as exc:
            raise CorpusError(f"cannot create a temporary file in {directory}: "
                              f"{exc.strerror}") from None
        self._directory = directory
        self.length = 0

    @classmethod
    def of(cls, ids, tmp_dir: Optional[str] = None) -> IdStream:
        stream = cls(tmp_dir, "fastw2v-ids-")
        stream.append(np.asarray(ids, dtype=np.int32))
        stream.flush()
        return stream

    def append(self, ids: np.ndarray) -> None:
        try:
            self._file.write(np.ascontiguousarray(ids, dtype=np.int32).data)
        except OSError as exc:
            raise CorpusError(f"cannot write the encoded corpus in {self._directory}: "
                              f"{exc.strerror}") from None
        self.length += len(ids)

    def flush(self) -> None:
        self._file.flush()

    def read(self, start: int, end: int) -> np.ndarray:
        """Ids [start, end) as a new array (safe to call from several threads at once)."""
        start, end = max(0, start), min(end, self.length)
        if end <= start:
            return np.zeros(0, dtype=np.int32)
        data = os.pread(self._file.fileno(), 4 * (end - start), 4 * start)
        return np.frombuffer(data, dtype=np.int32)

    def chunks(self, size: int = STREAM_CHUNK) -> Iterator[np.ndarray]:
        for start in range(0, self.length, size):
            yield self.read(start, start + size)

    def __len__(self) -> int:
        return self.length

    def close(self) -> None:
        self._file.close()


@dataclass
class CorpusScan:
    """One counting pass over a corpus: the word table, and the entry-id stream when it is
    still valid (no pruning happened), which spares encoding a second read."""

    path: CorpusSource
    table: _text.WordTable
    stats: ReadStats
    entries: Optional[IdStream]

    @property
    def n_prunes(self) -> int:
        return self.table.n_prunes

    @property
    def prune_threshold(self) -> int:
        """Words counted up to this many times were dropped by pruning (0: no pruning)."""
        return self.table.prune_threshold


def scan_corpus(path: CorpusSource, max_vocab: int,
                tmp_dir: Optional[str] = None) -> CorpusScan:
    """Count the corpus's words, keeping at most `max_vocab` distinct ones at a time
    (word2vec.c's pruning), and record its tokens' entry ids for `encode_corpus`."""
    table = _text.WordTable(max_vocab)
    scanner = _text.Scanner(table, emit=True)
    entries = IdStream(tmp_dir, "fastw2v-scan-")
    try:
        # Once a pruning has made the stream stale, the scanner stops emitting.
        stats = _scan_files(path, scanner, entries.append)
    except BaseException:
        entries.close()
        raise
    if not scanner.stream_valid:
        entries.close()
        return CorpusScan(path, table, stats, None)
    entries.flush()
    return CorpusScan(path, table, stats, entries)


@dataclass
class EncodedCorpus:
    """The corpus as one int32 id stream: word ids, SENTENCE_END after every sentence."""

    stream: IdStream
    n_words: int  # in-vocabulary tokens
    n_skipped: int  # tokens of words not in the vocabulary
    n_sentences: int

    def __len__(self) -> int:
        return len(self.stream)

    def read(self, start: int, end: int) -> np.ndarray:
        return self.stream.read(start, end)

    def close(self) -> None:
        """Free the stream's disk space (its file was unlinked on creation)."""
        self.stream.close()

    @property
    def ids(self) -> np.ndarray:
        """The whole stream as one array (a copy: meant for tests and small corpora)."""
        return self.stream.read(0, len(self.stream))

    def job_bounds(self, job_tokens: int) -> List[Tuple[int, int]]:
        """Split the stream into [start, end) jobs of about job_tokens, at sentence ends."""
        job_tokens = max(1, job_tokens)
        n = len(self.stream)
        bounds = []
        start = 0
        while start < n:
            probe = min(start + job_tokens, n) - 1
            # A sentence end comes at least every MAX_SENTENCE_TOKENS ids.
            window = self.stream.read(probe, probe + MAX_SENTENCE_TOKENS + 1)
            hits = np.flatnonzero(window == SENTENCE_END)
            end = probe + int(hits[0]) + 1 if len(hits) else n
            bounds.append((start, end))
            start = end
        return bounds


def encode_corpus(path: CorpusSource, words: Sequence[str], tmp_dir: Optional[str] = None,
                  max_sentence: int = MAX_SENTENCE_TOKENS, scan: Optional[CorpusScan] = None,
                  entry_of_word: Optional[np.ndarray] = None) -> EncodedCorpus:
    """Encode the corpus with the vocabulary `words` (word i has id i).

    With `scan` (from scan_corpus on this corpus) the scan's entry stream is mapped to
    word ids without reading the corpus again, when it is valid; otherwise the corpus is
    read once more. `entry_of_word` (the scan-table entry of each word, -1 for a word
    the table lacks) saves looking the words up again.
    """
    encoder = _text.StreamEncoder(max_sentence)
    out = IdStream(tmp_dir, "fastw2v-ids-")
    n_unknown = 0  # tokens the fixed table did not know (the re-reading path)
    try:
        if scan is not None and scan.entries is not None:
            if entry_of_word is None:
                entry_of_word = scan.table.entries_of(words)
            entry_of_word = np.asarray(entry_of_word, dtype=np.int64)
            present = entry_of_word >= 0
            id_map = np.full(len(scan.table), -1, dtype=np.int32)
            id_map[entry_of_word[present]] = np.flatnonzero(present).astype(np.int32)
            for chunk in scan.entries.chunks():
                out.append(encoder.encode(chunk, id_map))
        else:
            try:
                table = _text.WordTable.fixed(words)
            except ValueError as exc:
                raise CorpusError(f"the vocabulary is not usable: {exc}") from None
            scanner = _text.Scanner(table, emit=True)
            _scan_files(path, scanner, lambda ids: out.append(encoder.encode(ids)))
            n_unknown = scanner.n_unknown
        out.append(encoder.finish())
        out.flush()
    except BaseException:
        out.close()
        raise
    return EncodedCorpus(out, encoder.n_words, encoder.n_skipped + n_unknown,
                         encoder.n_sentences)
