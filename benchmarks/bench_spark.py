"""Spark MLlib's Word2Vec against fastw2v on one corpus: words/s and quality (issue 12).

MLlib trains one model only: skip-gram with hierarchical softmax, without subsampling of
frequent words. This script trains it (pyspark.ml.feature.Word2Vec) on `local[2]` with
numPartitions=2, vectorSize 100, windowSize 5, minCount 5, maxIter = --epochs and its
default stepSize 0.025, and in the same run fastw2v with the closest settings (skip-gram,
--loss hs, dim 100, window 5, min-count 5, sample 0, the same epochs, 2 threads) and,
for reference, with bench_train.py's defaults (negative sampling: negative 5, sample
1e-4), and the HS settings again on a local Ray of 2 workers x 1 thread (the
distributed counterpart of MLlib's 2 partitions; needs fastw2v[ray]). Every model is
scored by bench_train.py's evaluation (3CosAdd analogies over the 30,000 most frequent
words, Spearman's rho on WordSim-353 and SimLex-999).

pyspark is not a dependency of fastw2v nor of any of its extras (a CI that installs
the test extra should not fetch Spark); install it beside the package, with Java 17 or
later on the machine:

    pip install pyspark
    nice -n 5 python benchmarks/bench_spark.py --epochs 1 --json /tmp/spark-bench.json
    # a quick check on the first 1,000,000 tokens first (MLlib can be slow):
    python benchmarks/bench_spark.py --max-tokens 1000000

Corpus. MLlib takes rows of token arrays and cuts each row into sentences of
maxSentenceLength (1,000) tokens; a text8-style corpus is ONE line of 17M tokens. The
script therefore writes a copy of the corpus cut into lines of at most 1,000 tokens
(bench_train.write_relined; cached in --work-dir) and gives that same file to both
tools, so both see the same sentences and no context window crosses a row. Spark reads
it with spark.read.text and splits each line on spaces.

How it times. Every training runs in its own child process (this script with the
hidden --child option), so each Spark run starts its own JVM, which ends with the
child; the runs of the tools alternate (each round rotates the order). words/s counts
corpus tokens x epochs for both tools (in-vocabulary or not, the same number for both):

  * fit: MLlib's Word2Vec.fit() alone (it counts the vocabulary, builds the Huffman
    tree and trains; the input DataFrame is cached and counted before, so fit does not
    read the text). For fastw2v the same span is the fastw2v.train() call (counting,
    encoding, training); its training phase alone is shown too.
  * whole: the child process from its start to the saved vectors (interpreter and
    imports, Spark's start-up, reading, fitting, copying the vectors out of the JVM).

MLlib's getVectors() has no counts and no order; the words are put in corpus frequency
order (counted here after the timed part; ties by word) before saving, since the
analogy evaluation takes the most frequent words first.

The machine's 1-minute load average is sampled every 2 s during each run and reported
(mean and max): on a shared machine a run's speed says as much about the neighbours as
about the tool. So is each tool's CPU time (user + system, until the vectors are out; for
Spark the JVM's and the Python driver's), which the neighbours move less than wall
time: the "CPU s" column and words_per_cpu_second in the JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import lzma
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_train  # noqa: E402  (corpus cutting and the evaluation code)

DEFAULT_CORPUS = "/tmp/wiki8.txt"
COMPRESSED_WIKI8 = os.path.join(bench_train.DATA_DIR, "wiki8.txt.xz")
ROW_TOKENS = 1_000  # MLlib's default maxSentenceLength
TOOLS = ("spark", "fastw2v-hs", "fastw2v-ns", "fastw2v-hs-ray")
RESULT_MARKER = "@@BENCH_SPARK_RESULT@@ "

# fastw2v's settings per tool name: HS without subsampling is what MLlib trains; the
# NS row is bench_train.py's reference setting.
FASTW2V_OPTIONS = {
    "fastw2v-hs": dict(loss="hs", sample=0.0),
    "fastw2v-ns": dict(loss="ns", negative=5, sample=1e-4),
    "fastw2v-hs-ray": dict(loss="hs", sample=0.0),
}
# The Ray row: MLlib's 2 partitions against 2 Ray workers of 1 thread on a local Ray of
# 2 CPUs (needs fastw2v[ray]).
RAY_WORKERS = 2


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Corpus: the original, and a copy cut into rows of at most 1,000 tokens
# --------------------------------------------------------------------------------------

def ensure_corpus(path: str) -> None:
    """The default corpus lives in /tmp, which may have been cleaned: decompress it again
    from the shared data folder (any other path must exist)."""
    if os.path.exists(path):
        return
    if os.path.abspath(path) != DEFAULT_CORPUS or not os.path.exists(COMPRESSED_WIKI8):
        raise SystemExit(f"corpus not found: {path}")
    log(f"decompressing {COMPRESSED_WIKI8} to {path} ...")
    with lzma.open(COMPRESSED_WIKI8, "rb") as src, open(path + ".part", "wb") as out:
        shutil.copyfileobj(src, out, 8 << 20)
    os.replace(path + ".part", path)


def write_first_rows(path: str, out, rows: int) -> None:
    with open(path, "rb") as f:
        for i, line in enumerate(f):
            if i == rows:
                break
            out.write(line)


def prepare_rows(corpus: str, work_dir: str, max_tokens) -> str:
    """The corpus cut into lines of at most ROW_TOKENS tokens (cached by source size and
    time), or the first max_tokens // ROW_TOKENS lines of it."""
    os.makedirs(work_dir, exist_ok=True)
    base = os.path.splitext(os.path.basename(corpus))[0]
    rows_path = os.path.join(work_dir, f"{base}.rows{ROW_TOKENS}.txt")
    source = os.stat(corpus)
    source_id = {"source": os.path.abspath(corpus), "source_size": source.st_size,
                 "source_mtime_ns": source.st_mtime_ns}
    meta_path = rows_path + ".source.json"
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        fresh = (all(meta.get(k) == v for k, v in source_id.items())
                 and os.path.getsize(rows_path) == meta.get("size"))
    except (OSError, ValueError):
        fresh = False
    if not fresh:
        log(f"cutting {corpus} into lines of {ROW_TOKENS:,} tokens: {rows_path} ...")
        bench_train.write_cache_file(
            rows_path, meta_path, source_id,
            lambda out: bench_train.write_relined(corpus, out, ROW_TOKENS))
    if not max_tokens:
        return rows_path
    rows = max(1, max_tokens // ROW_TOKENS)
    cut_path = os.path.join(work_dir, f"{base}.rows{ROW_TOKENS}.first{rows}.txt")
    # Cheap to make: rewritten every time, so that it always follows the full copy.
    with open(cut_path, "wb") as out:
        write_first_rows(rows_path, out, rows)
    return cut_path


def count_tokens(path: str):
    """(tokens, {word: count}) of a corpus; outside any timed span."""
    from collections import Counter

    counts: Counter = Counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            counts.update(line.split())
    return sum(counts.values()), counts


# --------------------------------------------------------------------------------------
# Children: one training each, vectors saved, one JSON line on stdout
# --------------------------------------------------------------------------------------

def vm_hwm_mib(pid) -> float | None:
    """Peak resident memory of a process, from /proc (Linux), or None."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        pass
    return None


def cpu_seconds(pid) -> float | None:
    """User + system CPU time of a process and its threads so far, from /proc (Linux):
    on a shared machine CPU time says more about a tool's cost than wall time does."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def child_spark(spec: dict, began: float) -> dict:
    import numpy as np
    from pyspark.ml.feature import Word2Vec
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    import fastw2v

    seconds = {"imports": time.perf_counter() - began}
    mark = time.perf_counter()
    spark = (SparkSession.builder.master("local[2]").appName("fastw2v-bench-spark")
             .config("spark.driver.memory", spec["driver_memory"])
             .config("spark.driver.maxResultSize", spec["max_result_size"])
             .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.local.dir", spec["spark_local_dir"])
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    seconds["spark_start"] = time.perf_counter() - mark
    try:
        mark = time.perf_counter()
        rows = (spark.read.text(spec["corpus"])
                .select(F.split(F.col("value"), " ").alias("tokens"))
                .where(F.size("tokens") > 0)
                .cache())
        n_rows = rows.count()
        n_tokens = rows.select(F.sum(F.size("tokens"))).first()[0]
        seconds["read"] = time.perf_counter() - mark

        word2vec = Word2Vec(vectorSize=spec["dim"], windowSize=spec["window"],
                            minCount=spec["min_count"], numPartitions=2,
                            maxIter=spec["epochs"], maxSentenceLength=ROW_TOKENS,
                            seed=spec["seed"], inputCol="tokens", outputCol="vector")
        mark = time.perf_counter()
        model = word2vec.fit(rows)
        seconds["fit"] = time.perf_counter() - mark

        mark = time.perf_counter()
        pairs = model.getVectors().collect()
        seconds["export"] = time.perf_counter() - mark
        # The JVM is pyspark's gateway process; a private attribute, but the only way
        # to its pid. Read before stop(), while it is still alive.
        jvm_pid = spark.sparkContext._gateway.proc.pid
        jvm_peak, jvm_cpu = vm_hwm_mib(jvm_pid), cpu_seconds(jvm_pid)
        python_cpu = cpu_seconds("self")
        settings = {name.name: value for name, value in model.extractParamMap().items()}
    finally:
        spark.stop()
    whole = time.perf_counter() - began

    # Outside the timed span: frequency order for the evaluation (see the docstring).
    _, counts = count_tokens(spec["corpus"])
    pairs.sort(key=lambda pair: (-counts[pair[0]], pair[0]))
    words = [pair[0] for pair in pairs]
    matrix = np.array([pair[1].toArray() for pair in pairs], dtype=np.float32)
    fastw2v.Vectors(words, matrix,
                    counts=np.array([counts[w] for w in words], dtype=np.int64)
                    ).save(spec["out"], fmt="bin")
    import pyspark

    return {"seconds": dict(seconds, whole=whole), "tokens": int(n_tokens),
            "rows": int(n_rows), "vocab_size": len(words), "jvm_peak_rss_mib": jvm_peak,
            # Up to the vectors' export; Spark's stop and the Python-side ordering after
            # it are left out. Python's share is py4j traffic and the collect.
            "cpu_seconds": {"jvm": jvm_cpu, "python": python_cpu},
            "settings": {k: v for k, v in settings.items()
                         if isinstance(v, (int, float, str, bool))},
            "version": pyspark.__version__}


def child_fastw2v(spec: dict, began: float) -> dict:
    import fastw2v

    seconds = {"imports": time.perf_counter() - began}
    on_ray = spec["tool"].endswith("-ray")
    where = (dict(ray="local", ray_workers=RAY_WORKERS, threads=1) if on_ray
             else dict(threads=2))
    mark = time.perf_counter()
    model = fastw2v.train(spec["corpus"], architecture="skipgram", dim=spec["dim"],
                          window=spec["window"], min_count=spec["min_count"],
                          epochs=spec["epochs"], seed=spec["seed"],
                          tmp_dir=spec["tmp_dir"], **where, **FASTW2V_OPTIONS[spec["tool"]])
    seconds["fit"] = time.perf_counter() - mark
    seconds["train_phase"] = model.stats.seconds["train"]
    model.save(spec["out"], fmt="bin")
    whole = time.perf_counter() - began
    # On Ray the workers are Ray's processes, ended with the run and not reaped by this
    # one, so their CPU time is not counted: none is reported rather than a part.
    cpu = None if on_ray else cpu_seconds("self")
    stats = model.stats
    return {"seconds": dict(seconds, whole=whole), "tokens": int(stats.n_tokens_read),
            "vocab_size": len(model.words), "peak_rss_mib": vm_hwm_mib("self"),
            "cpu_seconds": {"python": cpu},
            "settings": {k: v for k, v in dataclasses.asdict(model.config).items()
                         if isinstance(v, (int, float, str, bool))},
            "version": fastw2v.__version__,
            "fastw2v_file": os.path.dirname(os.path.abspath(fastw2v.__file__))}


def child_main(spec_json: str, began: float) -> int:
    spec = json.loads(spec_json)
    run = child_spark if spec["tool"] == "spark" else child_fastw2v
    result = run(spec, began)
    print(RESULT_MARKER + json.dumps(result), flush=True)
    return 0


# --------------------------------------------------------------------------------------
# Parent: alternate the runs, sample the load, evaluate, print
# --------------------------------------------------------------------------------------

class LoadSampler:
    """The 1-minute load average every `every` seconds while a run lasts."""

    def __init__(self, every: float = 2.0) -> None:
        self.every, self.samples = every, [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])

    def summary(self) -> dict:
        return {"mean": round(statistics.fmean(self.samples), 2),
                "max": round(max(self.samples), 2), "samples": len(self.samples)}


def run_child(spec: dict) -> dict:
    began = time.perf_counter()
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child",
                           json.dumps(spec)], stdout=subprocess.PIPE, text=True)
    wall = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"{spec['tool']} failed (exit {proc.returncode})")
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            result = json.loads(line[len(RESULT_MARKER):])
            result["seconds"]["process"] = wall
            return result
    raise SystemExit(f"{spec['tool']}: no result line")


