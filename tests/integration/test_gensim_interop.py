"""gensim's own objects and files through the library: Vectors.to_gensim/from_gensim,
reading .kv and .model files gensim saved (inline and with .npy side files), writing
.kv files gensim loads, the Embedding Projector's files, and what happens without
gensim installed."""

import os
import pickle
import sys

import numpy as np
import pytest
from gensim.models import KeyedVectors, Word2Vec

import fastw2v
from fastw2v import FastW2VError, FastW2VWarning, FormatError, OutputError, Vectors
from fastw2v.formats.gensim import save_gensim
from fastw2v.formats.projector import METADATA_FILE, VECTORS_FILE

SENTENCES = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat", "on", "a", "log"],
             ["a", "cat", "and", "a", "dog"], ["café", "naïve", "the", "cat"]] * 25


def gensim_model(dim=16):
    return Word2Vec(SENTENCES, vector_size=dim, min_count=1, epochs=2, seed=3, workers=1)


def saved(model, folder, kind, separate):
    """Save the model (`.model`) or its KeyedVectors (`.kv`), every array in its own .npy
    side file (`separate`) or everything in the one pickle."""
    path = folder / f"m.{kind}"
    target = model if kind == "model" else model.wv
    target.save(str(path), sep_limit=1 if separate else 10**9)
    return path


def random_vectors(n=50, dim=12, seed=0, counts=True):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n)] + ["é-word", "日本"]
    matrix = rng.standard_normal((len(words), dim)).astype(np.float32)
    freq = np.arange(len(words), 0, -1, dtype=np.int64) * 10 if counts else None
    return Vectors(words, matrix, counts=freq)


# -- in memory ---------------------------------------------------------------------------

def test_round_trip_through_a_gensim_object_is_exact():
    vectors = random_vectors()
    kv = vectors.to_gensim()
    assert isinstance(kv, KeyedVectors)
    assert kv.index_to_key == vectors.words
    assert kv.vectors.dtype == np.float32
    assert kv.vectors.tobytes() == vectors.vectors.tobytes()
    assert [kv.get_vecattr(w, "count") for w in vectors.words] == list(vectors.counts)
    # gensim's own queries work on it, and agree with ours
    ours = vectors.most_similar("w3", n=5)
    theirs = kv.most_similar("w3", topn=5)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    back = Vectors.from_gensim(kv)
    assert back.words == vectors.words
    assert back.vectors.tobytes() == vectors.vectors.tobytes()
    assert list(back.counts) == list(vectors.counts)


def test_without_counts_gensim_gets_none_and_back():
    vectors = random_vectors(counts=False)
    kv = vectors.to_gensim()
    assert "count" not in kv.expandos
    assert Vectors.from_gensim(kv).counts is None


def test_from_gensim_copies_and_takes_a_models_wv():
    model = gensim_model()
    vectors = Vectors.from_gensim(model)  # a model: its .wv
    assert vectors.words == model.wv.index_to_key
    before = vectors.vectors.copy()
    model.wv.vectors[:] = 0
    assert vectors.vectors.tobytes() == before.tobytes()


def test_float16_model_is_widened_to_float32_for_gensim():
    vectors = random_vectors()
    half = Vectors(vectors.words, vectors.vectors.astype(np.float16))
    kv = half.to_gensim()
    assert kv.vectors.dtype == np.float32
    assert kv.vectors.tobytes() == half.vectors.astype(np.float32).tobytes()


def test_empty_vectors_round_trip():
    empty = Vectors([], np.zeros((0, 4), dtype=np.float32))
    back = Vectors.from_gensim(empty.to_gensim())
    assert back.words == [] and back.dim == 4


def test_repeated_key_warns_with_the_count_and_keeps_the_first_row():
    kv = random_vectors(n=6).to_gensim()
    kv.index_to_key[3] = "w1"
    kv.index_to_key[5] = "w1"
    with pytest.warns(FastW2VWarning, match=r"2 rows repeat words .* kept the first row"):
        vectors = Vectors.from_gensim(kv)
    assert vectors.words == ["w0", "w1", "w2", "w4", "é-word", "日本"]
    np.testing.assert_array_equal(vectors["w1"], kv.vectors[1])
    assert len(vectors.counts) == len(vectors.words)


