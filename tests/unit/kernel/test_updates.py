"""One update (train_pair) against the float64 reference for every loss, how NCE forms its
logit, and NCE reducing to negative sampling exactly."""

import numpy as np
import pytest
from kernel_reference import (
    LOSS_ERR,
    SIGMA_ERR,
    R,
    Reference,
    edge_distance,
    exact_classify,
    exact_loss,
    table_classify,
)
from kernel_trainers import (
    GAMMA_SENTINEL,
    build,
    default_counts,
    make_tables,
    random_model,
    random_stream,
)

# ---------------------------------------------------------------------------------------
# One update (train_pair) against the numpy reference, for every loss
# ---------------------------------------------------------------------------------------

PAIR_VARIANTS = {
    "ns": dict(loss="ns"),
    "nce-global": dict(loss="nce", gamma_mode="global"),
    "nce-per-word": dict(loss="nce", gamma_mode="per-word"),
    "nce-fixed": dict(loss="nce", gamma_mode="fixed"),
    "nce-uncorrected": dict(loss="nce", gamma_mode="global", noise_correction=False),
    "hs": dict(loss="hs"),
}


def _run_pair_cases(kernel, variant, scale, n_cases=60, n_words=20, dim=8, negative=3,
                    alpha=0.25):
    """Run single updates on fresh random data; yield what each case needs to check."""
    options = PAIR_VARIANTS[variant]
    loss = options["loss"]
    per_word = options.get("gamma_mode") == "per-word"
    counts = np.array([400, 300, 200] + [20] * (n_words - 3))
    tables = make_tables(counts, loss, negative)
    for case in range(n_cases):
        rng = np.random.default_rng([case, int(scale * 10), len(variant)])
        w_in, w_out = random_model(rng, n_words, dim, scale, loss)
        if per_word:
            gamma = (rng.standard_normal(n_words) * 0.5).astype(np.float32)
        else:
            gamma = np.full(1, GAMMA_SENTINEL, dtype=np.float32)
        gamma_arg = float(np.float32(rng.standard_normal() * 0.5))
        old_in, old_out, old_gamma = w_in.copy(), w_out.copy(), gamma.copy()
        input_word = int(rng.integers(n_words))
        # Often a frequent word, so that noise words equal to it occur.
        word = int(rng.integers(3)) if case % 2 else int(rng.integers(n_words))
        setup = build(kernel, w_in, w_out, gamma, tables=tables, negative=negative,
                      **options)
        seed = 77 + case
        worker = setup.trainer.new_worker(seed)
        twin = setup.trainer.new_worker(seed)
        result = setup.trainer.train_pair(worker, input_word, word, alpha, gamma_arg)
        kernel_loss, targets, labels, gamma_change = result
        yield dict(setup=setup, old_in=old_in, old_out=old_out, old_gamma=old_gamma,
                   w_in=w_in, w_out=w_out, gamma=gamma, gamma_arg=gamma_arg,
                   input_word=input_word, word=word, targets=targets, labels=labels,
                   loss=kernel_loss, gamma_change=gamma_change, worker=worker, twin=twin,
                   alpha=alpha, negative=negative)


