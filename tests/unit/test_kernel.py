"""Unit tests for the compiled kernel (src/_kernel.pyx) through its test shims."""

import math

import numpy as np
import pytest

from fastw2v import _kernel
from fastw2v.sampling import alias_table, noise_distribution

R = float(_kernel.TABLE_RANGE)
N_BINS = len(_kernel.SIGMOID_TABLE)
BIN = 2.0 * R / N_BINS


def exact_sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


def exact_loss(x, label):
    """-log sigma(x) for label 1, -log sigma(-x) for label 0, in float64."""
    x = np.float64(x)
    return float(np.logaddexp(0.0, -x) if label else np.logaddexp(0.0, x))


def make_trainer(w_in, w_out, counts=None, keep=None, cbow=False, window=5, negative=3,
                 max_sentence=64):
    n = w_in.shape[0]
    counts = np.arange(n, 0, -1) * 10 if counts is None else counts
    threshold, alias = alias_table(noise_distribution(counts, 0.75))
    keep = np.ones(n, dtype=np.float32) if keep is None else keep
    return _kernel.Trainer(w_in, w_out, keep, threshold, alias, cbow, window, negative,
                           max_sentence)


@pytest.fixture(scope="module")
def trainer():
    w = np.zeros((4, 2), dtype=np.float32)
    return make_trainer(w, w.copy())


# ---------------------------------------------------------------------------------------
# Module constants and tables
# ---------------------------------------------------------------------------------------

def test_module_constants_and_tables():
    assert _kernel.SENTENCE_END_ID == -1
    assert R > 0
    sig, log_sig = _kernel.sigmoid_tables()
    assert sig.dtype == np.float32 and log_sig.dtype == np.float32
    assert np.array_equal(sig, _kernel.SIGMOID_TABLE)
    assert np.array_equal(log_sig, _kernel.LOG_SIGMOID_TABLE)
    assert np.all(np.diff(sig) > 0) and np.all(np.diff(log_sig) > 0)
    # Symmetric bins: sigma(-x) = 1 - sigma(x) holds between mirrored bins.
    np.testing.assert_allclose(sig + sig[::-1], 1.0, atol=1e-6)


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
    assert err.max() <= BIN / 2 * 0.25 + 1e-6
    # The tables are really read: the probability is constant inside each bin.
    b = np.float32(BIN)
    assert trainer.classify(float(0.1 * b), 1)[0] == trainer.classify(float(0.9 * b), 1)[0]


def test_table_loss_inside_range_within_table_tolerance(trainer):
    # d/dx [-log sigma(x)] = sigma(x) - 1, of magnitude <= 1, so reading the bin centre
    # costs at most half a bin: 1/256 = 3.9e-3. Label 0 reads the mirrored bin, same bound.
    xs = _grid_inside()[::7]
    tol = BIN / 2 + 1e-5
    for label in (0, 1):
        losses = np.array([trainer.classify(float(x), label)[1] for x in xs])
        expected = np.array([exact_loss(x, label) for x in xs])
        err = np.abs(losses - expected)
        assert err.max() <= tol, (label, err.max(), xs[err.argmax()])


@pytest.mark.parametrize("x", [R, R + 1e-3, 8.5, 9.0, 12.5, 20.0, 50.0, 100.0, 1e4, 1e30,
                               float("inf")])
def test_saturation_and_exact_loss_outside_range(trainer, x):
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
            assert loss == pytest.approx(expected, rel=1e-12, abs=0), (score, label)


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


# ---------------------------------------------------------------------------------------
# One negative-sampling update against a numpy reference
# ---------------------------------------------------------------------------------------

def _table_classify(score, label):
    """The kernel's lookup rule, from its own tables (see classify in _kernel.pyx)."""
    if -R < score < R:
        idx = min(int((score + R) * (N_BINS / (2.0 * R))), N_BINS - 1)
        prob = float(_kernel.SIGMOID_TABLE[idx])
        log_sig = _kernel.LOG_SIGMOID_TABLE
        loss = -float(log_sig[idx] if label else log_sig[N_BINS - 1 - idx])
        return prob, loss
    return (1.0 if score >= R else 0.0), exact_loss(score, label)


