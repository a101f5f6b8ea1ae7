"""Unit tests for fastw2v.training.sampling (subsampling and noise tables), and the noise
draws of every kernel build."""

import math

import numpy as np
import pytest
from scipy import stats

from fastw2v.config import TrainConfig
from fastw2v.training.huffman import huffman_paths
from fastw2v.training.kernel import KernelSettings, KernelTables, build_tables
from fastw2v.training.sampling import (
    alias_probabilities,
    alias_table,
    keep_probabilities,
    log_noise,
    noise_distribution,
)

# ---------------------------------------------------------------------------------------
# keep_probabilities
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("sample", [1e-3, 1e-4, 1e-5, 0.05])
def test_keep_probabilities_match_word2vec_formula(sample):
    counts = np.array([1_000_000, 250_000, 40_000, 5_000, 700, 60, 3, 1], dtype=np.int64)
    total = 0
    for c in counts.tolist():
        total += c
    expected = []
    for c in counts.tolist():
        f = c / total
        expected.append(min(1.0, (math.sqrt(f / sample) + 1.0) * sample / f))
    keep = keep_probabilities(counts, sample)
    assert keep.dtype == np.float32
    assert keep.shape == counts.shape
    np.testing.assert_allclose(keep, expected, rtol=2e-7, atol=0)


def test_keep_probabilities_cover_both_regimes():
    # The formula test above must exercise both the clipped and the unclipped branch.
    counts = np.array([1_000_000, 250_000, 40_000, 5_000, 700, 60, 3, 1])
    keep = keep_probabilities(counts, 1e-3)
    assert keep[0] < 0.1  # the most frequent word is heavily subsampled
    assert np.all(np.diff(keep) >= 0)  # rarer words are kept at least as often
    assert 0.5 < keep[3] < 1.0  # f = 3.9e-3: kept with probability ~0.77
    assert keep[-1] == 1.0 and keep[4] == 1.0  # f <= 5.4e-4: clipped to 1


@pytest.mark.parametrize("sample", [0, 0.0])
def test_sample_zero_keeps_everything(sample):
    counts = np.array([10**9, 10**6, 5, 1])
    keep = keep_probabilities(counts, sample)
    assert keep.dtype == np.float32
    assert np.array_equal(keep, np.ones(4, dtype=np.float32))


# ---------------------------------------------------------------------------------------
# noise_distribution
# ---------------------------------------------------------------------------------------

def test_noise_distribution_is_count_to_the_075():
    counts = np.array([1000, 200, 50, 7, 1])
    p = noise_distribution(counts, 0.75)
    weights = [c ** 0.75 for c in counts.tolist()]
    expected = [w / sum(weights) for w in weights]
    assert p.dtype == np.float64
    np.testing.assert_allclose(p, expected, rtol=1e-12)
    assert abs(p.sum() - 1.0) < 1e-12
    # Proportionality, directly: p_i / p_j == (c_i / c_j)^0.75.
    assert p[0] / p[1] == pytest.approx((1000 / 200) ** 0.75, rel=1e-12)


def test_noise_distribution_other_exponents():
    counts = np.array([8, 4, 2, 2])
    np.testing.assert_allclose(noise_distribution(counts, 1.0), [0.5, 0.25, 0.125, 0.125])
    np.testing.assert_allclose(noise_distribution(counts, 0.0), [0.25] * 4)


# ---------------------------------------------------------------------------------------
# alias_table
# ---------------------------------------------------------------------------------------

def _independent_alias_distribution(threshold, alias):
    """The distribution the kernel draws from, computed from its rule directly.

    Kernel: slot i uniform over n; keep i if a uniform 32-bit integer u < threshold[i]
    (probability threshold[i] / 2^32), else take alias[i].
    """
    n = len(threshold)
    result = [0.0] * n
    for i in range(n):
        accept = int(threshold[i]) / 2.0**32
        result[i] += accept / n
        result[int(alias[i])] += (1.0 - accept) / n
    return np.array(result)


def _check_alias(p):
    p = np.asarray(p, dtype=np.float64)
    threshold, alias = alias_table(p)
    n = len(p)
    assert threshold.dtype == np.uint32 and alias.dtype == np.int32
    assert threshold.shape == (n,) and alias.shape == (n,)
    assert np.all(alias >= 0) and np.all(alias < n)
    np.testing.assert_allclose(alias_probabilities(threshold, alias), p, rtol=0, atol=1e-9)
    np.testing.assert_allclose(_independent_alias_distribution(threshold, alias), p,
                               rtol=0, atol=1e-9)
    return threshold, alias


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n", [2, 3, 17, 500])
def test_alias_table_reproduces_random_distributions(seed, n):
    rng = np.random.default_rng(seed)
    p = rng.random(n) ** 3 + 1e-6
    _check_alias(p / p.sum())