@pytest.mark.parametrize("scale", [0.3, 1.0, 3.0])
@pytest.mark.parametrize("variant", list(PAIR_VARIANTS))
def test_single_update_matches_numpy_reference(kernel, variant, scale):
    options = PAIR_VARIANTS[variant]
    loss_name = options["loss"]
    gamma_mode = options.get("gamma_mode", "global")
    nce = loss_name == "nce"
    n_checked_tight = 0
    saw_duplicate = saw_repeat = saw_outside = saw_long_path = saw_gamma_move = False
    for c in _run_pair_cases(kernel, variant, scale):
        setup, targets, labels = c["setup"], c["targets"], c["labels"]
        tables, settings = setup.tables, setup.settings
        trainer, worker, twin = setup.trainer, c["worker"], c["twin"]
        word, input_word, alpha = c["word"], c["input_word"], c["alpha"]

        # Which outputs were trained, with which labels, and what the RNG gave.
        if loss_name == "hs":
            lo, hi = tables.path_offsets[word], tables.path_offsets[word + 1]
            assert targets == tables.path_nodes[lo:hi].tolist()
            assert labels == (1 - tables.path_codes[lo:hi].astype(int)).tolist()
            assert worker.rng_state == twin.rng_state  # HS draws nothing
            saw_long_path |= len(targets) >= 3
        else:
            # The real word then exactly `negative` noise words, in the order drawn;
            # a noise word equal to the real one stays, as a noise example.
            k = c["negative"]
            assert targets[0] == word and len(targets) == k + 1
            assert labels == [1] + [0] * k
            assert targets[1:] == trainer.draw_noise(twin, k).tolist()
            assert worker.rng_state == twin.rng_state
            noise = targets[1:]
            saw_duplicate |= word in noise
            saw_repeat |= len(set(noise)) < len(noise)

        # Rows not involved are untouched, bit for bit.
        for row in range(c["w_in"].shape[0]):
            if row != input_word:
                assert np.array_equal(c["w_in"][row], c["old_in"][row])
        for row in range(c["w_out"].shape[0]):
            if row not in targets:
                assert np.array_equal(c["w_out"][row], c["old_out"][row])
        # The gamma array is written only by per-word NCE, and only at the input word.
        if nce and gamma_mode == "per-word":
            others = np.arange(len(c["gamma"])) != input_word
            assert np.array_equal(c["gamma"][others], c["old_gamma"][others])
        else:
            assert np.array_equal(c["gamma"], c["old_gamma"])
        # Only the global normaliser reports a change.
        if not (nce and gamma_mode == "global"):
            assert c["gamma_change"] == 0.0

        n_pairs = len(targets)
        args = (c["old_in"], c["old_out"], c["old_gamma"], tables, settings)

        # 1) Exact sigmoid. Each g differs from the kernel's by <= alpha * SIGMA_ERR, so
        #    each update component differs by <= alpha * SIGMA_ERR * |row component|,
        #    summed over the examples (plus higher-order terms through repeated rows and
        #    through the normaliser, covered by the factor 2). Loss: <= LOSS_ERR per
        #    example. NCE's normaliser moves by -sum g: <= alpha * SIGMA_ERR per example.
        ref = Reference(*args, exact_classify, c["gamma_arg"])
        exp_loss = ref.pair(input_word, targets, labels, alpha)
        saw_outside |= any(abs(s) >= R for s in ref.scores)
        mag = max(np.abs(c["old_in"]).max(), np.abs(c["old_out"]).max()) * 1.5
        tol = 2 * alpha * SIGMA_ERR * mag * n_pairs + 1e-6
        np.testing.assert_allclose(c["w_in"], ref.w_in, rtol=0, atol=tol)
        np.testing.assert_allclose(c["w_out"], ref.w_out, rtol=0, atol=tol)
        assert abs(c["loss"] - exp_loss) <= n_pairs * LOSS_ERR + 1e-6
        gamma_tol = 2 * alpha * SIGMA_ERR * n_pairs + 1e-6
        if nce and gamma_mode == "global":
            assert abs(c["gamma_change"] - ref.delta) <= gamma_tol
        if nce and gamma_mode == "per-word":
            np.testing.assert_allclose(c["gamma"], ref.gamma, rtol=0, atol=gamma_tol)

        # 2) The kernel's own table rule: tight agreement (1e-4 of the update size). Only
        #    where no score lies within 1e-5 of a bin edge, since the kernel's float32
        #    score (~1e-6 off the float64 one here) could otherwise read the next bin.
        if min(edge_distance(s) for s in ref.scores) < 1e-5:
            continue
        n_checked_tight += 1
        ref = Reference(*args, table_classify, c["gamma_arg"])
        exp_loss = ref.pair(input_word, targets, labels, alpha)
        delta_in = ref.w_in - c["old_in"]
        delta_out = ref.w_out - c["old_out"]
        size = max(np.abs(delta_in).max(), np.abs(delta_out).max())
        atol = 1e-4 * size + 1e-7 * mag
        np.testing.assert_allclose(c["w_in"] - c["old_in"], delta_in, rtol=0, atol=atol)
        np.testing.assert_allclose(c["w_out"] - c["old_out"], delta_out, rtol=0, atol=atol)
        assert c["loss"] == pytest.approx(exp_loss, rel=1e-5, abs=1e-6)
        if nce and gamma_mode == "global":
            # gamma_change = -sum over the targets of g = (label - sigma(z)) * alpha.
            assert c["gamma_change"] == pytest.approx(ref.delta, rel=1e-5, abs=1e-7)
            saw_gamma_move |= abs(ref.delta) > 1e-3
        if nce and gamma_mode == "per-word":
            change = c["gamma"][input_word] - c["old_gamma"][input_word]
            exp_change = ref.gamma[input_word] - c["old_gamma"][input_word]
            assert change == pytest.approx(exp_change, rel=1e-4, abs=1e-6)
            saw_gamma_move |= abs(exp_change) > 1e-3

    assert n_checked_tight >= 40
    # The cases must cover the branches that matter.
    if loss_name == "hs":
        assert saw_long_path
    else:
        assert saw_duplicate, "no case drew a noise word equal to the real word"
        assert saw_repeat, "no case drew the same noise word twice"
    if scale == 3.0:
        assert saw_outside, "no score outside the table range"
    if nce and gamma_mode in ("global", "per-word"):
        assert saw_gamma_move, "the normaliser never moved"