def reference_update(w_in, w_out, input_word, target, noise, alpha, sigmoid):
    """word2vec.c's skip-gram negative-sampling step, in float64.

    For target (label 1) then each noise word (label 0; a noise word equal to the target
    is skipped, not redrawn): g = (label - sigma(h.v)) * alpha; grad += g v (v before its
    update); v += g h. Finally h += grad. Returns new w_in, w_out, loss, scores.
    """
    w_in = w_in.astype(np.float64)
    w_out = w_out.astype(np.float64)
    h = w_in[input_word].copy()
    grad = np.zeros_like(h)
    loss = 0.0
    scores = []
    pairs = [(target, 1)] + [(int(n), 0) for n in noise if n != target]
    for word, label in pairs:
        score = float(h @ w_out[word])
        scores.append(score)
        prob, pair_loss = sigmoid(score, label)
        loss += pair_loss
        g = (label - prob) * alpha
        grad += g * w_out[word]
        w_out[word] += g * h
    w_in[input_word] += grad
    return w_in, w_out, loss, scores


def _exact_classify(score, label):
    return float(exact_sigmoid(score)), exact_loss(score, label)


def _near_bin_edge(score, margin=1e-5):
    if not -R < score < R:
        return abs(abs(score) - R) < margin
    pos = (score + R) / BIN
    return abs(pos - round(pos)) * BIN < margin


def _run_update_cases(scale, n_cases=60, n_words=20, dim=8, negative=3, alpha=0.25):
    """Run single updates on fresh random data; yield what each case needs to check."""
    counts = np.array([400, 300, 200] + [20] * (n_words - 3))
    for case in range(n_cases):
        rng = np.random.default_rng(1000 * case + int(scale * 10))
        w_in = (rng.standard_normal((n_words, dim)) * scale).astype(np.float32)
        w_out = (rng.standard_normal((n_words, dim)) * scale).astype(np.float32)
        old_in, old_out = w_in.copy(), w_out.copy()
        input_word = int(rng.integers(n_words))
        # Often a frequent target, so that noise words equal to it occur.
        target = int(rng.integers(3)) if case % 2 else int(rng.integers(n_words))
        trainer = make_trainer(w_in, w_out, counts=counts, negative=negative)
        seed = 77 + case
        noise = trainer.draw_noise(_kernel.Worker(dim, 64, seed), negative)
        worker = _kernel.Worker(dim, 64, seed)
        loss = trainer.negative_sampling_update(worker, input_word, target, alpha)
        # Exactly `negative` draws were taken from the worker's RNG.
        twin = _kernel.Worker(dim, 64, seed)
        trainer.draw_noise(twin, negative)
        assert worker.rng_state == twin.rng_state
        yield dict(old_in=old_in, old_out=old_out, w_in=w_in, w_out=w_out,
                   input_word=input_word, target=target, noise=noise, loss=loss,
                   alpha=alpha)


