"""The exact softmax and NCE's context bias through the library and the CLI: the
vocabulary limit, the settings they need, saving, scoring and continuing."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

import fastw2v
from fastw2v import config as config_module
from fastw2v.cli import main
from fastw2v.errors import ConfigError

from cli_helpers import assert_one_line_error

SMALL = dict(dim=8, epochs=1, min_count=1, threads=1, window=2)


@pytest.fixture
def thirty_words(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "thirty.txt"
    lines = [" ".join(f"t{i}" for i in rng.integers(30, size=20)) for _ in range(200)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_the_softmax_is_refused_above_its_limit_unless_forced(thirty_words, tmp_path,
                                                               monkeypatch):
    monkeypatch.setattr(config_module, "SOFTMAX_MAX_WORDS", 20)
    with pytest.raises(ConfigError, match=r"loss='softmax'.*30 words.*limit of 20.*"
                                          r"force_softmax=True"):
        fastw2v.train(thirty_words, loss="softmax", **SMALL)
    result = CliRunner().invoke(main, ["train", thirty_words, "--loss", "softmax", "-q",
                                       "-o", str(tmp_path / "m.fw2v"), "--min-count", "1"])
    assert_one_line_error(result, "--loss softmax", "30 words", "limit of 20",
                          "--force-softmax", "--min-count")
    assert not (tmp_path / "m.fw2v").exists()
    result = CliRunner().invoke(main, ["train", thirty_words, "--loss", "softmax", "-q",
                                       "--force-softmax", "-o", str(tmp_path / "m.fw2v"),
                                       "--min-count", "1"])
    assert result.exit_code == 0, result.output


def test_the_default_limit_is_twenty_thousand_words():
    assert config_module.SOFTMAX_MAX_WORDS == 20_000


def test_the_softmax_needs_skipgram_and_the_bias_needs_nce(thirty_words):
    with pytest.raises(ConfigError, match="loss='softmax' needs skip-gram"):
        fastw2v.train(thirty_words, loss="softmax", architecture="cbow", **SMALL)
    result = CliRunner().invoke(main, ["train", thirty_words, "--loss", "softmax", "--cbow"])
    assert_one_line_error(result, "--loss softmax needs skip-gram")
    with pytest.raises(ConfigError, match="nce_context_bias needs loss='nce'"):
        fastw2v.train(thirty_words, loss="ns", nce_context_bias=True, **SMALL)
    result = CliRunner().invoke(main, ["train", thirty_words, "--nce-context-bias"])
    assert_one_line_error(result, "--nce-context-bias needs --loss nce")


@pytest.mark.parametrize("options", [dict(loss="softmax"),
                                     dict(loss="nce", nce_context_bias=True)])
def test_saved_models_score_like_the_trained_ones(thirty_words, tmp_path, options):
    model = fastw2v.train(thirty_words, **SMALL, **options)
    path = str(tmp_path / "m.fw2v")
    model.save(path)
    contexts = ["t1", "t2", "t3"]
    expected = model.log_prob("t0", contexts)
    result = CliRunner().invoke(main, ["score", "-m", path, "t0", *contexts, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["loss"] == options["loss"] and report["measure"] == "log_prob"
    np.testing.assert_allclose([s["log_prob"] for s in report["scores"]], expected,
                               rtol=1e-6, atol=1e-6)
    loaded = fastw2v.Model.load(path)
    assert np.array_equal(loaded.state.context_bias, model.state.context_bias)
    if options.get("nce_context_bias"):
        assert np.any(model.state.context_bias)
        # The bias is part of the estimate: without it log p(c|w) changes.
        estimator = model.estimator()
        without = estimator.w_in[[0]] @ estimator.w_out.T - estimator.gamma[0]
        assert not np.allclose(estimator.log_prob_matrix(np.array([0]))[0], without[0])
    else:
        # The softmax's distribution sums to 1 for every word.
        every = model.estimator().log_prob_matrix(np.arange(len(model.vocab)))
        np.testing.assert_allclose(np.exp(every).sum(axis=1), 1.0, atol=1e-9)


def test_a_biased_model_continues_with_its_bias(thirty_words, tmp_path):
    model = fastw2v.train(thirty_words, loss="nce", nce_context_bias=True, **SMALL)
    path = str(tmp_path / "m.fw2v")
    model.save(path)
    further = fastw2v.train(thirty_words, init_from=path, threads=1, epochs=1)
    assert further.config.nce_context_bias
    assert not np.array_equal(further.state.context_bias, model.state.context_bias)


def test_a_biased_run_resumes_bit_for_bit(thirty_words, tmp_path):
    options = dict(SMALL, epochs=3, loss="nce", nce_context_bias=True, seed=4)
    whole = fastw2v.train(thirty_words, **options)
    checkpoint = str(tmp_path / "run.ckpt")
    from fastw2v.training.checkpoint import load_checkpoint, save_checkpoint

    fastw2v.train(thirty_words, **dict(options, epochs=3), checkpoint=checkpoint,
                  checkpoint_every="1e")
    # The finished run's checkpoint (taken at the start of epoch 3) is left in place by
    # the library; resuming from it must end where the uninterrupted run ended.
    saved = load_checkpoint(checkpoint)
    assert saved.at.epoch == 2 and len(saved.state.context_bias) == 30
    save_checkpoint(checkpoint, saved)
    resumed = fastw2v.train(thirty_words, resume=checkpoint)
    assert np.array_equal(resumed.state.context_bias, whole.state.context_bias)
    assert np.array_equal(resumed.vectors, whole.vectors)
