"""Large word2vec files: fastw2v's compiled readers and writers against gensim (issue 14).

From the repository root, after `pip install .` (gensim 4 installed beside it):

    python benchmarks/bench_large.py --bin-words 500000 --text-words 200000 --dim 300

The script makes its own files in --dir (default /tmp/large-bench, deleted at the end
unless --keep): random normal vectors and a random vocabulary of realistic word
lengths (1 to 20 letters, most of 4 to 9), one word in 20 non-ASCII (Latin with
accents, Cyrillic, Greek, CJK), every word distinct. Then, each step in its own
Python process so that its peak resident memory (ru_maxrss) is its own, and with gensim
measured in the same run on the same files:

  * page cache: reading the file in 8 MiB blocks with readinto (after one warm-up read,
    so the file is cached): the floor under any reader;
  * read .bin / .txt: fastw2v.load (norms included) against
    KeyedVectors.load_word2vec_format; time and peak RSS, with the process's RSS after
    its imports, the matrix's size and the words' (Python strings and list) beside it;
  * write .bin / .txt: save_word2vec against KeyedVectors.save_word2vec_format, from
    vectors already in memory;
  * the commands `fastw2v convert FILE.bin FILE.fw2v` and `fastw2v info -m FILE.txt`,
    whole processes: peak RSS.

--queries N (default 200 words) measures queries on the native file converted from
the .bin (issue 14: a query in the time of one pass over the matrix), in rounds that
alternate the measurements so that a change of load moves them alike (medians):
  * one read pass over the matrix, single-threaded (the int64 sum of its bytes, which
    streams it at memory speed), and the same split over two threads (numpy releases
    the GIL in the sum): the bandwidth reference;
  * one most_similar(word, 10), in passes, against the previous numpy path (einsum,
    then argpartition over every score; still the code of `Vectors.cosines`) on the
    same words, and whether their top 10s are the same words in the same order;
  * the compiled scan alone on one thread and split over two (two nogil calls from
    Python threads), to see whether two threads would pay;
  * with --float16-queries, one query on the file converted to float16;
  * gensim's most_similar on the same vectors (BLAS, after its first query, which
    computes its norms);
  * most_similar_batch of each of --batch-sizes queries (default 100 and 1,000), in
    queries per second.

--float16-model MODEL.fw2v (a trained float32 model, e.g. `fastw2v train wiki8.txt
--epochs 1`) measures half precision instead: the model converted with `convert --dtype
float16`, the file sizes, and for the --agreement-words most frequent words the share
whose top-10 neighbours are the same words (as a set, and in the same order) as on the
float32 file.

--index measures the approximate-neighbour index (`fastw2v index`, HNSW by faiss) on
the native file converted from the .bin: `fastw2v index -m FILE` as a whole process
(build time from its own line, peak RSS by GNU time, the index file's size); then in
another process, the index's load time and, for each --ef-search value, recall@10
against brute force over --queries words (the share of the exact top 10 the index
returns) and the median time of one index query against one brute-force most_similar
(both loaded, single queries). Random normal vectors have no cluster structure for the
graph to follow, which makes them a hard case: trained vectors reach a given recall at
a lower efSearch. --index-m and --index-ef-construction set the build.

Each figure is one run (the files are large and the machine is shared: the load average
is printed at the start and the end). --json writes every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import textwrap
import time

import numpy as np

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
ALPHABETS = ["àáâäçèéêëìíîïñòóôöùúûüßø", "абвгдежзийклмнопрстуфхцчшщыэюя",
             "αβγδεζηθικλμνξοπρστυφχψω", "的一是不了人我在有他这为之大来以个中上们"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def random_words(n: int, seed: int) -> list:
    """n distinct words: letters drawn at random, lengths from a word-like distribution,
    every 20th word from a non-ASCII alphabet; a base-36 suffix keeps them distinct."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.poisson(6.5, n), 1, 20)
    ends = np.cumsum(lengths)
    latin = "abcdefghijklmnopqrstuvwxyz"
    # One long random string per alphabet; each word is a slice of one of them.
    pools = {a: "".join(a[j] for j in rng.integers(0, len(a), int(ends[-1])))
             for a in [latin] + ALPHABETS}
    words = []
    for i in range(n):
        pool = pools[ALPHABETS[(i // 20) % 4] if i % 20 == 19 else latin]
        words.append(pool[ends[i] - lengths[i]:ends[i]] + np.base_repr(i, 36).lower())
    return words


def random_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    vectors = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 65536):
        block = vectors[start:start + 65536]
        block[:] = rng.standard_normal(block.shape, dtype=np.float32) * 0.3
    return vectors


# Run in a child process: the figure printed as JSON on the last line of stdout. The
# peak is the kernel's VmHWM of the process's own memory map: ru_maxrss would carry
# over the (large) resident size of this process at the fork.
CHILD = textwrap.dedent("""
    import json, sys, time
    def peak_rss():
        with open("/proc/self/status") as f:
            line = next(x for x in f if x.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024
    {imports}
    rss_after_imports = peak_rss()
    start = time.perf_counter()
    {work}
    seconds = time.perf_counter() - start
    peak = peak_rss()
    print(json.dumps({{"seconds": seconds, "peak_rss": peak,
                      "rss_after_imports": rss_after_imports, **extra}}))
""")


def run_child(imports: str, work: str) -> dict:
    code = CHILD.format(imports=imports, work=textwrap.indent(work, "").strip()
                        .replace("\n", "\n"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd="/tmp")
    if result.returncode != 0:
        raise SystemExit(f"child failed:\n{code}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_command(args: list) -> dict:
    """A whole process: wall time and its peak RSS, by GNU time (a small process
    between, so that the figure is the command's own and not this one's at the fork)."""
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "%M"] + args, capture_output=True,
                            text=True, cwd="/tmp")
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{args} failed: {result.stderr}")
    return {"seconds": seconds,
            "peak_rss": int(result.stderr.strip().splitlines()[-1]) * 1024}


def page_cache_read(path: str) -> float:
    buf = bytearray(1 << 23)
    view = memoryview(buf)
    best = None
    for _ in range(2):  # the first read warms the cache; the second is measured
        start = time.perf_counter()
        with open(path, "rb", buffering=0) as f:
            while f.readinto(view):
                pass
        best = time.perf_counter() - start
    return best


QUERIES = """
import statistics, threading
import numpy as np
from fastw2v.queries import neighbours
v = fastw2v.load(native)
words = v.words[100:100 + 50 * n_queries:50]
v.most_similar(words[0])  # pages the matrix in
matrix = np.asarray(v.vectors)
as_int = matrix.view(np.int64)

def median_time(work, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); work(); times.append(time.perf_counter() - t)
    return statistics.median(times)

def in_threads(parts):  # each part a function; run together, one thread each
    threads = [threading.Thread(target=part) for part in parts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

halves = [as_int[:len(as_int) // 2], as_int[len(as_int) // 2:]]
query = v.query_vector([v.find(words[0])], [1.0])
divisors = v._divisors()
stored = neighbours.stored(matrix)

def scan_part(start, stop):
    best = neighbours.empty_best(1, 11)
    neighbours.scan.scan_top(stored, divisors, query, neighbours.scratch_for(v.dim),
                             best[0][0], best[1][0], start, stop)

def numpy_path(word):  # the previous most_similar: einsum, then argpartition
    rows = v.find_all([word])
    return v._top(v.cosines(v.query_vector(rows, [1.0])), rows, 10)

# Rounds alternate the measurements, so that a change in the machine's load moves all
# of them alike; each figure is the median over its rounds.
figures = {name: [] for name in ("pass", "pass_2_threads", "query", "numpy_query",
                                 "scan_1_thread", "scan_2_threads")}
for round_ in range(rounds):
    figures["pass"].append(median_time(as_int.sum, 3))
    figures["pass_2_threads"].append(median_time(
        lambda: in_threads([h.sum for h in halves]), 3))
    for w in words[round_::rounds]:
        figures["query"].append(median_time(lambda: v.most_similar(w, n=10), 1))
    for w in words[round_::rounds][:5]:
        figures["numpy_query"].append(median_time(lambda: numpy_path(w), 1))
    figures["scan_1_thread"].append(median_time(lambda: scan_part(0, len(v)), 3))
    middle = len(v) // 2
    figures["scan_2_threads"].append(median_time(
        lambda: in_threads([lambda: scan_part(0, middle), lambda: scan_part(middle, len(v))]),
        3))
same_as_numpy = sum(1 for w in words if [x for x, _ in v.most_similar(w, n=10)]
                    == [x for x, _ in numpy_path(w)])
batches = {}
for size in batch_sizes:
    batch_words = (words * (size // len(words) + 1))[:size]
    t = time.perf_counter(); v.most_similar_batch(batch_words, n=10)
    batches[size] = time.perf_counter() - t
half_query = None
if half_native is not None:
    h = fastw2v.load(half_native)
    h.most_similar(words[0])
    half_query = statistics.median(median_time(lambda: h.most_similar(w, n=10), 1)
                                   for w in words)
    half_pass = median_time(np.asarray(h.vectors).view(np.int64).sum, 5)
from gensim.models import KeyedVectors
kv = KeyedVectors.load_word2vec_format(binary_path, binary=True)
kv.most_similar(words[0])  # computes its norms
gtimes = []
for w in words:
    t = time.perf_counter(); kv.most_similar(w, topn=10); gtimes.append(time.perf_counter() - t)
same = sum(1 for w in words if [x for x, _ in v.most_similar(w, n=10)]
           == [x for x, _ in kv.most_similar(w, topn=10)])
extra = {name: statistics.median(values) for name, values in figures.items()}
extra.update({"matrix_bytes": int(matrix.nbytes), "queries": len(words),
              "batch_seconds": batches, "gensim_query_median": statistics.median(gtimes),
              "same_top10_as_gensim": same, "same_top10_as_numpy_path": same_as_numpy,
              "float16_query_median": half_query,
              "float16_pass_median": half_pass if half_native else None,
              "scan_build": neighbours.BUILD})
"""


def measure_queries(binary_path: str, folder: str, n_queries: int, batch_sizes: list,
                    float16: bool, rounds: int = 5) -> dict:
    native = os.path.join(folder, "queries.fw2v")
    half_native = os.path.join(folder, "queries-half.fw2v") if float16 else None
    subprocess.run([sys.executable, "-m", "fastw2v", "convert", binary_path, native],
                   check=True, capture_output=True, cwd="/tmp")
    if half_native:
        subprocess.run([sys.executable, "-m", "fastw2v", "convert", binary_path,
                        half_native, "--dtype", "float16"],
                       check=True, capture_output=True, cwd="/tmp")
    setup = (f"import fastw2v\nnative, binary_path, n_queries = {native!r}, "
             f"{binary_path!r}, {n_queries}\nbatch_sizes, rounds = {batch_sizes!r}, "
             f"{rounds}\nhalf_native = {half_native!r}")
    r = run_child(setup, QUERIES)
    os.unlink(native)
    if half_native:
        os.unlink(half_native)
    gb = r["matrix_bytes"] / 1e9
    log(f"queries ({r['scan_build']} build), medians over {r['queries']} words:")
    log(f"  one read pass, 1 thread (int64 sum): {r['pass'] * 1e3:.1f} ms "
        f"({gb / r['pass']:.1f} GB/s); 2 threads: {r['pass_2_threads'] * 1e3:.1f} ms "
        f"({gb / r['pass_2_threads']:.1f} GB/s)")
    log(f"  one most_similar(word, 10): {r['query'] * 1e3:.1f} ms = "
        f"{r['query'] / r['pass']:.2f} passes ({gb / r['query']:.1f} GB/s); the numpy path "
        f"(einsum + argpartition): {r['numpy_query'] * 1e3:.1f} ms; same top 10: "
        f"{r['same_top10_as_numpy_path']} of {r['queries']}")
    log(f"  the scan alone: 1 thread {r['scan_1_thread'] * 1e3:.1f} ms, 2 threads "
        f"{r['scan_2_threads'] * 1e3:.1f} ms")
    if r["float16_query_median"] is not None:
        log(f"  float16 file: one query {r['float16_query_median'] * 1e3:.1f} ms, one read "
            f"pass of its {gb / 2:.2f} GB {r['float16_pass_median'] * 1e3:.1f} ms")
    log(f"  gensim most_similar: {r['gensim_query_median'] * 1e3:.1f} ms; same top 10 as "
        f"gensim: {r['same_top10_as_gensim']} of {r['queries']}")
    for size, seconds in r["batch_seconds"].items():
        log(f"  batch of {size}: {seconds:.2f} s, {int(size) / seconds:,.0f} queries/s "
            f"(one at a time: {1 / r['query']:,.1f}/s)")
    return r


INDEX_QUERIES = """
import statistics
from fastw2v.queries.index import AnnIndex
v = fastw2v.load(native)
words = v.words[100:100 + 50 * n_queries:50]
v.most_similar(words[0])  # pages the matrix in
exact, exact_times = {}, []
for w in words:
    t = time.perf_counter(); exact[w] = v.most_similar(w, n=10)
    exact_times.append(time.perf_counter() - t)
t = time.perf_counter(); index = AnnIndex.load(native + ".hnsw", v)
load_seconds = time.perf_counter() - t
by_ef = []
for ef in ef_values:
    index.ef_search = ef
    index.most_similar(words[0])
    times, found = [], 0
    for w in words:
        t = time.perf_counter(); got = index.most_similar(w, n=10)
        times.append(time.perf_counter() - t)
        found += len({x for x, _ in got} & {x for x, _ in exact[w]})
    by_ef.append({"ef_search": ef, "recall_at_10": found / (10 * len(words)),
                  "query_median": statistics.median(times)})
extra = {"queries": len(words), "exact_query_median": statistics.median(exact_times),
         "index_load_seconds": load_seconds, "by_ef_search": by_ef}
"""


def measure_index(binary_path: str, folder: str, n_queries: int, m: int,
                  ef_construction: int, ef_values: list) -> dict:
    native = os.path.join(folder, "indexed.fw2v")
    subprocess.run([sys.executable, "-m", "fastw2v", "convert", binary_path, native],
                   check=True, capture_output=True, cwd="/tmp")
    command = [sys.executable, "-m", "fastw2v", "index", "-m", native, "--m", str(m),
               "--ef-construction", str(ef_construction)]
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "%M"] + command, capture_output=True,
                            text=True, cwd="/tmp")
    if result.returncode != 0:
        raise SystemExit(f"{command} failed: {result.stderr}")
    lines = result.stderr.strip().splitlines()
    build = {"command_seconds": time.perf_counter() - start,
             "peak_rss": int(lines[-1]) * 1024, "line": lines[-2],
             "build_seconds": float(lines[-2].split(" in ")[1].split(" s ")[0]),
             "index_bytes": os.path.getsize(native + ".hnsw"),
             "model_bytes": os.path.getsize(native), "m": m,
             "ef_construction": ef_construction}
    log(f"index: {build['line']}; peak RSS {mb(build['peak_rss'])}")
    setup = (f"import fastw2v\nnative, n_queries, ef_values = {native!r}, {n_queries}, "
             f"{ef_values!r}")
    queries = run_child(setup, INDEX_QUERIES)
    log(f"index: loaded in {queries['index_load_seconds']:.2f} s; brute force "
        f"{queries['exact_query_median'] * 1e3:.1f} ms a query")
    for row in queries["by_ef_search"]:
        log(f"index: efSearch {row['ef_search']}: recall@10 {row['recall_at_10']:.3f}, "
            f"{row['query_median'] * 1e3:.2f} ms a query, "
            f"{queries['exact_query_median'] / row['query_median']:.1f}x brute force")
    os.unlink(native + ".hnsw")
    os.unlink(native)
    return {"build": build, **queries}


