"""Divergence: a learning rate far too high must end in one line that says so and what to
do, for every architecture and loss; never in a saved model of NaNs.

"Silent garbage" here is an exit 0 whose model holds a NaN or infinite value (which no
reader accepts back), or an error that does not point at --alpha.
"""

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from fastw2v.cli import main
from fastw2v.formats.word2vec import load_word2vec

from cli_helpers import assert_one_line_error

COMBINATIONS = [(arch, loss, negatives) for arch in ("--sg", "--cbow")
                for loss in ("ns", "nce", "hs")
                for negatives in ("--shared-negatives", "--per-pair-negatives")
                if not (arch == "--cbow" and negatives == "--per-pair-negatives")]


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("the cat sat on the mat and the dog sat on the log with a hat\n" * 200,
                    encoding="utf-8")
    return path


def train(corpus, output, *options):
    return CliRunner().invoke(main, ["train", str(corpus), "-o", str(output), "--min-count",
                                     "1", "--dim", "16", "--epochs", "2", "--threads", "1",
                                     "-q", *map(str, options)])


def assert_diverged(result, alpha):
    assert_one_line_error(result, "diverged", "lower --alpha", f"it was {float(alpha)}",
                          code=1)


@pytest.mark.parametrize("arch, loss, negatives", COMBINATIONS)
def test_an_absurd_alpha_is_reported_with_advice(tmp_path, corpus, arch, loss, negatives):
    output = tmp_path / "v.bin"
    result = train(corpus, output, arch, "--loss", loss, negatives, "--alpha", "1e6")
    assert_diverged(result, 1e6)
    assert not output.exists()


@given(alpha=st.floats(0.2, 20), combination=st.sampled_from(COMBINATIONS),
       seed=st.integers(0, 3))
def test_a_high_alpha_trains_finite_vectors_or_is_reported(tmp_path, corpus, alpha,
                                                           combination, seed):
    # Between a usable and an absurd rate lies the risky band: the loss may stay finite
    # while some vector overflows. Either outcome must be honest.
    output = tmp_path / "v.bin"
    output.unlink(missing_ok=True)
    arch, loss, negatives = combination
    result = train(corpus, output, arch, "--loss", loss, negatives, "--alpha", alpha,
                   "--seed", seed)
    if result.exit_code == 0:
        words, vectors = load_word2vec(str(output))  # raises on a NaN or inf
        assert np.isfinite(vectors).all()
    else:
        assert_diverged(result, alpha)
        assert not output.exists()


def test_an_nce_normaliser_beyond_float32_is_refused_as_an_option(tmp_path, corpus):
    result = train(corpus, tmp_path / "v.bin", "--loss", "nce", "--nce-gamma-init", "1e39")
    assert_one_line_error(result, "--nce-gamma-init")