def test_noise_word_equal_to_the_real_word_is_trained_as_noise(kernel):
    # The real word comes back as noise: both examples train the same output row, in
    # order -- first with label 1, then (seeing the row already updated) with label 0.
    counts = np.array([1000, 1, 1, 1])  # word 0 is almost every noise draw
    rng = np.random.default_rng(8)
    w_in, w_out = random_model(rng, 4, 5, 0.7)
    old_in, old_out = w_in.copy(), w_out.copy()
    setup = build(kernel, w_in, w_out, counts=counts, negative=2)
    worker = setup.trainer.new_worker(3)
    loss, targets, labels, _ = setup.trainer.train_pair(worker, 2, 0, 0.3)
    assert targets == [0, 0, 0] and labels == [1, 0, 0]
    h = old_in[2].astype(np.float64)
    v = old_out[0].astype(np.float64)
    grad = np.zeros_like(h)
    exp_loss = 0.0
    for label in (1, 0, 0):
        z = float(h @ v)
        prob, example_loss = exact_classify(z, label)
        exp_loss += example_loss
        g = (label - prob) * 0.3
        grad += g * v
        v = v + g * h
    tol = 2 * 0.3 * SIGMA_ERR * 3 * 1.5 * max(np.abs(old_in).max(), np.abs(old_out).max())
    np.testing.assert_allclose(w_out[0], v, atol=tol)
    np.testing.assert_allclose(w_in[2], h + grad, atol=tol)
    assert abs(loss - exp_loss) <= 3 * LOSS_ERR


def test_update_with_zero_negative_only_moves_target_pair(kernel):
    rng = np.random.default_rng(5)
    w_in, w_out = random_model(rng, 6, 4, 1.0)
    old_in, old_out = w_in.copy(), w_out.copy()
    setup = build(kernel, w_in, w_out, negative=0)
    worker = setup.trainer.new_worker(1)
    state = worker.rng_state
    loss, targets, labels, change = setup.trainer.train_pair(worker, 2, 4, 0.1)
    assert worker.rng_state == state  # no noise drawn
    assert (targets, labels, change) == ([4], [1], 0.0)
    ref = Reference(old_in, old_out, setup.gamma, setup.tables, setup.settings,
                    exact_classify)
    exp_loss = ref.pair(2, [4], [1], 0.1)
    mag = max(np.abs(old_in).max(), np.abs(old_out).max())
    np.testing.assert_allclose(w_in, ref.w_in, atol=2 * 0.1 * SIGMA_ERR * mag + 1e-6)
    np.testing.assert_allclose(w_out, ref.w_out, atol=2 * 0.1 * SIGMA_ERR * mag + 1e-6)
    assert abs(loss - exp_loss) < LOSS_ERR + 1e-6


