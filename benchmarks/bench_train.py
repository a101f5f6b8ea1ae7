"""Train fastw2v and gensim side by side on one corpus and compare speed, memory, quality.

Reproduce the reference comparison (skip-gram, dim 100, window 5, negative 5, sample 1e-4,
5 epochs, min-count 5, 2 threads, analogies restricted to the 30,000 most frequent words)
from the repository root, after `pip install .` and `pip install "gensim>=4,<5" scipy`
(or, without installing fastw2v, on the in-place build: prefix the command with
PYTHONPATH=.):

    python benchmarks/bench_train.py --json /tmp/fastw2v-bench.json

Both architectures, three runs each (medians of speed and wall times are reported):

    python benchmarks/bench_train.py --arch skipgram --arch cbow --runs 3

The default corpus is ../shared/data/wiki8.txt.xz beside the repository; a compressed
corpus (.xz, .gz, .bz2) is decompressed once into ~/.cache/fastw2v-bench/ (--cache-dir)
and reused on later runs. Evaluation sets default to the same data folder.

How it measures. Every (tool, input mode, architecture, run) trains in its own child
process (this script with the hidden --child option), so that peak RSS (the child's
VmHWM, taken right after the vectors are saved, before any evaluation) belongs to that
tool alone. The child times the phases:

  * fastw2v: vocab = counting + encoding the corpus into ids (stats.seconds "vocab" +
    "encode"); train = stats.seconds["train"]; save = writing the word2vec binary.
  * gensim: vocab = Word2Vec(...) + build_vocab(); train = train(); save =
    wv.save_word2vec_format(binary=True). Both input modes are measured: corpus_file=
    (gensim's file-based mode) and sentences= (a streaming LineSentence iterable).

gensim's corpus_file reader does not cut long lines into 10,000-token sentences as
LineSentence does: it trains on the first 10,000 kept words of each batch and drops the
rest, so on wiki8 (one 100 MB line) it would skip almost the whole corpus. When the corpus
has such lines, corpus_file= is therefore given a cached copy cut into 10,000-token lines,
which holds exactly the sentences LineSentence makes of the original (same tokens, same
vocabulary); --gensim-corpus-file-as-is passes the original instead. Any gensim row whose
train() read under 99% of corpus tokens x epochs is flagged "!" as not comparable and is
never picked as the faster mode.

total = wall time from the start of training to the end of the save, in the child (it
leaves out interpreter start-up and imports). words/s = in-vocabulary tokens over all
epochs / train seconds (for gensim: sum of the vocabulary's counts x epochs); effective
words/s = tokens left after subsampling / train seconds (fastw2v's stats.n_kept, gensim's
train() effective word count). Each tool trains with its own default learning rate (the
alphas used are printed).

Quality is computed here, by one function for both tools, from the saved word2vec binary
files: 3CosAdd analogies on unit vectors over the --restrict-vocab most frequent words
(case-insensitive; a question with any word outside them is skipped; sections 1-5 are
semantic, the rest syntactic), and Spearman's rho (scipy) of cosine similarity on
WordSim-353 and SimLex-999 over the full vocabulary (pairs with an unknown word are
skipped and counted). As a cross-check, gensim's own evaluate_word_analogies total is
printed for the gensim models. Every run is evaluated and the table reports the medians;
vector files are written to a temporary folder that is removed at the end.

Thread scaling. --threads takes a list (--threads 1,2): every tool then trains at each
count, the counts one after the other within each round of runs, so that both see the
machine in the same state (on a shared virtual machine a run's speed moves by 10-25%
from minute to minute). The scaling printed is the median, over rounds, of the speed at
the higher count divided by the 1-thread speed of the same round.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
DATA_DIR = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data"))
DEFAULT_CORPUS = os.path.join(DATA_DIR, "wiki8.txt.xz")
DEFAULT_ANALOGIES = os.path.join(DATA_DIR, "questions-words.txt")
DEFAULT_WORDSIM = os.path.join(DATA_DIR, "wordsim353.txt")
DEFAULT_SIMLEX = os.path.join(DATA_DIR, "simlex999.txt")
DEFAULT_CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "fastw2v-bench")

TOOLS = ("fastw2v", "gensim")
ARCHITECTURES = ("skipgram", "cbow")
GENSIM_MODES = ("corpus_file", "sentences")
SEMANTIC_SECTIONS = 5  # the first five sections of questions-words.txt are semantic
RESULT_MARKER = "@@FASTW2V_BENCH_RESULT@@ "
COMPRESSED_SUFFIXES = (".xz", ".lzma", ".gz", ".bz2")
# gensim's LineSentence cuts lines into sentences of at most this many tokens. Its
# corpus_file reader does not: it trains on only the first 10,000 kept words of each
# batch, so on a corpus of very long lines (wiki8 and text8 are ONE line) it silently
# skips almost all of the corpus. See prepare_gensim_corpus_file().
GENSIM_MAX_SENTENCE = 10_000
# A gensim row whose train() read fewer raw tokens than this share of the corpus x
# epochs is flagged as not comparable.
MIN_COVERAGE = 0.99


# --------------------------------------------------------------------------------------
# Corpus cache: decompress once, reuse while the size is the expected one
# --------------------------------------------------------------------------------------

def _read_varint(buf: bytes, pos: int):
    """xz's multibyte integer: 7 bits per byte, least significant first."""
    value, shift = 0, 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("bad xz varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def xz_uncompressed_size(path: str):
    """Uncompressed size recorded in the index of each stream of an .xz file, or None."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            pos = f.tell()
            total = 0
            while pos > 0:
                # Stream padding: zero bytes in multiples of four between streams.
                while pos >= 4:
                    f.seek(pos - 4)
                    if f.read(4) != b"\0\0\0\0":
                        break
                    pos -= 4
                if pos < 24:
                    return None
                f.seek(pos - 12)
                footer = f.read(12)
                if footer[10:12] != b"YZ":
                    return None
                index_size = (int.from_bytes(footer[4:8], "little") + 1) * 4
                index_start = pos - 12 - index_size
                if index_start < 12:
                    return None
                f.seek(index_start)
                index = f.read(index_size)
                if index[0] != 0:
                    return None
                n_records, p = _read_varint(index, 1)
                blocks_size = 0
                for _ in range(n_records):
                    unpadded, p = _read_varint(index, p)
                    uncompressed, p = _read_varint(index, p)
                    blocks_size += (unpadded + 3) // 4 * 4
                    total += uncompressed
                pos = index_start - blocks_size - 12  # minus the stream header
                if pos < 0:
                    return None
            return total
    except (OSError, ValueError, IndexError):
        return None


def expected_uncompressed_size(path: str):
    """(size, modulus): what the container says the decompressed size is, if it says."""
    lower = path.lower()
    if lower.endswith(".xz"):
        return xz_uncompressed_size(path), None
    if lower.endswith(".gz"):
        try:
            with open(path, "rb") as f:
                f.seek(-4, os.SEEK_END)
                return int.from_bytes(f.read(4), "little"), 2**32  # ISIZE is mod 2^32
        except OSError:
            return None, None
    return None, None  # .bz2 and .lzma record no size


def _open_compressed(path: str):
    lower = path.lower()
    if lower.endswith((".xz", ".lzma")):
        import lzma
        return lzma.open(path, "rb")
    if lower.endswith(".gz"):
        import gzip
        return gzip.open(path, "rb")
    import bz2
    return bz2.open(path, "rb")


def _make_readable(path: str) -> None:
    """mkstemp files are private; give cached corpora the usual permissions."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def write_cache_file(cached: str, meta_path: str, source_id: dict, fill, check=None) -> int:
    """Write a cache file through a temporary file and a rename, then its metadata (what
    it was made from and its size); `check(size)` may reject it first. Returns the size."""
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(cached) + ".", suffix=".part",
                               dir=os.path.dirname(cached))
    try:
        with os.fdopen(fd, "wb") as out:
            fill(out)
        size = os.path.getsize(tmp)
        if check is not None:
            check(size)
        _make_readable(tmp)
        os.replace(tmp, cached)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    with open(meta_path + ".part", "w", encoding="utf-8") as f:
        json.dump(dict(source_id, size=size), f)
    os.replace(meta_path + ".part", meta_path)
    return size