def float16_agreement(model: str, folder: str, n_words: int) -> dict:
    import fastw2v

    half_path = os.path.join(folder, "half.fw2v")
    full_path = os.path.join(folder, "full.fw2v")
    for path, dtype in ((full_path, "float32"), (half_path, "float16")):
        subprocess.run([sys.executable, "-m", "fastw2v", "convert", model, path, "--dtype",
                        dtype], check=True, capture_output=True, cwd="/tmp")
    full, half = fastw2v.load(full_path), fastw2v.load(half_path)
    words = full.words[:n_words]
    start = time.perf_counter()
    want = full.most_similar_batch(words, n=10)
    full_seconds = time.perf_counter() - start
    start = time.perf_counter()
    got = half.most_similar_batch(words, n=10)
    half_seconds = time.perf_counter() - start
    same_order = sum(1 for a, b in zip(want, got) if [w for w, _ in a] == [w for w, _ in b])
    same_set = sum(1 for a, b in zip(want, got) if {w for w, _ in a} == {w for w, _ in b})
    cosine_error = max(abs(x - y) for a, b in zip(want, got) for (_, x), (_, y) in zip(a, b))
    result = {"model": model, "words": len(words), "dim": full.dim,
              "float32_bytes": os.path.getsize(full_path),
              "float16_bytes": os.path.getsize(half_path),
              "same_top10_set": same_set, "same_top10_order": same_order,
              "largest_cosine_difference_at_same_rank": cosine_error,
              "batch_seconds_float32": full_seconds, "batch_seconds_float16": half_seconds}
    log(f"float16: {result['float16_bytes']:,} bytes against {result['float32_bytes']:,}; "
        f"same top 10 for {same_set / len(words):.2%} of {len(words):,} words "
        f"(same order: {same_order / len(words):.2%})")
    os.unlink(half_path)
    os.unlink(full_path)
    return result


