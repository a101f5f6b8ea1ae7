"""The compiled neighbour scan (src/_neighbours.pyx through queries/neighbours.py), each
build, against an independent numpy statement of cosine top-n: float32 and float16
files, restrict, excluded query words, n beyond the vocabulary, exact ties, zero rows."""

import os
import platform

import numpy as np
import pytest

from fastw2v import _neighbours
from fastw2v.errors import FastW2VError
from fastw2v.queries import batch, neighbours
from fastw2v.queries.vectors import Vectors

import neighbour_reference

BUILDS = neighbours.available_builds()
WORDS = [f"w{i}" for i in range(300)]


@pytest.fixture(params=list(BUILDS), autouse=True)
def build(request, monkeypatch):
    """Every test here runs once per build this CPU can run: each is compiled with other
    instructions (the F16C widening only in one), so each can be wrong on its own."""
    monkeypatch.setattr(neighbours, "scan", BUILDS[request.param])
    return request.param


def reference(matrix, positive, negative=(), n=10, restrict=None):
    return neighbour_reference.reference(matrix, WORDS, positive, negative, n, restrict)


def assert_matches(got, want, atol=1e-5):
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=atol)


def random_matrix(seed=3, dim=20):
    return np.random.default_rng(seed).standard_normal((len(WORDS), dim)).astype(np.float32)


@pytest.fixture(params=["float32", "float16"])
def model(request, tmp_path):
    """A native file of the given dtype, loaded (its matrix mapped), and the values it
    holds (float16's rounding included) for the reference."""
    path = str(tmp_path / "v.fw2v")
    Vectors(WORDS, random_matrix()).save(path, dtype=request.param)
    vectors = Vectors.load(path)
    assert vectors.dtype_name == request.param
    return vectors, np.asarray(vectors.vectors, dtype=np.float32)


@pytest.mark.parametrize("positive,negative", [
    (["w0"], []), (["w299"], []), (["w5", "w17"], []), (["w8", "w9"], ["w10"]),
])
@pytest.mark.parametrize("restrict", [None, 150, 3])
def test_most_similar_is_the_cosine_top_n(model, positive, negative, restrict):
    vectors, values = model
    rows = [WORDS.index(w) for w in positive + negative]
    got = vectors.most_similar(positive, negative, n=12, restrict=restrict)
    want = reference(values, rows[:len(positive)], rows[len(positive):], 12, restrict)
    assert_matches(got, want)


def test_n_beyond_the_vocabulary_gives_every_other_word(model):
    vectors, values = model
    got = vectors.most_similar(["w1", "w2"], n=10_000)
    assert len(got) == len(WORDS) - 2
    assert_matches(got, reference(values, [1, 2], n=10_000))
    restricted = vectors.most_similar(["w1", "w2"], n=10_000, restrict=40)
    assert len(restricted) == 38  # the query words are among the first 40
    assert_matches(restricted, reference(values, [1, 2], n=10_000, restrict=40))
    assert vectors.most_similar("w250", n=5, restrict=0) == []


def test_equal_rows_tie_exactly_and_the_more_frequent_comes_first():
    matrix = random_matrix()
    twins = [3, 40, 41, 77, 200, 299]  # copies of row 10, at every kind of place
    matrix[twins] = matrix[10]
    vectors = Vectors(WORDS, matrix)
    got = vectors.most_similar("w10", n=len(twins) + 1)
    assert [w for w, _ in got[:len(twins)]] == [WORDS[r] for r in twins]
    assert len({s for _, s in got[:len(twins)]}) == 1  # the very same float
    assert got[-1][1] < got[0][1]
    # Ties across the cut: the heap keeps the first rows scanned, not any three.
    assert [w for w, _ in vectors.most_similar("w10", n=3)] == ["w3", "w40", "w41"]
    # Against another query the copies tie again, wherever they rank.
    scores = dict(vectors.most_similar("w60", n=len(WORDS)))
    assert len({scores[WORDS[r]] for r in twins + [10]}) == 1
    order = [w for w, _ in vectors.most_similar("w60", n=len(WORDS))]
    assert sorted(order.index(WORDS[r]) for r in twins + [10]) == \
        [order.index(WORDS[r]) for r in [3, 10, 40, 41, 77, 200, 299]]


def test_a_zero_row_scores_zero_and_a_nan_row_never_ranks():
    matrix = random_matrix()
    matrix[7] = 0.0
    matrix[8] = np.nan
    vectors = Vectors(WORDS, matrix)
    got = dict(vectors.most_similar("w0", n=len(WORDS)))
    assert got["w7"] == 0.0
    assert "w8" not in got and len(got) == len(WORDS) - 2
    assert not any(np.isnan(s) for s in got.values())


