"""Analogy accuracy and similarity Spearman: file parsing, hand-checked cases, and
agreement with gensim and scipy on vectors trained here."""

import itertools
import random

import numpy as np
import pytest
from gensim.models import KeyedVectors
from scipy.stats import spearmanr

import fastw2v
from fastw2v.queries.evaluate import (
    EvaluationFileError,
    evaluate_analogies,
    evaluate_similarity,
    rank_average,
    read_analogies,
    read_similarity_pairs,
    spearman,
)
from fastw2v.queries.vectors import Vectors
from fastw2v.text import synthetic


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return str(path)


# ---------------------------------------------------------------------------------------
# Spearman
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_spearman_agrees_with_scipy_ties_included(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 300))
    x = rng.integers(0, 10, n).astype(float)  # many ties
    y = x + rng.normal(0, 3, n)
    y[: n // 4] = np.round(y[: n // 4])
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)


def test_rank_average_shares_ranks_of_ties():
    assert rank_average(np.array([10, 20, 20, 5, 20])).tolist() == [2, 4, 4, 1, 4]


def test_spearman_undefined_cases():
    assert spearman(np.array([1.0]), np.array([2.0])) is None
    assert spearman(np.array([1.0, 1.0, 1.0]), np.array([1.0, 2.0, 3.0])) is None
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])) == -1.0


# ---------------------------------------------------------------------------------------
# Reading the files
# ---------------------------------------------------------------------------------------

def test_read_analogies_sections_and_tolerated_variants(tmp_path):
    path = write(tmp_path, "q.txt", "\ufeffa b c d\r\n: capital\r\n\r\nAthens Greece Oslo "
                                    "Norway  \n: gram1-plural\nx y z w")
    sections = read_analogies(path)
    assert [name for name, _ in sections] == ["q.txt", "capital", "gram1-plural"]
    assert sections[1][1] == [(4, "Athens", "Greece", "Oslo", "Norway")]


@pytest.mark.parametrize("text, fragment", [
    (": s\na b c\n", "line 2: expected a question of 4 words"),
    (": s\na b c d e\n", "line 2: expected a question of 4 words"),
    (":\na b c d\n", "line 1: section header"),
    (": s\n\n", "holds no analogy question"),
    (b": s\n\xff b c d\n", "line 2: not valid UTF-8"),
])
def test_read_analogies_refuses_malformed_files(tmp_path, text, fragment):
    path = write(tmp_path, "bad.txt", text)
    with pytest.raises(EvaluationFileError) as info:
        read_analogies(path)
    assert str(info.value).startswith(f"{path}: ")
    assert fragment in str(info.value)


def test_read_similarity_pairs_tabs_spaces_comments(tmp_path):
    path = write(tmp_path, "s.txt", "# word1 word2 score\ntiger\tcat\t7.35\r\n\n"
                                    "  # indented comment\nbook paper 7.46 \nA\t B \t1e1\n")
    assert read_similarity_pairs(path) == [(2, "tiger", "cat", 7.35),
                                           (5, "book", "paper", 7.46), (6, "A", "B", 10.0)]


@pytest.mark.parametrize("text, fragment", [
    ("a b\n", "line 1: expected 'word1 word2 score'"),
    ("a b 1\na b c 2\n", "line 2: expected 'word1 word2 score'"),
    ("a\tb\tmany\n", "line 1: score 'many' is not a number"),
    ("a b nan\n", "line 1: score 'nan' is not a finite number"),
    ("# only a comment\n", "holds no 'word1 word2 score' pair"),
])
def test_read_similarity_refuses_malformed_files(tmp_path, text, fragment):
    path = write(tmp_path, "bad.txt", text)
    with pytest.raises(EvaluationFileError) as info:
        read_similarity_pairs(path)
    assert fragment in str(info.value)


def test_missing_evaluation_file(tmp_path):
    with pytest.raises(EvaluationFileError, match="no such file"):
        read_analogies(str(tmp_path / "missing.txt"))