@pytest.mark.parametrize("scale", [0.3, 1.0, 3.0])
def test_negative_sampling_update_matches_numpy_reference(scale):
    n_checked_tight = 0
    saw_skip = saw_repeat = saw_outside = False
    for c in _run_update_cases(scale):
        args = (c["old_in"], c["old_out"], c["input_word"], c["target"], c["noise"],
                c["alpha"])
        noise = c["noise"].tolist()
        saw_skip |= c["target"] in noise
        saw_repeat |= len(set(noise)) < len(noise)

        # Rows not involved are untouched, bit for bit.
        touched_out = {c["target"], *noise}
        for row in range(c["w_in"].shape[0]):
            if row != c["input_word"]:
                assert np.array_equal(c["w_in"][row], c["old_in"][row])
            if row not in touched_out:
                assert np.array_equal(c["w_out"][row], c["old_out"][row])

        # 1) Exact sigmoid. The kernel's table differs by <= 1/1024 in sigma (and 0 vs
        #    sigma(+-8) = 3.4e-4 outside), so each g differs by <= alpha/1024; each update
        #    component then differs by <= alpha/1024 * |row component|, summed over the
        #    rows involved (plus higher-order terms through repeated rows, covered by the
        #    factor 2). Loss: <= 1/256 per pair.
        exp_in, exp_out, exp_loss, scores = reference_update(*args, _exact_classify)
        saw_outside |= any(abs(s) >= R for s in scores)
        mag = max(np.abs(c["old_in"]).max(), np.abs(c["old_out"]).max()) * 1.5
        tol = 2 * c["alpha"] / 1024 * mag * (len(noise) + 1) + 1e-6
        np.testing.assert_allclose(c["w_in"], exp_in, rtol=0, atol=tol)
        np.testing.assert_allclose(c["w_out"], exp_out, rtol=0, atol=tol)
        assert abs(c["loss"] - exp_loss) <= (len(noise) + 1) / 256 + 1e-6

        # 2) The kernel's own table rule: tight agreement (1e-4 of the update size). Only
        #    where no score lies within 1e-5 of a bin edge, since the kernel's float32 dot
        #    product (~1e-6 off the float64 one here) could otherwise read the next bin.
        if any(_near_bin_edge(s) for s in scores):
            continue
        n_checked_tight += 1
        exp_in, exp_out, exp_loss, _ = reference_update(*args, _table_classify)
        delta_in = exp_in - c["old_in"]
        delta_out = exp_out - c["old_out"]
        size = max(np.abs(delta_in).max(), np.abs(delta_out).max())
        atol = 1e-4 * size + 1e-7 * mag
        np.testing.assert_allclose(c["w_in"] - c["old_in"], delta_in, rtol=0, atol=atol)
        np.testing.assert_allclose(c["w_out"] - c["old_out"], delta_out, rtol=0, atol=atol)
        assert c["loss"] == pytest.approx(exp_loss, rel=1e-5, abs=1e-6)

    assert n_checked_tight >= 40
    # The cases must cover the branches that matter.
    assert saw_skip, "no case drew a noise word equal to the target"
    assert saw_repeat, "no case drew the same noise word twice"
    if scale == 3.0:
        assert saw_outside, "no score outside the table range"


def test_update_with_zero_negative_only_moves_target_pair():
    rng = np.random.default_rng(5)
    w_in = rng.standard_normal((6, 4)).astype(np.float32)
    w_out = rng.standard_normal((6, 4)).astype(np.float32)
    old_in, old_out = w_in.copy(), w_out.copy()
    trainer = make_trainer(w_in, w_out, negative=0)
    worker = _kernel.Worker(4, 64, 1)
    state = worker.rng_state
    loss = trainer.negative_sampling_update(worker, 2, 4, 0.1)
    assert worker.rng_state == state  # no noise drawn
    exp_in, exp_out, exp_loss, _ = reference_update(old_in, old_out, 2, 4, [], 0.1,
                                                    _exact_classify)
    np.testing.assert_allclose(w_in, exp_in, atol=0.1 / 1024 * 4 + 1e-6)
    np.testing.assert_allclose(w_out, exp_out, atol=0.1 / 1024 * 4 + 1e-6)
    assert abs(loss - exp_loss) < 1 / 256 + 1e-6


def test_negative_sampling_update_rejects_bad_ids():
    w = np.zeros((5, 3), dtype=np.float32)
    trainer = make_trainer(w, w.copy())
    worker = _kernel.Worker(3, 64, 0)
    for input_word, target in [(5, 0), (0, 5), (-1, 0), (0, -1)]:
        with pytest.raises(ValueError):
            trainer.negative_sampling_update(worker, input_word, target, 0.1)


