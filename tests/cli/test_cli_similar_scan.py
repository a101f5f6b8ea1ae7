"""`fastw2v similar` and `similar --batch` print what they printed before the compiled
scan: the same table and lines, with the words and cosines of a numpy statement of
cosine top-n (tests/neighbour_reference.py), on float32 and float16 files."""

import numpy as np
import pytest
from click.testing import CliRunner

from fastw2v.cli import main
from fastw2v.queries.vectors import Vectors

from neighbour_reference import reference

WORDS = [f"w{i}" for i in range(400)]


@pytest.fixture(scope="module", params=["float32", "float16"])
def model(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("scan") / f"v-{request.param}.fw2v"
    matrix = np.random.default_rng(11).standard_normal((len(WORDS), 24)).astype(np.float32)
    Vectors(WORDS, matrix).save(str(path), dtype=request.param)
    values = np.asarray(Vectors.load(str(path)).vectors, dtype=np.float32)
    return path, values


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.stdout


def assert_pairs(words, cosines, want):
    assert words == [w for w, _ in want]
    np.testing.assert_allclose(cosines, [c for _, c in want], atol=6e-5)


@pytest.mark.parametrize("restrict", [None, 120])
def test_similar_prints_the_table_of_the_cosine_top_n(model, restrict):
    path, values = model
    extra = [] if restrict is None else ["--restrict", restrict]
    out = run("similar", "w3", "w4", "--minus", "w5", "-n", 7, "-m", path, *extra)
    lines = out.strip().splitlines()
    assert lines[0].split() == ["rank", "word", "cosine"]
    rows = [line.split() for line in lines[1:]]
    assert [r[0] for r in rows] == [str(i) for i in range(1, 8)]
    assert all(len(r[2].split(".")[1]) == 4 for r in rows)  # four decimals, as before
    assert_pairs([r[1] for r in rows], [float(r[2]) for r in rows],
                 reference(values, WORDS, [3, 4], [5], 7, restrict))


def test_similar_batch_prints_a_line_a_query_with_the_cosine_top_n(model, tmp_path):
    path, values = model
    queries = tmp_path / "q.txt"
    queries.write_text("w0\n# a comment\n\nw10 w11\nw399\n")
    out = run("similar", "--batch", queries, "-n", 5, "-m", path)
    lines = out.rstrip("\n").split("\n")
    assert [line.split("\t")[0] for line in lines] == ["w0", "w10 w11", "w399"]
    for line, rows in zip(lines, [[0], [10, 11], [399]]):
        pairs = [field.split(" ") for field in line.split("\t")[1:]]
        assert all(len(c.split(".")[1]) == 4 for _, c in pairs)
        assert_pairs([w for w, _ in pairs], [float(c) for _, c in pairs],
                     reference(values, WORDS, rows, n=5))


def test_similar_json_gives_the_full_cosines(model):
    import json

    path, values = model
    data = json.loads(run("similar", "w7", "-n", 4, "-m", path, "--json"))
    found = data["neighbours"]
    assert [x["rank"] for x in found] == [1, 2, 3, 4]
    want = reference(values, WORDS, [7], n=4)
    assert [x["word"] for x in found] == [w for w, _ in want]
    np.testing.assert_allclose([x["cosine"] for x in found], [c for _, c in want], atol=1e-6)
