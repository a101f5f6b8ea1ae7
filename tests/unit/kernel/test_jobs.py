"""Whole jobs (train_job) against the float64 reference for every combination of
settings, and the counts a job reports: sentence ends, subsampling, long sentences."""

import math

import numpy as np
import pytest
from kernel_reference import END, Reference, table_classify
from kernel_trainers import (
    build,
    check_jobs_against_reference,
    make_trainer,
    random_model,
    random_stream,
)

# ---------------------------------------------------------------------------------------
# Whole jobs against the reference, every combination (RNG predicted by the mirror)
# ---------------------------------------------------------------------------------------

JOB_COMBOS = [
    ("skipgram", "ns", "global", False),
    ("skipgram", "ns", "global", True),
    ("skipgram", "nce", "global", False),
    ("skipgram", "nce", "global", True),
    ("skipgram", "nce", "per-word", False),
    ("skipgram", "nce", "per-word", True),
    ("skipgram", "nce", "fixed", False),
    ("skipgram", "nce", "fixed", True),
    ("skipgram", "hs", "global", False),
    ("skipgram", "hs", "global", True),
    ("cbow", "ns", "global", False),
    ("cbow", "ns", "global", True),
    ("cbow", "nce", "global", False),
    ("cbow", "nce", "global", True),
    ("cbow", "nce", "fixed", False),
    ("cbow", "hs", "global", False),
]


@pytest.mark.parametrize("architecture, loss, gamma_mode, shared", JOB_COMBOS)
def test_train_job_matches_reference(kernel, architecture, loss, gamma_mode, shared):
    counts = np.array([90, 70, 50, 40, 30, 20, 15, 10, 8, 5, 3, 1])
    n_checked, _ = check_jobs_against_reference(kernel, architecture, loss, gamma_mode,
                                                shared, counts, dim=5, window=3, negative=2)
    assert n_checked >= 4


@pytest.mark.parametrize("architecture, loss, shared", [
    ("skipgram", "ns", True), ("skipgram", "nce", True), ("cbow", "ns", False)])
def test_wide_blocks_match_reference(kernel, architecture, loss, shared):
    # Windows of up to 10 inputs against 8 targets, in a vocabulary large and flat
    # enough that most blocks have distinct targets and take the all-pairs products
    # (fw_dot_block, fw_combine): every 4-source pass, 2-destination pass and their
    # remainders, on rows of 13 floats (not a multiple of a vector's 8 lanes).
    # A seed's rows are compared only when no score falls within 3e-6 of a sigmoid-table
    # bin edge; wide blocks make many scores, so some seeds are passed over.
    counts = np.arange(400, 100, -1)
    n_checked, ref = check_jobs_against_reference(
        kernel, architecture, loss, "global", shared, counts, dim=13, window=5, negative=7,
        n_seeds=16, stream_words=60, max_sentence=12, n_sentences=8)
    assert n_checked >= 3
    distinct = [len({t for t, _ in targets}) == len(targets)
                for _, _, targets in ref.block_log]
    assert sum(distinct) >= 0.7 * len(distinct)
    assert max(len(inputs) for _, inputs, _ in ref.block_log) >= 6


# ---------------------------------------------------------------------------------------
# A job's counts: sentence ends, subsampling, sentences longer than the buffer
# ---------------------------------------------------------------------------------------

# Three sentences of 3, 2 and 1 tokens (6 words); word 5 is alone in its sentence.
STREAM = np.array([0, 1, 2, END, 3, 4, END, 5, END], dtype=np.int32)


@pytest.mark.parametrize("architecture, expected_examples", [("skipgram", 4 + 2),
                                                             ("cbow", 3 + 2)])
@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("loss", ["ns", "hs"])
def test_tiny_train_job_counts(kernel, architecture, expected_examples, shared, loss):
    rng = np.random.default_rng(3)
    w_in, w_out = random_model(rng, 20, 8, 0.1, loss)
    old_in = w_in.copy()
    setup = build(kernel, w_in, w_out, architecture=architecture, loss=loss,
                  shared=shared, window=1, negative=3)
    loss_sum, n_examples, n_words, n_kept, change = setup.trainer.train_job(
        setup.trainer.new_worker(11), STREAM, 0.025, 0.02)
    assert n_words == int(np.sum(STREAM != END)) == 6
    assert n_kept == n_words  # keep_probability is all ones
    # window=1 makes every reach 1: skip-gram has 2 (L - 1) pairs per sentence of
    # length L >= 2, CBOW one example per centre word; one-word sentences train nothing.
    assert n_examples == expected_examples
    assert change == 0.0
    # With vectors ~0.1 every score is within ~0.1 of 0, so each (output row, label)
    # example costs log 2 to within 5 %. NS: every example has the real word and exactly
    # 3 noise words (duplicates of the real word are trained, not skipped). HS: the
    # centre word's path length.
    if loss == "ns":
        n_outputs = 4 * n_examples
    else:
        depth = np.diff(setup.tables.path_offsets)
        sentences = [[0, 1, 2], [3, 4]]
        n_outputs = 0
        for sentence in sentences:
            for i, centre in enumerate(sentence):
                n_context = (i > 0) + (i < len(sentence) - 1)
                n_outputs += depth[centre] * (n_context if architecture == "skipgram" else 1)
    assert loss_sum == pytest.approx(n_outputs * math.log(2), rel=0.05)
    # Input rows of words that were in a sentence of length >= 2 moved; the lone word 5
    # and the words absent from the stream did not.
    moved = np.any(w_in != old_in, axis=1)
    assert moved[:5].all()
    assert not moved[5:].any()


