"""How fast `fastw2v phrases` counts and joins collocations, against gensim's Phrases.

From the repository root, after `pip install .` and `pip install "gensim>=4,<5"` (or on
the in-place build, prefixed with PYTHONPATH=.):

    python benchmarks/bench_phrases.py [--corpus ../shared/data/wiki8.txt.xz] [--runs 3]

The corpus is decompressed once into a temporary folder (both tools then read the same
plain file). Each tool runs in its own process, alternately (fastw2v, gensim, fastw2v,
...): --runs runs of fastw2v and --gensim-runs of gensim. A run is one detection pass
with word2vec.c's scorer, threshold 100 and min-count 5 (word2phrase's `-threshold 100
-min-count 5`), counting and then writing the joined text:

  * fastw2v: `python -m fastw2v phrases CORPUS -o OUT --save-phrases TABLE`.
  * gensim: Phrases(LineSentence(CORPUS), min_count=5, threshold=100, scoring=
    word2vec.c's formula, no connector words), frozen (FrozenPhrases, its fast way to
    apply), then every sentence of LineSentence(CORPUS) written joined. LineSentence
    cuts a line into sentences of 10,000 tokens, so a pair across such a cut is not
    counted (a few in 17 million tokens).

Reported: wall time and peak RSS of each process (from wait4), medians, the ratio in
the same run, and how many phrase types the two find and share (|both| / |either|).
The load average is printed first: the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import lzma
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
DEFAULT_CORPUS = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data",
                                               "wiki8.txt.xz"))

GENSIM_SCRIPT = """
import math, sys
from gensim.models.phrases import Phrases
from gensim.models.word2vec import LineSentence

def word2vec_scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count,
                    corpus_word_count):
    if min(worda_count, wordb_count, bigram_count) < min_count:
        return -math.inf
    return (bigram_count - min_count) / worda_count / wordb_count * corpus_word_count

corpus, output, table = sys.argv[1:4]
model = Phrases(LineSentence(corpus), min_count=5, threshold=100.0,
                scoring=word2vec_scorer, connector_words=frozenset())
frozen = model.freeze()
with open(output, "w", encoding="utf-8") as out:
    for sentence in LineSentence(corpus):
        out.write(" ".join(frozen[sentence]) + "\\n")
with open(table, "w", encoding="utf-8") as out:
    for phrase in frozen.phrasegrams:
        out.write(phrase + "\\n")
"""


def run_measured(command, env=None):
    """Wall seconds and peak RSS (MB) of a child process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    stderr = process.stderr.read().decode() if process.stderr else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{command[:3]} failed ({process.returncode}): {stderr[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def plain_copy(corpus: str, folder: str) -> str:
    if not corpus.endswith(".xz"):
        return corpus
    path = os.path.join(folder, "corpus.txt")
    with lzma.open(corpus, "rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 22)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--runs", type=int, default=3, help="fastw2v runs")
    parser.add_argument("--gensim-runs", type=int, default=1)
    parser.add_argument("--tmp-dir", default=None)
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}, {os.cpu_count()} cores, "
          f"{platform.processor() or platform.machine()}, python {platform.python_version()}",
          flush=True)
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    with tempfile.TemporaryDirectory(dir=args.tmp_dir) as folder:
        corpus = plain_copy(args.corpus, folder)
        ours_out, ours_table = os.path.join(folder, "ours.txt"), os.path.join(folder, "ours.tsv")
        theirs_out = os.path.join(folder, "theirs.txt")
        theirs_table = os.path.join(folder, "theirs.txt.phrases")
        ours_command = [sys.executable, "-m", "fastw2v", "phrases", corpus, "-o", ours_out,
                        "--threshold", "100", "--min-count", "5", "--save-phrases",
                        ours_table, "-q"]
        theirs_command = [sys.executable, "-c", GENSIM_SCRIPT, corpus, theirs_out,
                          theirs_table]
        ours, theirs = [], []
        for i in range(max(args.runs, args.gensim_runs)):
            if i < args.runs:
                ours.append(run_measured(ours_command, env))
                print(f"fastw2v run {i + 1}: {ours[-1][0]:.1f} s, {ours[-1][1]:.0f} MB",
                      flush=True)
            if i < args.gensim_runs:
                theirs.append(run_measured(theirs_command, env))
                print(f"gensim run {i + 1}: {theirs[-1][0]:.1f} s, {theirs[-1][1]:.0f} MB",
                      flush=True)
        with open(ours_table, encoding="utf-8") as f:
            our_types = {line.split("\t")[0].replace(" ", "_") for line in f
                         if "\t" in line and not line.startswith("#")}
        with open(theirs_table, encoding="utf-8") as f:
            their_types = {line.rstrip("\n") for line in f}
    both, either = len(our_types & their_types), len(our_types | their_types)
    figures = {
        "fastw2v_seconds": statistics.median(s for s, _ in ours),
        "fastw2v_peak_mb": statistics.median(m for _, m in ours),
        "gensim_seconds": statistics.median(s for s, _ in theirs),
        "gensim_peak_mb": statistics.median(m for _, m in theirs),
        "fastw2v_phrase_types": len(our_types), "gensim_phrase_types": len(their_types),
        "shared_phrase_types": both, "agreement": both / either if either else 1.0,
    }
    figures["speedup"] = figures["gensim_seconds"] / figures["fastw2v_seconds"]
    print(json.dumps(figures, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()