@pytest.mark.parametrize("gamma_mode", ["global", "fixed", "per-word"])
def test_nce_logit_subtracts_the_given_gamma_and_log_noise(kernel, gamma_mode):
    # alpha = 0 trains nothing, so the loss shows the logits the kernel used:
    # z = <h, v> - gamma - log(k q(c)), gamma being the scalar passed in (global, fixed)
    # or the input word's entry of the gamma array (per-word).
    rng = np.random.default_rng(4)
    n, dim, k = 10, 6, 4
    w_in, w_out = random_model(rng, n, dim, 0.5)
    gamma = (rng.standard_normal(n) if gamma_mode == "per-word" else [GAMMA_SENTINEL])
    gamma = np.asarray(gamma, dtype=np.float32)
    setup = build(kernel, w_in, w_out, gamma.copy(), loss="nce", gamma_mode=gamma_mode,
                  negative=k)
    log_noise = setup.tables.log_noise
    counts = default_counts(n)
    q = counts ** 0.75 / np.sum(counts ** 0.75)
    np.testing.assert_allclose(log_noise, np.log(k * q), rtol=1e-6)
    losses = []
    for gamma_arg in (-2.0, 0.0, 1.5):
        loss, targets, labels, change = setup.trainer.train_pair(
            setup.trainer.new_worker(3), 2, 5, 0.0, gamma_arg)
        assert change == 0.0
        used = float(gamma[2]) if gamma_mode == "per-word" else gamma_arg
        expected = sum(exact_loss(float(w_in[2].astype(np.float64) @ w_out[t]) - used
                                  - float(log_noise[t]), y)
                       for t, y in zip(targets, labels))
        assert abs(loss - expected) <= len(targets) * LOSS_ERR + 1e-5
        losses.append(loss)
    assert np.array_equal(setup.gamma, gamma)
    if gamma_mode == "per-word":
        assert losses[0] == losses[1] == losses[2]  # the scalar is ignored
    else:
        assert abs(losses[0] - losses[2]) > 1.0  # and it matters here


def test_ns_and_hs_ignore_the_gamma_argument(kernel):
    for loss in ("ns", "hs"):
        results = []
        for gamma_arg in (0.0, 3.0):
            w_in, w_out = random_model(np.random.default_rng(1), 8, 4, 0.5, loss)
            setup = build(kernel, w_in, w_out, loss=loss)
            out = setup.trainer.train_pair(setup.trainer.new_worker(5), 1, 3, 0.2, gamma_arg)
            results.append((out, w_in, w_out))
        (a, a_in, a_out), (b, b_in, b_out) = results
        assert a == b
        assert np.array_equal(a_in, b_in) and np.array_equal(a_out, b_out)


# ---------------------------------------------------------------------------------------
# NCE without noise correction and with gamma fixed at 0 is negative sampling, exactly
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("architecture, shared", [("skipgram", False), ("skipgram", True),
                                                  ("cbow", False)])
def test_uncorrected_nce_with_zero_fixed_gamma_is_bit_identical_to_ns(kernel, architecture,
                                                                      shared):
    rng = np.random.default_rng(21)
    n, dim = 30, 16
    w_in, w_out = random_model(rng, n, dim, 0.3)
    tokens = random_stream(rng, n, n_sentences=12)
    runs = []
    for loss in ("ns", "nce"):
        a_in, a_out = w_in.copy(), w_out.copy()
        setup = build(kernel, a_in, a_out, loss=loss, gamma_mode="fixed",
                      noise_correction=False, architecture=architecture, shared=shared,
                      window=3, negative=4)
        worker = setup.trainer.new_worker(99)
        results = [setup.trainer.train_job(worker, tokens, 0.1, 0.01, 0.0)]
        for input_word, word in [(0, 1), (3, 3), (7, 0), (12, 2)]:
            results.append(setup.trainer.train_pair(worker, input_word, word, 0.05, 0.0))
        runs.append((results, a_in, a_out, worker.rng_state))
    (ns, ns_in, ns_out, ns_state), (nce, nce_in, nce_out, nce_state) = runs
    assert ns == nce  # losses (bit for bit), counts, targets, labels
    assert ns_state == nce_state
    assert np.array_equal(ns_in, nce_in)
    assert np.array_equal(ns_out, nce_out)
    assert not np.array_equal(ns_in, w_in)  # something was trained