def test_train_job_without_sentence_end_and_empty_job(kernel):
    w = (np.random.default_rng(0).standard_normal((20, 8)) * 0.1).astype(np.float32)
    trainer = make_trainer(kernel, w, w.copy(), window=1)
    worker = trainer.new_worker(0)
    result = trainer.train_job(worker, np.array([0, 1, 2], dtype=np.int32), 0.025, 0.0)
    assert result[1:] == (4, 3, 3, 0.0)
    state = worker.rng_state
    assert trainer.train_job(worker, np.zeros(0, dtype=np.int32), 0.025, 0.0) == \
        (0.0, 0, 0, 0, 0.0)
    # Only sentence ends: nothing to train.
    assert trainer.train_job(worker, np.array([END, END], dtype=np.int32), 0.025, 0.0) == \
        (0.0, 0, 0, 0, 0.0)
    assert worker.rng_state == state


def test_train_job_subsampling_with_zero_keep_probability(kernel):
    # keep_probability 0 drops every token of that word (a uniform draw in [0, 1) is
    # never below 0), so the counts are deterministic.
    w = (np.random.default_rng(0).standard_normal((20, 8)) * 0.1).astype(np.float32)
    keep = np.ones(20, dtype=np.float32)
    keep[1] = 0.0
    trainer = make_trainer(kernel, w, w.copy(), keep=keep, window=1)
    loss, n_examples, n_words, n_kept, _ = trainer.train_job(
        trainer.new_worker(4), STREAM, 0.025, 0.0)
    assert n_words == 6
    assert n_kept == 5
    # Sentences after subsampling: [0, 2], [3, 4], [5] -> 2 + 2 skip-gram pairs.
    assert n_examples == 4
    keep[:] = 0.0
    trainer = make_trainer(kernel, w, w.copy(), keep=keep, window=1)
    assert trainer.train_job(trainer.new_worker(4), STREAM, 0.025, 0.0) == \
        (0.0, 0, 6, 0, 0.0)


@pytest.mark.parametrize("architecture, expected", [("skipgram", 6 + 6 + 2),
                                                    ("cbow", 4 + 4 + 2)])
def test_train_job_splits_sentences_longer_than_the_buffer(kernel, architecture, expected):
    # max_sentence = 4: a 10-token run without sentence end is trained as 4 + 4 + 2.
    w = (np.random.default_rng(0).standard_normal((20, 8)) * 0.1).astype(np.float32)
    trainer = make_trainer(kernel, w, w.copy(), architecture=architecture, window=1,
                           max_sentence=4)
    tokens = np.array(list(range(10)) + [END], dtype=np.int32)
    loss, n_examples, n_words, n_kept, _ = trainer.train_job(
        trainer.new_worker(0), tokens, 0.025, 0.0)
    assert (n_words, n_kept) == (10, 10)
    assert n_examples == expected


def test_global_gamma_changes_add_up_across_jobs(kernel):
    # The caller keeps the global normaliser: each job starts from the value passed in
    # and reports its own change. Splitting a stream into two jobs and carrying gamma
    # over gives the same result as the reference doing it in one pass per job.
    rng = np.random.default_rng(44)
    n = 15
    w_in, w_out = random_model(rng, n, 6, 0.4)
    setup = build(kernel, w_in, w_out, loss="nce", gamma_mode="global", window=2,
                  negative=3)
    worker = setup.trainer.new_worker(2)
    tokens = random_stream(rng, n, n_sentences=6)
    ref = Reference(w_in, w_out, setup.gamma, setup.tables, setup.settings,
                    table_classify, 0.5, rng_state=worker.rng_state)
    gamma = 0.5
    for half in (tokens[:20], tokens[20:]):
        change = setup.trainer.train_job(worker, half, 0.1, 0.1, gamma)[4]
        ref.delta = 0.0
        ref.train_job(half, 0.1, 0.1)
        assert change == pytest.approx(ref.delta, rel=1e-4, abs=1e-6)
        gamma += change
    assert gamma == pytest.approx(ref.gamma_value, rel=1e-4, abs=1e-6)
