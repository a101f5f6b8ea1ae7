"""Quality, traffic and speed of training on Ray against one process (issue 12).

Trains the wiki8 benchmark settings (bench_train.py's: dim 100, window 5, negative 5,
sample 1e-4, min-count 5, 5 epochs) once in one process with --threads 2 and once on a
local Ray instance for each --workers count (1 thread per worker), evaluates each model
with bench_train.py's analogy, WS-353 and SimLex code, and prints one JSON line per run
with the whole-command time (Ray's start-up included), the training words/s and the
bytes each synchronisation moved per trained word.

    python benchmarks/bench_ray.py --workers 2 --workers 4 --arch skipgram

Ray is started by this script with as many logical CPUs as the most workers asked for:
on a 2-core machine 4 workers time-share the cores, which measures the synchronisation
rule's effect on quality, not the speed of 4 nodes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_train  # noqa: E402  (the evaluation code)

import fastw2v  # noqa: E402

DATA = os.path.join(bench_train.REPO_ROOT, "..", "shared", "data")


def settings(arch: str, epochs: int, seed: int = 1) -> dict:
    return dict(architecture=arch, dim=100, window=5, negative=5, sample=1e-4, min_count=5,
                epochs=epochs, seed=seed)


def evaluate(model, args) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "v.bin")
        model.save(path)
        result = bench_train.evaluate_vectors(path, args)
    return {"analogies": result["analogy"]["total_pct"],
            "wordsim353": result["wordsim353"]["rho"],
            "simlex999": result["simlex999"]["rho"]}


def machine() -> dict:
    """The commit measured and the machine's load average (1, 5, 15 minutes) at the end
    of the run: the machine is shared, and the load says how much."""
    import subprocess

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=bench_train.REPO_ROOT).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True,
                               cwd=bench_train.REPO_ROOT).stdout.strip()
    except OSError:
        commit, dirty = "", ""
    return {"commit": commit + ("+changes" if dirty else ""),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="/tmp/wiki8.txt")
    parser.add_argument("--arch", default="skipgram", choices=("skipgram", "cbow"))
    parser.add_argument("--workers", type=int, action="append")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--sync-every", type=int, default=None)
    parser.add_argument("--max-worker-rate", type=float, default=None,
                        help="the largest rate a worker trains with (default: fastw2v's)")
    parser.add_argument("--seed", type=int, default=1,
                        help="a run of workers of one thread each is deterministic for "
                             "its seed: repeat with other seeds to see the spread")
    parser.add_argument("--no-single", action="store_true", help="skip the one-process run")
    parser.add_argument("--analogies", default=os.path.join(DATA, "questions-words.txt"))
    parser.add_argument("--wordsim", default=os.path.join(DATA, "wordsim353.txt"))
    parser.add_argument("--simlex", default=os.path.join(DATA, "simlex999.txt"))
    parser.add_argument("--restrict-vocab", type=int, default=30_000)
    args = parser.parse_args()
    workers = args.workers or [2]
    options = settings(args.arch, args.epochs, args.seed)
    if not args.no_single:
        began = time.perf_counter()
        model = fastw2v.train(args.corpus, threads=2, **options)
        print(json.dumps({"run": "one process, 2 threads", "arch": args.arch,
                          "epochs": args.epochs, "seed": args.seed, **machine(),
                          "seconds": round(time.perf_counter() - began, 1),
                          "words_per_second": round(model.stats.words_per_second),
                          "words_per_second_sgd": round(model.stats.n_words_trained
                                                        / model.stats.seconds["sgd"]),
                          **evaluate(model, args)}), flush=True)
    import ray

    for n in workers:
        began = time.perf_counter()
        # A Ray of our own, even beside another one on a shared machine.
        ray.init(address="local", num_cpus=max(n, 2), include_dashboard=False,
                 log_to_driver=False)
        try:
            model = fastw2v.train(args.corpus, ray="auto", ray_workers=n, threads=1,
                                  sync_every=args.sync_every,
                                  ray_max_worker_rate=args.max_worker_rate, **options)
        finally:
            ray.shutdown()
        run = model.state.provenance["distributed"]
        print(json.dumps({"run": f"ray, {n} workers x 1 thread", "arch": args.arch,
                          "epochs": args.epochs, "seed": args.seed, **machine(),
                          "sync_rule": run["sync_rule"],
                          "seconds": round(time.perf_counter() - began, 1),
                          "words_per_second": round(model.stats.words_per_second),
                          # The rounds alone: without starting the workers and shipping.
                          "words_per_second_sgd": round(
                              model.stats.n_words_trained
                              / model.stats.seconds["sgd"]),
                          "sync_every": run["sync_every"], "rounds": run["rounds"],
                          "sync_encoding": run["sync_encoding"],
                          "bytes_to_driver_per_word": run["bytes_to_driver_per_word"],
                          "bytes_from_driver_per_word": run["bytes_from_driver_per_word"],
                          "rows_to_driver_per_round": run["rows_to_driver_per_round"],
                          "rows_from_driver_per_round": run["rows_from_driver_per_round"],
                          **evaluate(model, args)}), flush=True)


if __name__ == "__main__":
    main()
