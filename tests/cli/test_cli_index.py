"""`fastw2v index`, and `similar` and `analogy` with an index beside the model: used when
it matches, refused when it does not, bypassed by --exact; all through CliRunner."""

import importlib
import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from fastw2v.cli import main
from fastw2v.queries.vectors import save_vectors

from cli_helpers import assert_no_traceback, assert_one_line_error

USING = "using the HNSW index"
# Small graph settings: the defaults are sized for a million words.
FAST = ["--m", "8", "--ef-construction", "40"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def write_model(path, n=2000, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, dim))
    rows = centres[rng.integers(0, 40, n)] + 0.7 * rng.standard_normal((n, dim))
    save_vectors(str(path), [f"w{i}" for i in range(n)], rows.astype(np.float32))
    return str(path)


@pytest.fixture
def model(tmp_path):
    """A model, its brute-force answers (taken before any index exists), and its index."""
    path = write_model(tmp_path / "model.fw2v")
    exact = {"similar": run("similar", "w1", "w2", "--minus", "w3", "-m", path),
             "analogy": run("analogy", "w1", "w2", "w3", "-m", path)}
    for result in exact.values():
        assert result.exit_code == 0 and USING not in result.stderr
    built = run("index", "-m", path, *FAST)
    assert built.exit_code == 0, built.output
    return path, exact


def test_index_writes_the_index_beside_the_model_and_says_so(model):
    path, _ = model
    assert os.path.isfile(path + ".hnsw")
    result = run("index", "-m", path, *FAST)
    assert result.exit_code == 0, result.output
    line = result.stderr.strip()
    assert line.startswith("indexed 2,000 words of dim 16 in ")
    assert "(M 8, efConstruction 40, efSearch 2048)" in line
    assert f"wrote {path}.hnsw" in line and "bytes" in line


def test_similar_and_analogy_use_the_index_and_say_so(model):
    path, exact = model
    for args, name in ((("similar", "w1", "w2", "--minus", "w3"), "similar"),
                       (("analogy", "w1", "w2", "w3"), "analogy")):
        result = run(*args, "-m", path)
        assert result.exit_code == 0, result.output
        assert result.stderr.strip() == (f"{USING} {path}.hnsw (approximate; --exact for "
                                         f"brute force)")
        # On 2,000 words of dim 16 the graph finds the true neighbours.
        assert result.stdout == exact[name].stdout


def test_exact_gives_the_brute_force_answer_and_no_note(model):
    path, exact = model
    for args, name in ((("similar", "w1", "w2", "--minus", "w3"), "similar"),
                       (("analogy", "w1", "w2", "w3"), "analogy")):
        result = run(*args, "-m", path, "--exact")
        assert result.exit_code == 0, result.output
        assert result.stdout == exact[name].stdout
        assert result.stderr == ""


def test_similar_batch_uses_the_index(model, tmp_path):
    path, _ = model
    queries = tmp_path / "queries.txt"
    queries.write_text("w1\nw2 w3\n# a comment\nw4\n", encoding="utf-8")
    approximate = run("similar", "--batch", queries, "-m", path, "-n", "5", "--json")
    exact = run("similar", "--batch", queries, "-m", path, "-n", "5", "--json", "--exact")
    assert approximate.exit_code == 0 and exact.exit_code == 0, approximate.output
    assert USING in approximate.stderr and USING not in exact.stderr
    # The same words; the cosines may differ in the last bits, as the exact batch's
    # matrix product sums in another order than a single query (queries/batch.py).
    got, want = (json.loads(r.stdout)["queries"] for r in (approximate, exact))
    assert [[x["word"] for x in q["neighbours"]] for q in got] == \
        [[x["word"] for x in q["neighbours"]] for q in want]
    np.testing.assert_allclose([x["cosine"] for q in got for x in q["neighbours"]],
                               [x["cosine"] for q in want for x in q["neighbours"]],
                               atol=1e-6)