def quality(path: str, args) -> dict:
    result = bench_train.evaluate_vectors(path, args)
    analogy = result["analogy"]
    return {"analogies_pct": analogy["total_pct"], "semantic_pct": analogy["semantic_pct"],
            "syntactic_pct": analogy["syntactic_pct"], "answered": analogy["answered"],
            "wordsim353": result["wordsim353"]["rho"], "simlex999": result["simlex999"]["rho"]}


def print_table(results) -> None:
    print(f"{'tool':<14} {'round':>5} {'tokens':>11} {'vocab':>7} {'fit s':>8} "
          f"{'words/s fit':>12} {'whole s':>8} {'words/s whole':>14} {'CPU s':>7} "
          f"{'load':>10} {'analogies':>9} {'WS-353':>7} {'SimLex':>7}")
    for r in results:
        s = r["seconds"]
        load = f"{r['load']['mean']:.1f}/{r['load']['max']:.1f}"
        cpu = r.get("cpu_seconds_total")
        cpu_text = f"{cpu:>7.1f}" if cpu is not None else f"{'-':>7}"
        print(f"{r['tool']:<14} {r['round']:>5} {r['tokens']:>11,} {r['vocab_size']:>7,} "
              f"{s['fit']:>8.1f} {r['words_per_second_fit']:>12,.0f} {s['process']:>8.1f} "
              f"{r['words_per_second_whole']:>14,.0f} {cpu_text} {load:>10} "
              f"{r['quality']['analogies_pct']:>8.2f}% {r['quality']['wordsim353']:>7.3f} "
              f"{r['quality']['simlex999']:>7.3f}")


