"""Scale checks (issue 6): bounded vocabulary counting on a huge vocabulary, and training
a 1,000,000-word vocabulary at dim 300.

From the repository root, after `pip install .`:

    python benchmarks/bench_scale.py --work-dir /work/scale-data --json scale.json

At the full sizes (the defaults) it takes 6 to 8 minutes on 2 cores and needs about
2.2 GB of disk and 3 GB of memory; benchmarks/SCALE.md has the figures measured. Three
parts, each run in a child process so that its peak memory (VmHWM in /proc/self/status)
is that part's alone:

1. Generate a corpus (`--size-gb`, default 2) with about `--distinct` distinct tokens
   (default 22,000,000; issue 6 asks for at least 20 million): a Zipf-like head of
   `--head-words` words plus a long tail of rare words drawn uniformly, tokens written
   as base-36 ids, lines of 1 to 40 tokens.
   Generation is deterministic (`--seed`) and keeps the exact count of every word.
2. Count it with fastw2v.text.corpus.scan_corpus under each `--max-vocab` (default 2,000,000),
   report time, peak RSS, the table's bytes, the prunings and the final threshold, and
   check the result against the exact counts: no count is ever above the true count,
   and every word whose count is well above what pruning can remove (see
   `safe_count`) has exactly its true count. The peak is checked against the bound
   `counting_bound` computes from the table's layout (src/_text.pyx).
3. Generate a corpus whose vocabulary at --min-count 5 has `--train-words` words
   (default 1,050,000), train one epoch at dim 300 with 2 threads, and report the peak
   RSS against the two matrices' size, with the RSS at each phase of training so the
   overhead can be traced.

A Markdown table of the results goes to stdout, and the figures to --json. --skip-count
or --skip-train leaves a part out; --keep leaves the generated files in --work-dir.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import sys
import time
from typing import Dict, List, Optional

import numpy as np

ALPHABET = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
MAX_DIGITS = 6            # base-36 ids below 36**6 (2.2e9) are at most 6 characters
MAX_LINE_TOKENS = 40      # lines hold 1 to 40 tokens, uniformly
CHUNK_TOKENS = 1 << 23    # tokens generated and written per step (about 35 MB of text)
PIECE = 1 << 14           # bytes the counting child feeds the Scanner at a time


# ---------------------------------------------------------------------------------------
# Memory readings (Linux)

def proc_status_kib(field: str) -> int:
    """A field of /proc/self/status in KiB (VmRSS, VmHWM, ...)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def smaps_rollup() -> Dict[str, int]:
    """/proc/self/smaps_rollup's fields in KiB (Rss, Anonymous, ...)."""
    out = {}
    try:
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[2] == "kB":
                    out[parts[0].rstrip(":")] = int(parts[1])
    except OSError:
        pass
    return out


MIB = 1 << 20


# ---------------------------------------------------------------------------------------
# The corpus generator

