"""Shared negatives: one block per centre word with all its contexts as inputs
(skip-gram), and CBOW centre words with disjoint windows sharing a noise draw."""

import math

import numpy as np
import pytest
from kernel_reference import (
    END,
    LOSS_ERR,
    SIGMA_ERR,
    Reference,
    edge_distance,
    exact_classify,
    table_classify,
)
from kernel_trainers import (
    GAMMA_SENTINEL,
    build,
    check_jobs_against_reference,
    make_trainer,
    random_model,
)

# ---------------------------------------------------------------------------------------
# Skip-gram: one block per centre word, all its contexts as inputs
# ---------------------------------------------------------------------------------------

def shared_block_reference(w_in, w_out, sentences, noise, alpha, classify):
    """Skip-gram with shared targets and window 1, written out for this test.

    `noise[s][i]` lists the noise words drawn for centre i of sentence s. For each
    centre: targets are the centre (label 1) then its noise words (label 0); for each
    target in order, every context input is scored against the current output row, the
    input gradients accumulate, then that output row moves by sum_j g_j h_j; the context
    rows take their gradients after the last target.
    """
    w_in = w_in.astype(np.float64)
    w_out = w_out.astype(np.float64)
    loss, scores = 0.0, []
    for sentence, sentence_noise in zip(sentences, noise):
        for i, centre in enumerate(sentence):
            contexts = [sentence[j] for j in (i - 1, i + 1) if 0 <= j < len(sentence)]
            inputs = [w_in[c].copy() for c in contexts]
            grads = [np.zeros_like(h) for h in inputs]
            for target, label in [(centre, 1)] + [(int(x), 0) for x in sentence_noise[i]]:
                v = w_out[target].copy()
                step = np.zeros_like(v)
                for j, h in enumerate(inputs):
                    z = float(h @ v)
                    scores.append(z)
                    prob, example_loss = classify(z, label)
                    loss += example_loss
                    g = (label - prob) * alpha
                    grads[j] += g * v
                    step += g * h
                w_out[target] = v + step
            for c, grad in zip(contexts, grads):
                w_in[c] += grad
    return w_in, w_out, loss, scores


# Word 4 is the centre of [4, 1, 4] twice: context rows repeat inside one block.
SHARED_SENTENCES = [[3, 7, 5], [4, 1, 4]]
SHARED_STREAM = np.array([3, 7, 5, END, 4, 1, 4, END], dtype=np.int32)


@pytest.mark.parametrize("negative", [0, 3])
def test_shared_negatives_block_matches_numpy_reference(kernel, negative):
    rng = np.random.default_rng(31)
    n, dim, alpha = 9, 6, 0.3
    w_in, w_out = random_model(rng, n, dim, 0.8)
    old_in, old_out = w_in.copy(), w_out.copy()
    # window = 1: the shrunk window is always 1; keep_probability is all ones, so
    # subsampling draws nothing.
    setup = build(kernel, w_in, w_out, shared=True, window=1, negative=negative)
    seed = 5
    worker = setup.trainer.new_worker(seed)
    twin = setup.trainer.new_worker(seed)
    loss, n_examples, n_words, n_kept, change = setup.trainer.train_job(
        worker, SHARED_STREAM, alpha, alpha)
    assert (n_examples, n_words, n_kept, change) == (4 + 4, 6, 6, 0.0)
    # The kernel's draws, per sentence: position 0's `negative` noise words, then per
    # position one draw for the window (rng_below and draw_noise each take one 64-bit
    # value, so a twin mirrors it with a discarded draw) followed by the next position's
    # noise words (they are drawn one position early; see targets_for_position).
    noise = []
    for sentence in SHARED_SENTENCES:
        noise.append([setup.trainer.draw_noise(twin, negative).tolist()])
        for i in range(len(sentence)):
            setup.trainer.draw_noise(twin, 1)
            if i + 1 < len(sentence):
                noise[-1].append(setup.trainer.draw_noise(twin, negative).tolist())
    assert worker.rng_state == twin.rng_state

    mag = max(np.abs(old_in).max(), np.abs(old_out).max()) * 2
    # Exact sigmoid: per example g is off by <= alpha * SIGMA_ERR; a row collects at most
    # all the job's (example, target) updates (here <= 8 * 4); factor 2 for higher order.
    n_updates = n_examples * (negative + 1)
    exp_in, exp_out, exp_loss, scores = shared_block_reference(
        old_in, old_out, SHARED_SENTENCES, noise, alpha, exact_classify)
    tol = 2 * alpha * SIGMA_ERR * mag * n_updates + 1e-6
    np.testing.assert_allclose(w_in, exp_in, rtol=0, atol=tol)
    np.testing.assert_allclose(w_out, exp_out, rtol=0, atol=tol)
    assert abs(loss - exp_loss) <= n_updates * LOSS_ERR
    # The kernel's table rule, tightly (this data keeps every score away from bin edges).
    assert min(edge_distance(s) for s in scores) > 1e-5
    exp_in, exp_out, exp_loss, _ = shared_block_reference(
        old_in, old_out, SHARED_SENTENCES, noise, alpha, table_classify)
    np.testing.assert_allclose(w_in, exp_in, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w_out, exp_out, rtol=1e-5, atol=1e-6)
    assert loss == pytest.approx(exp_loss, rel=1e-5)


