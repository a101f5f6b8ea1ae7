"""The exact softmax (--loss softmax) and NCE's context bias (--nce-context-bias) against
the float64 reference, for every build: single updates, whole jobs, and what each
leaves alone."""

import numpy as np
import pytest
from kernel_reference import Reference, table_classify
from kernel_trainers import build, check_jobs_against_reference, make_tables, random_model

# ---------------------------------------------------------------------------------------
# The exact softmax
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [0.3, 1.0, 3.0])
def test_softmax_single_update_matches_reference(kernel, scale):
    n_words, dim, alpha = 30, 8, 0.25
    counts = np.arange(n_words, 0, -1) * 10
    tables = make_tables(counts, "softmax")
    for case in range(20):
        rng = np.random.default_rng([case, int(scale * 10)])
        w_in, w_out = random_model(rng, n_words, dim, scale, "softmax")
        old_in, old_out = w_in.copy(), w_out.copy()
        input_word, word = (int(x) for x in rng.integers(n_words, size=2))
        setup = build(kernel, w_in, w_out, tables=tables, loss="softmax")
        worker = setup.trainer.new_worker(5)
        state = worker.rng_state
        loss, targets, labels, change = setup.trainer.train_pair(worker, input_word, word,
                                                                 alpha)
        assert (targets, labels, change) == ([word], [1], 0.0)
        assert worker.rng_state == state  # the softmax draws nothing
        ref = Reference(old_in, old_out, np.zeros(1), tables, setup.settings,
                        table_classify)
        expected_loss = ref.pair(input_word, targets, labels, alpha)
        assert loss == pytest.approx(expected_loss, rel=1e-5, abs=1e-6)
        # Every output row moves (each word's probability is positive), the input row
        # of input_word alone among the inputs.
        size = max(np.abs(ref.w_in - old_in).max(), np.abs(ref.w_out - old_out).max())
        atol = 1e-4 * size + 1e-6 * scale
        np.testing.assert_allclose(w_in - old_in, ref.w_in - old_in, rtol=0, atol=atol)
        np.testing.assert_allclose(w_out - old_out, ref.w_out - old_out, rtol=0, atol=atol)
        others = np.arange(n_words) != input_word
        assert np.array_equal(w_in[others], old_in[others])


@pytest.mark.parametrize("shared", [False, True])
def test_softmax_train_job_matches_reference(kernel, shared):
    # The softmax ignores --shared-negatives (there is no noise to share): both give
    # the same pair-by-pair updates.
    counts = np.array([90, 70, 50, 40, 30, 20, 15, 10, 8, 5, 3, 1])
    n_checked, ref = check_jobs_against_reference(kernel, "skipgram", "softmax", "global",
                                                  shared, counts, dim=5, window=3,
                                                  negative=2)
    assert n_checked == 8
    assert len(ref.scores) > 10


def test_softmax_needs_skipgram(kernel):
    rng = np.random.default_rng(0)
    w_in, w_out = random_model(rng, 10, 4, 0.1)
    with pytest.raises(ValueError, match="skip-gram only"):
        build(kernel, w_in, w_out, loss="softmax", architecture="cbow")


# ---------------------------------------------------------------------------------------
# NCE's context bias
# ---------------------------------------------------------------------------------------

# The bias adds one float32 rounding to the kernel's logit (score + b_c, then the
# normaliser and the noise term), so a float32 score strays a little further from the
# float64 one than without it: a seed is compared only when no score lies within this
# of a sigmoid-table bin edge, where the two could read neighbouring bins.
BIAS_EDGE_MARGIN = 8e-6


@pytest.mark.parametrize("gamma_mode", ["global", "per-word", "fixed"])
@pytest.mark.parametrize("shared", [False, True])
def test_nce_context_bias_train_job_matches_reference(kernel, gamma_mode, shared):
    counts = np.array([90, 70, 50, 40, 30, 20, 15, 10, 8, 5, 3, 1])
    n_checked, _ = check_jobs_against_reference(kernel, "skipgram", "nce", gamma_mode,
                                                shared, counts, dim=5, window=3,
                                                negative=2, context_bias=True,
                                                edge_margin=BIAS_EDGE_MARGIN)
    assert n_checked >= 4


def test_nce_context_bias_wide_blocks_match_reference(kernel):
    # Blocks with distinct targets take train_block_all_pairs; the bias must follow
    # the same example order there as on the sequential path.
    counts = np.arange(400, 100, -1)
    n_checked, _ = check_jobs_against_reference(
        kernel, "skipgram", "nce", "global", True, counts, dim=13, window=5, negative=7,
        n_seeds=24, stream_words=60, max_sentence=12, n_sentences=8, context_bias=True,
        edge_margin=BIAS_EDGE_MARGIN)
    assert n_checked >= 3


def test_cbow_nce_context_bias_matches_reference(kernel):
    counts = np.array([90, 70, 50, 40, 30, 20, 15, 10, 8, 5, 3, 1])
    n_checked, _ = check_jobs_against_reference(kernel, "cbow", "nce", "global", True,
                                                counts, dim=5, window=3, negative=2,
                                                context_bias=True,
                                                edge_margin=BIAS_EDGE_MARGIN)
    assert n_checked >= 4


def test_context_bias_moves_only_the_trained_targets(kernel):
    rng = np.random.default_rng(4)
    n_words = 40
    w_in, w_out = random_model(rng, n_words, 6, 0.5)
    bias = np.zeros(n_words, dtype=np.float32)
    setup = build(kernel, w_in, w_out, loss="nce", negative=3, context_bias=bias)
    _, targets, _, _ = setup.trainer.train_pair(setup.trainer.new_worker(2), 7, 3, 0.1)
    moved = set(np.flatnonzero(bias).tolist())
    assert moved and moved <= set(targets)


def test_context_bias_needs_an_entry_per_word(kernel):
    rng = np.random.default_rng(5)
    w_in, w_out = random_model(rng, 10, 4, 0.1)
    with pytest.raises(ValueError, match="context bias"):
        build(kernel, w_in, w_out, loss="nce", context_bias=np.zeros(9, dtype=np.float32))


def test_other_losses_ignore_the_context_bias(kernel):
    # Only NCE reads or writes it: an NS trainer given one leaves it as it was.
    rng = np.random.default_rng(6)
    w_in, w_out = random_model(rng, 10, 4, 0.5)
    bias = np.ones(10, dtype=np.float32)
    setup = build(kernel, w_in, w_out, loss="ns", context_bias=bias)
    setup.trainer.train_pair(setup.trainer.new_worker(1), 2, 3, 0.1)
    assert np.array_equal(bias, np.ones(10, dtype=np.float32))