def _triples():
    """Base-36 text of every value below 36**3 packed in a uint64 (first character in
    the lowest byte), without leading zeros and with them (3 characters), and the
    length of the former."""
    values = np.arange(36**3)
    d = [values // 36**2, values // 36 % 36, values % 36]
    full = np.zeros(36**3, dtype=np.uint64)
    for i in range(3):
        full |= ALPHABET[d[i]].astype(np.uint64) << np.uint64(8 * i)
    length = 1 + (values >= 36) + (values >= 36**2)
    short = full >> (np.uint64(8) * (3 - length).astype(np.uint64))
    return short, full, length.astype(np.uint64)


TRIPLE_SHORT, TRIPLE_FULL, TRIPLE_LENGTH = _triples()


def base36_text(ids: np.ndarray, line_ends: np.ndarray) -> bytes:
    """The tokens `ids` (below 36**6) as base-36 text, each followed by a space, or a
    newline where `line_ends` is set. Vectorised: each token (at most 6 characters and
    its separator) is packed into one uint64, first character in the lowest byte, from
    table look-ups of its two 3-digit halves; the array's bytes read in order are then
    the text once the unused (zero) bytes are dropped."""
    high, low = np.divmod(ids.astype(np.int64), 36**3)
    sep = np.where(line_ends, np.uint64(ord("\n")), np.uint64(ord(" ")))
    long_ = high > 0
    eight = np.uint64(8)
    # Short ids: the low half alone, then the separator.
    packed = TRIPLE_SHORT[low] | (sep << (eight * TRIPLE_LENGTH[low]))
    # Long ids: the high half without leading zeros, the low half with them, separator.
    h = high[long_]
    hl = TRIPLE_LENGTH[h]
    packed[long_] = (TRIPLE_SHORT[h] | (TRIPLE_FULL[low[long_]] << (eight * hl))
                     | (sep[long_] << (eight * (hl + np.uint64(3)))))
    flat = packed.view(np.uint8)
    return flat[flat != 0].tobytes()


def word_of(word_id: int) -> str:
    """The token of a word id (as base36_text writes it)."""
    digits = []
    while True:
        word_id, d = divmod(word_id, 36)
        digits.append(chr(ALPHABET[d]))
        if word_id == 0:
            return "".join(reversed(digits))


def ids_of(words: List[str]) -> np.ndarray:
    return np.array([int(w, 36) for w in words], dtype=np.int64)


def _digits(ids: np.ndarray) -> np.ndarray:
    out = np.ones(len(ids), dtype=np.int64)
    for k in range(1, MAX_DIGITS):
        out += ids >= 36**k
    return out


class CorpusSpec:
    """The distribution of a generated corpus.

    Word ids [0, head) are the head: id floor(X) where X has density proportional to
    1 / (x + 10) on [0, head), a continuous Zipf-Mandelbrot law (exponent 1; the +10
    keeps the top words from dominating) whose inverse CDF has a closed form, so drawing
    is one exp per token. Ids [head, head + tail) are the tail, drawn uniformly. Each
    token is a tail word with probability `tail_share`. `floor` > 0 also puts every
    head word in the corpus exactly `floor` extra times (shuffled in), so that a
    vocabulary of `head` words survives --min-count `floor`.
    """

    OFFSET = 10.0

    def __init__(self, head: int, tail: int, tail_share: float, floor: int = 0):
        self.head, self.tail, self.tail_share, self.floor = head, tail, tail_share, floor
        self.log_span = np.log((head + self.OFFSET) / self.OFFSET)

    @property
    def n_words(self) -> int:
        return self.head + self.tail

    def head_probabilities(self) -> np.ndarray:
        edges = np.log((np.arange(self.head + 1) + self.OFFSET) / self.OFFSET)
        return np.diff(edges) / self.log_span

    def bytes_per_token(self) -> float:
        """Expected bytes of a drawn token (digits + separator)."""
        head = float(self.head_probabilities() @ _digits(np.arange(self.head)))
        tail = float(_digits(np.arange(self.head, self.head + self.tail)).mean()) \
            if self.tail else 0.0
        return 1.0 + (1 - self.tail_share) * head + self.tail_share * tail

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        x = self.OFFSET * np.expm1(rng.random(n) * self.log_span)
        ids = np.minimum(x.astype(np.int64), self.head - 1)
        if self.tail:
            from_tail = rng.random(n) < self.tail_share
            ids[from_tail] = self.head + rng.integers(0, self.tail, int(from_tail.sum()))
        return ids


def tail_for_distinct(distinct: int, head: int, tail_tokens: float) -> int:
    """The tail size T whose uniform draws of `tail_tokens` tokens leave `distinct` -
    `head` distinct tail words in expectation: T (1 - exp(-m / T)) = target, solved by
    bisection (the left side grows with T towards m)."""
    target = distinct - head
    if target <= 0:
        return 0
    if target >= tail_tokens:
        raise SystemExit(f"cannot reach {distinct:,} distinct tokens with about "
                         f"{int(tail_tokens):,} tail tokens: raise --size-gb")
    lo, hi = float(target), float(target)
    while hi * (1 - np.exp(-tail_tokens / hi)) < target:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        if mid * (1 - np.exp(-tail_tokens / mid)) < target:
            lo = mid
        else:
            hi = mid
    return int(np.ceil(hi))


def line_end_mask(rng: np.random.Generator, n: int, line_left: int):
    """Which of n tokens end a line, lines being 1 to MAX_LINE_TOKENS tokens long
    (uniformly), when the line in progress still needs `line_left` tokens (0: a new line
    starts here). Returns the mask and the tokens the last line still needs after these."""
    first = [line_left - 1] if line_left > 0 else []
    ends = np.asarray(first, dtype=np.int64)
    last = ends[-1] if len(ends) else -1
    parts = [ends]
    while last < n - 1:
        more = last + np.cumsum(rng.integers(1, MAX_LINE_TOKENS + 1, n // 16 + 64))
        parts.append(more)
        last = int(more[-1])
    ends = np.concatenate(parts)
    mask = np.zeros(n, dtype=bool)
    inside = ends[ends < n]
    mask[inside] = True
    beyond = ends[ends >= n]
    return mask, int(beyond[0] - n + 1) if len(beyond) else 0


def generate(path: str, spec: CorpusSpec, size_bytes: int, seed: int,
             chunk_tokens: int = CHUNK_TOKENS, log=print) -> Dict:
    """Write the corpus to `path` until it holds at least `size_bytes` bytes of drawn
    text and, when spec.floor > 0, all the floor tokens; return its exact counts (int64
    per word id) and figures."""
    rng = np.random.default_rng(seed)
    token_bytes = spec.bytes_per_token()
    # Small corpora get several chunks too, so that the floor tokens spread over them.
    chunk_tokens = int(min(chunk_tokens, max(1 << 12, size_bytes / token_bytes / 8)))
    counts = np.zeros(spec.n_words, dtype=np.int64)
    # The floor tokens are spread over the chunks in a random order.
    floor_ids = None
    if spec.floor:
        floor_ids = rng.permutation(np.repeat(np.arange(spec.head, dtype=np.int64),
                                              spec.floor))
    written = n_tokens = n_lines = 0
    started = time.perf_counter()
    line_left = 0  # tokens left in the line that the previous chunk began
    floor_pos = 0
    with open(path, "wb", buffering=0) as out:
        while True:
            floor_left = len(floor_ids) - floor_pos if floor_ids is not None else 0
            if written >= size_bytes and floor_left == 0:
                break
            ids = spec.draw(rng, chunk_tokens) if written < size_bytes else \
                np.zeros(0, dtype=np.int64)
            if floor_left:
                # Enough floor tokens per chunk to finish them with the drawn text.
                n_chunks_left = max(1, int(np.ceil((size_bytes - written)
                                                   / (chunk_tokens * token_bytes))))
                take = floor_left if written >= size_bytes else \
                    int(np.ceil(floor_left / n_chunks_left))
                extra = floor_ids[floor_pos:floor_pos + take]
                floor_pos += take
                ids = np.concatenate([ids, extra])
                ids = ids[rng.permutation(len(ids))]
            n = len(ids)
            line_ends, line_left = line_end_mask(rng, n, line_left)
            text = base36_text(ids, line_ends)
            out.write(text)
            counts += np.bincount(ids, minlength=spec.n_words)
            written += len(text)
            n_tokens += n
            n_lines += int(line_ends.sum())
            log(f"  generated {written / 1e9:.2f} GB, {n_tokens:,} tokens", end="\r")
        # End the last line, so that the file is whole lines.
        if not (n_tokens and line_ends[-1]):
            out.write(b"\n")
            written += 1
            n_lines += 1
    log("")
    return {"counts": counts, "bytes": written, "tokens": n_tokens, "lines": n_lines,
            "distinct": int(np.count_nonzero(counts)),
            "seconds": time.perf_counter() - started}


# ---------------------------------------------------------------------------------------
# Counting under a bound

def pow2_at_least(n: int, start: int) -> int:
    size = start
    while size < n:
        size *= 2
    return size


def counting_bound(max_vocab: int, max_key_bytes: int, block_bytes: int) -> Dict[str, int]:
    """An upper bound on what scan_corpus allocates besides the interpreter, in bytes,
    from the layout of src/_text.pyx's WordTable and Scanner:

    - entries: 32 bytes each, a doubling array from 1024; the table holds at most
      max_vocab + 1 entries (it prunes as soon as it has one more than max_vocab), so
      the array is at most pow2(max_vocab + 1) entries. Growing is a realloc: the old
      block is freed when the copy is done, so the touched pages peak at the new size.
    - slots: int32, a power of two from 1024 kept at load <= 1/2, so at most
      pow2(2 (max_vocab + 1)) slots; a rebuild (growth, and every pruning) mallocs the
      new array before freeing the old one, so twice that at the moment of a rebuild.
    - arena: the key bytes, at most (max_vocab + 1) * max_key_bytes in use, in a
      doubling buffer from 64 KiB (at most twice what is used, as a realloc again).
    - the Scanner's output buffer (int32, doubling from 65,536; at most one id per 2 bytes
      of a block: a token and its separator, or a line end after a token), the numpy
      copy that feed() returns, and the block itself.
    - this benchmark's recording (count_with_history): the pieces' id arrays and their
      concatenation, two more copies of a block's ids.
    """
    n = max_vocab + 1
    entries = pow2_at_least(n, 1024) * 32
    slots = 2 * pow2_at_least(2 * n, 1024) * 4
    arena = pow2_at_least(n * max_key_bytes, 1 << 16)
    ids_per_block = block_bytes // 2 + 2
    scanner = pow2_at_least(ids_per_block, 1 << 16) * 4 + ids_per_block * 4 + block_bytes
    recording = 2 * ids_per_block * 4
    return {"entries": entries, "slots": slots, "arena": arena, "scanner": scanner,
            "recording": recording,
            "total": entries + slots + arena + scanner + recording}


def count_with_history(path: str, max_vocab: int, tmp_dir: Optional[str] = None):
    """fastw2v.text.corpus.scan_corpus(path, max_vocab), recording where the prunings happen.

    Returns the scan, the history [(tokens read before the piece of text in which a
    pruning happened, prunings so far, the threshold after it)] and the seconds taken.
    The position is a lower bound, which can only make safe_count larger.
    """
    from fastw2v import _text
    from fastw2v.text import corpus

    history = []
    before = [0]
    table_made = [None]

    class RecordingScanner(_text.Scanner):
        # scan_corpus feeds blocks of corpus.BLOCK_BYTES. Each is given to the Scanner in
        # pieces of PIECE bytes (it carries a token cut by a piece's end into the next),
        # and after each piece a new pruning is noted, so that a pruning's position is
        # known to a few thousand tokens. That costs one call per piece: about 120,000
        # calls over 2 GB.
        def feed(self, block, final=False):
            view = memoryview(block)
            outs = []
            starts = range(0, len(view), PIECE) if len(view) else [0]
            for start in starts:
                last = start + PIECE >= len(view)
                outs.append(super().feed(view[start:start + PIECE], final and last))
                table = table_made[0]
                if table.n_prunes != (history[-1][1] if history else 0):
                    history.append((before[0], table.n_prunes, table.prune_threshold))
                before[0] = self.n_tokens
            return outs[0] if len(outs) == 1 else np.concatenate(outs)

    class RecordingTable(_text.WordTable):
        def __init__(self, max_vocab):
            super().__init__(max_vocab)
            table_made[0] = self

    # scan_corpus looks both classes up in fastw2v._text when it is called.
    real = (_text.Scanner, _text.WordTable)
    _text.Scanner, _text.WordTable = RecordingScanner, RecordingTable
    try:
        started = time.perf_counter()
        scan = corpus.scan_corpus(path, max_vocab, tmp_dir=tmp_dir)
        seconds = time.perf_counter() - started
    finally:
        _text.Scanner, _text.WordTable = real
    return scan, history, seconds


def _count_child(path: str, max_vocab: int, dump_prefix: str, queue) -> None:
    """Child process: count under max_vocab; record its peak RSS and the prunings, and
    dump the table's words (as generator ids) and counts for the parent to check."""
    import fastw2v.text.corpus  # noqa: F401  (imported before the baseline is read)
    baseline = proc_status_kib("VmRSS")
    scan, history, seconds = count_with_history(path, max_vocab,
                                                os.path.dirname(dump_prefix))
    peak = proc_status_kib("VmHWM")
    table = scan.table
    result = {
        "max_vocab": max_vocab, "seconds": seconds, "peak_rss": peak * 1024,
        "baseline_rss": baseline * 1024, "table_bytes": table.memory_bytes,
        "entries": len(table), "n_prunes": scan.n_prunes,
        "prune_threshold": scan.prune_threshold, "tokens": scan.stats.n_tokens,
        "stream_valid": scan.entries is not None,
        "history": history,
    }
    if scan.entries is not None:
        scan.entries.close()
    # After the peak was read: the table's words as generator ids, and their counts.
    np.save(dump_prefix + "-ids.npy", ids_of(table.words()))
    np.save(dump_prefix + "-counts.npy", table.counts())
    queue.put(result)


def run_child(target, *args):
    ctx = mp.get_context("spawn")  # a fresh interpreter: no memory inherited
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=args + (queue,))
    proc.start()
    result = queue.get()
    proc.join()
    if proc.exitcode != 0:
        raise SystemExit(f"child process failed with exit code {proc.exitcode}")
    return result


def safe_count(history, n_tokens: int, z: float = 6.0) -> int:
    """The smallest true count at which pruning cannot plausibly have touched a word.

    A word loses counts only when a pruning finds its count so far (since it was last
    inserted) at or below that pruning's threshold; counts only grow and thresholds
    only rise, so a word that was above the threshold at every pruning is exact. For a
    word of true count c spread evenly over the corpus (the generator draws tokens
    independently), its count at a pruning after p of the N tokens is about Poisson(c
    p / N). "Well above" is c such that at every pruning k that mean exceeds threshold
    theta_k by z standard deviations: c p_k / N >= theta_k + z sqrt(theta_k) + z^2/2
    (the Poisson lower tail is then below about exp(-z^2 / 2)). Early prunings weigh
    most: p_k is small there, so the bound is far above 2 x the final threshold.
    """
    worst = 1.0  # no pruning: every count is exact
    for tokens, _, theta in history:
        if tokens == 0:  # pruned within the first piece: no word can be vouched for
            return n_tokens + 1
        need = theta + z * np.sqrt(theta) + z * z / 2
        worst = max(worst, need * n_tokens / tokens)
    return int(np.ceil(worst))


def check_counts(true_counts: np.ndarray, ids: np.ndarray, counts: np.ndarray,
                 threshold: int, safe: int) -> Dict:
    """Compare the pruned table with the exact counts."""
    truth = true_counts[ids]
    over = counts > truth
    under = counts < truth
    lost = truth - counts
    present = np.zeros(len(true_counts), dtype=bool)
    present[ids] = True
    # Every word of true count >= safe must be in the table with exactly its count.
    safe_words = np.flatnonzero(true_counts >= safe)
    missing_safe = int(np.count_nonzero(~present[safe_words]))
    wrong_safe = int(np.count_nonzero(under & (truth >= safe)))
    # The smallest true count above which every word is exact (what was observed).
    inexact = np.zeros(len(true_counts), dtype=bool)
    inexact[ids[under]] = True
    absent = ~present & (true_counts > 0)
    inexact |= absent
    worst_inexact = int(true_counts[inexact].max()) if inexact.any() else 0
    # How exactness grows with the true count, in bands of the final threshold T.
    table_count = np.zeros(len(true_counts), dtype=np.int64)
    table_count[ids] = counts
    bands = []
    edges = [1, 2, 5, 10, 20, 50] if threshold else []
    for lo, hi in zip(edges, edges[1:] + [None]):
        band = (true_counts > lo * threshold) & (
            true_counts <= hi * threshold if hi else True)
        loss = true_counts[band] - table_count[band]
        bands.append({"from_t": lo, "to_t": hi, "words": int(band.sum()),
                      "inexact": int(np.count_nonzero(loss)),
                      "max_loss": int(loss.max()) if len(loss) else 0})
    return {
        "bands": bands,
        "overestimated": int(over.sum()),
        "underestimated": int(under.sum()),
        "max_loss": int(lost.max()) if len(lost) else 0,
        "safe_count": safe,
        "safe_words": len(safe_words),
        "safe_missing": missing_safe,
        "safe_wrong": wrong_safe,
        "largest_inexact_true_count": worst_inexact,
        "threshold": threshold,
        "exact_above_2t": bool(not (inexact & (true_counts > 2 * threshold)).any()),
        "ok": bool(over.sum() == 0 and missing_safe == 0 and wrong_safe == 0),
    }


def count_part(args, corpus_path: str, truth: Dict, log=print) -> List[Dict]:
    from fastw2v.text import corpus as corpus_module
    results = []
    max_key = MAX_DIGITS  # generator tokens are at most 6 bytes
    for max_vocab in args.max_vocab:
        log(f"counting with max_vocab={max_vocab:,} ...")
        prefix = os.path.join(args.work_dir, f"table-{max_vocab}")
        res = run_child(_count_child, corpus_path, max_vocab, prefix)
        ids = np.load(prefix + "-ids.npy")
        counts = np.load(prefix + "-counts.npy")
        os.remove(prefix + "-ids.npy")
        os.remove(prefix + "-counts.npy")
        safe = safe_count(res["history"], res["tokens"])
        res["check"] = check_counts(truth["counts"], ids, counts, res["prune_threshold"],
                                    safe)
        bound = counting_bound(max_vocab, max_key, corpus_module.BLOCK_BYTES)
        res["bound"] = bound
        res["table_within_bound"] = res["table_bytes"] <= (
            bound["entries"] + bound["slots"] // 2 + bound["arena"])
        res["peak_over_baseline"] = res["peak_rss"] - res["baseline_rss"]
        res["peak_within_bound"] = res["peak_over_baseline"] <= bound["total"]
        res["history"] = res["history"][:5] + (["..."] if len(res["history"]) > 5 else [])
        results.append(res)
        log(f"  {res['seconds']:.1f} s, peak RSS {res['peak_rss'] / MIB:.0f} MiB, "
            f"table {res['table_bytes'] / MIB:.0f} MiB, {res['n_prunes']} prunings, "
            f"threshold {res['prune_threshold']}, check {res['check']}")
    return results


# ---------------------------------------------------------------------------------------
# Training a large vocabulary

def _train_child(path: str, dim: int, threads: int, tmp_dir: str, release_table: bool,
                 queue) -> None:
    """Child process: fastw2v.train for one epoch, with the RSS at each phase.

    `release_table` detaches the scan's WordTable from the scan object right after
    encode_corpus, which frees it at once; training.starts already lets the scan go when
    the start's read_corpus returns, so this measures what freeing it a step earlier
    would save.
    """
    import fastw2v
    from fastw2v.state import ModelState
    from fastw2v.text.corpus import CorpusScan
    from fastw2v.training import starts, trainer

    phases = []  # (phase, VmRSS MiB at its end, VmHWM MiB so far)

    def note(name):
        phases.append((name, proc_status_kib("VmRSS") / 1024, proc_status_kib("VmHWM") / 1024))

    def wrap(name, function):
        def wrapped(*a, **k):
            out = function(*a, **k)
            note(name)
            return out
        return wrapped

    # The phases of a fresh run, in order (the names are looked up at call time).
    starts.scan_corpus = wrap("scan_corpus", starts.scan_corpus)
    trainer.build_tables = wrap("build_tables", trainer.build_tables)
    initial = ModelState.initial.__func__
    ModelState.initial = classmethod(wrap("initial_state", initial))
    encode = starts.encode_corpus

    def encode_then_release(*a, **k):
        out = encode(*a, **k)
        if release_table and k.get("scan") is not None:
            k["scan"].table = None
            note("released_scan_table")
        note("encode_corpus")
        return out

    starts.encode_corpus = encode_then_release
    sizes = {}

    real_run = trainer.Trainer.run

    def run(self, at):
        tables = self.kernel_tables
        table_bytes = [v.nbytes for v in vars(tables).values() if hasattr(v, "nbytes")]
        sizes["kernel_tables"] = sum(table_bytes)
        vocab = self.state.vocab
        # The words as the vocabulary holds them: a compact WordList (its buffer and
        # offsets), or Python strings and their list.
        held = getattr(vocab.words, "nbytes", None)
        sizes["vocab_words"] = held if held is not None else (
            sys.getsizeof(vocab.words) + sum(sys.getsizeof(w) for w in vocab.words))
        sizes["vocab_counts"] = vocab.counts.nbytes
        # Any counting table still alive during training (none is expected).
        import gc
        tables_alive = [o for o in gc.get_referrers(CorpusScan) if isinstance(o, CorpusScan)]
        sizes["scan_table_alive"] = sum(s.table.memory_bytes for s in tables_alive
                                        if s.table is not None)
        note("before_epochs")
        return real_run(self, at)

    trainer.Trainer.run = run
    note("start")
    started = time.perf_counter()
    model = fastw2v.train(path, dim=dim, min_count=5, epochs=1, threads=threads,
                          tmp_dir=tmp_dir)
    seconds = time.perf_counter() - started
    note("end")
    queue.put({
        "seconds": seconds, "peak_rss": proc_status_kib("VmHWM") * 1024,
        "n_words": len(model.vocab), "dim": dim, "threads": threads,
        "matrix_bytes": model.vectors.nbytes + model.context_vectors.nbytes,
        "shapes": [list(model.vectors.shape), list(model.context_vectors.shape)],
        "phases": phases, "sizes": sizes, "smaps_rollup_end": smaps_rollup(),
        "stats_seconds": dict(model.stats.seconds), "n_tokens": model.stats.n_words,
    })


def train_part(args, log=print) -> Dict:
    path = os.path.join(args.work_dir, "train-corpus.txt")
    # Every word appears `floor` = 6 times besides its Zipf draws, so all of them pass
    # --min-count 5 and the vocabulary is exactly --train-words.
    spec = CorpusSpec(head=args.train_words, tail=0, tail_share=0.0, floor=6)
    log(f"generating the training corpus ({args.train_words:,} words, "
        f"{args.train_mb} MB of Zipf text besides the floor) ...")
    gen = generate(path, spec, int(args.train_mb * 1e6), args.seed + 1, log=log)
    log(f"  {gen['bytes'] / 1e6:.0f} MB, {gen['tokens']:,} tokens, "
        f"{int(np.count_nonzero(gen['counts'] >= 5)):,} words >= 5, {gen['seconds']:.0f} s")
    log(f"training dim {args.dim}, 1 epoch, {args.threads} threads ...")
    res = run_child(_train_child, path, args.dim, args.threads, args.work_dir,
                    args.release_scan_table)
    res["release_scan_table"] = args.release_scan_table
    res["corpus_bytes"] = gen["bytes"]
    res["corpus_tokens"] = gen["tokens"]
    res["overhead"] = res["peak_rss"] - res["matrix_bytes"]
    res["overhead_pct"] = 100.0 * res["overhead"] / res["matrix_bytes"]
    if not args.keep:
        os.remove(path)
    log(f"  {res['seconds']:.0f} s, peak RSS {res['peak_rss'] / MIB:.0f} MiB, matrices "
        f"{res['matrix_bytes'] / MIB:.0f} MiB, overhead {res['overhead'] / MIB:.0f} MiB "
        f"({res['overhead_pct']:.1f}%)")
    return res


# ---------------------------------------------------------------------------------------

def markdown(results: Dict) -> str:
    lines = []
    gen = results.get("corpus")
    if gen:
        lines += [(f"Corpus: {gen['bytes'] / 1e9:.2f} GB, {gen['tokens']:,} tokens, "
                  f"{gen['distinct']:,} distinct, generated in {gen['seconds']:.0f} s"), ""]
    if results.get("counting"):
        lines += [("| max_vocab | time (s) | peak RSS (MiB) | baseline (MiB) | table (MiB) "
                  "| bound over baseline (MiB) | prunings | final threshold | well-above "
                  "count | words checked | overestimates | check |"),
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in results["counting"]:
            c = r["check"]
            lines.append(
                f"| {r['max_vocab']:,} | {r['seconds']:.1f} | {r['peak_rss'] / MIB:.0f} "
                f"| {r['baseline_rss'] / MIB:.0f} | {r['table_bytes'] / MIB:.0f} "
                f"| {r['bound']['total'] / MIB:.0f} | {r['n_prunes']} "
                f"| {r['prune_threshold']} | {c['safe_count']:,} | {c['safe_words']:,} "
                f"| {c['overestimated']} "
                f"| {'ok' if c['ok'] and r['peak_within_bound'] else 'FAIL'} |")
        lines.append("")
        for r in results["counting"]:
            if not r["check"].get("bands"):
                continue
            t = r["check"]["threshold"]
            lines += [(f"Exactness by true count, max_vocab {r['max_vocab']:,} (final "
                      f"threshold T = {t}):"), "",
                      "| true count | words | undercounted | largest loss |",
                      "|---|---|---|---|"]
            for band in r["check"]["bands"]:
                top = f"{band['to_t']}T" if band["to_t"] else "inf"
                lines.append(f"| ({band['from_t']}T, {top}] | {band['words']:,} "
                             f"| {band['inexact']:,} | {band['max_loss']} |")
            lines.append("")
    t = results.get("training")
    if t:
        lines += [("| words | dim | counting table freed after encoding | time (s) "
                  "| peak RSS (MiB) | matrices (MiB) | overhead (MiB) | overhead (%) |"),
                  "|---|---|---|---|---|---|---|---|",
                  (f"| {t['n_words']:,} | {t['dim']} "
                  f"| {'yes (experiment)' if t.get('release_scan_table') else 'no (as now)'} "
                  f"| {t['seconds']:.0f} "
                  f"| {t['peak_rss'] / MIB:.0f} | {t['matrix_bytes'] / MIB:.0f} "
                  f"| {t['overhead'] / MIB:.0f} | {t['overhead_pct']:.1f} |"), "",
                  "| phase (end of) | RSS (MiB) | peak so far (MiB) |", "|---|---|---|"]
        lines += [f"| {name} | {rss:.0f} | {hwm:.0f} |" for name, rss, hwm in t["phases"]]
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Scale benchmark: bounded vocabulary counting on a generated corpus "
                    "of --size-gb with --distinct distinct tokens, and training a "
                    "--train-words vocabulary at --dim. Defaults are the full sizes of "
                    "issue 6 (6 to 8 minutes on 2 cores, about 2.2 GB of disk and 3 GB "
                    "of memory).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--work-dir", default="/tmp/fastw2v-scale",
                   help="folder for the generated corpora and temporary files")
    p.add_argument("--size-gb", type=float, default=2.0,
                   help="size of the counting corpus in GB (1e9 bytes)")
    p.add_argument("--distinct", type=int, default=22_000_000,
                   help="distinct tokens to aim for in the counting corpus (the tail is "
                        "sized for this in expectation; the actual number is reported)")
    p.add_argument("--head-words", type=int, default=2_000_000,
                   help="words of the Zipf-like head of the counting corpus")
    p.add_argument("--tail-share", type=float, default=0.15,
                   help="share of tokens drawn from the uniform long tail")
    p.add_argument("--max-vocab", type=int, action="append",
                   help="bound(s) to count under; repeat for several (default: 2,000,000; "
                        "a bound above the distinct count gives an exact, unpruned count)")
    p.add_argument("--train-words", type=int, default=1_050_000,
                   help="words of the training corpus's vocabulary (each appears at "
                        "least 6 times, so all pass --min-count 5)")
    p.add_argument("--train-mb", type=float, default=100.0,
                   help="MB of Zipf text in the training corpus besides the 6 floor "
                        "occurrences of each word")
    p.add_argument("--dim", type=int, default=300, help="vector size for training")
    p.add_argument("--threads", type=int, default=2, help="training threads")
    p.add_argument("--seed", type=int, default=1,
                   help="generator seed (the training corpus uses seed + 1)")
    p.add_argument("--release-scan-table", action="store_true",
                   help="experiment: free the counting table once the corpus is encoded "
                        "(what training.train could do) to measure the memory it saves")
    p.add_argument("--skip-count", action="store_true",
                   help="leave out the 2 GB corpus and the counting part")
    p.add_argument("--skip-train", action="store_true",
                   help="leave out the training part")
    p.add_argument("--keep", action="store_true", help="keep the generated corpora")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    if not args.max_vocab:
        args.max_vocab = [2_000_000]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    results: Dict = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                 "python": platform.python_version()},
                     "args": vars(args), "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                               time.gmtime())}
    ok = True
    if not args.skip_count:
        size = int(args.size_gb * 1e9)
        spec = CorpusSpec(args.head_words, 0, args.tail_share)
        tokens = size / spec_bytes(args)
        tail = tail_for_distinct(args.distinct, int(0.97 * args.head_words),
                                 tokens * args.tail_share)
        spec = CorpusSpec(args.head_words, tail, args.tail_share)
        path = os.path.join(args.work_dir, "count-corpus.txt")
        print(f"generating {args.size_gb} GB ({args.head_words:,} head words, "
              f"{tail:,} tail words) ...")
        truth = generate(path, spec, size, args.seed)
        results["corpus"] = {k: v for k, v in truth.items() if k != "counts"}
        print(f"  {truth['bytes'] / 1e9:.2f} GB, {truth['tokens']:,} tokens, "
              f"{truth['distinct']:,} distinct, {truth['seconds']:.0f} s")
        results["counting"] = count_part(args, path, truth)
        ok &= all(r["check"]["ok"] and r["peak_within_bound"] for r in results["counting"])
        del truth
        if not args.keep:
            os.remove(path)
    if not args.skip_train:
        results["training"] = train_part(args)
    print()
    print(markdown(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=str)
    return 0 if ok else 1


def spec_bytes(args) -> float:
    """Bytes per token of the counting corpus, with a tail of 5-digit ids (ids from 2M
    to 60M are 5 base-36 digits), to size the tail before it is known."""
    head = CorpusSpec(args.head_words, 0, 0.0)
    return (1 - args.tail_share) * (head.bytes_per_token() - 1) + args.tail_share * 5 + 1


if __name__ == "__main__":
    sys.exit(main())
