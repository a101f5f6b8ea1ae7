"""`fastw2v convert` and the query commands with gensim's files, the Embedding Projector's
folder, and their bad input: each refusal is one line, a non-zero exit, no traceback
and nothing at the destination."""

import os
import pickle
import shutil
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from gensim.models import KeyedVectors, Word2Vec

import fastw2v
from fastw2v.cli import main
from fastw2v.formats import projector

from cli_helpers import assert_no_traceback, assert_one_line_error

# 10 words, in vectors of dimension 12
SENTENCES = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat", "on", "a", "log"],
             ["a", "cat", "and", "a", "dog"], ["über", "cat", "the"]] * 25
INSTALL = 'pip install "fastw2v[gensim]"'


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def trained():
    return Word2Vec(SENTENCES, vector_size=12, min_count=1, epochs=2, seed=5, workers=1)


@pytest.fixture(params=["kv-inline", "kv-side", "model-inline", "model-side"])
def gensim_file(request, trained, tmp_path):
    """gensim's KeyedVectors (.kv) or whole model (.model), saved in one pickle or with
    every array in a .npy side file."""
    kind, layout = request.param.split("-")
    path = tmp_path / "src" / f"m.{kind}"
    path.parent.mkdir()
    target = trained.wv if kind == "kv" else trained
    target.save(str(path), sep_limit=1 if layout == "side" else 10**9)
    assert bool(list(path.parent.glob("*.npy"))) == (layout == "side")
    return path


def assert_refused(result, destination, *fragments):
    assert_one_line_error(result, *fragments, code=1)
    assert not os.path.lexists(destination)


# -- gensim's files ----------------------------------------------------------------------

def test_convert_gensim_files_to_every_format(gensim_file, trained, tmp_path):
    for name in ("out.fw2v", "out.bin", "out.txt"):
        result = run("convert", gensim_file, tmp_path / name)
        assert result.exit_code == 0, result.output
        assert "(gensim KeyedVectors)" in result.stderr and "10 words" in result.stderr
    back = fastw2v.load(str(tmp_path / "out.fw2v"))
    assert back.words == trained.wv.index_to_key
    assert back.vectors.tobytes() == trained.wv.vectors.tobytes()
    assert back.counts[0] == trained.wv.get_vecattr(back.words[0], "count")
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "out.bin"), binary=True)
    assert kv.vectors.tobytes() == trained.wv.vectors.tobytes()


def test_query_commands_read_gensim_files(gensim_file, trained):
    result = run("similar", "-m", gensim_file, "cat", "-n", "3")
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.strip().splitlines()[1:]]
    assert [r[1] for r in rows] == [w for w, _ in trained.wv.most_similar("cat", topn=3)]
    info = run("info", gensim_file)
    assert info.exit_code == 0 and "gensim KeyedVectors" in info.output


@pytest.mark.parametrize("name, options", [("out.kv", []), ("out.model", []),
                                           ("out.vectors", ["--to", "gensim"])])
def test_convert_to_gensim(tmp_path, small_corpus, name, options):
    model = fastw2v.train(small_corpus, dim=8, epochs=1, min_count=1, threads=1, seed=2)
    model.save(str(tmp_path / "m.fw2v"))
    result = run("convert", tmp_path / "m.fw2v", tmp_path / name, *options)
    assert result.exit_code == 0, result.output
    assert "(gensim KeyedVectors)" in result.stderr
    assert "training settings are not kept in gensim's KeyedVectors" in result.stderr
    kv = KeyedVectors.load(str(tmp_path / name))
    assert kv.index_to_key == model.words
    assert kv.vectors.tobytes() == np.ascontiguousarray(model.vectors).tobytes()
    assert kv.get_vecattr("the", "count") == 200


def test_repeated_words_warn_with_the_count_and_the_rule(tmp_path, trained):
    wv = trained.wv
    copy = KeyedVectors(vector_size=wv.vector_size)
    copy.add_vectors(list(wv.index_to_key), wv.vectors.copy())
    copy.index_to_key[4] = copy.index_to_key[1]
    copy.save(str(tmp_path / "dup.kv"))
    result = run("convert", tmp_path / "dup.kv", tmp_path / "out.fw2v")
    assert_no_traceback(result)
    assert result.exit_code == 0, result.output
    assert ("warning: " + str(tmp_path / "dup.kv") + ": 1 row repeats a word listed earlier; "
            "kept the first row of each word") in result.stderr
    assert "9 words" in result.stderr
    assert len(fastw2v.load(str(tmp_path / "out.fw2v"))) == 9


# -- the Embedding Projector --------------------------------------------------------------

