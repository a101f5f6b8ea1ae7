"""ModelState, the one owner of a model's arrays: the shape rule, the native file's full
state, and the consumers that load through it (Model, Vectors, the estimators)."""

import numpy as np
import pytest

import fastw2v
from fastw2v.config import TrainConfig
from fastw2v.errors import FormatError
from fastw2v.formats.native import read_native
from fastw2v.formats.word2vec import save_word2vec
from fastw2v.queries.estimates import Estimator
from fastw2v.state import ModelState, gamma_entries, output_rows
from fastw2v.text.vocab import Vocabulary

WORDS = ["the", "cat", "sat", "on", "mat"]
COUNTS = np.array([50, 20, 10, 10, 5], dtype=np.int64)


def vocab():
    return Vocabulary(list(WORDS), COUNTS.copy())


@pytest.mark.parametrize("loss, gamma_mode, rows, gammas", [
    ("ns", "global", 5, 1), ("nce", "global", 5, 1), ("nce", "per-word", 5, 5),
    ("nce", "fixed", 5, 1), ("hs", "global", 4, 1), ("hs", "per-word", 4, 1)])
def test_the_shape_rule(loss, gamma_mode, rows, gammas):
    config = TrainConfig(dim=3, loss=loss, nce_gamma=gamma_mode, threads=1).resolved()
    assert output_rows(5, loss) == rows
    assert gamma_entries(5, config) == gammas
    state = ModelState.initial(vocab(), config)
    assert state.w_in.shape == (5, 3) and state.w_out.shape == (rows, 3)
    assert state.gamma.shape == (gammas,)
    state.check()


@pytest.mark.parametrize("options, rows, biases", [
    (dict(loss="softmax"), 5, 0), (dict(loss="nce", nce_context_bias=True), 5, 5),
    (dict(loss="nce"), 5, 0), (dict(loss="ns"), 5, 0)])
def test_the_shape_rule_of_the_softmax_and_the_context_bias(options, rows, biases):
    config = TrainConfig(dim=3, threads=1, **options).resolved()
    state = ModelState.initial(vocab(), config)
    assert state.w_out.shape == (rows, 3) and state.gamma.shape == (1,)
    assert state.context_bias.shape == (biases,) and not np.any(state.context_bias)
    state.check()
    if biases:
        state.context_bias = np.zeros(4, dtype=np.float32)
        with pytest.raises(ValueError, match=r"context_bias is float32 \(4,\)"):
            state.check()


def test_the_native_file_holds_the_context_bias(tmp_path):
    config = TrainConfig(dim=4, loss="nce", nce_context_bias=True, threads=1).resolved()
    state = ModelState.initial(vocab(), config)
    state.context_bias[:] = np.random.default_rng(4).standard_normal(5)
    path = str(tmp_path / "m.fw2v")
    state.save(path)
    back = ModelState.load(path)
    assert back.config == config
    assert np.array_equal(back.context_bias, state.context_bias)
    assert back.context_bias.dtype == np.float32
    assert "context_bias" not in back.provenance
    # A model trained without the bias loads with none.
    plain = ModelState.initial(vocab(), TrainConfig(dim=4, loss="nce", threads=1).resolved())
    plain.save(str(tmp_path / "plain.fw2v"))
    assert ModelState.load(str(tmp_path / "plain.fw2v")).context_bias.shape == (0,)


def test_hierarchical_softmax_of_one_word_keeps_one_output_row():
    assert output_rows(1, "hs") == 1


def test_initial_state_is_word2vecs_initialisation():
    config = TrainConfig(dim=8, nce_gamma_init=1.5, loss="nce", threads=1).resolved()
    state = ModelState.initial(vocab(), config)
    assert np.all(np.abs(state.w_in) <= 0.5 / 8) and np.any(state.w_in != 0)
    assert not np.any(state.w_out)
    assert np.all(state.gamma == 1.5)
    again = ModelState.initial(vocab(), config)
    assert np.array_equal(state.w_in, again.w_in)  # the seed decides


def test_check_names_the_array_that_breaks_the_rule():
    config = TrainConfig(dim=3, loss="hs", threads=1).resolved()
    state = ModelState.initial(vocab(), config)
    state.w_out = np.zeros((5, 3), dtype=np.float32)  # HS has n - 1 rows
    with pytest.raises(ValueError, match=r"w_out is float32 \(5, 3\), expected float32 \(4, 3\)"):
        state.check()