def words_bytes(words: list) -> int:
    return sys.getsizeof(words) + sum(sys.getsizeof(w) for w in words)


def mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin-words", type=int, default=500_000)
    parser.add_argument("--text-words", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--dir", default="/tmp/large-bench")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--skip-gensim-text", action="store_true",
                        help="leave out gensim's text read (minutes on a large file)")
    parser.add_argument("--queries", type=int, default=200,
                        help="words for the query timings (0: none)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[100, 1000],
                        help="queries a most_similar_batch call (--queries words, repeated "
                             "when fewer)")
    parser.add_argument("--float16-queries", action="store_true",
                        help="also time one query on the file converted to float16")
    parser.add_argument("--only-queries", action="store_true",
                        help="make the .bin and measure only the queries")
    parser.add_argument("--float16-model", help="measure float16 agreement on this model")
    parser.add_argument("--agreement-words", type=int, default=20_000)
    parser.add_argument("--index", action="store_true",
                        help="make the .bin and measure only the HNSW index")
    parser.add_argument("--index-m", type=int, default=32)
    parser.add_argument("--index-ef-construction", type=int, default=200)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[128, 256, 512, 1024])
    parser.add_argument("--json")
    args = parser.parse_args()

    from fastw2v.formats.word2vec import save_word2vec

    os.makedirs(args.dir, exist_ok=True)
    if args.float16_model:
        result = float16_agreement(args.float16_model, args.dir, args.agreement_words)
        print(json.dumps(result, indent=1))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=1)
        return
    figures: dict = {"machine": f"{platform.processor() or platform.machine()}, "
                                f"{os.cpu_count()} cores", "load_average_start":
                     os.getloadavg(), "dim": args.dim, "bin_words": args.bin_words,
                     "text_words": args.text_words}
    log(f"load average at the start: {os.getloadavg()}")
    fastw2v_import = "import fastw2v"
    gensim_import = "from gensim.models import KeyedVectors"
    for fmt, n_words in (("bin", args.bin_words), ("text", args.text_words)):
        path = os.path.join(args.dir, f"random.{'bin' if fmt == 'bin' else 'txt'}")
        log(f"{fmt}: making {n_words:,} x {args.dim} random vectors ...")
        words = random_words(n_words, seed=1)
        vectors = random_vectors(n_words, args.dim, seed=1)
        matrix_bytes = vectors.nbytes
        words_size = words_bytes(words)

        # Writing, in this process: both tools start from the vectors in memory.
        start = time.perf_counter()
        save_word2vec(path, words, vectors, fmt)
        ours_write = time.perf_counter() - start
        if args.index:  # the index alone: nothing of gensim's
            del vectors, words
            figures["index"] = measure_index(path, args.dir, args.queries, args.index_m,
                                             args.index_ef_construction, args.ef_search)
            break
        from gensim.models import KeyedVectors

        kv = KeyedVectors(args.dim, dtype=np.float32)
        kv.add_vectors(words, vectors)
        gensim_path = path + ".gensim"
        start = time.perf_counter()
        kv.save_word2vec_format(gensim_path, binary=fmt == "bin")
        gensim_write = time.perf_counter() - start
        os.unlink(gensim_path)
        del kv, vectors, words
        size = os.path.getsize(path)
        log(f"{fmt}: {size / 1e6:,.0f} MB written: fastw2v {ours_write:.2f} s, "
            f"gensim {gensim_write:.2f} s")

        cache = page_cache_read(path)
        log(f"{fmt}: page cache read {cache:.2f} s")
        ours = run_child(fastw2v_import,
                         f"v = fastw2v.load({path!r}); v.norms\n"
                         f"extra = {{'rows': len(v)}}")
        log(f"{fmt}: fastw2v read {ours['seconds']:.2f} s, peak {mb(ours['peak_rss'])}")
        if fmt == "text" and args.skip_gensim_text:
            theirs = None
        else:
            theirs = run_child(gensim_import,
                               f"kv = KeyedVectors.load_word2vec_format({path!r}, "
                               f"binary={fmt == 'bin'})\nextra = {{'rows': len(kv)}}")
            log(f"{fmt}: gensim read {theirs['seconds']:.2f} s, "
                f"peak {mb(theirs['peak_rss'])}")
        if fmt == "bin" and args.queries:
            figures["queries"] = measure_queries(path, args.dir, args.queries,
                                                 args.batch_sizes, args.float16_queries)
        if args.only_queries:
            break
        command = ([sys.executable, "-m", "fastw2v", "convert", path,
                    os.path.join(args.dir, "converted.fw2v")] if fmt == "bin" else
                   [sys.executable, "-m", "fastw2v", "info", "-m", path])
        whole = run_command(command)
        log(f"{fmt}: {' '.join(command[2:4])} peak {mb(whole['peak_rss'])}, "
            f"{whole['seconds']:.2f} s")
        if fmt == "bin":
            os.unlink(os.path.join(args.dir, "converted.fw2v"))
        figures[fmt] = {"words": n_words, "file_bytes": size, "matrix_bytes": matrix_bytes,
                        "words_bytes": words_size, "page_cache_seconds": cache,
                        "write_seconds": ours_write, "gensim_write_seconds": gensim_write,
                        "fastw2v_read": ours, "gensim_read": theirs,
                        "command": {"args": command[2:4], **whole},
                        "memory_bound": matrix_bytes * 1.1 + words_size}
        os.unlink(path)
    figures["load_average_end"] = os.getloadavg()
    log(f"load average at the end: {os.getloadavg()}")
    print(json.dumps(figures, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)
    if not args.keep:
        shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
