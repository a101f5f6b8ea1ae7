"""Reading the corpus where it is: each Ray worker counts and encodes its own share.

On a shared file system every node can open the corpus files, so the reading need not
funnel through the driver (`--ray-read workers`). The driver splits the files into one
share per worker of about equal bytes (`plan_shares`); each worker counts its share
with the compiled word table (as `scan_corpus` does) and returns its words and counts;
the driver merges them (`CountMerger`) into the one vocabulary, by the rules of a
one-process run, and puts the vocabulary in the object store once; each worker then
encodes its share with it into its own id stream, kept for every epoch. With
`--ray-read driver` the driver reads and encodes as a one-process run does and ships
each worker its shard of ids (engine.py's `split_shards`).

Decisions:
- A share is a run of whole files, or of byte ranges of uncompressed files cut at line
  starts (a line is a sentence): the shares read one after the other are the corpus,
  every line in exactly one share, none split. A compressed file is never cut. A cut
  that falls near a file boundary (within SNAP of a share's bytes) moves to it, so that
  a corpus of many files is shared out in whole files.
- Shares are balanced by bytes on disk, so a compressed file counts for less text than
  it holds; a plan whose largest share is over UNEVEN times the mean, or that leaves a
  worker nothing, is not used (`auto` reads on the driver; `workers` refuses).
- `auto` reads on the workers when every worker's node opens every corpus file and sees
  the size the driver sees (`probe_files`), and on the driver otherwise, saying why in
  one line. The starts that need the whole corpus on the driver (`--resume`, which cuts
  the driver's stream where the checkpoint's shards end; `--init-from`, whose unknown
  words are reported from one counting pass; `--read-vocab`, kept simple) read on the
  driver under `auto` with a note, and are refused under `workers`.
- With pruning (--max-vocab) each worker prunes its own share's table by word2vec.c's
  rule, and the driver prunes the merged counts by the same rule: the pruned counts are
  underestimates, as in one process, but not the same ones (pruning depends on the
  order of reading). Without pruning, the counts are exactly one process's.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..config import TrainConfig, option_name
from ..errors import ConfigError, CorpusError
from ..text.corpus import (
    CorpusScan,
    EncodedCorpus,
    IdStream,
    ReadStats,
    encode_corpus,
    line_start_at,
    scan_corpus,
)
from ..text.sources import CorpusFiles, CorpusShare, FilePart, is_compressed
from ..text.vocab import Vocabulary
from ..training.starts import check_id_range, no_word_error, report_counting

if TYPE_CHECKING:
    from .session import RaySession

READ_MODES = ("auto", "workers", "driver")
# A cut within this share of a share's bytes of a file boundary moves to the boundary.
SNAP = 0.1
# Shares whose largest is more than this many times the mean are too uneven to use.
UNEVEN = 1.5
# Entries whose words are turned into strings at a time, when a worker sends its words:
# a share's distinct words never exist as Python strings all at once.
WORDS_CHUNK = 1 << 16


# -- the shares (the driver's side; no Ray) -----------------------------------------------

@dataclass(frozen=True)
class SharePlan:
    """One share per worker, the bytes of each, and why the plan cannot be used (None:
    it can)."""

    shares: Tuple[CorpusShare, ...]
    sizes: Tuple[int, ...]
    problem: Optional[str] = None


def plan_shares(paths: Sequence[str], sizes: Sequence[int], n: int) -> SharePlan:
    """`n` shares of about equal bytes of the files `paths` (of `sizes` bytes), in
    reading order (the module's comment says where cuts go)."""
    starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).tolist()
    total = starts[-1]
    mean = total / n
    cuts = [0]
    uncut: Optional[str] = None  # a compressed file a cut had to go around
    for k in range(1, n):
        cut, compressed = _cut(paths, sizes, starts, total * k / n, SNAP * mean)
        cuts.append(max(cuts[-1], cut))
        uncut = uncut or compressed
    cuts.append(total)
    shares, share_sizes = [], []
    for a, b in zip(cuts, cuts[1:]):
        parts = []
        for path, size, begin in zip(paths, sizes, starts):
            # A file of no bytes holds no line: it belongs to no share.
            lo, hi = max(a, begin) - begin, min(b, begin + size) - begin
            if lo < hi:
                parts.append(FilePart(path, lo, None if hi == size else hi))
        shares.append(CorpusShare(tuple(parts)))
        share_sizes.append(b - a)
    return SharePlan(tuple(shares), tuple(share_sizes), _problem(share_sizes, n, uncut))