# ---------------------------------------------------------------------------------------
# Hand-checked analogies
# ---------------------------------------------------------------------------------------

def toy_vectors():
    # Unit vectors on a parallelogram: woman - man + king = queen exactly. "Queen" is a
    # rarer spelling of "queen"; "rare" lies near queen but is the 7th word.
    s = 2 ** -0.5
    words = ["man", "woman", "king", "queen", "apple", "Queen", "rare"]
    vectors = np.array([[s, 0, s, 0, 0], [0, s, s, 0, 0], [s, 0, 0, s, 0], [0, s, 0, s, 0],
                        [0, 0, 0, 0, 1], [-s, -s, 0, 0, 0], [0, 0.6, 0, 0.6, 0.2]],
                       dtype=np.float32)
    return Vectors(words, vectors)


def test_analogies_by_hand(tmp_path):
    path = write(tmp_path, "q.txt", ": royal\nman woman king queen\nMAN WOMAN KING QUEEN\n"
                                    "man woman king apple\nman woman king unicorn\n"
                                    ": gram-x\nking queen man woman\nman king woman rare\n")
    result = evaluate_analogies(toy_vectors(), path, restrict=6)
    royal, gram = result.sections
    assert (royal.correct, royal.answered, royal.skipped) == (2, 3, 1)
    assert (gram.correct, gram.answered, gram.skipped) == (1, 1, 1)  # "rare" is 7th
    assert result.overall.correct == 3 and result.overall.answered == 4
    assert result.semantic.answered == 3 and result.syntactic.answered == 1
    assert result.overall.accuracy == 0.75


def test_other_spellings_of_the_question_words_are_never_the_answer(tmp_path):
    words = ["a", "b", "c", "d", "B"]
    vectors = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.1, 0.5, 0.5], [-1, 1, 1]],
                       dtype=np.float32)  # "B" is nearest to b - a + c
    path = write(tmp_path, "q.txt", ": s\na b c d\n")
    result = evaluate_analogies(Vectors(words, vectors), path)
    assert result.overall.correct == 1
    assert Vectors(words, vectors).analogy("a", "b", "c", n=1)[0][0] == "B"


def test_split_reported_only_when_both_kinds_present(tmp_path):
    path = write(tmp_path, "q.txt", ": one\nman woman king queen\n: two\nking queen man woman\n")
    result = evaluate_analogies(toy_vectors(), path)
    assert result.semantic is None and result.syntactic is None
    assert result.to_dict()["overall"]["accuracy"] == 1.0


def test_3cosmul_matches_a_numpy_oracle(tmp_path):
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(50)]
    matrix = rng.standard_normal((50, 8)).astype(np.float32)
    vectors = Vectors(words, matrix)
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    a, b, c = unit[3], unit[7], unit[11]
    shifted = [(1 + unit @ v) / 2 for v in (a, b, c)]
    score = shifted[1] * shifted[2] / (shifted[0] + 1e-3)
    score[[3, 7, 11]] = -np.inf
    expected = [words[i] for i in np.argsort(-score)[:5]]
    got = vectors.analogy("w3", "w7", "w11", n=5, method="3cosmul")
    assert [w for w, _ in got] == expected
    np.testing.assert_allclose([s for _, s in got], np.sort(score)[::-1][:5], rtol=1e-5)


# ---------------------------------------------------------------------------------------
# Agreement with gensim and scipy on trained vectors
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(synthetic_corpus, tmp_path_factory):
    """Vectors trained on the synthetic corpus, as a word2vec binary and loaded by both."""
    corpus, _ = synthetic_corpus
    model = fastw2v.train(corpus, dim=32, epochs=2, threads=2, min_count=5, seed=3)
    path = str(tmp_path_factory.mktemp("trained") / "v.bin")
    model.save(path)
    return path, Vectors.load(path), KeyedVectors.load_word2vec_format(path, binary=True)


