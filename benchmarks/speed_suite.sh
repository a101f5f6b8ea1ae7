#!/usr/bin/env bash
# The measurements behind benchmarks/RESULTS.md, in the order they were run: fastw2v
# against gensim on wiki8 at dim 100 with 2 threads; fastw2v's thread scaling; both
# tools at dim 300; gensim at 1 thread; word2vec's per-pair sampling for the quality
# comparison; then the chart from all of them. About 80 minutes on 2 cores; run it on
# an otherwise idle machine. Raw results go to $OUT (default benchmarks/results/, which
# git ignores), one .json and one .txt per step.
#
#   bash benchmarks/speed_suite.sh [OUT]
#
# gensim's slowest runs are measured fewer times where noted, to fit the time: its
# 1-thread runs once. gensim's `sentences=` mode is not rerun here; add
# `--gensim-modes corpus_file,sentences` to a step to compare its two input modes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/results}"
mkdir -p "$out"
bench() {  # bench NAME ARGS...: one run of bench_train.py, its table kept in NAME.txt
    local name="$1"
    shift
    echo "== $name: bench_train.py $*" >&2
    python "$here/bench_train.py" "$@" --json "$out/$name.json" | tee "$out/$name.txt"
}

# The targets: skip-gram and CBOW, 2 threads, against gensim's faster mode (corpus_file).
bench dim100-2threads --arch skipgram --arch cbow --runs 3 --gensim-modes corpus_file
# Thread scaling: fastw2v at 1 and 2 threads, the two counts back to back in each of
# three rounds (gensim at 1 thread comes later, once: its 1-thread runs are the longest).
bench dim100-threads-fastw2v --arch skipgram --arch cbow --threads 1,2 --runs 3 --tools fastw2v
# Dimension 300, same settings otherwise.
bench dim300-2threads --arch skipgram --arch cbow --dim 300 --runs 3 --gensim-modes corpus_file
# gensim at 1 thread, for the 1-thread ratio and the chart.
bench dim100-1thread-gensim --arch skipgram --arch cbow --threads 1 --runs 1 --tools gensim \
    --gensim-modes corpus_file
# Shared negatives off (word2vec's per-pair sampling), for the quality comparison.
bench dim100-2threads-per-pair --arch skipgram --runs 1 --tools fastw2v \
    --fastw2v-variant ns-pair

python "$here/bench_train.py" --chart "$here/results-speed.png" --chart-from \
    "$out/dim100-2threads.json" "$out/dim300-2threads.json" \
    "$out/dim100-threads-fastw2v.json" "$out/dim100-1thread-gensim.json"
