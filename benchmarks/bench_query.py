"""How fast fastw2v answers queries, against gensim's KeyedVectors, on one vector file.

From the repository root, after `pip install .` and `pip install "gensim>=4,<5" scipy`
(or on the in-place build, prefixed with PYTHONPATH=.):

    python benchmarks/bench_query.py --json /tmp/fastw2v-query.json

Without --model, the script trains the reference wiki8 model once (skip-gram, dim 100,
window 5, negative 5, sample 1e-4, 5 epochs, min-count 5, 2 threads, seed 1; a few
minutes) from ~/.cache/fastw2v-bench/wiki8.txt (bench_train.py decompresses it there
from ../shared/data/wiki8.txt.xz) and keeps it as ~/.cache/fastw2v-bench/wiki8-query.fw2v
for later runs. --model PATH uses any vector file instead.

The same vectors are written as a word2vec binary (what gensim reads) and in the native
format, into a temporary folder. Then, each figure a median of --runs runs (after one
unmeasured warm-up), with gensim measured in the same run so the ratio is fair:

  * command: wall time of a whole `python -m fastw2v similar WORD -m FILE` process,
    interpreter start and imports included, for the native and the binary file; and of
    a `python -c` process doing gensim's load_word2vec_format(binary=True) +
    most_similar(WORD, topn=10), the nearest gensim equivalent. The commands import a
    byte-compiled copy of fastw2v, as installed (see child_env); `python -c "import
    numpy"` is timed too, as the floor under both tools.
  * load: fastw2v.load(FILE) and KeyedVectors.load_word2vec_format, in this process.
  * query: most_similar(word, n=10) for --queries different words (ranks 100, 110, ...)
    once loaded: median and 90th percentile per query. gensim's first query also
    computes its norms; that one is reported apart.

Correctness on the same file is checked along the way: the neighbour lists of all
query words against gensim's, and, when the evaluation sets exist
(../shared/data/questions-words.txt, wordsim353.txt, simlex999.txt), `evaluate`'s
analogy accuracy (top 30,000 words) against gensim's evaluate_word_analogies and
Spearman against scipy on gensim's cosines, with the time each takes.

The machine's load average is printed at the start: other work on the cores
lengthens every figure, and multi-threaded BLAS in particular.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
DATA_DIR = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data"))
CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "fastw2v-bench")
DEFAULT_CORPUS = os.path.join(CACHE_DIR, "wiki8.txt")
DEFAULT_MODEL_CACHE = os.path.join(CACHE_DIR, "wiki8-query.fw2v")
REFERENCE = {"architecture": "skipgram", "dim": 100, "window": 5, "negative": 5,
             "sample": 1e-4, "epochs": 5, "min_count": 5, "threads": 2, "seed": 1}

GENSIM_COMMAND = """
import sys
from gensim.models import KeyedVectors
kv = KeyedVectors.load_word2vec_format(sys.argv[1], binary=True)
for word, cosine in kv.most_similar(sys.argv[2], topn=10):
    print(word, cosine)
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def child_env(folder: str) -> dict:
    """The environment for the timed commands: they import a byte-compiled copy of the
    fastw2v this script imports, as `pip install` would leave it.

    Without the copy, a source tree run under PYTHONDONTWRITEBYTECODE=1 (as some
    sandboxes set) compiles every fastw2v module at every start, which no installed
    package does; numpy, click and gensim come with their .pyc files.
    """
    import compileall
    import shutil

    import fastw2v

    source = os.path.dirname(os.path.abspath(fastw2v.__file__))
    site = os.path.join(folder, "site")
    shutil.copytree(source, os.path.join(site, "fastw2v"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(os.path.join(site, "fastw2v"), quiet=1)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (site, env.get("PYTHONPATH")) if p)
    return env


def timed_runs(function, runs: int, warmup: int = 1) -> list:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def process_times(argv, runs: int, env: dict) -> list:
    def once():
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return timed_runs(once, runs)


def summary(times) -> dict:
    ordered = sorted(times)
    return {"median_s": statistics.median(ordered), "min_s": ordered[0],
            "p90_s": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
            "runs": len(ordered)}


def get_model(args) -> str:
    """The path of the vector file to query, training the reference model if needed."""
    if args.model:
        return args.model
    if os.path.exists(DEFAULT_MODEL_CACHE) and not args.retrain:
        log(f"using the cached model {DEFAULT_MODEL_CACHE} (--retrain to train it again)")
        return DEFAULT_MODEL_CACHE
    import fastw2v

    if not os.path.exists(args.corpus):
        sys.exit(f"error: corpus {args.corpus} not found: run benchmarks/bench_train.py "
                 f"once (it decompresses wiki8 there), or give --model")
    log(f"training the reference model on {args.corpus} (a few minutes) ...")
    started = time.perf_counter()
    model = fastw2v.train(args.corpus, progress=True, **REFERENCE)
    os.makedirs(CACHE_DIR, exist_ok=True)
    model.save(DEFAULT_MODEL_CACHE)
    log(f"trained in {time.perf_counter() - started:.0f} s; saved {DEFAULT_MODEL_CACHE}")
    return DEFAULT_MODEL_CACHE


def bench_commands(files: dict, word: str, runs: int, folder: str) -> dict:
    env = child_env(folder)
    results = {}
    for name, path in (("fastw2v similar, native", files["native"]),
                       ("fastw2v similar, word2vec binary", files["bin"])):
        log(f"timing the command: {name} ...")
        argv = [sys.executable, "-m", "fastw2v", "similar", word, "-m", path]
        results[name] = summary(process_times(argv, runs, env))
    log("timing the command: gensim load_word2vec_format + most_similar ...")
    argv = [sys.executable, "-c", GENSIM_COMMAND, files["bin"], word]
    results["gensim load + most_similar, word2vec binary"] = summary(
        process_times(argv, runs, env))
    log("timing: python -c 'import numpy' (the floor under any of these) ...")
    results["python -c 'import numpy' (floor)"] = summary(
        process_times([sys.executable, "-c", "import numpy"], runs, env))
    return results


def bench_library(files: dict, runs: int, n_queries: int) -> dict:
    import numpy as np
    from gensim.models import KeyedVectors

    import fastw2v

    results = {"load": {}, "query": {}}
    log("timing loads in this process ...")
    results["load"]["fastw2v, native"] = summary(
        timed_runs(lambda: fastw2v.load(files["native"]), runs))
    results["load"]["fastw2v, word2vec binary"] = summary(
        timed_runs(lambda: fastw2v.load(files["bin"]), runs))
    results["load"]["gensim, word2vec binary"] = summary(timed_runs(
        lambda: KeyedVectors.load_word2vec_format(files["bin"], binary=True), runs))

    ours = fastw2v.load(files["native"])
    kv = KeyedVectors.load_word2vec_format(files["bin"], binary=True)
    words = ours.words[100:100 + 10 * n_queries:10]
    started = time.perf_counter()
    kv.most_similar(words[0], topn=10)
    results["query"]["gensim first query (computes the norms)"] = summary(
        [time.perf_counter() - started])
    ours.most_similar(words[0], n=10)

    log(f"timing {len(words)} queries each ...")
    for name, query in (("fastw2v", lambda w: ours.most_similar(w, n=10)),
                        ("gensim", lambda w: kv.most_similar(w, topn=10))):
        times = []
        for word in words:
            started = time.perf_counter()
            query(word)
            times.append(time.perf_counter() - started)
        results["query"][name] = summary(times)

    same = 0
    worst = 0.0
    for word in words:
        mine, theirs = ours.most_similar(word, n=10), kv.most_similar(word, topn=10)
        same += [w for w, _ in mine] == [w for w, _ in theirs]
        worst = max(worst, float(np.max(np.abs(np.array([s for _, s in mine])
                                               - np.array([s for _, s in theirs])))))
    results["agreement"] = {"queries": len(words), "identical_neighbour_lists": same,
                            "largest_cosine_difference": worst}
    return results


def bench_evaluation(files: dict) -> dict:
    from gensim.models import KeyedVectors
    from scipy.stats import spearmanr

    import fastw2v
    from fastw2v.queries.evaluate import (
        evaluate_analogies,
        evaluate_similarity,
        read_similarity_pairs,
    )

    analogies = os.path.join(DATA_DIR, "questions-words.txt")
    similarity = [os.path.join(DATA_DIR, name) for name in ("wordsim353.txt", "simlex999.txt")]
    if not os.path.exists(analogies):
        log(f"{analogies} not found: evaluation comparison skipped")
        return {}
    ours = fastw2v.load(files["native"])
    kv = KeyedVectors.load_word2vec_format(files["bin"], binary=True)
    log("analogies: fastw2v evaluate ...")
    started = time.perf_counter()
    mine = evaluate_analogies(ours, analogies, restrict=30000)
    our_seconds = time.perf_counter() - started
    log("analogies: gensim evaluate_word_analogies (slow) ...")
    started = time.perf_counter()
    score, sections = kv.evaluate_word_analogies(analogies, restrict_vocab=30000)
    gensim_seconds = time.perf_counter() - started
    result = {"analogies": {
        "fastw2v_accuracy_pct": 100 * mine.overall.accuracy,
        "gensim_accuracy_pct": 100 * score,
        "fastw2v_answered": mine.overall.answered,
        "gensim_answered": len(sections[-1]["correct"]) + len(sections[-1]["incorrect"]),
        "skipped": mine.overall.skipped,
        "fastw2v_seconds": our_seconds, "gensim_seconds": gensim_seconds}}
    for path in similarity:
        if not os.path.exists(path):
            continue
        started = time.perf_counter()
        mine = evaluate_similarity(ours, path)
        our_seconds = time.perf_counter() - started
        human, cosines = [], []
        for _, w1, w2, score in read_similarity_pairs(path):
            key1, key2 = w1.lower(), w2.lower()
            if key1 in kv.key_to_index and key2 in kv.key_to_index:
                human.append(score)
                cosines.append(kv.similarity(key1, key2))
        result[os.path.basename(path)] = {
            "fastw2v_spearman": mine.spearman,
            "scipy_spearman_on_gensim_cosines": spearmanr(human, cosines).statistic,
            "used": mine.used, "skipped": mine.skipped, "fastw2v_seconds": our_seconds}
    return result


def print_report(report: dict) -> None:
    env = report["environment"]
    print(f"model: {report['model']} ({report['words']:,} words, dim {report['dim']}); "
          f"query word {report['word']!r}")
    print(f"machine: {env['cores']} cores, load average {env['load_average']} at start; "
          f"python {env['python']}, numpy {env['numpy']}, gensim {env['gensim']}")
    print(f"\nwhole command, wall time (median of {report['runs']} runs, min):")
    commands = report["commands"]
    gensim = commands["gensim load + most_similar, word2vec binary"]["median_s"]
    for name, s in commands.items():
        ratio = f"  {gensim / s['median_s']:5.1f}x faster than gensim" if (
            name.startswith("fastw2v")) else ""
        print(f"  {name:46s} {s['median_s']:7.3f} s  (min {s['min_s']:.3f}){ratio}")
    library = report["library"]
    print("\nload in a running process (median):")
    for name, s in library["load"].items():
        print(f"  {name:46s} {1000 * s['median_s']:9.1f} ms")
    print("\nmost_similar(word, 10) once loaded, per query (median, 90th percentile):")
    for name, s in library["query"].items():
        print(f"  {name:46s} {1000 * s['median_s']:9.2f} ms  p90 {1000 * s['p90_s']:.2f} ms")
    agreement = library["agreement"]
    print(f"\nagreement with gensim: {agreement['identical_neighbour_lists']} of "
          f"{agreement['queries']} neighbour lists identical; largest cosine difference "
          f"{agreement['largest_cosine_difference']:.2e}")
    evaluation = report.get("evaluation") or {}
    if "analogies" in evaluation:
        a = evaluation["analogies"]
        print(f"analogies (top 30,000 words): fastw2v {a['fastw2v_accuracy_pct']:.2f}% of "
              f"{a['fastw2v_answered']:,} in {a['fastw2v_seconds']:.1f} s; gensim "
              f"{a['gensim_accuracy_pct']:.2f}% of {a['gensim_answered']:,} in "
              f"{a['gensim_seconds']:.1f} s; {a['skipped']:,} skipped")
    for name, s in evaluation.items():
        if name != "analogies":
            print(f"{name}: Spearman {s['fastw2v_spearman']:.4f} (scipy on gensim's cosines "
                  f"{s['scipy_spearman_on_gensim_cosines']:.4f}), {s['used']} pairs used, "
                  f"{s['skipped']} skipped, {1000 * s['fastw2v_seconds']:.0f} ms")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="vector file to query [default: the reference "
                                        "wiki8 model, trained once and cached]")
    parser.add_argument("--corpus", default=DEFAULT_CORPUS,
                        help="corpus for the reference model [default: %(default)s]")
    parser.add_argument("--retrain", action="store_true", help="train the cached model again")
    parser.add_argument("--word", default="king", help="query word [default: king]")
    parser.add_argument("--runs", type=int, default=9, help="runs per figure [default: 9]")
    parser.add_argument("--queries", type=int, default=200,
                        help="query words for the per-query figures [default: 200]")
    parser.add_argument("--no-evaluation", action="store_true",
                        help="skip the evaluate / evaluate_word_analogies comparison")
    parser.add_argument("--json", metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)

    import gensim
    import numpy

    import fastw2v

    load_average = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    source = get_model(args)
    vectors = fastw2v.load(source)
    if args.word not in vectors:
        parser.error(f"--word {args.word!r} is not in {source}")
    with tempfile.TemporaryDirectory(prefix="fastw2v-query-") as folder:
        files = {"native": os.path.join(folder, "model.fw2v"),
                 "bin": os.path.join(folder, "model.bin")}
        vectors.save(files["native"])
        vectors.save(files["bin"])
        report = {
            "model": source, "words": len(vectors), "dim": vectors.dim, "word": args.word,
            "runs": args.runs,
            "environment": {"cores": os.cpu_count(), "load_average": load_average,
                            "python": platform.python_version(),
                            "numpy": numpy.__version__, "gensim": gensim.__version__,
                            "platform": platform.platform()},
            "commands": bench_commands(files, args.word, args.runs, folder),
            "library": bench_library(files, args.runs, args.queries),
        }
        if not args.no_evaluation:
            report["evaluation"] = bench_evaluation(files)
    print_report(report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
