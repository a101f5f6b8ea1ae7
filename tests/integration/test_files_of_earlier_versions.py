"""Files written before the model state had one owner (fastw2v at commit 94821e7) load
unchanged, and the same training, fresh or resumed, gives the same arrays today.

tests/data/before-state/make_files.py made the files with that version: small models of
four losses and architectures, their arrays (w_in, w_out, gamma concatenated), the
checkpoint taken at the start of epoch 3 of 3, and the arrays of the uninterrupted run.
"""

import os
import shutil

import numpy as np
import pytest

import fastw2v

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "before-state")
COMMON = dict(dim=6, epochs=2, min_count=1, threads=1, seed=3)
MODELS = {"ns": {}, "nce-per-word": dict(loss="nce", nce_gamma="per-word"),
          "hs": dict(loss="hs"), "cbow-nce": dict(architecture="cbow", loss="nce")}


# "The same arrays" to within float32 rounding: the AVX2 block products of issue 15 sum
# each dot product in another order than the loops that made these files, which moves
# the last bits (at most 8e-8 here, on values up to 3.4). Anything else that changed the
# training -- another random draw, learning rate, table or checkpoint field -- moves the
# arrays by orders of magnitude more than this tolerance.
ROUNDING = 1e-6


def same_training(got, expected):
    np.testing.assert_allclose(got, expected, rtol=0, atol=ROUNDING)


def arrays(model):
    return np.concatenate([model.vectors.ravel(), model.context_vectors.ravel(),
                           model.gamma.ravel()])


@pytest.mark.parametrize("name", list(MODELS))
def test_an_earlier_model_loads_whole(name):
    path = os.path.join(DATA, f"{name}.fw2v")
    model = fastw2v.Model.load(path)
    assert np.array_equal(arrays(model), np.load(os.path.join(DATA, f"{name}-arrays.npy")))
    vectors = fastw2v.load(path)
    assert np.array_equal(vectors.vectors, model.vectors)
    assert vectors.metadata["training"]["loss"] == model.config.loss


@pytest.mark.parametrize("name", list(MODELS))
def test_training_today_gives_the_same_arrays(tmp_path, name):
    corpus = shutil.copy(os.path.join(DATA, "corpus.txt"), tmp_path)
    model = fastw2v.train(corpus, **COMMON, **MODELS[name])
    same_training(arrays(model), np.load(os.path.join(DATA, f"{name}-arrays.npy")))


def test_an_earlier_checkpoint_resumes_to_the_uninterrupted_run(tmp_path):
    corpus = shutil.copy(os.path.join(DATA, "corpus.txt"), tmp_path)
    checkpoint = shutil.copy(os.path.join(DATA, "run.ckpt"), tmp_path)
    resumed = fastw2v.train(corpus, resume=checkpoint)
    assert resumed.stats.resumed_epoch == 3
    same_training(arrays(resumed), np.load(os.path.join(DATA, "resumed-whole.npy")))
