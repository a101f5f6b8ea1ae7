"""The kernel's sigmoid and loss (classify): its tables, their error bound, and scores
outside the table range, against the exact functions in kernel_reference."""

import math

import kernel_reference
import numpy as np
import pytest
from kernel_reference import (
    BIN,
    END,
    LOSS_ERR,
    N_BINS,
    SIGMA_ERR,
    R,
    edge_distance,
    exact_loss,
    exact_sigmoid,
    table_classify,
)
from kernel_trainers import make_trainer


@pytest.fixture
def trainer(kernel):
    w = np.zeros((4, 2), dtype=np.float32)
    return make_trainer(kernel, w, w.copy())


# ---------------------------------------------------------------------------------------
# Module constants and tables
# ---------------------------------------------------------------------------------------

def test_module_constants_and_tables(kernel):
    assert kernel.SENTENCE_END_ID == -1
    assert R > 0
    sig, log_sig = kernel.sigmoid_tables()
    assert sig.dtype == np.float32 and log_sig.dtype == np.float32
    assert np.array_equal(sig, kernel.SIGMOID_TABLE)
    assert np.array_equal(log_sig, kernel.LOG_SIGMOID_TABLE)
    assert np.all(np.diff(sig) > 0) and np.all(np.diff(log_sig) > 0)
    # Symmetric bins: sigma(-x) = 1 - sigma(x) holds between mirrored bins.
    np.testing.assert_allclose(sig + sig[::-1], 1.0, atol=1e-6)
    # The references' table rule reads its tables and constants from the baseline build.
    assert kernel.TABLE_RANGE == R and kernel.SENTENCE_END_ID == END
    assert np.array_equal(kernel.SIGMOID_TABLE, kernel_reference.SIGMOID_TABLE)
    assert np.array_equal(kernel.LOG_SIGMOID_TABLE, kernel_reference.LOG_SIGMOID_TABLE)


# ---------------------------------------------------------------------------------------
# classify: sigmoid and loss, inside and outside the table range
# ---------------------------------------------------------------------------------------

def _grid_inside():
    # About 80 points per bin, plus every bin edge; all strictly inside (-R, R).
    grid = np.linspace(-R, R, 160_001, dtype=np.float64)[1:-1]
    edges = -R + BIN * np.arange(1, N_BINS)
    return np.concatenate([grid, edges]).astype(np.float32)


def test_sigmoid_table_error_bound(trainer):
    # The table stores sigma at bin centres, so a score is at most half a bin
    # (BIN / 2 = 1/256) from the centre it reads; sigma' <= 1/4, so the error is at most
    # 1/256 * 1/4 = 1/1024 = 9.77e-4 <= 1e-3 (plus float32 rounding, ~6e-8).
    xs = _grid_inside()
    probs = np.array([trainer.classify(float(x), 1)[0] for x in xs])
    err = np.abs(probs - exact_sigmoid(xs))
    assert err.max() <= 1e-3, (err.max(), xs[err.argmax()])
    assert err.max() <= SIGMA_ERR + 1e-6
    # The tables are really read: the probability is constant inside each bin.
    b = np.float32(BIN)
    assert trainer.classify(float(0.1 * b), 1)[0] == trainer.classify(float(0.9 * b), 1)[0]


def test_table_loss_inside_range_within_table_tolerance(trainer):
    # d/dx [-log sigma(x)] = sigma(x) - 1, of magnitude <= 1, so reading the bin centre
    # costs at most half a bin: 1/256 = 3.9e-3. Label 0 reads the mirrored bin, same bound.
    xs = _grid_inside()[::7]
    tol = LOSS_ERR + 1e-5
    for label in (0, 1):
        losses = np.array([trainer.classify(float(x), label)[1] for x in xs])
        expected = np.array([exact_loss(x, label) for x in xs])
        err = np.abs(losses - expected)
        assert err.max() <= tol, (label, err.max(), xs[err.argmax()])


def test_table_rule_of_the_reference_matches_the_kernel(trainer):
    # The tight comparisons with the references use table_classify; it must be the rule
    # of every build.
    xs = _grid_inside()[::13]
    xs = xs[np.array([edge_distance(float(x)) > 1e-5 for x in xs])]
    for label in (0, 1):
        for x in xs:
            prob, loss = trainer.classify(float(x), label)
            exp_prob, exp_loss = table_classify(float(x), label)
            assert prob == pytest.approx(exp_prob, abs=1e-7)
            assert loss == pytest.approx(exp_loss, rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("x", [R, R + 1e-3, 8.5, 9.0, 12.5, 20.0, 50.0, 100.0, 1e4, 1e30,
                               float("inf")])
def test_saturation_and_near_exact_loss_outside_range(trainer, x):
    prob_pos, loss_pos_1 = trainer.classify(x, 1)
    prob_neg, loss_neg_1 = trainer.classify(-x, 1)
    _, loss_pos_0 = trainer.classify(x, 0)
    _, loss_neg_0 = trainer.classify(-x, 0)
    assert prob_pos == 1.0
    assert prob_neg == 0.0
    x32 = float(np.float32(x))  # the shim takes a float32 score
    for score, label, loss in [(x32, 1, loss_pos_1), (-x32, 1, loss_neg_1),
                               (x32, 0, loss_pos_0), (-x32, 0, loss_neg_0)]:
        expected = exact_loss(score, label)
        if math.isinf(expected):
            assert loss == expected
        else:
            # Outside the table the kernel takes log1p(e) = e for e = exp(-|z|) <= e^-8:
            # an absolute error below e^2 / 2 < 6e-8, far under the table's own error.
            assert loss == pytest.approx(expected, rel=1e-12, abs=6e-8), (score, label)


def test_loss_outside_range_is_not_capped(trainer):
    # A diverging run must report a huge loss, not one capped at the table's edge.
    assert trainer.classify(-1000.0, 1)[1] == pytest.approx(1000.0, rel=1e-12)
    assert trainer.classify(1000.0, 0)[1] == pytest.approx(1000.0, rel=1e-12)
    assert trainer.classify(1000.0, 1)[1] < 1e-300
    assert trainer.classify(-1000.0, 0)[1] < 1e-300


@pytest.mark.parametrize("label", [0, 1])
def test_nan_score_gives_nan_loss_without_crashing(trainer, label):
    prob, loss = trainer.classify(float("nan"), label)
    assert math.isnan(loss)
    assert 0.0 <= prob <= 1.0