def prepare_corpus(path: str, cache_dir: str) -> str:
    """Return an uncompressed corpus path, decompressing into the cache if needed."""
    if not path.lower().endswith(COMPRESSED_SUFFIXES):
        return path
    name = os.path.basename(path)
    name = name[: name.rfind(".")]
    os.makedirs(cache_dir, exist_ok=True)
    cached = os.path.join(cache_dir, name)
    meta_path = cached + ".source.json"
    source = os.stat(path)
    source_id = {"source": os.path.abspath(path), "source_size": source.st_size,
                 "source_mtime_ns": source.st_mtime_ns}

    expected, modulus = expected_uncompressed_size(path)
    recorded, stale = None, False
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        if all(meta.get(k) == v for k, v in source_id.items()):
            recorded = meta.get("size")
        else:
            stale = True  # made from another version of the source
    except (OSError, ValueError):
        pass

    def size_ok(size: int) -> bool:
        if expected is not None and (size % modulus if modulus else size) != expected:
            return False
        if recorded is not None and size != recorded:
            return False
        return expected is not None or recorded is not None

    if os.path.isfile(cached) and not stale:
        size = os.path.getsize(cached)
        if size_ok(size):
            return cached
        log(f"cached {cached} ({size:,} bytes) does not have the expected size: "
            f"decompressing again")

    log(f"decompressing {path} once into {cached} ...")
    started = time.perf_counter()
    def decompress(out) -> None:
        with _open_compressed(path) as src:
            shutil.copyfileobj(src, out, 16 * 1024 * 1024)

    def check(size: int) -> None:
        if expected is not None and (size % modulus if modulus else size) != expected:
            raise RuntimeError(f"{path}: decompressed to {size:,} bytes, but the file says "
                               f"{expected:,}")

    size = write_cache_file(cached, meta_path, source_id, decompress, check)
    log(f"  {size:,} bytes in {time.perf_counter() - started:.1f} s")
    return cached


def iter_line_tokens(path: str, block: int = 8 << 20):
    """Yield (tokens, ends_line) for pieces of the lines of `path`, reading in blocks.

    Tokens are bytes split on ASCII white space; a line longer than a block comes in
    several pieces, only the last of which has ends_line True. Memory stays ~2 blocks.
    """
    carry = b""
    with open(path, "rb") as f:
        while True:
            chunk = f.read(block)
            if not chunk:
                if carry.strip():
                    yield carry.split(), True
                return
            lines = (carry + chunk).split(b"\n")
            carry = lines.pop()  # the unfinished last line
            for line in lines:
                yield line.split(), True
            if len(carry) > block:  # a long line: hand on its complete tokens
                cut = max(carry.rfind(b" "), carry.rfind(b"\t"), carry.rfind(b"\r"))
                if cut > 0:
                    yield carry[:cut].split(), False
                    carry = carry[cut:]


def has_long_lines(path: str, limit: int) -> bool:
    count = 0
    for tokens, ends_line in iter_line_tokens(path):
        count += len(tokens)
        if count > limit:
            return True
        if ends_line:
            count = 0
    return False


def write_relined(path: str, out, limit: int) -> None:
    """Copy `path` with every line cut into lines of at most `limit` tokens.

    These are exactly the sentences gensim's LineSentence makes of the original (it
    cuts lines into `limit`-token pieces), so gensim sees the same corpus either way.
    Blank lines are dropped (neither reader makes a sentence of them).
    """
    count = 0
    for tokens, ends_line in iter_line_tokens(path):
        i = 0
        while i < len(tokens):
            if count == limit:
                out.write(b"\n")
                count = 0
            take = min(limit - count, len(tokens) - i)
            if count:
                out.write(b" ")
            out.write(b" ".join(tokens[i:i + take]))
            count += take
            i += take
        if ends_line and count:
            out.write(b"\n")
            count = 0
    if count:
        out.write(b"\n")


def prepare_gensim_corpus_file(corpus: str, cache_dir: str) -> str:
    """The file to give gensim's corpus_file=: `corpus` itself if no line is longer than
    10,000 tokens, else a cached copy with the long lines cut (see write_relined)."""
    if not has_long_lines(corpus, GENSIM_MAX_SENTENCE):
        return corpus
    base, ext = os.path.splitext(os.path.basename(corpus))
    os.makedirs(cache_dir, exist_ok=True)
    cached = os.path.join(cache_dir, f"{base}.lines{GENSIM_MAX_SENTENCE}{ext or '.txt'}")
    meta_path = cached + ".source.json"
    source = os.stat(corpus)
    source_id = {"source": os.path.abspath(corpus), "source_size": source.st_size,
                 "source_mtime_ns": source.st_mtime_ns}
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        if (all(meta.get(k) == v for k, v in source_id.items())
                and os.path.isfile(cached) and os.path.getsize(cached) == meta.get("size")):
            return cached
    except (OSError, ValueError):
        pass
    log(f"{corpus} has lines over {GENSIM_MAX_SENTENCE:,} tokens, which gensim's "
        f"corpus_file mode mostly skips: writing a copy cut into {GENSIM_MAX_SENTENCE:,}-token "
        f"lines (the sentences LineSentence makes) to {cached} ...")
    started = time.perf_counter()
    write_cache_file(cached, meta_path, source_id,
                     lambda out: write_relined(corpus, out, GENSIM_MAX_SENTENCE))
    log(f"  done in {time.perf_counter() - started:.1f} s")
    return cached


# --------------------------------------------------------------------------------------
# Child role: train one tool once, save the vectors, report a JSON line
# --------------------------------------------------------------------------------------