# ---------------------------------------------------------------------------------------
# Trainer validation
# ---------------------------------------------------------------------------------------

def _tables(n):
    threshold, alias = alias_table(np.full(n, 1.0 / n))
    return np.ones(n, dtype=np.float32), threshold, alias


def test_trainer_accepts_matching_shapes():
    keep, threshold, alias = _tables(20)
    w = np.zeros((20, 8), dtype=np.float32)
    _kernel.Trainer(w, w.copy(), keep, threshold, alias, False, 5, 5, 100)


@pytest.mark.parametrize("case", ["out_rows", "out_dim", "keep", "threshold", "alias",
                                  "alias_values", "empty", "window", "negative",
                                  "max_sentence"])
def test_trainer_rejects_mismatched_shapes_and_bad_parameters(case):
    n, dim = 20, 8
    w_in = np.zeros((n, dim), dtype=np.float32)
    w_out = np.zeros((n, dim), dtype=np.float32)
    keep, threshold, alias = _tables(n)
    window, negative, max_sentence = 5, 5, 100
    if case == "out_rows":
        w_out = np.zeros((n - 1, dim), dtype=np.float32)
    elif case == "out_dim":
        w_out = np.zeros((n, dim + 1), dtype=np.float32)
    elif case == "keep":
        keep = np.ones(n + 1, dtype=np.float32)
    elif case == "threshold":
        threshold = threshold[:-1].copy()
    elif case == "alias":
        alias = np.zeros(n - 1, dtype=np.int32)
    elif case == "alias_values":
        alias = alias.copy()
        alias[3] = n
    elif case == "empty":
        w_in = np.zeros((0, dim), dtype=np.float32)
        w_out = w_in.copy()
        keep, threshold, alias = (np.zeros(0, np.float32), np.zeros(0, np.uint32),
                                  np.zeros(0, np.int32))
    elif case == "window":
        window = 0
    elif case == "negative":
        negative = -1
    elif case == "max_sentence":
        max_sentence = 0
    with pytest.raises(ValueError):
        _kernel.Trainer(w_in, w_out, keep, threshold, alias, False, window, negative,
                        max_sentence)


# ---------------------------------------------------------------------------------------
# train_job
# ---------------------------------------------------------------------------------------

END = _kernel.SENTENCE_END_ID


@pytest.mark.parametrize("bad", [20, 21, 2**31 - 1, -2, -(2**31)])
def test_train_job_rejects_out_of_range_ids_before_touching_the_model(bad):
    rng = np.random.default_rng(0)
    w_in = rng.standard_normal((20, 8)).astype(np.float32)
    w_out = rng.standard_normal((20, 8)).astype(np.float32)
    old_in, old_out = w_in.copy(), w_out.copy()
    trainer = make_trainer(w_in, w_out)
    tokens = np.array([0, 1, 2, 3, bad, 4, END], dtype=np.int32)
    with pytest.raises(ValueError, match="out of range"):
        trainer.train_job(_kernel.Worker(8, 64, 0), tokens, 0.025, 0.0)
    assert np.array_equal(w_in, old_in) and np.array_equal(w_out, old_out)


def test_train_job_rejects_mismatched_worker():
    w = np.zeros((20, 8), dtype=np.float32)
    trainer = make_trainer(w, w.copy(), max_sentence=64)
    tokens = np.array([0, 1, END], dtype=np.int32)
    with pytest.raises(ValueError):
        trainer.train_job(_kernel.Worker(7, 64, 0), tokens, 0.025, 0.0)
    with pytest.raises(ValueError):
        trainer.train_job(_kernel.Worker(8, 32, 0), tokens, 0.025, 0.0)


# Three sentences of 3, 2 and 1 tokens (6 words); word 5 is alone in its sentence.
STREAM = np.array([0, 1, 2, END, 3, 4, END, 5, END], dtype=np.int32)