@pytest.mark.parametrize("damage, fragment", [
    (lambda kv: kv.vectors.__setitem__((2, 1), np.nan), "'w2' (row 3) holds a NaN"),
    (lambda kv: kv.vectors.__setitem__((0, 0), np.inf), "'w0' (row 1) holds a NaN or infinite"),
    (lambda kv: kv.index_to_key.pop(), "words but"),
    (lambda kv: kv.index_to_key.__setitem__(1, 7), "key 7 (row 2) is a int"),
])
def test_from_gensim_refuses_unusable_objects(damage, fragment):
    kv = random_vectors(n=5).to_gensim()
    damage(kv)
    with pytest.raises(FormatError, match="^KeyedVectors: ") as caught:
        Vectors.from_gensim(kv)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_float64_vectors_are_taken_as_float32_and_too_large_ones_refused():
    kv = random_vectors(n=3).to_gensim()
    kv.vectors = kv.vectors.astype(np.float64)
    assert Vectors.from_gensim(kv).vectors.dtype == np.float32
    kv.vectors[1, 0] = 1e300
    with pytest.raises(FormatError, match="beyond float32's range"):
        Vectors.from_gensim(kv)


# -- gensim's files ----------------------------------------------------------------------

@pytest.mark.parametrize("separate", [False, True], ids=["inline", "side-files"])
@pytest.mark.parametrize("kind", ["kv", "model"])
def test_reads_files_gensim_saved(tmp_path, kind, separate):
    model = gensim_model()
    path = saved(model, tmp_path, kind, separate)
    side = tmp_path / (f"m.{kind}.vectors.npy" if kind == "kv" else "m.model.wv.vectors.npy")
    assert side.exists() == separate  # the case under test really is the one meant
    vectors = fastw2v.load(str(path))
    assert vectors.format == "gensim"
    assert vectors.words == model.wv.index_to_key
    assert vectors.vectors.dtype == np.float32
    assert vectors.vectors.tobytes() == model.wv.vectors.tobytes()
    assert list(vectors.counts) == [model.wv.get_vecattr(w, "count") for w in vectors.words]
    assert vectors.most_similar("cat", n=3)[0][0] == model.wv.most_similar("cat", topn=3)[0][0]


@pytest.mark.parametrize("side_file", [False, True], ids=["inline", "side-file"])
def test_writes_kv_files_gensim_loads(tmp_path, side_file):
    vectors = random_vectors(n=40, dim=8)
    path = tmp_path / "out.kv"
    if side_file:  # gensim's own rule, with a limit below the 400 values of the matrix
        save_gensim(str(path), vectors.words, vectors.vectors, vectors.counts, sep_limit=100)
    else:
        assert vectors.save(str(path)) == "gensim"
    assert (tmp_path / "out.kv.vectors.npy").exists() == side_file
    kv = KeyedVectors.load(str(path), mmap="r" if side_file else None)
    assert kv.index_to_key == vectors.words
    assert kv.vectors.tobytes() == vectors.vectors.tobytes()
    assert kv.get_vecattr("w0", "count") == vectors.counts[0]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp
    back = fastw2v.load(str(path))
    assert back.words == vectors.words and back.vectors.tobytes() == vectors.vectors.tobytes()


def test_a_trained_model_saves_as_kv(tmp_path, small_corpus):
    model = fastw2v.train(small_corpus, dim=8, epochs=1, min_count=1, threads=1, seed=1)
    model.save(str(tmp_path / "t.kv"))
    kv = KeyedVectors.load(str(tmp_path / "t.kv"))
    assert kv.index_to_key == model.words
    assert kv.get_vecattr("the", "count") == 200
    np.testing.assert_array_equal(kv.vectors, model.vectors)


def test_writing_gensim_refuses_bad_vectors_and_writes_nothing(tmp_path):
    vectors = random_vectors(n=4)
    vectors.vectors[2, 0] = np.nan
    with pytest.raises(OutputError, match="nothing was written"):
        vectors.save(str(tmp_path / "bad.kv"))
    assert list(tmp_path.iterdir()) == []