@pytest.mark.parametrize("loss, gamma_mode", [("ns", "global"), ("nce", "per-word"),
                                              ("hs", "global")])
def test_the_native_file_holds_the_whole_state(tmp_path, loss, gamma_mode):
    config = TrainConfig(dim=4, loss=loss, nce_gamma=gamma_mode, threads=1).resolved()
    state = ModelState.initial(vocab(), config)
    rng = np.random.default_rng(3)
    state.w_out[:] = rng.standard_normal(state.w_out.shape)
    state.gamma[:] = rng.standard_normal(state.gamma.shape)
    state.loss_history = [2.5, 2.25]
    state.provenance.update(corpus_tokens=1000, words_trained=900)
    path = str(tmp_path / "m.fw2v")
    state.save(path)
    back = ModelState.load(path)
    assert back.trained and back.config == config
    assert back.words == WORDS and np.array_equal(back.vocab.counts, COUNTS)
    for name in ("w_in", "w_out", "gamma"):
        assert np.array_equal(getattr(back, name), getattr(state, name)), name
    assert back.loss_history == [2.5, 2.25]
    assert back.provenance["corpus_tokens"] == 1000
    assert back.provenance["words_trained"] == 900
    # The loaded arrays are the file's read-only maps; `writable` gives training copies.
    assert not back.w_in.flags.writeable
    copy = back.writable()
    assert copy.w_in.flags.writeable and copy.w_out.flags.writeable
    assert np.array_equal(copy.w_out, state.w_out)


def test_a_file_of_vectors_only_loads_but_cannot_be_trained_or_scored(tmp_path):
    source = str(tmp_path / "v.bin")
    save_word2vec(source, WORDS, np.eye(5, 3, dtype=np.float32))
    fastw2v.load(source).save(str(tmp_path / "v.fw2v"))  # `fastw2v convert`
    state = ModelState.load(str(tmp_path / "v.fw2v"))
    assert not state.trained and state.words == WORDS
    with pytest.raises(FormatError, match=r"v.fw2v: holds no output matrix.*; need it"):
        state.require_training(str(tmp_path / "v.fw2v"), "need it")
    with pytest.raises(FormatError, match="v.fw2v: holds no output matrix"):
        fastw2v.Model.load(str(tmp_path / "v.fw2v"))
    with pytest.raises(FormatError, match="v.bin: a word2vec binary file holds no output"):
        ModelState.load(source)


def test_a_file_whose_output_matrix_breaks_the_rule_is_refused(tmp_path):
    config = TrainConfig(dim=4, loss="hs", threads=1).resolved()
    state = ModelState.initial(vocab(), config)
    state.w_out = np.zeros((5, 4), dtype=np.float32)  # one row too many for HS
    path = str(tmp_path / "bad.fw2v")
    state.save(path)  # the writer stores what it is given; the loader checks
    with pytest.raises(FormatError, match="bad.fw2v: the output matrix or gamma does not "
                                          "match 5 words and --loss hs"):
        ModelState.load(path)


def test_model_load_and_every_consumer_see_the_same_state(tmp_path, small_corpus):
    model = fastw2v.train(small_corpus, dim=8, epochs=1, min_count=1, threads=1,
                          loss="nce")
    path = str(tmp_path / "m.fw2v")
    model.save(path)
    loaded = fastw2v.Model.load(path)
    assert loaded.config == model.config
    assert np.array_equal(loaded.vectors, model.vectors)
    assert np.array_equal(loaded.context_vectors, model.context_vectors)
    assert np.array_equal(loaded.gamma, model.gamma)
    assert loaded.loss_history == model.loss_history
    expected = model.log_prob("cat", ["sat", "on"])
    assert np.allclose(loaded.log_prob("cat", ["sat", "on"]), expected)
    assert np.allclose(Estimator.from_file(path).scores("cat", ["sat", "on"]), expected)
    vectors = fastw2v.load(path)
    assert vectors.metadata == read_native(path).metadata  # nothing lost or added
    assert vectors.most_similar("cat", n=3) == model.most_similar("cat", n=3)
