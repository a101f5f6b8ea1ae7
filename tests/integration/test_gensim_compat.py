"""Our output files load in gensim, the tool most of our users will read them with."""

import numpy as np
import pytest
from gensim.models import KeyedVectors

import fastw2v


@pytest.mark.parametrize("name,binary", [("vectors.bin", True), ("vectors.txt", False),
                                         ("vectors.vec", False)])
def test_gensim_loads_trained_vectors(tmp_path, synthetic_corpus, name, binary):
    path, _ = synthetic_corpus
    model = fastw2v.train(path, threads=2, epochs=1, dim=32)
    out = tmp_path / name
    model.save(str(out))
    loaded = KeyedVectors.load_word2vec_format(str(out), binary=binary)
    assert loaded.index_to_key == model.words
    tolerance = 0 if binary else 1e-5
    np.testing.assert_allclose(loaded.vectors, model.vectors, rtol=tolerance, atol=tolerance)
    ours = model.most_similar("apple", n=5)
    theirs = loaded.most_similar("apple", topn=5)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
