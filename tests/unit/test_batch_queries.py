"""Many neighbour queries at once (queries/batch.py, `similar --batch`): the same
answers as one query at a time, across blocks of rows and chunks of queries."""

import numpy as np
import pytest
from click.testing import CliRunner

from fastw2v.cli import main
from fastw2v.queries import batch
from fastw2v.queries.vectors import Vectors

from cli_helpers import assert_one_line_error

WORDS = [f"w{i}" for i in range(500)]


@pytest.fixture
def vectors():
    rng = np.random.default_rng(5)
    return Vectors(WORDS, rng.standard_normal((len(WORDS), 16)).astype(np.float32))


def assert_same_answers(got, want):
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([c for _, c in got], [c for _, c in want], atol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_batch_gives_what_single_queries_give(vectors, monkeypatch, dtype):
    # Small blocks and chunks, so that candidates are merged across blocks and chunks.
    monkeypatch.setattr(batch, "BLOCK_ROWS", 37)
    monkeypatch.setattr(batch, "QUERY_CHUNK", 5)
    if dtype == "float16":
        vectors = Vectors(WORDS, vectors.vectors.astype(np.float16))
    queries = ["w0", ["w1", "w2"], "w499", ["w3", "w4", "w5"]]
    queries += [f"w{i}" for i in range(9, 400, 31)]
    results = vectors.most_similar_batch(queries, n=7)
    assert len(results) == len(queries)
    for query, got in zip(queries, results):
        assert_same_answers(got, vectors.most_similar(query, n=7))
    restricted = vectors.most_similar_batch(queries, n=7, restrict=100)
    for query, got in zip(queries, restricted):
        assert_same_answers(got, vectors.most_similar(query, n=7, restrict=100))


def test_cli_batch_prints_a_line_per_query(tmp_path, vectors):
    model = tmp_path / "v.fw2v"
    vectors.save(str(model))
    queries = tmp_path / "q.txt"
    queries.write_text("w0\n\n# a comment\nw1 w2\n")
    result = CliRunner().invoke(main, ["similar", "--batch", str(queries), "-m", str(model),
                                       "-n", "3"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().split("\n")
    assert len(lines) == 2 and lines[1].startswith("w1 w2\t")
    got = [pair.split(" ")[0] for pair in lines[0].split("\t")[1:]]
    assert got == [w for w, _ in vectors.most_similar("w0", n=3)]


def test_cli_batch_names_the_line_of_an_unknown_word(tmp_path, vectors):
    model = tmp_path / "v.fw2v"
    vectors.save(str(model))
    queries = tmp_path / "q.txt"
    queries.write_text("w0\nw1 nosuchword\n")
    result = CliRunner().invoke(main, ["similar", "--batch", str(queries), "-m", str(model)])
    assert_one_line_error(result, f"{queries}: line 2:", "nosuchword")
    result = CliRunner().invoke(main, ["similar", "w0", "--batch", str(queries), "-m",
                                       str(model)])
    assert_one_line_error(result, "not both", code=2)


def test_the_batch_s_products_run_on_one_blas_thread():
    # On a shared machine OpenBLAS's waiting workers made the batch up to four times
    # slower (benchmarks/RESULTS.md): the limit must really reach the BLAS numpy uses.
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with batch.one_blas_thread():
        blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    assert blas and all(p["num_threads"] == 1 for p in blas)
