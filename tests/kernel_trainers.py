"""Building kernel trainers on small random models, for the tests in tests/unit/kernel.

Every builder takes the kernel module to build with (the `kernel` fixture of
tests/conftest.py gives each build in turn), so each test runs against every build.
"""

import dataclasses
from collections import namedtuple

import numpy as np
import pytest
from kernel_reference import END, Reference, edge_distance, table_classify

from fastw2v.config import TrainConfig
from fastw2v.training.kernel import KernelSettings, build_tables

Setup = namedtuple("Setup", "trainer tables settings gamma context_bias")


def default_counts(n):
    return np.arange(n, 0, -1) * 10


def make_tables(counts, loss="ns", negative=3, keep=None):
    config = TrainConfig(loss=loss, negative=negative, sample=0)
    tables = build_tables(np.asarray(counts, dtype=np.int64), config)
    if keep is not None:
        tables = dataclasses.replace(tables,
                                     keep_probability=np.asarray(keep, dtype=np.float32))
    return tables


def build(kernel, w_in, w_out, gamma=None, *, counts=None, keep=None, tables=None,
          architecture="skipgram", loss="ns", gamma_mode="global", noise_correction=True,
          shared=False, window=5, negative=3, max_sentence=64, context_bias=None):
    """A `kernel.Trainer` on these arrays (trained in place), with its tables, settings,
    gamma array and context bias (NCE's b_c when `context_bias` is given, else None)."""
    n = w_in.shape[0]
    if tables is None:
        counts = default_counts(n) if counts is None else counts
        tables = make_tables(counts, loss, negative, keep)
    if gamma is None:
        gamma = np.zeros(n if gamma_mode == "per-word" else 1, dtype=np.float32)
    settings = KernelSettings(architecture, loss, gamma_mode, noise_correction, shared,
                              window, negative, max_sentence, context_bias is not None)
    return Setup(kernel.Trainer(w_in, w_out, gamma, tables, settings, context_bias), tables,
                 settings, gamma, context_bias)


def make_trainer(kernel, w_in, w_out, **kwargs):
    return build(kernel, w_in, w_out, **kwargs).trainer


def n_out_rows(n_words, loss):
    """Rows of w_out: one per word, or with HS one per inner node of the tree."""
    return max(1, n_words - 1) if loss == "hs" else n_words


def random_model(rng, n_words, dim, scale, loss="ns"):
    w_in = (rng.standard_normal((n_words, dim)) * scale).astype(np.float32)
    w_out = (rng.standard_normal((n_out_rows(n_words, loss), dim)) * scale).astype(np.float32)
    return w_in, w_out


GAMMA_SENTINEL = 7.0  # in the gamma array of modes that must not read it


def random_stream(rng, n_words, n_sentences=4):
    """A job's tokens: `n_sentences` sentences of 0 to 9 words, each closed by a sentence
    end, then 3 words that no sentence end closes."""
    tokens = []
    for s in range(n_sentences):
        length = int(rng.integers(0, 10))
        # Small ids repeat, so a window often holds the same word twice.
        tokens += rng.integers(0, n_words // 2 if s % 2 else n_words, size=length).tolist()
        tokens.append(END)
    tokens += rng.integers(0, n_words, size=3).tolist()  # no final sentence end
    return np.array(tokens, dtype=np.int32)


def check_jobs_against_reference(kernel, architecture, loss, gamma_mode, shared, counts,
                                 dim, window, negative, n_seeds=8, stream_words=None,
                                 max_sentence=6, n_sentences=4, context_bias=False,
                                 edge_margin=3e-6):
    """Train random jobs with the kernel and the float64 reference; compare everything.
    `context_bias`: NCE with a learned bias per context word, starting at random values.
    A seed's rows are compared only if no score lies within `edge_margin` of a sigmoid
    table's bin edge. Returns (seeds whose rows were compared, the reference of the last seed)."""
    n = len(counts)
    keep = np.ones(n, dtype=np.float32)
    keep[[0, 1, 4]] = [0.4, 0.7, 0.0]  # subsampling draws, and a word always dropped
    tables = make_tables(counts, loss, negative, keep)
    n_checked = 0
    ref = None
    for seed in range(n_seeds):
        rng = np.random.default_rng([seed, len(architecture), len(loss), len(gamma_mode)])
        w_in, w_out = random_model(rng, n, dim, 0.5, loss)
        per_word = gamma_mode == "per-word"
        gamma = (rng.standard_normal(n) * 0.3 if per_word else [GAMMA_SENTINEL])
        gamma = np.asarray(gamma, dtype=np.float32)
        gamma_arg = float(np.float32(rng.standard_normal() * 0.3))
        bias = (rng.standard_normal(n) * 0.5).astype(np.float32) if context_bias else None
        old = (w_in.copy(), w_out.copy(), gamma.copy())
        old_bias = None if bias is None else bias.copy()
        setup = build(kernel, w_in, w_out, gamma, tables=tables,
                      architecture=architecture, loss=loss, gamma_mode=gamma_mode,
                      shared=shared, window=window, negative=negative,
                      max_sentence=max_sentence, context_bias=bias)  # long ones split
        tokens = random_stream(rng, stream_words or n, n_sentences)
        worker = setup.trainer.new_worker(seed)
        ref = Reference(*old, tables, setup.settings, table_classify, gamma_arg,
                        rng_state=worker.rng_state, context_bias=old_bias)
        result = setup.trainer.train_job(worker, tokens, 0.2, 0.05, gamma_arg)
        expected = ref.train_job(tokens, 0.2, 0.05)
        # Counts and the RNG's consumption are exact, whatever the rounding.
        assert result[1:4] == expected[1:4]
        assert worker.rng_state == ref.rng.state
        # A float32 score could read the neighbouring bin (the softmax reads no table).
        if not ref.scores or (loss != "softmax"
                              and min(edge_distance(s) for s in ref.scores) < edge_margin):
            continue
        n_checked += 1
        assert result[0] == pytest.approx(expected[0], rel=1e-5)
        # float32 rounding over a job moves the rows by ~2e-7 here.
        np.testing.assert_allclose(w_in, ref.w_in, rtol=1e-5, atol=3e-6)
        np.testing.assert_allclose(w_out, ref.w_out, rtol=1e-5, atol=3e-6)
        if bias is not None:
            np.testing.assert_allclose(bias, ref.bias, rtol=1e-5, atol=3e-6)
            assert not np.array_equal(bias, old_bias)
        if loss == "nce" and per_word:
            np.testing.assert_allclose(gamma, ref.gamma, rtol=1e-5, atol=3e-6)
        else:
            assert np.array_equal(gamma, old[2])
        if loss == "nce" and gamma_mode == "global":
            assert result[4] == pytest.approx(expected[4], rel=1e-4, abs=1e-6)
        else:
            assert result[4] == 0.0
    return n_checked, ref