def test_a_query_that_adds_up_to_zero_is_refused():
    vectors = Vectors(WORDS, random_matrix())
    with pytest.raises(FastW2VError, match="add up to zero"):
        vectors.most_similar(["w4"], ["w4"])


def test_every_finite_half_widens_exactly():
    # Each finite float16 value (subnormals, zeros of both signs, the largest) read back
    # one column at a time: the query e_k picks column k, every other term being 0.
    bits = np.arange(1 << 16, dtype=np.uint16)
    halves = bits.view(np.float16)
    finite = halves[np.isfinite(halves)]
    dim = 256
    matrix = np.zeros((-(-len(finite) // dim), dim), dtype=np.float16)
    matrix.reshape(-1)[:len(finite)] = finite
    want = matrix.astype(np.float32)
    ones = np.ones(len(matrix), dtype=np.float32)
    rows = np.arange(len(matrix), dtype=np.int64)
    got = np.empty(len(matrix), dtype=np.float32)
    for k in range(dim):
        query = np.zeros(dim, dtype=np.float32)
        query[k] = 1.0
        neighbours.scan.score_rows(matrix.view(np.uint16), ones, query,
                                   neighbours.scratch_for(dim), rows, got)
        np.testing.assert_array_equal(got, want[:, k])


def test_scores_of_listed_rows_are_the_scan_s_very_scores(model):
    vectors, _ = model
    query = vectors.query_vector([4], [1.0])
    found = neighbours.nearest(vectors.vectors, vectors._divisors(), query, 20, [4], 300)
    rows = [row for row, _ in found][::-1]
    again = neighbours.scores_of(vectors.vectors, vectors._divisors(), query, rows)
    assert list(again) == [score for _, score in found][::-1]


def test_the_kernel_refuses_arrays_that_do_not_fit():
    matrix = random_matrix()
    divisors = np.ones(len(matrix), dtype=np.float32)
    query = np.zeros(matrix.shape[1], dtype=np.float32)
    scores, rows = neighbours.empty_best(1, 5)
    scratch = neighbours.scratch_for(matrix.shape[1])
    with pytest.raises(ValueError, match="within the matrix"):
        neighbours.scan.scan_top(matrix, divisors, query, scratch, scores[0], rows[0], 0,
                                 len(matrix) + 1)
    with pytest.raises(ValueError, match="query of the rows' length"):
        neighbours.scan.scan_top(matrix, divisors, query[:-1], scratch, scores[0], rows[0],
                                 0, 10)
    with pytest.raises(ValueError, match="not in the matrix"):
        neighbours.scan.score_rows(matrix, divisors, query, scratch,
                                   np.array([len(matrix)], dtype=np.int64),
                                   np.empty(1, dtype=np.float32))


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_batch_gives_the_single_queries_answers_ties_and_all(monkeypatch, dtype):
    monkeypatch.setattr(batch, "BLOCK_ROWS", 29)  # candidates merged across many blocks
    matrix = random_matrix(seed=9)
    matrix[[33, 90, 250]] = matrix[12]
    vectors = Vectors(WORDS, matrix.astype(dtype))
    queries = ["w12", ["w1", "w2"], "w33", "w299"]
    for n, restrict in [(5, None), (400, None), (8, 100), (50, 20)]:
        results = vectors.most_similar_batch(queries, n=n, restrict=restrict)
        for query, got in zip(queries, results):
            want = vectors.most_similar(query, n=n, restrict=restrict)
            assert [w for w, _ in got] == [w for w, _ in want]
            np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=1e-5)
    assert [w for w, _ in vectors.most_similar_batch(["w12"], n=1)[0]] == ["w33"]


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="the AVX2 build exists on x86-64 only")
@pytest.mark.skipif(os.environ.get("FASTW2V_NATIVE") == "1",
                    reason="a FASTW2V_NATIVE=1 build leaves out the AVX2 build (setup.py)")
def test_a_cpu_with_avx2_fma_and_f16c_gets_the_avx2_build(build):
    from fastw2v.cpu import cpu_has

    if not cpu_has("AVX2", "FMA3", "F16C"):
        pytest.skip("this CPU lacks AVX2, FMA or F16C")
    assert BUILDS["baseline"] is _neighbours
    assert BUILDS["avx2"].__name__ == "fastw2v._neighbours_avx2"