def build_parser() -> argparse.ArgumentParser:
    data = bench_train.DATA_DIR
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", default=DEFAULT_CORPUS,
                   help="plain-text corpus [default: %(default)s, decompressed from "
                        "../shared/data/wiki8.txt.xz when missing]")
    p.add_argument("--max-tokens", type=int, default=0,
                   help="train on the first rows only, about this many tokens (a quick "
                        "check); 0: all [default: 0]")
    p.add_argument("--epochs", type=bench_train.positive_int, default=1,
                   help="MLlib's maxIter and fastw2v's epochs [default: 1]")
    p.add_argument("--runs", type=bench_train.positive_int, default=1,
                   help="rounds; each round runs every tool, in a rotated order")
    p.add_argument("--tools", type=bench_train.comma_list("--tools", TOOLS),
                   default=list(TOOLS),
                   help="[default: spark,fastw2v-hs,fastw2v-ns,fastw2v-hs-ray]")
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--driver-memory", default="8g",
                   help="spark.driver.memory (local mode: the only JVM) [default: 8g]")
    p.add_argument("--max-result-size", default="4g",
                   help="spark.driver.maxResultSize [default: 4g]")
    p.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(),
                                                      "fastw2v-bench-spark"),
                   help="the cut corpus and Spark's scratch [default: %(default)s]")
    p.add_argument("--analogies", default=os.path.join(data, "questions-words.txt"))
    p.add_argument("--wordsim", default=os.path.join(data, "wordsim353.txt"))
    p.add_argument("--simlex", default=os.path.join(data, "simlex999.txt"))
    p.add_argument("--restrict-vocab", type=int, default=30_000)
    p.add_argument("--json", metavar="PATH", help="also write the results here")
    p.add_argument("--child", help=argparse.SUPPRESS)
    return p