def _cut(paths: Sequence[str], sizes: Sequence[int], starts: List[int], target: float,
         snap: float) -> Tuple[int, Optional[str]]:
    """Where the corpus (as one run of bytes) is cut nearest `target`: a file boundary
    within `snap`, else a line start of an uncompressed file, else the compressed
    file's nearer end (and then that file's path)."""
    i = int(np.searchsorted(starts, target, side="right")) - 1
    i = min(i, len(paths) - 1)
    begin, end = starts[i], starts[i] + sizes[i]
    nearer = begin if target - begin <= end - target else end
    if abs(target - nearer) <= snap:
        return nearer, None
    if is_compressed(paths[i]):
        return nearer, paths[i]
    return begin + line_start_at(paths[i], int(round(target)) - begin), None


def _problem(share_sizes: List[int], n: int, uncut: Optional[str]) -> Optional[str]:
    mean = sum(share_sizes) / n
    if min(share_sizes) > 0 and max(share_sizes) <= UNEVEN * mean:
        return None
    why = (f"{uncut} is compressed and cannot be cut" if uncut is not None
           else "its lines are too few or too long")
    if min(share_sizes) == 0:
        return f"the corpus cannot be shared among {n:,} workers: {why}"
    return (f"the corpus cannot be shared evenly among {n:,} workers ({why}): the "
            f"largest share would be {max(share_sizes) / mean:.1f} times the mean")


# -- what a worker does ---------------------------------------------------------------------

def probe_files(paths: Sequence[str]) -> List[Tuple[int, str]]:
    """(size, "") for each file this process can open, (-1, the reason) for the others."""
    seen = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                seen.append((os.fstat(f.fileno()).st_size, ""))
        except OSError as exc:
            seen.append((-1, exc.strerror or type(exc).__name__))
    return seen


@dataclass
class ShareCounts:
    """What a worker's counting pass found: its share's distinct words, each followed by
    a line end (no token holds white space), their counts, and the reading's figures."""

    words: bytes
    counts: np.ndarray  # int64, in the order of `words`
    read: ReadStats
    n_prunes: int
    prune_threshold: int


def count_share(share: CorpusShare, max_vocab: int,
                tmp_dir: Optional[str]) -> Tuple[CorpusScan, ShareCounts]:
    """Count `share` (keeping the scan, whose entry stream spares encoding a second
    read) and what the driver needs of the count."""
    scan = scan_corpus(share, max_vocab, tmp_dir)
    table = scan.table
    words = b"".join(("".join(w + "\n" for w in table.words(range(a, min(a + WORDS_CHUNK,
                                                                         len(table)))))
                      ).encode("utf-8")
                     for a in range(0, len(table), WORDS_CHUNK))
    return scan, ShareCounts(words, table.counts(), scan.stats, scan.n_prunes,
                             scan.prune_threshold)


@dataclass(frozen=True)
class ShardSummary:
    """A worker's encoded shard: its length in ids and what it holds."""

    length: int
    n_words: int
    n_skipped: int
    n_sentences: int

    @classmethod
    def of(cls, encoded: EncodedCorpus) -> ShardSummary:
        return cls(len(encoded), encoded.n_words, encoded.n_skipped, encoded.n_sentences)


def encode_share(share: CorpusShare, words: Sequence[str], tmp_dir: Optional[str],
                 scan: Optional[CorpusScan] = None) -> EncodedCorpus:
    """`share` as an id stream with the vocabulary `words`: from the counting pass
    `scan` when it is still valid, else by reading the share again (a replacement
    worker has no scan)."""
    try:
        return encode_corpus(share, words, tmp_dir, scan=scan)
    finally:
        if scan is not None and scan.entries is not None:
            scan.entries.close()


def ids_shard(shard: np.ndarray, tmp_dir: Optional[str]) -> EncodedCorpus:
    """A shard of ids the driver encoded, in this worker's own stream."""
    stream = IdStream.of(shard, tmp_dir)
    n_ends = int(np.count_nonzero(shard < 0))
    return EncodedCorpus(stream, n_words=len(shard) - n_ends, n_skipped=0,
                         n_sentences=n_ends)


# -- the driver's side of counting ------------------------------------------------------

class CountMerger:
    """The sum of the workers' counts, held within `max_vocab` distinct words by
    word2vec.c's pruning (what the compiled table does while counting), and the sums of
    their reading figures."""

    def __init__(self, max_vocab: int):
        self.max_vocab = max_vocab
        self.counts: Dict[str, int] = {}
        self.read = ReadStats()
        self.n_prunes = 0
        self.prune_threshold = 0

    def add(self, share: ShareCounts) -> None:
        counts = self.counts
        words = share.words.decode("utf-8").split("\n")
        for word, count in zip(words, share.counts.tolist()):
            counts[word] = counts.get(word, 0) + count
        for name in ("n_tokens", "n_invalid_bytes", "n_long_tokens", "n_lines"):
            setattr(self.read, name, getattr(self.read, name) + getattr(share.read, name))
        self.n_prunes += share.n_prunes
        self.prune_threshold = max(self.prune_threshold, share.prune_threshold)
        while len(counts) > self.max_vocab:
            # Drop every word counted at most the threshold, one higher each time, until
            # within the bound (fastw2v/_text's prune).
            self.prune_threshold += 1
            self.n_prunes += 1
            counts = {w: c for w, c in counts.items() if c > self.prune_threshold}
        self.counts = counts