def test_3cosmul_and_restrict_search_every_word(model):
    path, _ = model
    cosmul = run("analogy", "w1", "w2", "w3", "--method", "3cosmul", "-m", path)
    assert cosmul.exit_code == 0, cosmul.output
    assert cosmul.stderr.startswith("--method 3cosmul: searching every word")
    assert cosmul.stdout == run("analogy", "w1", "w2", "w3", "--method", "3cosmul", "-m",
                                path, "--exact").stdout
    restricted = run("similar", "w1", "--restrict", "500", "-m", path)
    assert restricted.stderr.startswith("--restrict: searching every word")
    named = run("similar", "w1", "--restrict", "500", "-m", path, "--index", path + ".hnsw")
    assert_one_line_error(named, "--index cannot answer --restrict", code=2)


def test_a_stale_index_is_refused_with_the_way_out(model, tmp_path):
    path, _ = model
    queries = tmp_path / "queries.txt"
    queries.write_text("w1\n", encoding="utf-8")
    write_model(path, seed=1)  # retrained: the same words and size, other vectors
    for args in (("similar", "w1"), ("analogy", "w1", "w2", "w3"),
                 ("similar", "--batch", queries)):
        result = run(*args, "-m", path)
        assert_one_line_error(result, f"{path}.hnsw does not match {path}",
                              f"rebuild it with 'fastw2v index -m {path}'", "--exact",
                              code=1)
    assert run("similar", "w1", "-m", path, "--exact").exit_code == 0
    assert run("index", "-m", path, *FAST).exit_code == 0  # rebuilt: used again
    assert USING in run("similar", "w1", "-m", path).stderr


def test_a_foreign_index_is_refused(model, tmp_path):
    path, _ = model
    other = write_model(tmp_path / "other.fw2v", n=3000)
    result = run("similar", "w1", "-m", other, "--index", path + ".hnsw")
    assert_one_line_error(result, "built from another model", "2,000 words", "3,000",
                          code=1)
    os.replace(path + ".hnsw", other + ".hnsw")  # moved beside the wrong model
    assert_one_line_error(run("similar", "w1", "-m", other), "built from another model")


def test_index_to_another_path_is_used_with_index_option(model, tmp_path):
    path, exact = model
    elsewhere = tmp_path / "elsewhere.idx"
    assert run("index", "-m", path, *FAST, "-o", elsewhere).exit_code == 0
    os.remove(path + ".hnsw")
    result = run("similar", "w1", "w2", "--minus", "w3", "-m", path, "--index", elsewhere)
    assert result.exit_code == 0, result.output
    assert f"{USING} {elsewhere}" in result.stderr
    assert result.stdout == exact["similar"].stdout


@pytest.mark.parametrize("problem", ["missing", "not-an-index", "model"])
def test_bad_index_paths_fail_in_one_line(model, tmp_path, problem):
    path, _ = model
    if problem == "missing":
        result = run("similar", "w1", "-m", path, "--index", tmp_path / "none.hnsw")
        assert_one_line_error(result, "none.hnsw: no such file", code=1)
    elif problem == "not-an-index":
        result = run("similar", "w1", "-m", path, "--index", path)
        assert_one_line_error(result, "not an index written by 'fastw2v index'", code=1)
    else:
        result = run("index", "-m", path, "-o", path)
        assert_one_line_error(result, "is the model itself", code=1)


def test_index_of_a_missing_model_fails_in_one_line(tmp_path):
    result = run("index", "-m", tmp_path / "none.fw2v")
    assert_one_line_error(result, "none.fw2v: no such model file", code=1)


def without_faiss(monkeypatch):
    real = importlib.import_module

    def import_module(name, *args):
        if name == "faiss":
            raise ImportError("No module named 'faiss'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", import_module)


def test_index_without_faiss_says_how_to_install_it(tmp_path, monkeypatch):
    path = write_model(tmp_path / "model.fw2v", n=50)
    without_faiss(monkeypatch)
    result = run("index", "-m", path)
    assert_one_line_error(result, 'pip install "fastw2v[index]"', code=1)
    assert not os.path.exists(path + ".hnsw")


def test_an_index_without_faiss_is_refused_but_exact_works(model, monkeypatch):
    path, exact = model
    without_faiss(monkeypatch)
    assert_one_line_error(run("similar", "w1", "-m", path), 'pip install "fastw2v[index]"',
                          "--exact")
    result = run("similar", "w1", "w2", "--minus", "w3", "-m", path, "--exact")
    assert_no_traceback(result)
    assert result.stdout == exact["similar"].stdout