def read_tsv(folder):
    vectors = (folder / "vectors.tsv").read_text(encoding="utf-8").splitlines()
    words = (folder / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    return words, np.array([[float(x) for x in line.split("\t")] for line in vectors])


def test_convert_to_projector(gensim_file, trained, tmp_path):
    out = tmp_path / "proj"
    result = run("convert", gensim_file, out, "--to", "projector")
    assert result.exit_code == 0, result.output
    assert "10 words, dim 12" in result.stderr and "projector.tensorflow.org" in result.stderr
    assert "note:" not in result.stderr
    words, matrix = read_tsv(out)
    assert words == trained.wv.index_to_key  # no header: a single metadata column
    np.testing.assert_allclose(matrix, trained.wv.vectors, rtol=1e-5, atol=1e-30)
    # again, into the existing folder, with a limit: both files replaced
    result = run("convert", gensim_file, out, "--to", "projector", "--limit", "4")
    assert result.exit_code == 0, result.output
    assert "4 words (the first of 10)" in result.stderr
    words, matrix = read_tsv(out)
    assert words == trained.wv.index_to_key[:4] and matrix.shape == (4, 12)
    assert sorted(os.listdir(out)) == ["metadata.tsv", "vectors.tsv"]


def test_projector_notes_a_size_a_browser_struggles_with(trained, tmp_path, monkeypatch):
    trained.wv.save(str(tmp_path / "m.kv"))
    monkeypatch.setattr(projector, "BROWSER_POINTS", 9)
    result = run("convert", tmp_path / "m.kv", tmp_path / "p", "--to", "projector")
    assert result.exit_code == 0, result.output
    assert "note: 10 points are more than a browser shows smoothly" in result.stderr
    assert "--limit N" in result.stderr
    assert len(read_tsv(tmp_path / "p")[0]) == 10  # all written all the same
    result = run("convert", tmp_path / "m.kv", tmp_path / "p", "--to", "projector",
                 "--limit", "10")
    assert result.exit_code == 0 and "note:" not in result.stderr


def test_limit_applies_to_every_format(gensim_file, tmp_path):
    result = run("convert", gensim_file, tmp_path / "few.txt", "--limit", "3")
    assert result.exit_code == 0, result.output
    assert fastw2v.load(str(tmp_path / "few.txt")).words == fastw2v.load(
        str(gensim_file)).words[:3]


# -- bad input ---------------------------------------------------------------------------

def test_missing_side_file(trained, tmp_path):
    trained.wv.save(str(tmp_path / "m.kv"), sep_limit=1)
    os.remove(tmp_path / "m.kv.vectors.npy")
    result = run("convert", tmp_path / "m.kv", tmp_path / "out.fw2v")
    assert_refused(result, tmp_path / "out.fw2v", "m.kv: its side file",
                   "m.kv.vectors.npy is missing")


def test_truncated_side_file(trained, tmp_path):
    trained.save(str(tmp_path / "m.model"), sep_limit=1)
    side = tmp_path / "m.model.wv.vectors.npy"
    side.write_bytes(side.read_bytes()[:-9])
    result = run("convert", tmp_path / "m.model", tmp_path / "out.fw2v")
    assert_refused(result, tmp_path / "out.fw2v", "m.model: a side file", "damaged or truncated")


@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.9, 0.99])
def test_truncated_kv(trained, tmp_path, keep):
    trained.wv.save(str(tmp_path / "whole.kv"))
    data = (tmp_path / "whole.kv").read_bytes()
    (tmp_path / "m.kv").write_bytes(data[:int(len(data) * keep)])
    result = run("convert", tmp_path / "m.kv", tmp_path / "out.fw2v")
    assert_refused(result, tmp_path / "out.fw2v", "m.kv: ")


@pytest.mark.parametrize("to", ["out.fw2v", "out.kv", "proj"])
def test_nan_in_a_gensim_file(trained, tmp_path, to):
    kv = KeyedVectors(vector_size=trained.wv.vector_size)
    kv.add_vectors(list(trained.wv.index_to_key), trained.wv.vectors.copy())
    kv.vectors[5, 2] = np.nan
    kv.save(str(tmp_path / "nan.kv"))
    extra = ["--to", "projector"] if to == "proj" else []
    result = run("convert", tmp_path / "nan.kv", tmp_path / to, *extra)
    assert_refused(result, tmp_path / to, "nan.kv: the vector of",
                   "(row 6) holds a NaN or infinite value")


def test_writers_refuse_a_nan_and_write_nothing(tmp_path):
    matrix = np.ones((3, 4), dtype=np.float32)
    matrix[1, 1] = np.inf
    vectors = fastw2v.Vectors(["a", "b", "c"], matrix)
    for destination, call in [("x.kv", lambda p: vectors.save(str(p))),
                              ("proj", lambda p: vectors.save_projector(str(p)))]:
        with pytest.raises(fastw2v.OutputError, match="'b' holds a NaN or infinite"):
            call(tmp_path / destination)
        assert not os.path.lexists(tmp_path / destination)


