"""Reading a corpus into tokens, and encoding it into the id stream the kernel trains on.

A corpus is UTF-8 text, one sentence per line, tokens separated by white space. It may
be plain or compressed (.gz, .bz2, .xz). Lines of any length work: the file is read in
blocks cut at white space, so a token is never split and memory does not depend on the
length of a line.

Decisions a user should know:
- Invalid UTF-8 bytes are replaced by U+FFFD and counted; training goes on and a warning
  gives the count. (Refusing would lose a whole web crawl to a few stray bytes.)
- Tokens longer than MAX_TOKEN_BYTES (1,000 UTF-8 bytes) are skipped and counted in a
  warning, never truncated; the reader never holds more than one block plus that much.
- A NUL byte means the file is binary, not text: it is refused, naming the line.
- CRLF line ends are fine: the CR is white space.
- Sentences are lines. A line with more than MAX_SENTENCE_TOKENS in-vocabulary tokens is
  cut into sentences of that many (no token is dropped); context windows do not cross
  sentence ends.
- Tokens of words below --min-count are removed before windows are formed, as word2vec.c
  and gensim do; their number is reported.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import itertools
import lzma
import os
import re
import tempfile
import threading
import zlib
from dataclasses import dataclass
from typing import IO, Dict, Iterator, List, Tuple

import numpy as np

from .config import MAX_SENTENCE_TOKENS
from .errors import CorpusError

SENTENCE_END = -1  # the id that ends a sentence in the encoded stream (kernel's SENTENCE_END)
# Text read per step. Each step holds its tokens as Python strings (about 60 bytes a
# token), so this bounds the reader's memory: 1 MiB of text is about 10 MB of tokens.
BLOCK_BYTES = 1 << 20
_ASCII_SPACE = (b" ", b"\n", b"\t", b"\r", b"\x0b", b"\x0c")
# Tokens longer than this many UTF-8 bytes are skipped and counted (a warning reports
# them): such "words" are base64 blobs, URLs of query strings or broken markup, and
# reading one whole would let a file without white space fill memory.
MAX_TOKEN_BYTES = 1000
_SPACE = re.compile(rb"[ \t\n\r\x0b\x0c]")

_replaced = threading.local()


def _count_and_replace(exc: UnicodeDecodeError):
    _replaced.n = getattr(_replaced, "n", 0) + (exc.end - exc.start)
    return ("\ufffd", exc.end)


codecs.register_error("fastw2v.count_replace", _count_and_replace)


@dataclass
class ReadStats:
    """What reading the corpus found besides tokens."""

    n_invalid_bytes: int = 0
    n_long_tokens: int = 0  # tokens over MAX_TOKEN_BYTES, skipped


def check_corpus_path(path: str) -> None:
    """Fail early, naming the file, when `path` cannot be a readable corpus."""
    if not os.path.exists(path):
        raise CorpusError(f"{path}: no such file")
    if os.path.isdir(path):
        raise CorpusError(f"{path}: is a folder; give the path of a text file")
    if not os.access(path, os.R_OK):
        raise CorpusError(f"{path}: permission denied")


def _open_binary(path: str) -> IO[bytes]:
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.open(path, "rb")
    if lower.endswith(".bz2"):
        return bz2.open(path, "rb")
    if lower.endswith(".xz"):
        return lzma.open(path, "rb")
    return open(path, "rb")


def _last_space_end(data: bytes) -> int:
    """Index just past the last ASCII white-space byte of `data` (0 if none)."""
    return max(data.rfind(s) for s in _ASCII_SPACE) + 1


@dataclass
class TokenBlock:
    """The tokens of one read block, with where its lines end.

    `line_lengths[i]` is the number of tokens of the block's i-th line piece (possibly
    0); every piece ends its line except the last, which continues into the next block
    when `last_continues` is true.
    """

    tokens: List[str]
    line_lengths: List[int]
    last_continues: bool


def iter_token_blocks(path: str, stats: ReadStats = None) -> Iterator[TokenBlock]:
    """Yield the corpus as TokenBlocks of about BLOCK_BYTES of text each, in order."""
    check_corpus_path(path)
    stats = stats if stats is not None else ReadStats()
    _replaced.n = 0
    try:
        with _open_binary(path) as f:
            carry = b""
            line_no = 1
            skipping = False  # inside an over-long token that began in an earlier block
            while True:
                block = f.read(BLOCK_BYTES)
                at_end = not block
                if skipping and not at_end:
                    space = _SPACE.search(block)
                    if space is None:
                        continue
                    block = block[space.start():]
                    skipping = False
                data = carry + block
                cut = len(data) if at_end else _last_space_end(data)
                part, carry = data[:cut], data[cut:]
                if len(carry) > MAX_TOKEN_BYTES:
                    stats.n_long_tokens += 1
                    carry = b""
                    skipping = True
                if part:
                    nul = part.find(b"\0")
                    if nul >= 0:
                        nul_line = line_no + part.count(b"\n", 0, nul)
                        raise CorpusError(
                            f"{path}: line {nul_line}: NUL byte; "
                            f"this looks like a binary file, not text"
                        )
                    lines = part.decode("utf-8", "fastw2v.count_replace").split("\n")
                    line_no += len(lines) - 1
                    tokens: List[str] = []
                    lengths: List[int] = []
                    has_long = _longest_run(part) > MAX_TOKEN_BYTES
                    for line in lines:
                        pieces = line.split()
                        if has_long:
                            pieces = _drop_long_tokens(pieces, stats)
                        tokens += pieces
                        lengths.append(len(pieces))
                    # Every piece but the last ends its line, even an empty one: it may
                    # close a line the previous block left open. The last piece goes on
                    # in the next block unless the file ends here.
                    yield TokenBlock(tokens, lengths, last_continues=not at_end)
                if at_end:
                    break
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CorpusError(f"{path}: cannot read: {reason}") from None
    finally:
        stats.n_invalid_bytes = getattr(_replaced, "n", 0)


def _longest_run(part: bytes) -> int:
    """Length of the longest run of bytes without ASCII white space, in C-speed numpy
    passes (about 1 ms per MiB; a regular expression took 30 times as long)."""
    codes = np.frombuffer(part, dtype=np.uint8)
    spaces = np.flatnonzero((codes == 32) | ((codes >= 9) & (codes <= 13)))
    if len(spaces) == 0:
        return len(codes)
    return int(max(spaces[0], len(codes) - 1 - spaces[-1],
                   np.diff(spaces).max() - 1 if len(spaces) > 1 else 0))


def _drop_long_tokens(pieces: List[str], stats: ReadStats) -> List[str]:
    kept = [t for t in pieces if len(t.encode("utf-8")) <= MAX_TOKEN_BYTES]
    stats.n_long_tokens += len(pieces) - len(kept)
    return kept


@dataclass
class EncodedCorpus:
    """The corpus as one int32 id stream, memory-mapped from a temporary file.

    `ids` holds word ids with SENTENCE_END after every sentence. The file behind it is
    unlinked as soon as it is mapped, so nothing is left on disk even if the process dies.
    """

    ids: np.ndarray
    n_words: int  # in-vocabulary tokens
    n_skipped: int  # tokens of words not in the vocabulary
    n_sentences: int

    def job_bounds(self, job_tokens: int) -> List[Tuple[int, int]]:
        """Split the stream into [start, end) jobs of about job_tokens, at sentence ends."""
        job_tokens = max(1, job_tokens)
        ids = self.ids
        n = len(ids)
        bounds = []
        start = 0
        while start < n:
            probe = min(start + job_tokens, n) - 1
            window = ids[probe:probe + MAX_SENTENCE_TOKENS + 1]
            hits = np.flatnonzero(window == SENTENCE_END)
            end = probe + int(hits[0]) + 1 if len(hits) else n
            bounds.append((start, end))
            start = end
        return bounds


def encode_corpus(path: str, index: Dict[str, int], tmp_dir: str = None,
                  max_sentence: int = MAX_SENTENCE_TOKENS) -> EncodedCorpus:
    """Encode the corpus with the vocabulary `index` into a memory-mapped id stream."""
    n_words = n_skipped = n_sentences = 0
    sentence_len = 0  # in-vocabulary tokens of the open sentence so far
    lookup = index.get
    missing = itertools.repeat(-2)
    try:
        handle = tempfile.NamedTemporaryFile(prefix="fastw2v-ids-", suffix=".int32",
                                             dir=tmp_dir, delete=False)
    except OSError as exc:
        raise CorpusError(f"cannot create a temporary file in {tmp_dir or tempfile.gettempdir()}:"
                          f" {exc.strerror}") from None
    try:
        with handle as out:
            for block in iter_token_blocks(path):
                ids = np.fromiter(map(lookup, block.tokens, missing), dtype=np.int32,
                                  count=len(block.tokens))
                known = ids >= 0
                # In-vocabulary tokens per line piece, then where sentence ends go.
                known_before = np.concatenate(([0], np.cumsum(known)))
                piece_ends = np.cumsum(block.line_lengths)
                per_line = np.diff(known_before[piece_ends], prepend=0).tolist()
                ids = ids[known]
                n_skipped += len(known) - len(ids)
                n_words += len(ids)
                ends = []  # positions in `ids` after which a SENTENCE_END goes
                position = 0
                last = len(per_line) - 1
                for i, count in enumerate(per_line):
                    while sentence_len + count >= max_sentence:
                        room = max_sentence - sentence_len
                        position += room
                        count -= room
                        ends.append(position)
                        sentence_len = 0
                    position += count
                    sentence_len += count
                    if sentence_len and not (i == last and block.last_continues):
                        ends.append(position)
                        sentence_len = 0
                np.insert(ids, ends, SENTENCE_END).tofile(out)
                n_sentences += len(ends)
            if sentence_len:
                np.array([SENTENCE_END], dtype=np.int32).tofile(out)
                n_sentences += 1
        if os.path.getsize(handle.name) == 0:
            mapped = np.zeros(0, dtype=np.int32)
        else:
            mapped = np.memmap(handle.name, dtype=np.int32, mode="r")
    except OSError as exc:
        raise CorpusError(f"cannot write the encoded corpus to {handle.name}: "
                          f"{exc.strerror}") from None
    finally:
        try:
            os.unlink(handle.name)
        except OSError:
            pass
    return EncodedCorpus(mapped, n_words, n_skipped, n_sentences)