def peak_rss_mib() -> float:
    """This process's peak resident memory, MiB.

    On Linux, VmHWM from /proc/self/status: it belongs to the process's own address
    space. getrusage's ru_maxrss is not used there because a child started with
    fork + exec inherits the parent's peak in it, so every training after the parent had
    loaded vectors for evaluation would report at least the parent's memory.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    if sys.platform == "darwin":  # bytes there
        kib /= 1024.0
    return kib / 1024.0


# fastw2v's rows: the mode column names the estimator (see docs/theory.md) and how noise
# is drawn: "-shared" (the default) one set per skip-gram centre word for all its context
# words (HogBatch), and for CBOW one set per two centre words 2 * window + 1 apart;
# "-pair" a set per skip-gram (word, context) pair or per CBOW centre word, as word2vec.c
# does.
FASTW2V_VARIANTS = {
    "ns-pair": {"loss": "ns", "shared_negatives": False},
    "ns-shared": {"loss": "ns", "shared_negatives": True},
    "nce-pair": {"loss": "nce", "shared_negatives": False},
    "nce-shared": {"loss": "nce", "shared_negatives": True},
    "nce-bias-shared": {"loss": "nce", "shared_negatives": True, "nce_context_bias": True},
    "hs-pair": {"loss": "hs", "shared_negatives": False},
    "hs-shared": {"loss": "hs", "shared_negatives": True},
}
# gensim's rows: its input mode, and "-hs" for hierarchical softmax (hs=1, negative=0).
GENSIM_LOSSES = ("ns", "hs")


def child_fastw2v(spec: dict) -> dict:
    import fastw2v

    started = time.perf_counter()
    model = fastw2v.train(
        spec["corpus"], architecture=spec["arch"], dim=spec["dim"], window=spec["window"],
        negative=spec["negative"], sample=spec["sample"], epochs=spec["epochs"],
        min_count=spec["min_count"], threads=spec["threads"], seed=spec["seed"],
        progress=False, tmp_dir=spec["tmp_dir"], **FASTW2V_VARIANTS[spec["mode"]],
    )
    model.save(spec["out"])
    total = time.perf_counter() - started
    rss = peak_rss_mib()
    stats, seconds = model.stats, model.stats.seconds
    return {
        "seconds": {"vocab": seconds["vocab"] + seconds["encode"], "train": seconds["train"],
                    "save": seconds["save"], "total": total,
                    "vocab_count": seconds["vocab"], "vocab_encode": seconds["encode"]},
        "words_trained": stats.n_words_trained,
        "words_effective": stats.n_kept,
        "examples": stats.n_examples,
        "peak_rss_mib": rss,
        "vocab_size": len(model.words),
        "tokens_read": stats.n_tokens_read,
        "alpha": model.config.alpha,
        "min_alpha": model.config.min_alpha,
        "loss_history": list(model.loss_history),
        "tool_version": getattr(fastw2v, "__version__", "?"),
        "tool_file": os.path.dirname(os.path.abspath(fastw2v.__file__)),
    }


def child_gensim(spec: dict) -> dict:
    import gensim
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    corpus, epochs = spec["corpus"], spec["epochs"]
    file_mode = spec["mode"] == "corpus_file"

    def source():
        return {"corpus_file": corpus} if file_mode else {"corpus_iterable": LineSentence(corpus)}

    started = time.perf_counter()
    hs = spec.get("gensim_loss") == "hs"
    model = Word2Vec(vector_size=spec["dim"], window=spec["window"],
                     negative=0 if hs else spec["negative"], hs=1 if hs else 0,
                     sample=spec["sample"], min_count=spec["min_count"],
                     workers=spec["threads"], sg=1 if spec["arch"] == "skipgram" else 0,
                     seed=spec["seed"])
    model.build_vocab(**source())
    after_vocab = time.perf_counter()
    effective, raw = model.train(**source(), total_examples=model.corpus_count,
                                 total_words=model.corpus_total_words, epochs=epochs)
    after_train = time.perf_counter()
    model.wv.save_word2vec_format(spec["out"], binary=True)
    finished = time.perf_counter()
    rss = peak_rss_mib()

    in_vocab = sum(int(model.wv.get_vecattr(w, "count")) for w in model.wv.index_to_key)
    result = {
        "seconds": {"vocab": after_vocab - started, "train": after_train - after_vocab,
                    "save": finished - after_train, "total": finished - started},
        "words_trained": in_vocab * epochs,
        "words_effective": int(effective),
        "raw_words_read": int(raw),
        "coverage": int(raw) / max(1, int(model.corpus_total_words) * epochs),
        "corpus_used": corpus,
        "peak_rss_mib": rss,
        "vocab_size": len(model.wv.index_to_key),
        "tokens_read": int(model.corpus_total_words),
        "alpha": model.alpha,
        "min_alpha": model.min_alpha,
        "cbow_mean": model.cbow_mean,
        "tool_version": gensim.__version__,
        "tool_file": os.path.dirname(os.path.abspath(gensim.__file__)),
    }
    if spec.get("crosscheck") and spec.get("analogies"):
        started = time.perf_counter()
        score, sections = model.wv.evaluate_word_analogies(
            spec["analogies"], restrict_vocab=spec["restrict_vocab"])
        total = sections[-1] if sections else {"correct": [], "incorrect": []}
        result["gensim_analogy"] = {
            "total_pct": 100.0 * float(score),
            "correct": len(total["correct"]),
            "answered": len(total["correct"]) + len(total["incorrect"]),
            "seconds": time.perf_counter() - started,
        }
    return result


def child_main(spec_json: str) -> int:
    spec = json.loads(spec_json)
    # An error propagates: Python prints the traceback to stderr and exits with status 1.
    result = child_fastw2v(spec) if spec["tool"] == "fastw2v" else child_gensim(spec)
    sys.stdout.write(RESULT_MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


# --------------------------------------------------------------------------------------
# Evaluation: one implementation for every tool, from the saved word2vec binary files
# --------------------------------------------------------------------------------------

def load_word2vec_binary(path: str):
    """(words, float32 matrix) from a word2vec binary file, with or without row newlines."""
    import numpy as np

    with open(path, "rb") as f:
        data = f.read()
    header_end = data.index(b"\n")
    n_words, dim = (int(x) for x in data[:header_end].split())
    row_bytes = 4 * dim
    words = []
    vectors = np.empty((n_words, dim), dtype=np.float32)
    pos = header_end + 1
    for i in range(n_words):
        while data[pos:pos + 1] in (b"\n", b"\r"):
            pos += 1
        space = data.index(b" ", pos)
        words.append(data[pos:space].decode("utf-8", errors="replace"))
        start = space + 1
        if start + row_bytes > len(data):
            raise ValueError(f"{path}: truncated at vector {i + 1} of {n_words}")
        vectors[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=start)
        pos = start + row_bytes
    return words, vectors


def unit_rows(matrix):
    import numpy as np

    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32)


def lowercase_index(words):
    """Lower-cased word -> row; the first (most frequent) spelling wins."""
    index = {}
    for i, word in enumerate(words):
        index.setdefault(word.lower(), i)
    return index


def read_analogies(path: str):
    """[(section name, section number, a, b, c, d)] with lower-cased words."""
    questions, section, number = [], None, -1
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith(":"):
                number += 1
                section = line[1:].strip()
                continue
            parts = line.lower().split()
            if len(parts) != 4 or number < 0:
                continue
            questions.append((section, number, *parts))
    return questions


def evaluate_analogies(words, vectors, path: str, restrict: int, batch: int = 512) -> dict:
    """3CosAdd over the `restrict` most frequent words; questions with an OOV word skipped."""
    import numpy as np

    questions = read_analogies(path)
    unit = unit_rows(vectors[:restrict])
    index = lowercase_index(words[:restrict])
    rows, kinds, sections = [], [], {}
    skipped = 0
    for name, number, a, b, c, d in questions:
        sec = sections.setdefault(name, {"number": number, "correct": 0, "answered": 0,
                                         "skipped": 0})
        ids = [index.get(w) for w in (a, b, c, d)]
        if None in ids:
            skipped += 1
            sec["skipped"] += 1
            continue
        rows.append(ids)
        kinds.append(name)
    correct = np.zeros(len(rows), dtype=bool)
    if rows:
        ids = np.asarray(rows, dtype=np.int64)
        for start in range(0, len(ids), batch):
            chunk = ids[start:start + batch]
            a, b, c, d = chunk.T
            query = unit[b] - unit[a] + unit[c]
            scores = query @ unit.T
            line = np.arange(len(chunk))
            scores[line, a] = -np.inf
            scores[line, b] = -np.inf
            scores[line, c] = -np.inf
            correct[start:start + len(chunk)] = scores.argmax(axis=1) == d
    counts = {"semantic": [0, 0], "syntactic": [0, 0]}
    for name, ok in zip(kinds, correct.tolist()):
        sec = sections[name]
        sec["answered"] += 1
        sec["correct"] += int(ok)
        group = counts["semantic" if sec["number"] < SEMANTIC_SECTIONS else "syntactic"]
        group[0] += int(ok)
        group[1] += 1

    def pct(hit, n):
        return 100.0 * hit / n if n else None

    total_hit = counts["semantic"][0] + counts["syntactic"][0]
    total_n = counts["semantic"][1] + counts["syntactic"][1]
    return {
        "semantic_pct": pct(*counts["semantic"]),
        "syntactic_pct": pct(*counts["syntactic"]),
        "total_pct": pct(total_hit, total_n),
        "correct": total_hit,
        "answered": total_n,
        "skipped": skipped,
        "questions": len(questions),
        "n_sections": len(sections),
        "sections": sections,
    }


def evaluate_similarity(words, unit, path: str) -> dict:
    """Spearman rho between human scores and cosine; pairs with an unknown word skipped."""
    import numpy as np
    from scipy.stats import spearmanr

    index = lowercase_index(words)
    human, model, oov, pairs = [], [], 0, 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.strip().split("\t")
            if len(parts) < 3:
                parts = line.split()
            if len(parts) < 3:
                continue
            try:
                score = float(parts[2])
            except ValueError:
                continue  # a header line
            pairs += 1
            i, j = index.get(parts[0].strip().lower()), index.get(parts[1].strip().lower())
            if i is None or j is None:
                oov += 1
                continue
            human.append(score)
            model.append(float(np.dot(unit[i], unit[j])))
    rho = float(spearmanr(human, model).correlation) if len(human) >= 2 else None
    return {"rho": rho, "pairs": pairs, "used": len(human), "oov": oov}


def evaluate_vectors(path: str, args) -> dict:
    started = time.perf_counter()
    words, vectors = load_word2vec_binary(path)
    unit = unit_rows(vectors)
    result = {
        "vectors": len(words),
        "analogy": evaluate_analogies(words, vectors, args.analogies, args.restrict_vocab),
        "wordsim353": evaluate_similarity(words, unit, args.wordsim),
        "simlex999": evaluate_similarity(words, unit, args.simlex),
    }
    result["seconds"] = time.perf_counter() - started
    return result


def median_evaluation(evaluations) -> dict:
    """The first run's evaluation with each quality figure replaced by its median over
    `evaluations` (the counts of questions and pairs are the same in every run)."""
    merged = json.loads(json.dumps(evaluations[0]))
    figures = [("analogy", "semantic_pct"), ("analogy", "syntactic_pct"),
               ("analogy", "total_pct"), ("analogy", "correct"), ("wordsim353", "rho"),
               ("simlex999", "rho")]
    for group, key in figures:
        values = [e[group][key] for e in evaluations if e[group].get(key) is not None]
        if values:
            merged[group][key] = statistics.median(values)
        merged[group][key + "_per_run"] = [e[group].get(key) for e in evaluations]
    return merged


# --------------------------------------------------------------------------------------
# Parent role: run the children, evaluate, summarise, print
# --------------------------------------------------------------------------------------

def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_child(spec: dict):
    """Run one training in a fresh interpreter; (result dict or None, error text)."""
    command = [sys.executable, os.path.abspath(__file__), "--child", json.dumps(spec)]
    proc = subprocess.run(command, check=False, stdout=subprocess.PIPE, text=True)
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            result = json.loads(line[len(RESULT_MARKER):])
    if proc.returncode != 0 or result is None:
        return None, f"child exited with status {proc.returncode} (its error is above)"
    return result, None


def label(task: dict) -> str:
    return f"{task['tool']}/{task['mode']}/{task['arch']}/{task['threads']}t"


def summarise(task: dict) -> dict:
    """Medians of the wall times and speeds over the successful runs; RSS: the largest."""
    runs = [r for r in task["runs"] if r is not None]
    if not runs:
        return {}

    def median(values):
        return statistics.median(values)

    summary = {"n_runs": len(runs)}
    for phase in ("vocab", "train", "save", "total"):
        summary[phase + "_s"] = median([r["seconds"][phase] for r in runs])
    summary["words_per_s"] = median([r["words_trained"] / r["seconds"]["train"] for r in runs])
    summary["effective_words_per_s"] = median(
        [r["words_effective"] / r["seconds"]["train"] for r in runs])
    summary["peak_rss_mib"] = max(r["peak_rss_mib"] for r in runs)
    if all("examples" in r for r in runs):
        summary["examples_per_s"] = median([r["examples"] / r["seconds"]["train"]
                                            for r in runs])
    if all("coverage" in r for r in runs):
        summary["coverage"] = min(r["coverage"] for r in runs)
    summary["incomplete"] = summary.get("coverage", 1.0) < MIN_COVERAGE
    return summary


def fmt(value, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def print_table(tasks) -> None:
    headers = ["tool", "mode", "arch", "thr", "vocab s", "train s", "save s", "total s", "words/s",
               "eff words/s", "RSS MiB", "sem %", "syn %", "total %", "skipped", "ws353 ρ",
               "simlex ρ"]
    rows = []
    for task in tasks:
        s, ev = task["summary"], task.get("evaluation") or {}
        an = ev.get("analogy", {})
        mode = (task["mode"] + ("*" if task.get("faster_mode") else "")
                + ("!" if s.get("incomplete") else ""))
        if not s:
            rows.append([task["tool"], mode, task["arch"], task["threads"], "failed"]
                        + [""] * 12)
            continue
        rows.append([
            task["tool"], mode, task["arch"], task["threads"],
            fmt(s["vocab_s"], ".1f"), fmt(s["train_s"], ".1f"), fmt(s["save_s"], ".2f"),
            fmt(s["total_s"], ".1f"), fmt(s["words_per_s"], ",.0f"),
            fmt(s["effective_words_per_s"], ",.0f"), fmt(s["peak_rss_mib"], ",.0f"),
            fmt(an.get("semantic_pct"), ".2f"), fmt(an.get("syntactic_pct"), ".2f"),
            fmt(an.get("total_pct"), ".2f"), fmt(an.get("skipped"), "d"),
            fmt(ev.get("wordsim353", {}).get("rho"), ".3f"),
            fmt(ev.get("simlex999", {}).get("rho"), ".3f"),
        ])
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    left = 3  # tool, mode, arch are left-aligned, numbers (and threads) right-aligned

    def line(cells):
        return "  ".join(str(c).ljust(w) if i < left else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def print_details(tasks, args) -> None:
    print()
    print("details (first run unless noted; quality figures are medians over the runs):")
    for task in tasks:
        first = next((r for r in task["runs"] if r is not None), None)
        if first is None:
            print(f"  {label(task)}: failed: {task.get('error')}")
            continue
        parts = [f"alpha {first['alpha']:g} -> {first['min_alpha']:g}"]
        if "cbow_mean" in first and task["arch"] == "cbow":
            parts.append(f"cbow_mean={first['cbow_mean']}")
        parts.append(f"vocabulary {first['vocab_size']:,} words")
        parts.append(f"{first['words_trained']:,} in-vocab tokens trained, "
                     f"{first['words_effective']:,} after subsampling")
        if "raw_words_read" in first:
            parts.append(f"train() read {first['raw_words_read']:,} raw tokens "
                         f"({100 * first['coverage']:.1f}% of corpus x epochs)")
        if first.get("corpus_used") and first["corpus_used"] != args.corpus_used:
            parts.append(f"corpus file {first['corpus_used']}")
        print(f"  {label(task)}: " + "; ".join(parts))
        ev = task.get("evaluation")
        if ev:
            an = ev["analogy"]
            print(f"      analogies: {an['correct']:,}/{an['answered']:,} correct, "
                  f"{an['skipped']:,} of {an['questions']:,} skipped "
                  f"(top {args.restrict_vocab:,} words, {an['n_sections']} sections); "
                  f"ws353 {ev['wordsim353']['used']}/{ev['wordsim353']['pairs']} pairs "
                  f"({ev['wordsim353']['oov']} OOV), simlex {ev['simlex999']['used']}/"
                  f"{ev['simlex999']['pairs']} pairs ({ev['simlex999']['oov']} OOV)")
        if "gensim_analogy" in first:
            g = first["gensim_analogy"]
            ours = ev["analogy"]["total_pct"] if ev else None
            print(f"      cross-check: gensim evaluate_word_analogies(restrict_vocab="
                  f"{args.restrict_vocab}) total {g['total_pct']:.2f}% "
                  f"({g['correct']:,}/{g['answered']:,}); this script: {fmt(ours, '.2f')}%")
        if first.get("loss_history"):
            print("      loss per epoch: " + ", ".join(f"{x:.4f}" for x in
                                                       first["loss_history"]))
        if len([r for r in task["runs"] if r is not None]) > 1:
            wps = [r["words_trained"] / r["seconds"]["train"] for r in task["runs"] if r]
            print("      words/s per run: " + ", ".join(f"{x:,.0f}" for x in wps))
            if ev and len(ev["analogy"].get("total_pct_per_run", [])) > 1:
                def runs(values, spec):
                    return ", ".join(fmt(v, spec) for v in values)
                print(f"      quality per run: analogies "
                      f"{runs(ev['analogy']['total_pct_per_run'], '.2f')} %; ws353 "
                      f"{runs(ev['wordsim353']['rho_per_run'], '.3f')}; simlex "
                      f"{runs(ev['simlex999']['rho_per_run'], '.3f')}")


def comparisons(tasks):
    """Per architecture: fastw2v vs the faster gensim mode (and vs the other mode)."""
    out = []
    for fast in [t for t in tasks if t["tool"] == "fastw2v" and t["summary"]]:
        arch = fast["arch"]
        # Compare with gensim's rows of the same loss, or its NS rows when gensim has no
        # such loss (NCE).
        same = [t for t in tasks if t["arch"] == arch and t["tool"] == "gensim"
                and t["summary"] and t["loss"] == fast["loss"]
                and t["threads"] == fast["threads"]]
        gensims = sorted(same, key=lambda t: (not t.get("faster_mode"),
                                              -t["summary"]["words_per_s"]))
        for g in gensims:
            entry = {"arch": arch, "threads": fast["threads"],
                     "fastw2v_variant": fast["mode"], "gensim_mode": g["mode"],
                     "faster_gensim_mode": bool(g.get("faster_mode")),
                     "gensim_incomplete": g["summary"]["incomplete"],
                     "words_per_s_ratio": fast["summary"]["words_per_s"]
                     / g["summary"]["words_per_s"],
                     "effective_words_per_s_ratio": fast["summary"]["effective_words_per_s"]
                     / g["summary"]["effective_words_per_s"],
                     # Reading, vocabulary, training and saving, each tool in its own
                     # process (imports and interpreter start excluded for both).
                     "whole_command_ratio": g["summary"]["total_s"]
                     / fast["summary"]["total_s"],
                     "peak_rss_ratio": fast["summary"]["peak_rss_mib"]
                     / g["summary"]["peak_rss_mib"]}
            fe, ge = fast.get("evaluation"), g.get("evaluation")
            if fe and ge:
                diffs = {}
                for key in ("semantic_pct", "syntactic_pct", "total_pct"):
                    x, y = fe["analogy"][key], ge["analogy"][key]
                    diffs[key] = None if x is None or y is None else x - y
                for key in ("wordsim353", "simlex999"):
                    x, y = fe[key]["rho"], ge[key]["rho"]
                    diffs[key + "_rho"] = None if x is None or y is None else x - y
                entry["quality_diff"] = diffs
            out.append(entry)
    return out


def print_comparisons(entries) -> None:
    if not entries:
        return
    print()
    for e in entries:
        which = "faster gensim mode" if e["faster_gensim_mode"] else "other gensim mode"
        if e["gensim_incomplete"]:
            which += "; NOT COMPARABLE: gensim skipped part of the corpus"
        print(f"{e['arch']}, {e.get('threads', '?')} thread(s): fastw2v {e['fastw2v_variant']} "
              f"/ gensim {e['gensim_mode']} "
              f"({which}): "
              f"words/s x{e['words_per_s_ratio']:.2f}, effective words/s "
              f"x{e['effective_words_per_s_ratio']:.2f}, whole command "
              f"x{e['whole_command_ratio']:.2f} faster, peak RSS "
              f"x{e['peak_rss_ratio']:.2f} of gensim's")
        d = e.get("quality_diff")
        if d:
            ws, sl = d["wordsim353_rho"], d["simlex999_rho"]
            print(f"    quality, fastw2v {e['fastw2v_variant']} minus gensim {e['gensim_mode']}: "
                  f"sem {fmt(d['semantic_pct'], '+.2f')}, syn {fmt(d['syntactic_pct'], '+.2f')}, "
                  f"total {fmt(d['total_pct'], '+.2f')} points; "
                  f"ws353 ρ {fmt(ws, '+.3f')}, simlex ρ {fmt(sl, '+.3f')} "
                  f"({fmt(None if ws is None else 100 * ws, '+.1f')} / "
                  f"{fmt(None if sl is None else 100 * sl, '+.1f')} points of ρ x 100)")


def thread_scaling(tasks):
    """Per (tool, mode, arch) run at 1 thread and more: the speed-up of each higher
    count over 1 thread, as the median over rounds of the ratio within a round (the two
    runs of a round are minutes apart, so a slow spell of the machine hits both), and as
    the ratio of the medians."""
    out = []
    by_key = {}
    for t in tasks:
        by_key.setdefault((t["tool"], t["mode"], t["arch"]), {})[t["threads"]] = t
    for (tool, mode, arch), counts in by_key.items():
        one = counts.get(1)
        if one is None or not one["summary"]:
            continue
        for threads, task in sorted(counts.items()):
            if threads == 1 or not task["summary"]:
                continue
            rounds = [b["words_trained"] / b["seconds"]["train"]
                      / (a["words_trained"] / a["seconds"]["train"])
                      for a, b in zip(one["runs"], task["runs"]) if a and b]
            out.append({"tool": tool, "mode": mode, "arch": arch, "threads": threads,
                        "speedup_per_round": rounds,
                        "speedup": statistics.median(rounds) if rounds else None,
                        "speedup_of_medians": task["summary"]["words_per_s"]
                        / one["summary"]["words_per_s"]})
    return out


def print_thread_scaling(entries) -> None:
    if not entries:
        return
    print()
    print("thread scaling (training words/s against 1 thread; median over rounds of the "
          "ratio within a round):")
    for e in entries:
        rounds = ", ".join(f"{x:.2f}" for x in e["speedup_per_round"])
        print(f"  {e['tool']}/{e['mode']}/{e['arch']}: {e['threads']} threads "
              f"x{fmt(e['speedup'], '.2f')} (rounds: {rounds}; ratio of medians "
              f"x{e['speedup_of_medians']:.2f})")


def fp32_peak_gflops(cores: int):
    """(GFLOP/s, how it was worked out) for float32 multiply-adds on `cores` cores.

    Two FMA pipes per core of 256-bit vectors where the CPU has AVX2 and FMA (Zen 2/3,
    Haswell and later), each 8 lanes x 2 flops, at the clock /proc/cpuinfo reports. Zen 4
    has the same peak: it runs a 512-bit FMA on both 256-bit pipes at once, so AVX-512
    halves the instructions issued, not the cycles.
    None when the CPU or its clock cannot be read."""
    flags, mhz = set(), None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "flags" and not flags:
                    flags = set(value.split())
                elif key.strip() == "cpu MHz" and mhz is None:
                    mhz = float(value)
    except (OSError, ValueError):
        return None, "cannot read /proc/cpuinfo"
    if mhz is None or not {"avx2", "fma"} <= flags:
        return None, "no AVX2+FMA or no clock in /proc/cpuinfo"
    per_cycle = 2 * 8 * 2
    peak = per_cycle * mhz / 1000 * cores
    return peak, (f"{per_cycle} flops/cycle (2 FMA x 8 float32 lanes x 2) x {mhz / 1000:.2f} "
                  f"GHz x {cores} core(s) = {peak:.1f} GFLOP/s")


def print_flops(tasks, args) -> None:
    """Skip-gram's arithmetic rate: 6·d·(k+1) + 2·d flops per trained (word, context) pair
    (a dot product and two axpys per output row, and the input's update)."""
    rows = [t for t in tasks if t["arch"] == "skipgram" and t["loss"] == "ns" and t["summary"]]
    counted = [t for t in rows if t["summary"].get("examples_per_s")]
    if not counted:
        return
    # gensim does not report its pairs. It draws windows and subsamples by the same
    # rules, so it trains as many pairs per word left after subsampling as fastw2v does.
    pairs_per_kept = (counted[0]["summary"]["examples_per_s"]
                      / counted[0]["summary"]["effective_words_per_s"])
    flops = 6 * args.dim * (args.negative + 1) + 2 * args.dim
    print()
    print(f"fp32 rate (skip-gram, {flops:,} flops per pair):")
    for threads in sorted({t["threads"] for t in rows}):
        _, how = fp32_peak_gflops(threads)
        print(f"  peak with {threads} thread(s): {how}")
    for t in rows:
        peak, _ = fp32_peak_gflops(t["threads"])
        pairs = t["summary"].get("examples_per_s")
        note = ""
        if pairs is None:
            pairs = t["summary"]["effective_words_per_s"] * pairs_per_kept
            note = " (pairs estimated from fastw2v's pairs per kept word)"
        gflops = pairs * flops / 1e9
        share = f", {100 * gflops / peak:.1f}% of peak" if peak else ""
        print(f"  {label(t)}: {pairs / 1e6:.2f} M pairs/s, {gflops:.1f} GFLOP/s{share}{note}")


def draw_chart(tasks, args, path: str) -> None:
    """Two bar panels side by side: training words/s and analogy accuracy, one bar a row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [t for t in tasks if t["summary"]]
    labels = [f"{t['tool']}\n{t['mode']}\n{t['arch']}\n{t['threads']} thr." for t in rows]
    colours = ["#1f77b4" if t["tool"] == "fastw2v" else "#ff7f0e" for t in rows]
    speed = [t["summary"]["words_per_s"] / 1e6 for t in rows]
    accuracy = [(t.get("evaluation") or {}).get("analogy", {}).get("total_pct") or 0.0
                for t in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(max(8, 1.6 * len(rows)), 4.5))
    left.bar(range(len(rows)), speed, color=colours)
    left.set_ylabel("training words/s (millions)")
    right.bar(range(len(rows)), accuracy, color=colours)
    right.set_ylabel(f"analogy accuracy, top {args.restrict_vocab:,} words (%)")
    for axis, values, unit in ((left, speed, "M"), (right, accuracy, "%")):
        axis.set_xticks(range(len(rows)))
        axis.set_xticklabels(labels, fontsize=7)
        for x, v in enumerate(values):
            axis.annotate(f"{v:.2f}{unit}", (x, v), ha="center", va="bottom", fontsize=8)
    fig.suptitle(f"fastw2v (blue) vs gensim (orange): dim {args.dim}, window {args.window}, "
                 f"negative {args.negative}, {args.epochs} epochs")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw_combined_chart(json_paths, path: str) -> None:
    """One chart from several runs of this script (--json files): per architecture,
    dimension and thread count, fastw2v's default variant beside gensim's faster mode,
    training words/s on the left and analogy accuracy on the right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Rows of every file, grouped by (architecture, dimension, threads): one run of this
    # script may hold only fastw2v's rows and another gensim's.
    rows = {}
    for json_path in json_paths:
        with open(json_path, encoding="utf-8") as f:
            payload = json.load(f)
        settings = payload["settings"]
        for task in payload["tasks"]:
            if task["summary"] and task["loss"] == "ns":
                # Files written before --threads took a list have one count in settings.
                key = (task["arch"], settings["dim"], task.get("threads", settings["threads"]))
                rows.setdefault(key, []).append(task)
    groups = []  # (label, fastw2v task, gensim task)
    for (arch, dim, threads), tasks in sorted(rows.items(), key=lambda item: (
            item[0][1], item[0][0] != "skipgram", -item[0][2])):
        ours = [t for t in tasks if t["tool"] == "fastw2v" and t["mode"] == "ns-shared"]
        theirs = sorted((t for t in tasks if t["tool"] == "gensim"),
                        key=lambda t: -t["summary"]["words_per_s"])
        if ours or theirs:
            groups.append((f"{arch}\ndim {dim}\n{threads} thr.",
                           ours[0] if ours else None, theirs[0] if theirs else None))
    fig, (left, right) = plt.subplots(1, 2, figsize=(max(9, 1.5 * len(groups) + 3), 4.8))
    width = 0.38
    for axis, value, unit, title in (
            (left, lambda t: t["summary"]["words_per_s"] / 1e6, "M",
             "training words/s (millions, all in-vocabulary tokens)"),
            (right, lambda t: ((t.get("evaluation") or {}).get("analogy") or {})
             .get("total_pct") or 0.0, "%", "analogy accuracy, 30k words (%)")):
        for offset, index, colour, name in ((-width / 2, 1, "#1f77b4", "fastw2v"),
                                            (width / 2, 2, "#ff7f0e", "gensim")):
            xs = [x + offset for x, g in enumerate(groups) if g[index]]
            ys = [value(g[index]) for g in groups if g[index]]
            axis.bar(xs, ys, width, color=colour, label=name)
            for x, y in zip(xs, ys):
                axis.annotate(f"{y:.2f}{unit}" if unit == "M" else f"{y:.1f}", (x, y),
                              ha="center", va="bottom", fontsize=7)
        axis.set_xticks(range(len(groups)))
        axis.set_xticklabels([g[0] for g in groups], fontsize=7)
        axis.set_ylabel(title, fontsize=8)
    left.legend(fontsize=8)
    fig.suptitle("fastw2v vs gensim (its faster input mode) on the same corpus and settings")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def cpu_identity() -> dict:
    """The processor as /proc/cpuinfo names it: model name, family and model numbers, and
    which vector extensions it offers. The machines differ between sessions (an AMD
    family 25 is Zen 3 at model 1, Milan, and Zen 4 at model 17, Genoa, the latter with
    AVX-512), so every result records the one it was measured on."""
    facts = {"cpu": platform.processor() or "?", "family": None, "model": None,
             "avx2_fma": False, "avx512": []}
    names = {"model name": "cpu", "cpu family": "family", "model": "model"}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    break  # the end of the first processor's block: the others match it
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key in names:
                    facts[names[key]] = value
                elif key == "flags":
                    flags = set(value.split())
                    facts["avx2_fma"] = {"avx2", "fma"} <= flags
                    facts["avx512"] = sorted(f for f in flags if f.startswith("avx512"))
    except OSError:
        pass
    return facts


def environment() -> dict:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    return {"python": sys.version.split()[0], "executable": sys.executable,
            "platform": platform.platform(), **cpu_identity(), "cores_available": cores}


def comma_list(option: str, choices):
    """An argparse type: a comma-separated, non-empty list drawn from `choices`."""
    def parse(text: str):
        items = list(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
        if not items or any(t not in choices for t in items):
            raise argparse.ArgumentTypeError(
                f"{option} takes a comma-separated list of {', '.join(choices)} "
                f"(got {text!r})")
        return items
    return parse


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def thread_counts(text: str):
    """An argparse type: one thread count or a comma-separated list (1,2), ascending."""
    try:
        counts = sorted({positive_int(t) for t in text.split(",") if t.strip()})
    except ValueError:
        counts = []
    if not counts:
        raise argparse.ArgumentTypeError(
            f"--threads takes a count or a comma-separated list of counts of at least 1 "
            f"(got {text!r})")
    return counts


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Train fastw2v and gensim 4.x on the same corpus with the same settings "
                    "and compare speed, peak memory and vector quality.",
        epilog="Each training runs in its own subprocess. Example: "
               "python benchmarks/bench_train.py --arch skipgram --arch cbow --runs 3")
    p.add_argument("--corpus", default=DEFAULT_CORPUS,
                   help="training text (.xz/.gz/.bz2 are decompressed once into the cache) "
                        "[default: %(default)s]")
    p.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR,
                   help="where decompressed corpora are kept [default: %(default)s]")
    p.add_argument("--analogies", default=DEFAULT_ANALOGIES,
                   help="word-analogy questions [default: %(default)s]")
    p.add_argument("--wordsim", default=DEFAULT_WORDSIM,
                   help="WordSim-353 pairs [default: %(default)s]")
    p.add_argument("--simlex", default=DEFAULT_SIMLEX,
                   help="SimLex-999 pairs [default: %(default)s]")
    p.add_argument("--arch", action="append", choices=ARCHITECTURES,
                   help="architecture; repeat to run both [default: skipgram]")
    p.add_argument("--dim", type=positive_int, default=100, help="[default: %(default)s]")
    p.add_argument("--window", type=positive_int, default=5, help="[default: %(default)s]")
    p.add_argument("--negative", type=positive_int, default=5, help="[default: %(default)s]")
    p.add_argument("--sample", type=float, default=1e-4, help="[default: %(default)s]")
    p.add_argument("--epochs", type=positive_int, default=5, help="[default: %(default)s]")
    p.add_argument("--min-count", type=positive_int, default=5, help="[default: %(default)s]")
    p.add_argument("--threads", type=thread_counts, default=[2],
                   help="training threads, or a list (1,2) to measure thread scaling; "
                        "each tool then runs at every count [default: 2]")
    p.add_argument("--seed", type=int, default=1, help="[default: %(default)s]")
    p.add_argument("--runs", type=positive_int, default=1,
                   help="repeat each training; medians of speed, wall times and quality "
                        "are reported [default: 1]")
    p.add_argument("--tools", type=comma_list("--tools", TOOLS), default=list(TOOLS),
                   help="comma-separated tools to run [default: fastw2v,gensim]")
    p.add_argument("--gensim-modes", type=comma_list("--gensim-modes", GENSIM_MODES),
                   default=list(GENSIM_MODES),
                   help="gensim input modes [default: corpus_file,sentences]")
    p.add_argument("--fastw2v-variant", action="append", choices=sorted(FASTW2V_VARIANTS),
                   help="fastw2v estimator(s) to run, repeatable [default: ns-shared]")
    p.add_argument("--gensim-loss", action="append", choices=GENSIM_LOSSES,
                   help="gensim loss(es) to run, repeatable [default: ns]")
    p.add_argument("--gensim-corpus-file-as-is", action="store_true",
                   help="give gensim's corpus_file= the corpus unchanged even when it has lines "
                        "over 10,000 tokens (by default such a corpus is given as a cached copy "
                        "cut into 10,000-token lines, because gensim's corpus_file reader "
                        "otherwise trains on almost none of it)")
    p.add_argument("--restrict-vocab", type=positive_int, default=30000,
                   help="analogies use this many most frequent words [default: 30000]")
    p.add_argument("--json", metavar="PATH", help="also write all raw results here as JSON")
    p.add_argument("--chart", metavar="PNG",
                   help="also draw training words/s and analogy accuracy per row (matplotlib)")
    p.add_argument("--chart-from", nargs="+", metavar="JSON",
                   help="train nothing: draw --chart from the --json files of earlier runs "
                        "(one group of bars per architecture, dimension and thread count)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.child is not None:
        return child_main(args.child)
    if args.chart_from:
        if not args.chart:
            parser.error("--chart-from needs --chart PNG (where to draw)")
        draw_combined_chart(args.chart_from, args.chart)
        log(f"chart written to {args.chart}")
        return 0

    archs = list(dict.fromkeys(args.arch or ["skipgram"]))
    for option, path in (("--corpus", args.corpus), ("--analogies", args.analogies),
                         ("--wordsim", args.wordsim), ("--simlex", args.simlex)):
        if not os.path.isfile(path):
            parser.error(f"{option} {path}: no such file")
    cache_dir = os.path.abspath(os.path.expanduser(args.cache_dir))
    if (cache_dir + os.sep).startswith(REPO_ROOT + os.sep):
        log(f"warning: --cache-dir {cache_dir} is inside the repository; keep corpora out of git")
    corpus = os.path.abspath(prepare_corpus(os.path.abspath(args.corpus), cache_dir))
    args.corpus_used = corpus
    gensim_corpus_file = corpus
    if ("gensim" in args.tools and "corpus_file" in args.gensim_modes
            and not args.gensim_corpus_file_as_is):
        gensim_corpus_file = os.path.abspath(prepare_gensim_corpus_file(corpus, cache_dir))

    tasks = []
    variants = list(dict.fromkeys(args.fastw2v_variant or ["ns-shared"]))
    gensim_losses = list(dict.fromkeys(args.gensim_loss or ["ns"]))
    for arch in archs:
        for tool in args.tools:
            if tool == "fastw2v":
                modes = [(v, v.split("-")[0].replace("nce", "ns")) for v in variants]
            else:
                modes = [(m if loss == "ns" else f"{m}-hs", loss)
                         for loss in gensim_losses for m in args.gensim_modes]
            for mode, loss in modes:
                # Thread counts innermost: one tool's counts run back to back.
                for threads in args.threads:
                    tasks.append({"tool": tool, "mode": mode, "arch": arch, "loss": loss,
                                  "threads": threads, "runs": [], "evaluation": None,
                                  "error": None})

    settings = {"corpus": os.path.abspath(args.corpus), "corpus_used": corpus,
                "corpus_bytes": os.path.getsize(corpus), "architectures": archs,
                "dim": args.dim, "window": args.window, "negative": args.negative,
                "sample": args.sample, "epochs": args.epochs, "min_count": args.min_count,
                "threads": args.threads, "seed": args.seed, "runs": args.runs,
                "tools": args.tools, "gensim_modes": args.gensim_modes,
                "gensim_corpus_file": gensim_corpus_file,
                "restrict_vocab": args.restrict_vocab, "analogies": args.analogies,
                "wordsim": args.wordsim, "simlex": args.simlex}
    log(f"corpus {corpus} ({settings['corpus_bytes']:,} bytes); {len(tasks)} trainings x "
        f"{args.runs} run(s)")

    work_dir = tempfile.mkdtemp(prefix="fastw2v-bench-")
    try:
        for run in range(args.runs):
            for task in tasks:
                out = os.path.join(work_dir, f"{task['tool']}-{task['mode']}-{task['arch']}.bin")
                file_mode = task["mode"].startswith("corpus_file")
                use = gensim_corpus_file if file_mode else corpus
                spec = dict(settings, tool=task["tool"], threads=task["threads"],
                            mode="corpus_file" if file_mode else task["mode"],
                            gensim_loss=task["loss"], arch=task["arch"],
                            corpus=use, out=out, tmp_dir=work_dir,
                            crosscheck=(run == 0 and task["tool"] == "gensim"))
                log(f"[run {run + 1}/{args.runs}] {label(task)} ...")
                started = time.perf_counter()
                result, error = run_child(spec)
                task["runs"].append(result)
                if result is None:
                    task["error"] = task["error"] or error
                    log(f"  FAILED: {error}")
                else:
                    log(f"  train {result['seconds']['train']:.1f} s, "
                        f"{result['words_trained'] / result['seconds']['train']:,.0f} words/s, "
                        f"peak RSS {result['peak_rss_mib']:,.0f} MiB "
                        f"({time.perf_counter() - started:.1f} s in all)")
                    # Every run is evaluated: one run's SimLex or analogy score moves by
                    # about a point from seed and thread timing alone, so the table
                    # reports medians over the runs.
                    evaluation = evaluate_vectors(out, args)
                    task.setdefault("evaluations", []).append(evaluation)
                    task["evaluation"] = median_evaluation(task["evaluations"])
                    log(f"  evaluated in {evaluation['seconds']:.1f} s")
                if os.path.exists(out):
                    os.unlink(out)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)

    for task in tasks:
        task["summary"] = summarise(task)
    for arch, loss, threads in {(t["arch"], t["loss"], t["threads"]) for t in tasks}:
        gensims = [t for t in tasks if t["arch"] == arch and t["tool"] == "gensim"
                   and t["loss"] == loss and t["threads"] == threads and t["summary"]]
        complete = [t for t in gensims if not t["summary"]["incomplete"]] or gensims
        if len(gensims) > 1:
            max(complete, key=lambda t: t["summary"]["words_per_s"])["faster_mode"] = True

    print(f"corpus: {settings['corpus']} ({settings['corpus_bytes']:,} bytes uncompressed)")
    if gensim_corpus_file != corpus:
        print(f"gensim corpus_file mode reads {gensim_corpus_file} (the same tokens cut into "
              f"{GENSIM_MAX_SENTENCE:,}-token lines)")
    print(f"settings: dim {args.dim}, window {args.window}, negative {args.negative}, "
          f"sample {args.sample:g}, epochs {args.epochs}, min-count {args.min_count}, "
          f"threads {','.join(map(str, args.threads))}, runs {args.runs}"
          + (" (medians of times, speeds and quality)" if args.runs > 1 else ""))
    versions = {t["tool"]: r["tool_version"] for t in tasks for r in t["runs"] if r}
    print("versions: " + "".join(f"{k} {v}, " for k, v in versions.items())
          + f"python {sys.version.split()[0]}")
    print()
    print_table(tasks)
    if any(t.get("faster_mode") for t in tasks):
        print("* the faster gensim input mode (training words/s)")
    if any(t["summary"].get("incomplete") for t in tasks):
        print(f"! gensim's train() read under {100 * MIN_COVERAGE:.0f}% of the corpus tokens "
              f"x epochs: its speed and quality are not comparable (see the details)")
    print_details(tasks, args)
    entries = comparisons(tasks)
    print_comparisons(entries)
    scaling = thread_scaling(tasks)
    print_thread_scaling(scaling)
    print_flops(tasks, args)

    if args.chart:
        draw_chart(tasks, args, args.chart)
        log(f"chart written to {args.chart}")
    if args.json:
        payload = {"settings": settings, "environment": environment(), "tasks": tasks,
                   "comparisons": entries, "thread_scaling": scaling}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2)
        log(f"raw results written to {args.json}")
    return 0 if all(t["summary"] for t in tasks) else 1


if __name__ == "__main__":
    sys.exit(main())
