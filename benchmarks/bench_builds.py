"""Two builds of fastw2v on the same corpus, in alternating runs: did a change move speed?

Each build is a Python interpreter that imports it (a virtualenv's python, say one with
`pip install -e .` of an older commit). Every round trains once with each interpreter,
in turn, in its own process, so that both see the machine in the same state (a run's
speed drifts by 10-25% from minute to minute on a shared machine). The report gives
each build's median training words/s (fastw2v's stats.words_per_second) and the median
over rounds of the per-round ratio, per configuration.

    python benchmarks/bench_builds.py --base /path/to/old/venv/bin/python \
        --new python3 --corpus /tmp/wiki8.txt --rounds 5

The corpus defaults to ../shared/data/wiki8.txt.xz beside the repository (an .xz corpus
is read through the decompressor on every run, so decompress it once for speed runs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from typing import Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CORPUS = os.path.join(HERE, "..", "..", "shared", "data", "wiki8.txt.xz")

# The reference settings (../shared/data/README.md), one epoch to keep rounds short.
CONFIGS = {
    "skipgram": dict(architecture="skipgram", dim=100, window=5, negative=5, sample=1e-4,
                     epochs=1, min_count=5, threads=2),
    "cbow": dict(architecture="cbow", dim=100, window=5, negative=5, sample=1e-4,
                 epochs=1, min_count=5, threads=2),
    "skipgram-nce": dict(architecture="skipgram", dim=100, window=5, negative=5,
                         sample=1e-4, epochs=1, min_count=5, threads=2, loss="nce"),
    "skipgram-hs": dict(architecture="skipgram", dim=100, window=5, negative=5,
                        sample=1e-4, epochs=1, min_count=5, threads=2, loss="hs"),
    # One thread: the fraction of one core's peak (issue 15), free of the second thread.
    "skipgram-1thread": dict(architecture="skipgram", dim=100, window=5, negative=5,
                             sample=1e-4, epochs=1, min_count=5, threads=1),
    "skipgram-300": dict(architecture="skipgram", dim=300, window=5, negative=5, sample=1e-4,
                         epochs=1, min_count=5, threads=2),
    "cbow-300": dict(architecture="cbow", dim=300, window=5, negative=5, sample=1e-4,
                     epochs=1, min_count=5, threads=2),
}

CHILD = """
import json, sys
import fastw2v
model = fastw2v.train(sys.argv[1], **json.loads(sys.argv[2]))
print(json.dumps({"words_per_second": model.stats.words_per_second,
                  "train_seconds": model.stats.seconds["train"],
                  "loss": model.loss_history[-1]}))
"""


def run_once(python: str, corpus: str, options: Dict) -> Dict:
    out = subprocess.run([python, "-c", CHILD, corpus, json.dumps(options)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="python that imports the base build")
    parser.add_argument("--new", default=sys.executable, help="python that imports the new "
                        "build (default: this one)")
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--config", action="append", choices=list(CONFIGS),
                        help="configurations to run (default: all)")
    parser.add_argument("--json", help="write the per-run figures here")
    args = parser.parse_args(argv)
    results: Dict[str, Dict[str, List[Dict]]] = {}
    for name in args.config or list(CONFIGS):
        runs: Dict[str, List[Dict]] = {"base": [], "new": []}
        for round_number in range(args.rounds):
            # Alternate which build goes first, so neither always runs on a cooler machine.
            order = ["base", "new"] if round_number % 2 == 0 else ["new", "base"]
            for build in order:
                python = args.base if build == "base" else args.new
                runs[build].append(run_once(python, args.corpus, CONFIGS[name]))
            print(f"{name} round {round_number + 1}: " + ", ".join(
                f"{build} {runs[build][-1]['words_per_second']:,.0f} words/s"
                for build in ("base", "new")), flush=True)
        results[name] = runs
    print()
    print("| configuration | base words/s (median) | new words/s (median) | "
          "new / base (median of rounds) | per-round ratios |")
    print("|---|---|---|---|---|")
    for name, runs in results.items():
        base = [r["words_per_second"] for r in runs["base"]]
        new = [r["words_per_second"] for r in runs["new"]]
        ratios = [n / b for n, b in zip(new, base)]
        print(f"| {name} | {statistics.median(base):,.0f} | {statistics.median(new):,.0f} | "
              f"{statistics.median(ratios):.3f} | {', '.join(f'{r:.3f}' for r in ratios)} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(results, out, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