def test_shared_negatives_differ_from_per_pair_updates(kernel):
    # Same data and seed, negative = 0 (no draws besides the windows): per-pair training
    # scores the second context of a centre against an output row the first has already
    # moved; the shared block scores both against the same row.
    rng = np.random.default_rng(32)
    w_in, w_out = random_model(rng, 9, 6, 0.8)
    results = {}
    for shared in (False, True):
        a_in, a_out = w_in.copy(), w_out.copy()
        trainer = make_trainer(kernel, a_in, a_out, shared=shared, window=1, negative=0)
        out = trainer.train_job(trainer.new_worker(5), SHARED_STREAM, 0.3, 0.3)
        results[shared] = (out, a_in, a_out)
    assert results[False][0][1:] == results[True][0][1:]  # same counts
    assert not np.array_equal(results[False][2], results[True][2])


def test_shared_negatives_count_one_example_per_pair(kernel):
    # window = 1: sentence of length L has 2 (L - 1) (centre, context) pairs.
    rng = np.random.default_rng(33)
    n = 40
    w_in, w_out = random_model(rng, n, 8, 0.1)
    lengths = rng.integers(1, 15, size=30)
    tokens = []
    for length in lengths:
        tokens += rng.integers(n, size=length).tolist() + [END]
    tokens = np.array(tokens, dtype=np.int32)
    trainer = make_trainer(kernel, w_in, w_out, shared=True, window=1, negative=5)
    loss, n_examples, n_words, n_kept, _ = trainer.train_job(
        trainer.new_worker(1), tokens, 0.025, 0.025)
    assert n_words == n_kept == lengths.sum()
    assert n_examples == sum(2 * (L - 1) for L in lengths if L >= 2)
    # Vectors ~0.1: every example costs about log 2, (1 + 5) examples per pair.
    assert loss == pytest.approx(n_examples * 6 * math.log(2), rel=0.05)


# ---------------------------------------------------------------------------------------
# CBOW: centre words with disjoint windows share a draw of noise words
# ---------------------------------------------------------------------------------------

def test_cbow_shared_noise_matches_reference_over_long_sentences(kernel):
    # window 1: centre words 3 positions apart share a draw of noise words, so sentences
    # of up to 12 words reuse draws often; the kernel must follow the reference exactly,
    # RNG consumption included (a reused draw takes nothing from the generator).
    counts = np.array([90, 70, 50, 40, 30, 20, 15, 10, 8, 5, 3, 1] * 3)
    n_checked, ref = check_jobs_against_reference(
        kernel, "cbow", "ns", "global", True, counts, dim=6, window=1, negative=3,
        n_seeds=10, max_sentence=12, n_sentences=8)
    assert n_checked >= 4
    assert ref.n_reused_draws >= 5


def test_cbow_shared_noise_takes_fewer_draws_than_a_draw_per_position(kernel):
    # One 12-word sentence, window 1, 3 noise words: per position 12 draws of 3 words;
    # shared, positions 3-5 and 9-11 reuse the draws of 0-2 and 6-8: 6 draws of 3.
    tokens = np.array(list(range(12)) + [END], dtype=np.int32)
    states = {}
    for shared in (False, True):
        w = (np.random.default_rng(0).standard_normal((20, 8)) * 0.1).astype(np.float32)
        setup = build(kernel, w, w.copy(), architecture="cbow", shared=shared, window=1,
                      negative=3, max_sentence=12)
        worker = setup.trainer.new_worker(5)
        ref = Reference(w, w.copy(), [GAMMA_SENTINEL], setup.tables, setup.settings,
                        table_classify, rng_state=worker.rng_state)
        setup.trainer.train_job(worker, tokens, 0.0, 0.0)
        ref.train_job(tokens, 0.0, 0.0)
        assert worker.rng_state == ref.rng.state
        noise = [tuple(t for t, label in targets if label == 0)
                 for _, _, targets in ref.block_log]
        states[shared] = noise
    per_position, shared_draws = states[False], states[True]
    assert len(set(per_position)) == 12  # 12 independent draws (distinct here)
    assert shared_draws[3:6] == shared_draws[0:3] and shared_draws[9:12] == shared_draws[6:9]
    assert len(set(shared_draws)) == 6