@pytest.mark.parametrize("cbow, expected_examples", [(False, 4 + 2), (True, 3 + 2)])
def test_tiny_train_job_counts(cbow, expected_examples):
    rng = np.random.default_rng(3)
    w_in = (rng.standard_normal((20, 8)) * 0.1).astype(np.float32)
    w_out = (rng.standard_normal((20, 8)) * 0.1).astype(np.float32)
    old_in = w_in.copy()
    trainer = make_trainer(w_in, w_out, cbow=cbow, window=1, negative=3)
    loss, n_examples, n_words, n_kept = trainer.train_job(
        _kernel.Worker(8, 64, 11), STREAM, 0.025, 0.02)
    assert n_words == int(np.sum(STREAM != END)) == 6
    assert n_kept == n_words  # keep_probability is all ones
    # window=1 makes every reach 1: skip-gram has 2 (L - 1) pairs per sentence of
    # length L >= 2, CBOW one example per centre word; one-word sentences train nothing.
    assert n_examples == expected_examples
    assert math.isfinite(loss) and loss > 0
    # With vectors ~0.1 every score is near 0, so each (word, label) pair costs about
    # log 2; an example has the target pair plus up to 3 noise pairs (fewer when a noise
    # word equals the target and is skipped).
    assert 0.9 * n_examples * math.log(2) <= loss <= 1.1 * 4 * n_examples * math.log(2)
    # Input rows of words that were in a sentence of length >= 2 moved; the lone word 5
    # and the words absent from the stream did not.
    moved = np.any(w_in != old_in, axis=1)
    assert moved[:5].all()
    assert not moved[5:].any()


def test_train_job_without_sentence_end_and_empty_job():
    w = (np.random.default_rng(0).standard_normal((20, 8)) * 0.1).astype(np.float32)
    trainer = make_trainer(w, w.copy(), window=1)
    worker = _kernel.Worker(8, 64, 0)
    result = trainer.train_job(worker, np.array([0, 1, 2], dtype=np.int32), 0.025, 0.0)
    assert result[1:] == (4, 3, 3)
    assert trainer.train_job(worker, np.zeros(0, dtype=np.int32), 0.025, 0.0) == (0.0, 0, 0, 0)
    # Only sentence ends: nothing to train.
    assert trainer.train_job(worker, np.array([END, END], dtype=np.int32), 0.025, 0.0) == \
        (0.0, 0, 0, 0)


def test_train_job_subsampling_with_zero_keep_probability():
    # keep_probability 0 drops every token of that word (a uniform draw in [0, 1) is
    # never below 0), so the counts are deterministic.
    w = (np.random.default_rng(0).standard_normal((20, 8)) * 0.1).astype(np.float32)
    keep = np.ones(20, dtype=np.float32)
    keep[1] = 0.0
    trainer = make_trainer(w, w.copy(), keep=keep, window=1)
    loss, n_examples, n_words, n_kept = trainer.train_job(
        _kernel.Worker(8, 64, 4), STREAM, 0.025, 0.0)
    assert n_words == 6
    assert n_kept == 5
    # Sentences after subsampling: [0, 2], [3, 4], [5] -> 2 + 2 skip-gram pairs.
    assert n_examples == 4
    keep[:] = 0.0
    assert trainer.train_job(_kernel.Worker(8, 64, 4), STREAM, 0.025, 0.0) == (0.0, 0, 6, 0)


def test_train_job_splits_sentences_longer_than_the_buffer():
    # max_sentence = 4: a 10-token run without sentence end is trained as 4 + 4 + 2.
    w = (np.random.default_rng(0).standard_normal((20, 8)) * 0.1).astype(np.float32)
    trainer = make_trainer(w, w.copy(), window=1, max_sentence=4)
    tokens = np.array(list(range(10)) + [END], dtype=np.int32)
    loss, n_examples, n_words, n_kept = trainer.train_job(
        _kernel.Worker(8, 4, 0), tokens, 0.025, 0.0)
    assert (n_words, n_kept) == (10, 10)
    assert n_examples == 6 + 6 + 2