def main() -> int:
    began = time.perf_counter()
    args = build_parser().parse_args()
    if args.child is not None:
        return child_main(args.child, began)
    ensure_corpus(args.corpus)
    rows_path = prepare_rows(args.corpus, args.work_dir, args.max_tokens)
    spark_dir = os.path.join(args.work_dir, "spark-local")
    os.makedirs(spark_dir, exist_ok=True)
    log(f"corpus as trained: {rows_path}; niceness {os.nice(0)}; "
        f"load average at the start {os.getloadavg()}")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-spark-", dir=args.work_dir) as folder:
        for round_no in range(args.runs):
            shift = round_no % len(args.tools)
            for tool in args.tools[shift:] + args.tools[:shift]:
                spec = {"tool": tool, "corpus": rows_path, "dim": args.dim,
                        "window": args.window, "min_count": args.min_count,
                        "epochs": args.epochs, "seed": args.seed, "tmp_dir": folder,
                        "driver_memory": args.driver_memory,
                        "max_result_size": args.max_result_size,
                        "spark_local_dir": spark_dir,
                        "out": os.path.join(folder, f"{tool}-{round_no}.bin")}
                log(f"round {round_no + 1}: {tool} ...")
                with LoadSampler() as load:
                    result = run_child(spec)
                words = result["tokens"] * args.epochs
                result.update(tool=tool, round=round_no + 1, epochs=args.epochs,
                              load=load.summary(),
                              words_per_second_fit=words / result["seconds"]["fit"],
                              words_per_second_whole=words / result["seconds"]["process"])
                cpu = result.get("cpu_seconds", {}).values()
                if cpu and None not in cpu:
                    result["cpu_seconds_total"] = sum(cpu)
                    result["words_per_cpu_second"] = words / sum(cpu)
                if "train_phase" in result["seconds"]:
                    result["words_per_second_train_phase"] = (
                        words / result["seconds"]["train_phase"])
                result["quality"] = quality(spec["out"], args)
                os.unlink(spec["out"])
                log(json.dumps(result))
                results.append(result)
    print_table(results)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"args": vars(args), "corpus_as_trained": rows_path,
                       "environment": bench_train.environment(), "niceness": os.nice(0),
                       "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