@dataclass
class ShardedCorpus:
    """The corpus as the workers encoded it: one shard per worker, each in its worker's
    own stream. Its totals are what the engine and the statistics use."""

    summaries: List[ShardSummary]

    @property
    def n_words(self) -> int:
        return sum(s.n_words for s in self.summaries)

    @property
    def n_skipped(self) -> int:
        return sum(s.n_skipped for s in self.summaries)

    @property
    def n_sentences(self) -> int:
        return sum(s.n_sentences for s in self.summaries)

    def __len__(self) -> int:
        return sum(s.length for s in self.summaries)

    def close(self) -> None:
        """Nothing to free on the driver: the streams are the workers'."""


def check_shards(summaries: Sequence[ShardSummary], n_workers: int) -> None:
    """Every worker needs words to train; a corpus whose share of some worker has none
    is too small for that many workers."""
    empty = [i for i, s in enumerate(summaries) if s.n_words == 0]
    if empty:
        what = (f"the corpus is too small for {n_workers:,} workers: the share of worker "
                f"{empty[0] + 1} holds no word of the vocabulary")
        raise ConfigError(f"{what}; use fewer workers (ray_workers)",
                          f"{what}; use fewer --ray-workers")


def unreadable(paths: Sequence[str], sizes: Sequence[int], nodes: Sequence[str],
               seen: Sequence[Sequence[Tuple[int, str]]]) -> Optional[str]:
    """What the first worker that cannot read the corpus as the driver does found
    (`seen`: probe_files on each worker), or None."""
    for node, found in zip(nodes, seen):
        for path, size, (their_size, reason) in zip(paths, sizes, found):
            if their_size < 0:
                return f"the Ray worker on node {node} cannot open {path}: {reason}"
            if their_size != size:
                return (f"the Ray worker on node {node} sees {path} with {their_size:,} "
                        f"bytes, the driver with {size:,}")
    return None


def driver_sizes(files: CorpusFiles) -> List[int]:
    sizes = []
    for path in files.paths:
        try:
            sizes.append(os.stat(path).st_size)
        except OSError as exc:
            raise CorpusError(f"{path}: cannot read: {exc.strerror}") from None
    return sizes


def refuse(why: str) -> ConfigError:
    """The error for reading on the workers when they cannot: `why`, and what to do."""
    advice = "put the corpus where every node reads it, or read it on the driver"
    return ConfigError(f"{why}; {advice} (ray_read='driver')",
                       f"{why}; {advice} (--ray-read driver)")


# -- the driver: choosing where to read, and reading on the workers -----------------------

def choose_reading(session: RaySession, files: CorpusFiles, mode: str,
                   driver_option: Optional[str],
                   warn: Callable[[str], None]) -> Optional[WorkerReading]:
    """How this run reads its corpus: a WorkerReading, or None to read on the driver.
    `driver_option` is the option (a fastw2v.train parameter) whose start needs the
    corpus on the driver, if any. Under `auto` a reason to read on the driver is said in
    one line (`warn`); under `workers` it is an error."""
    if mode == "driver":
        return None
    n = len(session.actors)
    if driver_option is not None:
        if mode == "workers":
            reads = "reads the corpus on the driver"
            raise ConfigError(
                f"ray_read='workers' cannot be combined with {driver_option}, which "
                f"{reads}; use ray_read='auto' or 'driver'",
                f"--ray-read workers cannot be combined with {option_name(driver_option)}, "
                f"which {reads}; use --ray-read auto or driver")
        warn(f"reading the corpus on the driver: {option_name(driver_option)} reads it "
             f"there")
        return None
    # The shares name files as this process finds them: a shared file system mounts
    # them at the same place everywhere, while the workers' working folders are theirs.
    paths = [os.path.abspath(path) for path in files.paths]
    sizes = driver_sizes(files)
    why: Optional[str] = unreadable(
        paths, sizes, session.nodes, session.get([a.probe.remote(paths)
                                                  for a in session.actors]))
    plan = None
    if why is None:
        plan = plan_shares(paths, sizes, n)
        why = plan.problem
    if why is not None:
        if mode == "workers":
            raise refuse(why)
        warn(f"reading the corpus on the driver: {why}")
        return None
    assert plan is not None
    return WorkerReading(session, files, plan)