def test_alias_table_reproduces_zipf_noise_distribution():
    counts = (10**6 / np.arange(1, 3001)).astype(np.int64) + 1
    _check_alias(noise_distribution(counts, 0.75))


def test_alias_table_single_word():
    threshold, alias = _check_alias([1.0])
    assert alias.tolist() == [0]


@pytest.mark.parametrize("n", [1, 3, 7, 10, 64, 1000])
def test_alias_table_uniform(n):
    _check_alias(np.full(n, 1.0 / n))


@pytest.mark.parametrize("n", [2, 5, 100])
def test_alias_table_one_dominant_word(n):
    p = np.full(n, 1e-12)
    p[n // 2] = 1.0 - 1e-12 * (n - 1)
    _check_alias(p)


def test_alias_table_zero_probability_words_are_never_drawn():
    threshold, alias = _check_alias([0.0, 1.0, 0.0])
    # Slots 0 and 2 must always move to their alias, which must be word 1.
    assert threshold[0] == 0 and threshold[2] == 0
    assert alias[0] == 1 and alias[2] == 1


# ---------------------------------------------------------------------------------------
# The kernel's noise draws, statistically
# ---------------------------------------------------------------------------------------

def _noise_trainer(kernel, counts, exponent=0.75):
    n = len(counts)
    tables = build_tables(np.asarray(counts), TrainConfig(sample=0, ns_exponent=exponent))
    w_in = np.zeros((n, 1), dtype=np.float32)
    w_out = np.zeros((n, 1), dtype=np.float32)
    gamma = np.zeros(1, dtype=np.float32)
    settings = KernelSettings("skipgram", "ns", "global", True, False, 1, 1, 4)
    return kernel.Trainer(w_in, w_out, gamma, tables, settings)


def test_kernel_draw_noise_matches_count_power_075(kernel):
    counts = np.array([int(100_000 / r) + 3 for r in range(1, 41)] + [1, 1, 2])
    trainer = _noise_trainer(kernel, counts)
    worker = trainer.new_worker(12345)
    n_draws = 2_000_000
    draws = trainer.draw_noise(worker, n_draws)
    assert draws.dtype == np.int32 and draws.shape == (n_draws,)
    assert draws.min() >= 0 and draws.max() < len(counts)
    observed = np.bincount(draws, minlength=len(counts))
    weights = counts.astype(np.float64) ** 0.75  # computed here, not by the package
    p = weights / weights.sum()
    expected = n_draws * p

    # Goodness of fit over all 43 words. With a correct sampler the p-value is uniform on
    # [0, 1], so requiring > 1e-4 fails a correct kernel with probability 1e-4 (and the
    # seed is fixed, so the outcome is deterministic). A 2 % relative bias on a word with
    # p = 0.1 alone adds N p 0.02^2 = 80 to the statistic (df = 42), i.e. p-value < 1e-6.
    chi2, p_value = stats.chisquare(observed, expected)
    assert p_value > 1e-4, (chi2, p_value)

    # Per word: the count is Binomial(N, p), so z = (obs - exp) / sqrt(N p (1 - p)) is
    # about standard normal. |z| < 5 has a false-alarm rate of 5.7e-7 per word (2.5e-5
    # over 43 words). For the frequent words (p > 1 %) that bounds the relative error by
    # 5 sqrt((1 - p) / (N p)) < 3.6 %; we also check that bound explicitly.
    z = (observed - expected) / np.sqrt(expected * (1 - p))
    assert np.max(np.abs(z)) < 5, np.abs(z).max()
    frequent = p > 0.01
    assert frequent.sum() >= 5
    rel = np.abs(observed[frequent] / expected[frequent] - 1)
    assert rel.max() < 0.036, rel.max()


def test_kernel_draw_noise_is_deterministic_per_seed_and_seeds_differ(kernel):
    counts = np.array([50, 30, 10, 5, 5, 1])
    trainer = _noise_trainer(kernel, counts)
    a = trainer.draw_noise(trainer.new_worker(7), 1000)
    b = trainer.draw_noise(trainer.new_worker(7), 1000)
    c = trainer.draw_noise(trainer.new_worker(8), 1000)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    # Draws continue the worker's stream: two calls of 500 equal one call of 1000.
    w = trainer.new_worker(7)
    halves = np.concatenate([trainer.draw_noise(w, 500), trainer.draw_noise(w, 500)])
    assert np.array_equal(halves, a)


def test_kernel_draw_noise_never_draws_zero_probability_word(kernel):
    # Word 1 has count 0: its probability is exactly 0 and the alias method must never
    # return it (threshold 0 means the slot always moves to its alias).
    counts = np.array([5, 0, 3, 0])
    trainer = _noise_trainer(kernel, counts)
    draws = trainer.draw_noise(trainer.new_worker(3), 200_000)
    observed = np.bincount(draws, minlength=4)
    assert observed[1] == 0 and observed[3] == 0
    p0 = 5**0.75 / (5**0.75 + 3**0.75)
    # Binomial sd for N = 2e5 is about 1.1e-3; 5 sd tolerance.
    assert abs(observed[0] / 200_000 - p0) < 5.5e-3


def test_kernel_draw_noise_follows_the_exponent_of_the_tables(kernel):
    # Exponent 0 (uniform noise) and 1 (unigram): the tables passed to the Trainer decide.
    counts = np.array([800, 100, 60, 30, 10])
    for exponent in (0.0, 1.0):
        trainer = _noise_trainer(kernel, counts, exponent)
        draws = trainer.draw_noise(trainer.new_worker(1), 200_000)
        observed = np.bincount(draws, minlength=5) / 200_000
        weights = counts.astype(np.float64) ** exponent
        # Binomial sd <= sqrt(0.25 / 2e5) = 1.1e-3; 5 sd.
        np.testing.assert_allclose(observed, weights / weights.sum(), atol=5.6e-3)


# ---------------------------------------------------------------------------------------
# log_noise: NCE's correction log(k q(c))
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("negative", [1, 5, 15])
@pytest.mark.parametrize("exponent", [0.75, 1.0, 0.0])
def test_log_noise_is_log_of_k_times_noise_probability(negative, exponent):
    counts = np.array([1000, 200, 50, 7, 1])
    weights = [c ** exponent for c in counts.tolist()]
    expected = [math.log(negative * w / sum(weights)) for w in weights]
    result = log_noise(counts, exponent, negative)
    assert result.dtype == np.float32 and result.shape == counts.shape
    np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-6)


