"""Hierarchical softmax: the tree's leaf probabilities form a distribution, and the
kernel's loss is -log of the input's probability of the word."""

import math

import numpy as np
import pytest
from kernel_reference import END, LOSS_ERR, exact_sigmoid
from kernel_trainers import build, make_tables, make_trainer, n_out_rows, random_model


def _leaf_probabilities(tables, u, w_out):
    """p(c | u) for every leaf c: the product over its path of sigma(+-<u, v_n>)."""
    n_words = len(tables.path_offsets) - 1
    probs = np.empty(n_words)
    for word in range(n_words):
        lo, hi = tables.path_offsets[word], tables.path_offsets[word + 1]
        z = w_out[tables.path_nodes[lo:hi]] @ u
        # Label 1 - code: a 0 branch has probability sigma(z), a 1 branch sigma(-z).
        sign = 1.0 - 2.0 * tables.path_codes[lo:hi]
        probs[word] = np.prod(exact_sigmoid(sign * z))
    return probs


@pytest.mark.parametrize("n_words", [1, 2, 3, 17, 200])
def test_hs_leaf_probabilities_sum_to_one(n_words):
    rng = np.random.default_rng(n_words)
    counts = rng.integers(1, 1000, size=n_words)
    tables = make_tables(counts, "hs")
    for scale in (0.1, 1.0, 3.0):
        w_in = rng.standard_normal((n_words, 16)) * scale
        w_out = rng.standard_normal((n_out_rows(n_words, "hs"), 16)) * scale
        for word in range(min(n_words, 5)):
            probs = _leaf_probabilities(tables, w_in[word], w_out)
            assert np.all(probs >= 0)
            assert abs(probs.sum() - 1.0) <= 1e-9


def test_hs_kernel_loss_is_minus_log_leaf_probability(kernel):
    # With alpha = 0 nothing moves and train_pair's loss is -log p(word | input) as the
    # kernel computes it; exp(-loss) over all words must sum to 1 up to the table error
    # (LOSS_ERR per node on the path, at most max_depth nodes).
    rng = np.random.default_rng(3)
    n, dim = 40, 8
    counts = rng.integers(1, 500, size=n)
    w_in, w_out = random_model(rng, n, dim, 0.4, "hs")
    old_in, old_out = w_in.copy(), w_out.copy()
    setup = build(kernel, w_in, w_out, counts=counts, loss="hs")
    depth = int(np.diff(setup.tables.path_offsets).max())
    worker = setup.trainer.new_worker(0)
    for input_word in (0, 7, 39):
        losses = np.array([setup.trainer.train_pair(worker, input_word, word, 0.0)[0]
                           for word in range(n)])
        probs = _leaf_probabilities(setup.tables, old_in[input_word].astype(np.float64),
                                    old_out.astype(np.float64))
        np.testing.assert_allclose(losses, -np.log(probs), rtol=0,
                                   atol=depth * LOSS_ERR + 1e-6)
        assert abs(np.exp(-losses).sum() - 1.0) <= math.expm1(depth * LOSS_ERR) + 1e-6
    np.testing.assert_array_equal(w_in, old_in)
    np.testing.assert_array_equal(w_out, old_out)


def test_hs_single_word_vocabulary_trains_nothing(kernel):
    w_in = np.ones((1, 3), dtype=np.float32)
    w_out = np.ones((1, 3), dtype=np.float32)
    trainer = make_trainer(kernel, w_in, w_out, counts=[5], loss="hs", window=2)
    assert trainer.train_pair(trainer.new_worker(0), 0, 0, 0.1) == (0.0, [], [], 0.0)
    result = trainer.train_job(trainer.new_worker(0), np.array([0, 0, 0, END], np.int32),
                               0.1, 0.1)
    assert result[0] == 0.0 and result[2:4] == (3, 3)
    assert np.all(w_in == 1) and np.all(w_out == 1)