class WorkerReading:
    """Each worker counts its share, the driver makes the vocabulary of the sum, each
    worker encodes its share with it (the module's comment)."""

    def __init__(self, session: RaySession, files: CorpusFiles, plan: SharePlan):
        self.session = session
        self.files = files
        self.plan = plan

    def read_corpus(self, config: TrainConfig, stats,
                    warn: Callable[[str], None]) -> Tuple[Vocabulary, ShardedCorpus]:
        session, shares = self.session, self.plan.shares
        refs = [a.count.remote(share, config.max_vocab)
                for a, share in zip(session.actors, shares)]
        merger = CountMerger(config.max_vocab)
        for i, ref in enumerate(refs):
            # One share's words at a time: the driver holds the sum and one share's list.
            merger.add(session.get_one(i, ref))
        report_counting(self.files, config, merger.read, merger.n_prunes,
                        merger.prune_threshold, stats, warn)
        vocab = Vocabulary.from_counts(merger.counts, config.min_count)
        if len(vocab) == 0:
            top_word, top_count = max(merger.counts.items(), key=lambda item: item[1])
            raise no_word_error(str(self.files), config, top_word, top_count)
        del merger
        check_id_range(str(self.files), vocab)
        encode_began = time.perf_counter()
        self.words = session.ray.put(vocab.words)
        self.summaries = session.get([a.encode.remote(share, self.words)
                                      for a, share in zip(session.actors, shares)])
        sharded = ShardedCorpus(self.summaries)
        if sharded.n_words == 0:
            raise CorpusError(f"{self.files}: no token of the corpus is in the vocabulary")
        check_shards(self.summaries, len(shares))
        stats.n_words, stats.n_skipped = sharded.n_words, sharded.n_skipped
        stats.n_sentences = sharded.n_sentences
        stats.seconds["encode"] = time.perf_counter() - encode_began
        return vocab, sharded

    def reload(self, session: RaySession) -> List[ShardSummary]:
        """Give the session's new workers their shards again (after a failure): each
        reads its share once more, with the vocabulary, and must find what the first
        reading found."""
        summaries = session.get([a.encode.remote(share, self.words)
                                 for a, share in zip(session.actors, self.plan.shares)])
        for i, (now, then) in enumerate(zip(summaries, self.summaries)):
            if now != then:
                raise CorpusError(
                    f"{self.plan.shares[i]}: the replacement of Ray worker {i + 1} (on node "
                    f"{session.nodes[i]}) encoded {now.length:,} ids where the first "
                    f"reading found {then.length:,}: the corpus changed during the run")
        return summaries


class ShippedShards:
    """The driver's id stream cut into one shard per worker, each put in the object store
    once (and kept there, for a replacement worker)."""

    def __init__(self, session: RaySession, encoded: EncodedCorpus, job_tokens: int,
                 lengths: Optional[Sequence[int]] = None):
        shards = split_shards(encoded, len(session.actors), job_tokens, lengths)
        self.refs = [session.ray.put(shard) for shard in shards]
        del shards
        self.summaries = self.reload(session)

    def reload(self, session: RaySession) -> List[ShardSummary]:
        return session.get([a.take_ids.remote(ref)
                            for a, ref in zip(session.actors, self.refs)])


def split_shards(encoded: EncodedCorpus, n_shards: int, job_tokens: int,
                 lengths: Optional[Sequence[int]] = None) -> List[np.ndarray]:
    """The id stream in `n_shards` contiguous parts of about equal length, cut at
    sentence ends (at job boundaries); a corpus too small for that is an error. With
    `lengths` (a resumed run's shards) the parts have those lengths."""
    if lengths is not None:
        assert len(lengths) == n_shards and sum(lengths) == len(encoded)
        ends = np.cumsum([0, *lengths]).tolist()
        return [encoded.read(a, b) for a, b in zip(ends, ends[1:])]
    bounds = encoded.job_bounds(job_tokens)
    if len(bounds) < n_shards:
        raise ConfigError(
            f"the corpus is too small for {n_shards:,} workers: it has {len(bounds):,} "
            f"jobs of about {job_tokens:,} tokens; use fewer workers (ray_workers)",
            f"the corpus is too small for {n_shards:,} workers: it has {len(bounds):,} "
            f"jobs of about {job_tokens:,} tokens; use fewer --ray-workers")
    job_ends = np.array([end for _, end in bounds])
    cuts = [0]
    for i in range(1, n_shards):
        # The first job end at or after the i-th equal share, but leave a job for each
        # shard still to come.
        at = int(np.searchsorted(job_ends, len(encoded) * i / n_shards))
        at = min(max(at, cuts[-1]), len(bounds) - (n_shards - i) - 1)
        cuts.append(at + 1)
    cuts.append(len(bounds))
    return [encoded.read(bounds[a][0], bounds[b - 1][1]) for a, b in zip(cuts, cuts[1:])]
