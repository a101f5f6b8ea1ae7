"""`fastw2v similarity` and `fastw2v odd-one-out` (and Vectors.similarity, odd_one_out):
their answers against gensim and against the planted topics of the synthetic corpus,
their JSON, and unknown words."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from gensim.models import KeyedVectors

import fastw2v
from fastw2v.cli import main
from fastw2v.text import synthetic

from cli_helpers import assert_one_line_error


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def models(synthetic_corpus, tmp_path_factory):
    """A model trained on the planted topics, as a native file, and gensim's view of it."""
    corpus, planted = synthetic_corpus
    folder = tmp_path_factory.mktemp("compare")
    model = fastw2v.train(corpus, dim=32, epochs=2, threads=2, seed=7)
    native, binary = folder / "v.fw2v", folder / "v.bin"
    model.save(str(native))
    model.save(str(binary))
    kv = KeyedVectors.load_word2vec_format(str(binary), binary=True)
    return {"native": native, "kv": kv, "vectors": fastw2v.load(str(native)),
            "planted": planted}


def unit_kv(kv):
    """gensim's KeyedVectors holding the unit vectors of `kv`."""
    unit = KeyedVectors(kv.vector_size)
    unit.add_vectors(kv.index_to_key, kv.vectors / np.linalg.norm(kv.vectors, axis=1)[:, None])
    return unit


# ---------------------------------------------------------------------------------------
# similarity
# ---------------------------------------------------------------------------------------

def test_similarity_of_two_words_is_gensims(models):
    kv = models["kv"]
    for a, b in (("apple", "banana"), ("apple", "hammer"), ("dog", "dogs")):
        result = run("similarity", a, b, "-m", models["native"])
        assert result.exit_code == 0, result.output
        assert float(result.output) == pytest.approx(float(kv.similarity(a, b)), abs=6e-5)
        assert models["vectors"].similarity(a, b) == pytest.approx(float(kv.similarity(a, b)),
                                                                   abs=1e-6)


def test_similarity_of_word_lists_is_the_cosine_similar_reports(models):
    vectors = models["vectors"]
    # A list stands for the sum of its unit vectors: the query most_similar makes of it.
    cosine = vectors.similarity(["apples", "dog"], "dogs")
    assert vectors.similarity(["apples", "dog"], ["dogs"]) == cosine
    reported = dict(vectors.most_similar(["apples", "dog"], n=len(vectors)))["dogs"]
    assert reported == pytest.approx(cosine, abs=1e-6)
    assert vectors.similarity(["dog", "apples"], "dogs") == pytest.approx(cosine, abs=1e-12)
    # gensim's n_similarity averages the given vectors; on unit vectors it is the same.
    expected = unit_kv(models["kv"]).n_similarity(["apple", "banana"], ["dog", "cat", "pig"])
    result = run("similarity", "apple banana", "dog  cat\tpig", "--json",
                 "-m", models["native"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["a"] == ["apple", "banana"] and data["b"] == ["dog", "cat", "pig"]
    assert data["cosine"] == pytest.approx(float(expected), abs=1e-5)


def test_similarity_separates_the_planted_topics(models):
    vectors = models["vectors"]
    fruit = synthetic.TOPICS["fruit"]["nouns"]
    tools = synthetic.TOPICS["tools"]["nouns"]
    same = vectors.similarity(fruit[:4], fruit[4:])
    other = vectors.similarity(fruit[:4], tools[:4])
    assert same > other + 0.3, (same, other)


def test_similarity_unknown_and_empty_words(models):
    result = run("similarity", "aple", "banana xqzv", "-m", models["native"])
    assert_one_line_error(result, "'aple' (closest: apple", "'xqzv' (nothing close)", code=1)
    result = run("similarity", "apple", " \t", "-m", models["native"])
    assert_one_line_error(result, "B", "holds no word", code=2)
    with pytest.raises(fastw2v.UnknownWordError, match="closest: apple"):
        models["vectors"].similarity("aple", "apple")
    with pytest.raises(ValueError, match="at least one word"):
        models["vectors"].similarity([], "apple")


# ---------------------------------------------------------------------------------------
# odd-one-out
# ---------------------------------------------------------------------------------------

def test_odd_one_out_is_gensims_doesnt_match(models):
    kv = models["kv"]
    for words in (["apple", "banana", "cherry", "hammer"], ["dog", "cat", "guitar", "pig"],
                  ["car", "truck", "bus", "bike", "violin", "van"]):
        result = run("odd-one-out", *words, "-m", models["native"])
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[0].split() == ["word", "cosine", "to", "the", "mean"]
        rows = [line.split() for line in lines[1:]]
        assert rows[0][0] == kv.doesnt_match(words)
        assert sorted(r[0] for r in rows) == sorted(words)
        cosines = [float(r[1]) for r in rows]
        assert cosines == sorted(cosines)
        assert models["vectors"].odd_one_out(words) == kv.doesnt_match(words)


def test_odd_one_out_finds_the_planted_intruder(models):
    vectors, planted = models["vectors"], models["planted"]
    rng = np.random.default_rng(0)
    topics = list(synthetic.TOPICS)
    found = 0
    for _ in range(30):
        home, away = rng.choice(len(topics), size=2, replace=False)
        members = list(rng.choice(synthetic.TOPICS[topics[home]]["nouns"], 4, replace=False))
        intruder = str(rng.choice(synthetic.TOPICS[topics[away]]["nouns"]))
        words = members + [intruder]
        rng.shuffle(words)
        found += vectors.odd_one_out(words) == intruder
        assert not planted.same_topic(intruder, members[0])
    # Chance is 1 in 5; the topics are planted strongly enough for nearly every trial.
    assert found >= 27, found


def test_odd_one_out_json(models):
    result = run("odd-one-out", "apple", "banana", "saw", "--json", "-m", models["native"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["words"] == ["apple", "banana", "saw"] and data["odd_one_out"] == "saw"
    centrality = dict(models["vectors"].centrality(["apple", "banana", "saw"]))
    assert [e["word"] for e in data["cosine_to_mean"]][0] == "saw"
    for entry in data["cosine_to_mean"]:
        assert entry["cosine"] == pytest.approx(centrality[entry["word"]])


def test_odd_one_out_bad_input(models):
    result = run("odd-one-out", "apple", "banana", "-m", models["native"])
    assert_one_line_error(result, "at least three words (2 given)", code=2)
    result = run("odd-one-out", "apple", "bananna", "hamer", "-m", models["native"])
    assert_one_line_error(result, "words are not in the vocabulary", "'bananna' (closest: "
                          "banana", "'hamer' (closest: hammer", code=1)
    with pytest.raises(ValueError, match="at least three"):
        models["vectors"].odd_one_out(["apple", "banana"])
