"""Small versions of benchmarks/bench_scale.py (issue 6, "Scale"): the same generator,
bounded counting checked against the generator's exact counts, and training a
vocabulary whose every word passes --min-count. The full sizes (2 GB, 20 million
distinct tokens, 1 million words at dim 300) are too long for CI; their figures are in
benchmarks/SCALE.md."""

import importlib.util
import os

import numpy as np
import pytest

import fastw2v
from fastw2v import _text
from fastw2v.text.corpus import BLOCK_BYTES, scan_corpus

BENCH = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "bench_scale.py")


def quiet(*args, **kwargs):
    """A silent log for the generator."""


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_scale", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def counted(bench, tmp_path_factory):
    """A 4 MB corpus of about 180,000 distinct tokens, and its exact counts."""
    path = str(tmp_path_factory.mktemp("scale") / "count.txt")
    spec = bench.CorpusSpec(head=20_000, tail=200_000, tail_share=0.2)
    truth = bench.generate(path, spec, 4_000_000, seed=3, log=quiet)
    return path, truth


def test_base36_text_round_trips(bench):
    ids = np.array([0, 9, 35, 36, 1295, 1296, 46655, 46656, 36**6 - 1, 123456789])
    ends = np.zeros(len(ids), dtype=bool)
    ends[[3, 9]] = True
    text = bench.base36_text(ids, ends)
    assert text == b"0 9 z 10\nzz 100 zzz 1000 zzzzzz 21i3v9\n"
    assert bench.ids_of(text.decode().split()).tolist() == ids.tolist()
    assert [bench.word_of(int(i)) for i in ids] == text.decode().split()


def test_generator_counts_are_the_files_counts(bench, counted):
    """What the benchmark compares against is the truth: an unpruned count of the file
    finds exactly the generator's counts."""
    path, truth = counted
    scan = scan_corpus(path, max_vocab=10_000_000)
    assert scan.n_prunes == 0
    table = scan.table
    counts = np.zeros_like(truth["counts"])
    counts[bench.ids_of(table.words())] = table.counts()
    assert np.array_equal(counts, truth["counts"])
    assert truth["distinct"] == len(table) > 150_000
    assert truth["tokens"] == scan.stats.n_tokens
    assert truth["lines"] == scan.stats.n_lines
    assert os.path.getsize(path) == truth["bytes"] >= 4_000_000
    scan.entries.close()


def test_generation_is_deterministic(bench, tmp_path):
    spec = bench.CorpusSpec(head=1000, tail=5000, tail_share=0.3)
    for name in ("a.txt", "b.txt"):
        bench.generate(str(tmp_path / name), spec, 50_000, seed=7, log=quiet)
    assert (tmp_path / "a.txt").read_bytes() == (tmp_path / "b.txt").read_bytes()


def test_bounded_counting_is_exact_well_above_the_threshold(bench, counted, tmp_path):
    """Many prunings (max_vocab far below the distinct count): no count is ever too high,
    and every word of a true count above bench.safe_count is there with its count."""
    path, truth = counted
    max_vocab = 20_000
    scan, history, _ = bench.count_with_history(path, max_vocab, str(tmp_path))
    table = scan.table
    assert scan.n_prunes >= 5 and len(history) >= 2
    assert len(table) <= max_vocab
    safe = bench.safe_count(history, scan.stats.n_tokens)
    check = bench.check_counts(truth["counts"], bench.ids_of(table.words()),
                               table.counts(), scan.prune_threshold, safe)
    assert check["overestimated"] == 0
    assert check["safe_words"] > 100  # the check is not vacuous
    assert check["safe_missing"] == 0 and check["safe_wrong"] == 0
    assert check["underestimated"] > 0  # pruning did lose counts of rarer words
    # The table's allocation is within the bound's table terms.
    bound = bench.counting_bound(max_vocab, bench.MAX_DIGITS, BLOCK_BYTES)
    assert table.memory_bytes <= bound["entries"] + bound["slots"] // 2 + bound["arena"]


def test_recording_leaves_the_count_unchanged(bench, counted, tmp_path):
    """Feeding the Scanner in small pieces (to record where prunings happen) counts
    exactly as scan_corpus does."""
    path, _ = counted
    scan, _, _ = bench.count_with_history(path, 20_000, str(tmp_path))
    plain = scan_corpus(path, 20_000)
    assert scan.table.words() == plain.table.words()
    assert np.array_equal(scan.table.counts(), plain.table.counts())
    assert (scan.n_prunes, scan.prune_threshold) == (plain.n_prunes, plain.prune_threshold)
    assert _text.Scanner.__name__ == "Scanner"  # the patch was undone


def test_counting_bound_formula(bench):
    bound = bench.counting_bound(2_000_000, 6, 1 << 20)
    assert bound["entries"] == (1 << 21) * 32     # 2,000,001 entries fit in 2^21
    assert bound["slots"] == 2 * (1 << 22) * 4    # load <= 1/2, two arrays at a rebuild
    assert bound["arena"] == 1 << 24              # 12,000,006 key bytes in a 16 MiB buffer


def test_training_a_vocabulary_where_every_word_passes_min_count(bench, tmp_path):
    path = str(tmp_path / "train.txt")
    spec = bench.CorpusSpec(head=20_000, tail=0, tail_share=0.0, floor=6)
    truth = bench.generate(path, spec, 300_000, seed=5, log=quiet)
    assert truth["counts"].min() >= 6
    model = fastw2v.train(path, dim=16, min_count=5, epochs=1, threads=2, seed=1)
    assert model.vectors.shape == (20_000, 16)
    assert model.context_vectors.shape == (20_000, 16)
    assert np.isfinite(model.vectors).all()
    assert sorted(bench.ids_of(model.vocab.words).tolist()) == list(range(20_000))
    assert np.array_equal(model.vocab.counts,
                          truth["counts"][bench.ids_of(model.vocab.words)])