@pytest.mark.parametrize("word", ["tab\tword", "two\nlines"])
def test_projector_refuses_a_word_it_cannot_write(tmp_path, word):
    kv = KeyedVectors(vector_size=3)
    kv.add_vectors(["fine", word, "also"], np.ones((3, 3), dtype=np.float32))
    kv.save(str(tmp_path / "m.kv"))
    result = run("convert", tmp_path / "m.kv", tmp_path / "proj", "--to", "projector")
    assert_refused(result, tmp_path / "proj", "proj: the word at row 2", repr(word),
                   "nothing was written")


def test_projector_into_a_file_or_a_missing_parent(trained, tmp_path):
    trained.wv.save(str(tmp_path / "m.kv"))
    (tmp_path / "file").write_text("keep", encoding="utf-8")
    result = run("convert", tmp_path / "m.kv", tmp_path / "file", "--to", "projector")
    assert_one_line_error(result, "is a file; the projector's output is a folder", code=1)
    assert (tmp_path / "file").read_text(encoding="utf-8") == "keep"
    result = run("convert", tmp_path / "m.kv", tmp_path / "no" / "p", "--to", "projector")
    assert_refused(result, tmp_path / "no", "does not exist")
    result = run("convert", tmp_path / "m.kv", tmp_path, "--to", "native")
    assert_one_line_error(result, "is a folder; --to projector writes a folder", code=1)


@pytest.mark.parametrize("content, fragment", [
    (b"", "not a gensim file"),
    (b"this is text\n", "not a gensim file"),
    (pickle.dumps({"a": 1}, protocol=4), "not a file saved by gensim"),
    (pickle.dumps([1, 2], protocol=2), "not a file saved by gensim"),
])
def test_kv_files_that_are_not_gensim_saves(tmp_path, content, fragment):
    (tmp_path / "m.kv").write_bytes(content)
    result = run("convert", tmp_path / "m.kv", tmp_path / "out.fw2v")
    assert_refused(result, tmp_path / "out.fw2v", "m.kv: ", fragment)


def test_a_pickle_named_otherwise_is_refused_unless_asked_for(trained, tmp_path):
    trained.wv.save(str(tmp_path / "m.kv"))
    shutil.copy(tmp_path / "m.kv", tmp_path / "m.bin")
    result = run("convert", tmp_path / "m.bin", tmp_path / "out.fw2v")
    assert_refused(result, tmp_path / "out.fw2v", "m.bin: is a Python pickle", "--from gensim")
    result = run("convert", tmp_path / "m.bin", tmp_path / "out.fw2v", "--from", "gensim")
    assert result.exit_code == 0, result.output


def test_a_side_file_given_for_the_model(trained, tmp_path):
    trained.wv.save(str(tmp_path / "m.kv"), sep_limit=1)
    result = run("similar", "-m", tmp_path / "m.kv.vectors.npy", "cat")
    assert_one_line_error(result, "is a NumPy array", "give the main .kv or .model file",
                          code=1)


# -- without gensim ----------------------------------------------------------------------

@pytest.fixture
def no_gensim(monkeypatch):
    monkeypatch.setitem(sys.modules, "gensim", None)  # `import gensim` now fails


def test_without_gensim_reading_says_what_to_install(trained, tmp_path, monkeypatch):
    trained.wv.save(str(tmp_path / "m.kv"))
    monkeypatch.setitem(sys.modules, "gensim", None)
    for args in (["convert", tmp_path / "m.kv", tmp_path / "out.fw2v"],
                 ["similar", "-m", tmp_path / "m.kv", "cat"]):
        result = run(*args)
        assert_refused(result, tmp_path / "out.fw2v", "m.kv (a gensim file) needs gensim, "
                       "which is not installed", INSTALL)


def test_without_gensim_writing_says_what_to_install(tmp_path, small_corpus, no_gensim):
    fastw2v.Vectors(["a", "b"], np.ones((2, 3), dtype=np.float32)).save(
        str(tmp_path / "m.fw2v"))
    for args in (["convert", tmp_path / "m.fw2v", tmp_path / "out.kv"],
                 ["convert", tmp_path / "m.fw2v", tmp_path / "out", "--to", "gensim"],
                 ["train", small_corpus, "-o", tmp_path / "out.model", "--min-count", "1"]):
        result = run(*args)
        assert_one_line_error(result, "needs gensim, which is not installed", INSTALL, code=1)
        assert not list(tmp_path.glob("out*"))
    # everything else works without gensim
    assert run("convert", tmp_path / "m.fw2v", tmp_path / "p", "--to", "projector").exit_code == 0


def test_float16_is_refused_for_the_projector(trained, tmp_path):
    trained.wv.save(str(tmp_path / "m.kv"))
    result = run("convert", tmp_path / "m.kv", tmp_path / "p", "--to", "projector",
                 "--dtype", "float16")
    assert_one_line_error(result, "--dtype float16 is for .fw2v files; --to projector",
                          code=2)
    assert not os.path.lexists(tmp_path / "p")
