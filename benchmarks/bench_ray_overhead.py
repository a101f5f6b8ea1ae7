"""What Ray costs on one machine: 2 workers x 1 thread against one process with 2 threads.

Issue 12's overhead target: on the same 2 cores, training on a local Ray instance with 2
workers of 1 thread each reaches at least 0.85 of the training words/s of one process
with 2 threads. The two runs alternate, each a whole `fastw2v train` command in its own
process (so Ray's start-up, the shipping of the shards and the shutdown are in the
whole-command time), for --rounds rounds; the medians and their ratio are printed, one
JSON line a run and a summary line at the end.

    python benchmarks/bench_ray_overhead.py --rounds 3 --epochs 5

(5 epochs is the benchmark setting; 1 epoch is quicker, but the first and the last
round, in which every worker sends all it moved in two one-byte parts, weigh five
times as much in it.)

Two training speeds are compared: the one `fastw2v train` prints (trained words over
the training time, which for Ray includes starting the workers and shipping their
shards) and the rounds alone. Run it on an otherwise idle machine: both runs want both cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

# One run in a child process: the whole command's time is the parent's clock around
# it (interpreter, Ray's start-up and shutdown included); the child reports the
# training words/s as `train` prints it, and over the SGD alone (stats.seconds["sgd"]:
# one process's Trainer.run; on Ray the rounds, without starting Ray and the workers
# and shipping them their shards). Before 2026-12-02 12:00 UTC the rounds were taken
# as the training time less Ray's start, which also took off the opening of the Ray
# session, a part the training time never held: the "rounds only" ratios measured so
# were too high (benchmarks/RESULTS.md).
CHILD = """
import json, sys
import fastw2v
corpus, epochs, on_ray, arch = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "ray", sys.argv[4]
sync_every = int(sys.argv[5]) or None
options = dict(architecture=arch, dim=100, window=5, negative=5, sample=1e-4, min_count=5,
               seed=1, epochs=epochs)
if on_ray:
    options.update(ray="local", ray_workers=2, threads=1, sync_every=sync_every)
else:
    options.update(threads=2)
stats = fastw2v.train(corpus, **options).stats
rounds = stats.seconds["sgd"]
print(json.dumps({"words_per_second": stats.words_per_second,
                  "words_per_second_training": stats.n_words_trained / rounds}))
"""


def run(corpus: str, epochs: int, on_ray: bool, arch: str, sync_every: int) -> dict:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, corpus, str(epochs),
                           "ray" if on_ray else "one", arch, str(sync_every)],
                          check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    name = "ray, 2 workers x 1 thread" if on_ray else "one process, 2 threads"
    return {"arch": arch, "run": name,
            "command_seconds": round(seconds, 2),
            **json.loads(done.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="/tmp/wiki8.txt")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--arch", default="skipgram", choices=("skipgram", "cbow"))
    parser.add_argument("--sync-every", type=int, default=0,
                        help="words per worker and round on Ray (0: the default)")
    args = parser.parse_args()
    single, ray = [], []
    for _ in range(args.rounds):
        for on_ray, results in ((False, single), (True, ray)):
            result = run(args.corpus, args.epochs, on_ray, args.arch, args.sync_every)
            print(json.dumps(result), flush=True)
            results.append(result)

    def median(results, key):
        return statistics.median(r[key] for r in results)

    print(json.dumps({
        "arch": args.arch, "rounds": args.rounds, "epochs": args.epochs,
        "sync_every": args.sync_every or "default",
        "words_per_second_ratio": round(median(ray, "words_per_second")
                                        / median(single, "words_per_second"), 3),
        "training_words_per_second_ratio": round(
            median(ray, "words_per_second_training")
            / median(single, "words_per_second_training"), 3),
        "command_seconds_ratio": round(median(ray, "command_seconds")
                                       / median(single, "command_seconds"), 3),
        "single_median_words_per_second": median(single, "words_per_second"),
        "ray_median_words_per_second": median(ray, "words_per_second"),
        "single_median_command_seconds": median(single, "command_seconds"),
        "ray_median_command_seconds": median(ray, "command_seconds")}))


if __name__ == "__main__":
    main()