def test_log_noise_with_zero_negative_uses_k_one_and_zero_counts_give_minus_inf():
    counts = np.array([3, 1, 0])
    np.testing.assert_array_equal(log_noise(counts, 1.0, 0), log_noise(counts, 1.0, 1))
    result = log_noise(counts, 1.0, 2)
    np.testing.assert_allclose(result[:2], [math.log(2 * 0.75), math.log(2 * 0.25)],
                               rtol=1e-6)
    assert result[2] == -np.inf


# ---------------------------------------------------------------------------------------
# build_tables: everything the kernel reads, for one vocabulary and config
# ---------------------------------------------------------------------------------------

COUNTS = np.array([5000, 1200, 700, 300, 300, 90, 40, 12, 5, 5, 1])


def _check_common_tables(tables, config):
    n = len(COUNTS)
    assert isinstance(tables, KernelTables)
    for name, dtype, length in [("keep_probability", np.float32, n),
                                ("noise_threshold", np.uint32, n),
                                ("noise_alias", np.int32, n),
                                ("log_noise", np.float32, n),
                                ("path_offsets", np.int64,
                                 n + 1 if config.loss == "hs" else 1),
                                ("path_nodes", np.int32, None),
                                ("path_codes", np.uint8, None)]:
        array = getattr(tables, name)
        assert array.dtype == dtype, name
        assert array.ndim == 1 and array.flags.c_contiguous, name
        if length is not None:
            assert len(array) == length, name
    np.testing.assert_array_equal(tables.keep_probability,
                                  keep_probabilities(COUNTS, config.sample))
    np.testing.assert_allclose(alias_probabilities(tables.noise_threshold, tables.noise_alias),
                               noise_distribution(COUNTS, config.ns_exponent), atol=1e-9)
    np.testing.assert_array_equal(tables.log_noise,
                                  log_noise(COUNTS, config.ns_exponent, config.negative))


@pytest.mark.parametrize("loss", ["ns", "nce"])
def test_build_tables_without_hierarchical_softmax_has_empty_paths(loss):
    config = TrainConfig(loss=loss, sample=1e-3, ns_exponent=0.5, negative=7)
    tables = build_tables(COUNTS, config)
    _check_common_tables(tables, config)
    # One entry, never read: the kernel only needs somewhere to point.
    assert tables.path_offsets.tolist() == [0]
    assert len(tables.path_nodes) == len(tables.path_codes) == 0


def test_build_tables_with_hierarchical_softmax_holds_the_huffman_paths():
    config = TrainConfig(loss="hs", sample=0, negative=3)
    tables = build_tables(COUNTS, config)
    _check_common_tables(tables, config)
    offsets, nodes, codes = huffman_paths(COUNTS)
    np.testing.assert_array_equal(tables.path_offsets, offsets)
    np.testing.assert_array_equal(tables.path_nodes, nodes)
    np.testing.assert_array_equal(tables.path_codes, codes)
    assert tables.path_offsets[-1] == len(tables.path_nodes) == len(tables.path_codes)
