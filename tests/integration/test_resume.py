"""Checkpoints, --resume and --init-from through the library, on small synthetic corpora."""

import collections

import numpy as np
import pytest

import fastw2v
from fastw2v.errors import ConfigError, CorpusError, FormatError
from fastw2v.text import synthetic
from fastw2v.training.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """About 45,000 tokens: three jobs an epoch, so checkpoints fall inside epochs too."""
    path = tmp_path_factory.mktemp("resume") / "corpus.txt"
    synthetic.write_corpus(str(path), n_sentences=3000, seed=1)
    return str(path)


def assert_same_run(a, b):
    assert np.array_equal(a.vectors, b.vectors)
    assert np.array_equal(a.context_vectors, b.context_vectors)
    assert np.array_equal(a.gamma, b.gamma)
    assert a.loss_history == b.loss_history
    assert a.stats.n_words_trained == b.stats.n_words_trained


VARIANTS = {
    "ns-skipgram": dict(loss="ns"),
    "ns-cbow": dict(loss="ns", architecture="cbow"),
    "nce-global": dict(loss="nce", nce_gamma="global"),
    "nce-per-word": dict(loss="nce", nce_gamma="per-word"),
    "hs": dict(loss="hs"),
    "per-pair-negatives": dict(shared_negatives=False),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_resuming_an_epoch_checkpoint_is_bit_identical(corpus, tmp_path, variant):
    options = dict(threads=1, seed=5, epochs=3, dim=16, **VARIANTS[variant])
    uninterrupted = fastw2v.train(corpus, **options)
    checkpoint = str(tmp_path / "run.ckpt")
    with_checkpoints = fastw2v.train(corpus, checkpoint=checkpoint, checkpoint_every="1e",
                                     **options)
    # Writing checkpoints does not disturb the run.
    assert_same_run(uninterrupted, with_checkpoints)
    saved = load_checkpoint(checkpoint)
    # The last one written is the state at the start of the last epoch.
    assert (saved.at.epoch, saved.at.token) == (2, 0)
    assert saved.at.words_done == 2 * uninterrupted.stats.n_words
    resumed = fastw2v.train(corpus, resume=checkpoint)
    assert_same_run(uninterrupted, resumed)


def test_resuming_from_inside_an_epoch_is_bit_identical(corpus, tmp_path):
    options = dict(threads=1, seed=9, epochs=2, dim=16, loss="nce")
    uninterrupted = fastw2v.train(corpus, **options)
    checkpoint = str(tmp_path / "run.ckpt")
    # A tiny interval: a checkpoint before nearly every job, the last one mid-run.
    fastw2v.train(corpus, checkpoint=checkpoint, checkpoint_every="0.001s", **options)
    saved = load_checkpoint(checkpoint)
    total = options["epochs"] * uninterrupted.stats.n_words
    assert 0 < saved.at.words_done < total
    assert saved.at.token > 0  # not at an epoch boundary
    assert_same_run(uninterrupted, fastw2v.train(corpus, resume=checkpoint))


def test_a_resumed_run_may_use_other_threads_and_trains_every_word_once(corpus, tmp_path):
    checkpoint = str(tmp_path / "run.ckpt")
    first = fastw2v.train(corpus, threads=1, epochs=2, dim=16, checkpoint=checkpoint,
                          checkpoint_every="1e")
    resumed = fastw2v.train(corpus, resume=checkpoint, threads=2)
    assert resumed.config.threads == 2
    assert resumed.stats.n_words_trained == first.stats.n_words_trained
    assert all(np.isfinite(resumed.loss_history))
    assert resumed.loss_history[0] == first.loss_history[0]  # epoch 1 came from the file


def test_resume_refuses_changed_settings(corpus, tmp_path):
    checkpoint = str(tmp_path / "run.ckpt")
    fastw2v.train(corpus, threads=1, epochs=2, dim=16, checkpoint=checkpoint,
                  checkpoint_every="1e")
    for option, value, name in (("dim", 32, "dim=32"), ("epochs", 5, "epochs=5"),
                                ("architecture", "cbow", "architecture='cbow'")):
        with pytest.raises(ConfigError, match=f"{name} differs from .* in the checkpoint "
                                              f".*run.ckpt: a resumed run keeps its settings "
                                              f"\\(only threads may change\\)"):
            fastw2v.train(corpus, resume=checkpoint, **{option: value})
    # Restating a setting with its saved value is no change.
    fastw2v.train(corpus, resume=checkpoint, dim=16, epochs=2)


def test_resume_refuses_another_corpus(corpus, tmp_path):
    checkpoint = str(tmp_path / "run.ckpt")
    fastw2v.train(corpus, threads=1, epochs=2, dim=16, checkpoint=checkpoint,
                  checkpoint_every="1e")
    other = tmp_path / "other.txt"
    synthetic.write_corpus(str(other), n_sentences=3000, seed=2)
    with pytest.raises(CorpusError, match="other.txt: is not the corpus the checkpoint"):
        fastw2v.train(str(other), resume=checkpoint)


def test_resume_and_init_from_exclude_each_other_and_read_vocab(corpus, tmp_path):
    # The API names its parameters; the CLI (tests/cli/test_cli_resume.py) its options.
    with pytest.raises(ConfigError, match="^resume and init_from cannot be combined"):
        fastw2v.train(corpus, resume="a.ckpt", init_from="b.fw2v")
    with pytest.raises(ConfigError, match="^read_vocab and resume"):
        fastw2v.train(corpus, resume="a.ckpt", read_vocab="vocab.txt")
    with pytest.raises(ConfigError, match="^checkpoint_every needs checkpoint=PATH"):
        fastw2v.train(corpus, checkpoint_every="1e")
    with pytest.raises(ConfigError, match="^checkpoint_every '9x': expected a number"):
        fastw2v.train(corpus, checkpoint="a.ckpt", checkpoint_every="9x")


# ---------------------------------------------------------------------------------------
# --init-from
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def saved_model(corpus, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "base.fw2v"
    model = fastw2v.train(corpus, threads=1, epochs=2, dim=16, architecture="cbow",
                          window=3, seed=4)
    model.save(str(path))
    return str(path), model


def test_init_from_continues_with_the_vocabulary_fixed(saved_model, tmp_path):
    path, base = saved_model
    new_text = tmp_path / "more.txt"
    sentences = synthetic.generate_sentences(2000, seed=7)
    # Words the model never saw: two new ones, one of them repeated.
    sentences[:3] = [s + " zebra quokka" for s in sentences[:3]]
    sentences[3] += " zebra"
    new_text.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    warnings = []
    model = fastw2v.train(str(new_text), init_from=path, threads=1, epochs=1,
                          warn=warnings.append)
    assert model.words == base.words
    assert np.array_equal(model.vocab.counts, base.vocab.counts)
    assert not np.array_equal(model.vectors, base.vectors)
    assert not np.array_equal(model.context_vectors, base.context_vectors)
    # The model's settings are the defaults of the new run.
    assert (model.config.architecture, model.config.window, model.config.dim) == (
        "cbow", 3, 16)
    unknown = collections.Counter(t for s in sentences for t in s.split()
                                  if t not in base.vocab.index)
    assert unknown == {"zebra": 4, "quokka": 3}
    assert len(warnings) == 1
    assert "7 tokens of 2 distinct words are not in the vocabulary" in warnings[0]
    assert "zebra (4), quokka (3)" in warnings[0]
    assert model.stats.n_skipped == 7


def test_init_from_starts_from_the_saved_matrices(saved_model, corpus):
    path, base = saved_model
    # The smallest learning rate the options allow: the result must stay close to the
    # model it started from, not to a fresh random initialisation.
    continued = fastw2v.train(corpus, init_from=path, threads=1, epochs=1, alpha=1e-7,
                              min_alpha=0)
    drift = np.abs(continued.vectors - base.vectors).max()
    assert drift < 1e-4
    fresh = fastw2v.train(corpus, threads=1, epochs=1, dim=16, alpha=1e-7, min_alpha=0)
    assert np.abs(fresh.vectors - base.vectors).max() > 100 * drift


def test_init_from_keeps_dim_and_loss(saved_model, corpus):
    path, _ = saved_model
    with pytest.raises(ConfigError, match="dim=50 differs from 16 in the model .*base.fw2v: "
                                          "init_from keeps its dim, loss, nce_gamma"):
        fastw2v.train(corpus, init_from=path, dim=50)
    with pytest.raises(ConfigError, match="loss='hs' differs from 'ns'"):
        fastw2v.train(corpus, init_from=path, loss="hs")


def test_init_from_refuses_files_without_an_output_matrix(saved_model, corpus, tmp_path):
    path, base = saved_model
    for name in ("base.txt", "base.bin"):
        base.as_vectors().save(str(tmp_path / name))
        with pytest.raises(FormatError, match=f"{name}: a word2vec .* holds no output"):
            fastw2v.train(corpus, init_from=str(tmp_path / name))
    converted = tmp_path / "converted.fw2v"
    fastw2v.load(str(tmp_path / "base.txt")).save(str(converted))
    with pytest.raises(FormatError, match="converted.fw2v: holds no output matrix"):
        fastw2v.train(corpus, init_from=str(converted))


def test_init_from_a_hierarchical_softmax_model(corpus, tmp_path):
    path = str(tmp_path / "hs.fw2v")
    base = fastw2v.train(corpus, threads=1, epochs=1, dim=8, loss="hs")
    base.save(path)
    model = fastw2v.train(corpus, init_from=path, threads=1, epochs=1)
    assert model.config.loss == "hs"
    assert model.context_vectors.shape == (len(base.words) - 1, 8)
    assert model.loss_history[0] < base.loss_history[0]  # it went on learning