def planted_analogies(path, seed=0):
    """Questions from the synthetic corpus: plurals (syntactic), topic verbs (semantic),
    with some upper-case questions and some unknown words."""
    rng = random.Random(seed)
    nouns = {t: p["nouns"] for t, p in synthetic.TOPICS.items()}
    verbs = {t: p["verbs"] for t, p in synthetic.TOPICS.items()}
    lines = [": topic-verbs"]
    for t1, t2 in itertools.permutations(nouns, 2):
        for _ in range(4):
            lines.append(f"{rng.choice(nouns[t1])} {rng.choice(verbs[t1])} "
                         f"{rng.choice(nouns[t2])} {rng.choice(verbs[t2])}")
    lines.append(": gram-plural")
    all_nouns = [n for group in nouns.values() for n in group]
    for a, c in itertools.permutations(all_nouns, 2):
        if rng.random() < 0.25:
            line = f"{a} {synthetic.plural(a)} {c} {synthetic.plural(c)}"
            lines.append(line.upper() if rng.random() < 0.2 else line)
    lines += ["apple apples unicorn unicorns", "dog dogs cat kittens"]
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("restrict", [30000, 170])
def test_analogy_accuracy_agrees_with_gensim(tmp_path, trained, restrict):
    _, vectors, kv = trained
    questions = planted_analogies(str(tmp_path / "q.txt"))
    ours = evaluate_analogies(vectors, questions, restrict=restrict)
    score, sections = kv.evaluate_word_analogies(questions, restrict_vocab=restrict)
    total = sections[-1]
    assert ours.overall.answered == len(total["correct"]) + len(total["incorrect"])
    assert ours.overall.answered > 50
    if restrict < len(vectors):
        assert ours.overall.skipped > 50
    assert 100 * ours.overall.accuracy == pytest.approx(100 * score, abs=0.1)
    for mine, theirs in zip(ours.sections, sections):
        assert mine.name == theirs["section"]
        assert mine.correct == pytest.approx(len(theirs["correct"]), abs=1)


def test_similarity_spearman_agrees_with_scipy(tmp_path, trained):
    _, vectors, kv = trained
    rng = np.random.default_rng(0)
    words = vectors.words[:80]
    lines, human, theirs = ["# generated pairs"], [], []
    for _ in range(150):
        w1, w2 = rng.choice(words, 2, replace=False)
        score = float(rng.integers(0, 11))  # ties, as real sets have
        lines.append(f"{w1.upper()}\t{w2}\t{score}")
        human.append(score)
        theirs.append(kv.similarity(w1, w2))
    lines += ["unicorn\tapple\t3", "apple pegasus 4"]
    result = evaluate_similarity(vectors, write(tmp_path, "s.txt", "\n".join(lines)))
    assert (result.pairs, result.used, result.skipped) == (152, 150, 2)
    assert result.skipped_words == ["unicorn", "pegasus"]
    assert result.spearman == pytest.approx(spearmanr(human, theirs).statistic, abs=1e-6)


def test_phrase_analogies_match_phrase_tokens_case_insensitively(tmp_path):
    # questions-phrases.txt style: mixed case, phrases joined by '_', as `fastw2v
    # phrases` writes them (lower-case here, as a lower-cased corpus gives).
    words = ["boston", "boston_globe", "detroit", "detroit_free_press", "new_york",
             "new_york_times", "filler"]
    vectors = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 1, 1, 0],
                        [0, 0, 0, 1], [0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]], dtype=np.float32)
    path = write(tmp_path, "phrases.txt",
                 ": newspapers\nBoston Boston_Globe Detroit Detroit_Free_Press\n"
                 "Boston Boston_Globe New_York New_York_Times\n"
                 "Boston Boston_Globe Chicago Chicago_Tribune\n")
    result = evaluate_analogies(Vectors(words, vectors), path)
    assert (result.overall.correct, result.overall.answered, result.overall.skipped) == (2, 2, 1)