def test_a_pickle_under_another_name_is_never_unpickled(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    for name in ("vectors.bin", "vectors.txt", "vectors"):
        with open(tmp_path / name, "wb") as f:
            pickle.dump(Payload(), f, protocol=4)
        with pytest.raises(FormatError, match="pickle.*--from gensim"):
            fastw2v.load(str(tmp_path / name))
    assert not marker.exists()


def test_a_pickle_that_is_not_from_gensim(tmp_path):
    with open(tmp_path / "d.kv", "wb") as f:
        pickle.dump({"not": "gensim"}, f, protocol=4)
    with pytest.raises(FormatError, match="not a file saved by gensim"):
        fastw2v.load(str(tmp_path / "d.kv"))


def test_a_gensim_object_without_word_vectors(tmp_path):
    from gensim.corpora import Dictionary

    Dictionary([["a", "b"]]).save(str(tmp_path / "d.model"))
    with pytest.raises(FormatError, match="holds a Dictionary, which has no word vectors"):
        fastw2v.load(str(tmp_path / "d.model"))


def test_load_word2vec_refuses_a_gensim_file(tmp_path):
    path = saved(gensim_model(), tmp_path, "kv", False)
    with pytest.raises(FormatError, match="is a gensim KeyedVectors file, not a word2vec"):
        fastw2v.load_word2vec(str(path))


# -- the Embedding Projector --------------------------------------------------------------

def read_projector(folder):
    rows = (folder / VECTORS_FILE).read_text(encoding="utf-8").split("\n")
    assert rows[-1] == ""
    matrix = np.array([[float(x) for x in row.split("\t")] for row in rows[:-1]])
    words = (folder / METADATA_FILE).read_text(encoding="utf-8").split("\n")
    assert words[-1] == ""
    return words[:-1], matrix


def test_projector_files_parse_back(tmp_path):
    vectors = random_vectors(n=20000, dim=5)  # more rows than one block
    vectors.save_projector(str(tmp_path / "p"))
    words, matrix = read_projector(tmp_path / "p")
    assert words == vectors.words  # no header row: one column of metadata
    np.testing.assert_allclose(matrix, vectors.vectors, rtol=1e-5, atol=1e-30)
    first = vectors.most_frequent(3)
    first.save_projector(str(tmp_path / "p"))  # replaces both files
    words, matrix = read_projector(tmp_path / "p")
    assert words == vectors.words[:3] and matrix.shape == (3, 5)


@pytest.mark.parametrize("word", ["tab\there", "line\nend", "carriage\rreturn", " ", ""])
def test_projector_refuses_words_a_tsv_row_cannot_hold(tmp_path, word):
    vectors = Vectors(["fine", word], np.ones((2, 3), dtype=np.float32))
    with pytest.raises(OutputError, match=r"row 2 .*nothing was written"):
        vectors.save_projector(str(tmp_path / "p"))
    assert not (tmp_path / "p").exists()


# -- without gensim ----------------------------------------------------------------------

@pytest.fixture
def no_gensim(monkeypatch):
    """Imports of gensim fail, as when it is not installed."""
    monkeypatch.setitem(sys.modules, "gensim", None)


def test_without_gensim_each_entry_point_says_what_to_install(tmp_path, no_gensim):
    vectors = random_vectors(n=3)
    calls = [vectors.to_gensim, lambda: Vectors.from_gensim(object()),
             lambda: vectors.save(str(tmp_path / "x.kv"))]
    for call in calls:
        with pytest.raises(FastW2VError, match=r'needs gensim, which is not installed: pip '
                                               r'install "fastw2v\[gensim\]"'):
            call()
    (tmp_path / "m.kv").write_bytes(b"\x80\x04\x95")
    with pytest.raises(FastW2VError, match=r'm.kv \(a gensim file\) needs gensim'):
        fastw2v.load(str(tmp_path / "m.kv"))
    assert os.listdir(tmp_path) == ["m.kv"]
