"""The query commands (similar, analogy, evaluate, info, plot, convert) through CliRunner:
their output, their agreement with gensim and scipy, and every kind of bad input."""

import json
import sys

import click
import numpy as np
import pytest
from click.testing import CliRunner
from gensim.models import KeyedVectors
from scipy.stats import spearmanr

import fastw2v
from fastw2v.cli import main
from fastw2v.config import DEFAULT_MODEL_PATH
from fastw2v.text import synthetic

from cli_helpers import assert_one_line_error

QUERY_COMMANDS = ("similar", "analogy", "evaluate", "info", "plot", "convert", "similarity",
                  "odd-one-out", "classes")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def models(synthetic_corpus, tmp_path_factory):
    """One trained model in the native and the word2vec binary format, and gensim's view."""
    corpus, _ = synthetic_corpus
    folder = tmp_path_factory.mktemp("models")
    model = fastw2v.train(corpus, dim=32, epochs=2, threads=2, seed=7)
    native, binary = folder / "v.fw2v", folder / "v.bin"
    model.save(str(native))
    model.save(str(binary))
    kv = KeyedVectors.load_word2vec_format(str(binary), binary=True)
    return {"native": native, "bin": binary, "kv": kv, "model": model}


def table_rows(output):
    """The rows of a table under its header line, split at runs of spaces."""
    return [line.split() for line in output.strip().splitlines()[1:]]


def test_every_query_command_has_help():
    for name in QUERY_COMMANDS:
        assert main.commands[name].help, name
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert "Usage:" in result.output
        for param in main.commands[name].params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.opts}"


# ---------------------------------------------------------------------------------------
# similar
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["native", "bin"])
def test_similar_table_matches_gensim(models, fmt):
    result = run("similar", "apple", "-m", models[fmt])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split() == ["rank", "word", "cosine"]
    rows = table_rows(result.output)
    expected = models["kv"].most_similar("apple", topn=10)
    assert [int(r[0]) for r in rows] == list(range(1, 11))
    assert [r[1] for r in rows] == [w for w, _ in expected]
    np.testing.assert_allclose([float(r[2]) for r in rows], [s for _, s in expected],
                               atol=6e-5)


def test_similar_json_with_minus_matches_gensim(models):
    result = run("similar", "apples", "dog", "--minus", "apple", "-n", "5", "--json",
                 "-m", models["native"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["positive"] == ["apples", "dog"] and data["negative"] == ["apple"]
    expected = models["kv"].most_similar(positive=["apples", "dog"], negative=["apple"],
                                         topn=5)
    assert [n["word"] for n in data["neighbours"]] == [w for w, _ in expected]
    np.testing.assert_allclose([n["cosine"] for n in data["neighbours"]],
                               [s for _, s in expected], atol=1e-5)
    assert data["neighbours"][0]["word"] == "dogs"


def test_similar_leaves_out_the_query_words_and_restricts(models):
    result = run("similar", "apple", "banana", "-n", "50", "--json", "-m", models["bin"])
    words = [n["word"] for n in json.loads(result.stdout)["neighbours"]]
    assert len(words) == 50 and "apple" not in words and "banana" not in words
    result = run("similar", "apple", "--restrict", "20", "--json", "-m", models["bin"])
    top20 = set(models["kv"].index_to_key[:20])
    assert {n["word"] for n in json.loads(result.stdout)["neighbours"]} <= top20


def test_train_then_similar_with_the_default_model(tmp_path, small_corpus, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("train", small_corpus, "--min-count", "1", "-q", "--epochs", "1")
    assert result.exit_code == 0, result.output
    assert (tmp_path / DEFAULT_MODEL_PATH).exists()
    result = run("similar", "cat", "-n", "3")
    assert result.exit_code == 0, result.output
    assert len(table_rows(result.output)) == 3
    result = run("info")
    assert result.exit_code == 0 and DEFAULT_MODEL_PATH in result.output


def test_similar_non_ascii_words_stay_aligned(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("3 2\n東京都 1 0\nb 0.9 0.1\nnaïve 0.8 0.3\n", encoding="utf-8")
    result = run("similar", "b", "-m", path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # the cosine column ends at the same display column on every line (東京都 is 6 wide)
    ends = [len(line) + sum(1 for ch in line if ch in "東京都") for line in lines]
    assert len(set(ends)) == 1, lines


# ---------------------------------------------------------------------------------------
# analogy
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_analogy_finds_the_planted_plural(models, method):
    result = run("analogy", "apple", "apples", "dog", "--method", method, "-m", models["bin"])
    assert result.exit_code == 0, result.output
    rows = table_rows(result.output)
    assert len(rows) == 5 and rows[0][1] == "dogs"
    assert result.output.split()[2] == ("cosine" if method == "3cosadd" else "score")


@pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")
def test_analogy_json_agrees_with_gensim(models):
    kv = models["kv"]
    result = run("analogy", "cars", "car", "violins", "-n", "3", "--json", "-m", models["bin"])
    data = json.loads(result.stdout)
    expected = kv.most_similar(positive=["car", "violins"], negative=["cars"], topn=3)
    assert [a["word"] for a in data["answers"]] == [w for w, _ in expected]
    np.testing.assert_allclose([a["score"] for a in data["answers"]],
                               [s for _, s in expected], atol=1e-5)
    result = run("analogy", "cars", "car", "violins", "--method", "3cosmul", "--json",
                 "-m", models["bin"])
    cosmul = kv.most_similar_cosmul(positive=["car", "violins"], negative=["cars"], topn=1)
    assert json.loads(result.stdout)["answers"][0]["word"] == cosmul[0][0]


# ---------------------------------------------------------------------------------------
# evaluate
# ---------------------------------------------------------------------------------------

def write_questions(path):
    nouns = [n for topic in synthetic.TOPICS.values() for n in topic["nouns"]]
    lines = [": family-like"]
    lines += [f"{a} {synthetic.plural(a)} {c} {synthetic.plural(c)}"
              for a, c in zip(nouns[:20], nouns[20:40])]
    lines.append(": gram-plural")
    lines += [f"{synthetic.plural(a)} {a} {synthetic.plural(c)} {c}".upper()
              for a, c in zip(nouns[::2], nouns[1::2])]
    lines += ["apple apples unicorn unicorns"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_pairs(path, words, seed=0):
    # Distinct words in each pair: a word with itself has cosine 1 up to rounding, and
    # such near-ties would rank by float32 noise in gensim's cosines.
    rng = np.random.default_rng(seed)
    pairs = [(*rng.choice(words, 2, replace=False), int(rng.integers(0, 11)))
             for _ in range(120)]
    text = "# word1\tword2\tscore\n" + "".join(f"{a}\t{b}\t{s}\n" for a, b, s in pairs)
    path.write_text(text + "dragon\tapple\t2\n", encoding="utf-8")
    return path, pairs


def test_evaluate_table(models, tmp_path):
    questions = write_questions(tmp_path / "q.txt")
    pairs, _ = write_pairs(tmp_path / "s.txt", models["kv"].index_to_key[:60])
    result = run("evaluate", "-m", models["native"], "--analogies", questions,
                 "--similarity", pairs)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("analogies: ") and "case-insensitive" in lines[0]
    assert lines[1].split() == ["section", "correct", "answered", "skipped", "accuracy"]
    names = [line.split()[0] for line in lines[2:7]]
    assert names == ["family-like", "gram-plural", "semantic", "syntactic", "overall"]
    overall = lines[6].split()
    assert overall[3] == "1"  # the unicorn question
    assert lines[lines.index("") + 2].split()[:2] == ["file", "pairs"]
    similarity = lines[lines.index("") + 3].split()
    assert similarity[1:4] == ["121", "120", "1"]


def test_evaluate_agrees_with_gensim_and_scipy(models, tmp_path):
    kv = models["kv"]
    questions = write_questions(tmp_path / "q.txt")
    pairs, listed = write_pairs(tmp_path / "s.txt", kv.index_to_key[:60])
    for restrict in (30000, 150):
        result = run("evaluate", "-m", models["bin"], "--analogies", questions,
                     "--similarity", pairs, "--restrict", restrict, "--json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        score, sections = kv.evaluate_word_analogies(str(questions), restrict_vocab=restrict)
        overall = data["analogies"][0]["overall"]
        answered = len(sections[-1]["correct"]) + len(sections[-1]["incorrect"])
        assert overall["answered"] == answered > 0
        assert 100 * overall["accuracy"] == pytest.approx(100 * score, abs=0.1)
    rho = spearmanr([s for _, _, s in listed],
                    [kv.similarity(a, b) for a, b, _ in listed]).statistic
    assert data["similarity"][0]["spearman"] == pytest.approx(rho, abs=1e-6)
    assert data["similarity"][0]["skipped"] == 1


@pytest.mark.parametrize("text, fragment", [
    (": s\napple apples dog\n", "q.txt: line 2: expected a question of 4 words"),
    (b": s\napple apples dog \xffdogs\n", "q.txt: line 2: not valid UTF-8"),
])
def test_evaluate_refuses_a_malformed_analogy_file(models, tmp_path, text, fragment):
    path = tmp_path / "q.txt"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    result = run("evaluate", "-m", models["bin"], "--analogies", path)
    assert_one_line_error(result, fragment, code=1)


def test_evaluate_refuses_a_malformed_similarity_file(models, tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("apple\tbanana\t5\napple banana high\n", encoding="utf-8")
    result = run("evaluate", "-m", models["bin"], "--similarity", path)
    assert_one_line_error(result, "s.txt: line 2: score 'high' is not a number", code=1)


def test_evaluate_needs_a_file_that_exists(models, tmp_path):
    assert_one_line_error(run("evaluate", "-m", models["bin"]), "nothing to evaluate",
                          code=2)
    result = run("evaluate", "-m", models["bin"], "--analogies", tmp_path / "none.txt")
    assert_one_line_error(result, "none.txt", "does not exist", code=2)


# ---------------------------------------------------------------------------------------
# info
# ---------------------------------------------------------------------------------------

def test_info_native_shows_training_settings(models):
    result = run("info", models["native"])
    assert result.exit_code == 0, result.output
    fields = {line[:14].strip(): line[14:].strip() for line in result.output.splitlines()}
    assert fields["format"] == "fastw2v native, version 1"
    assert fields["words"] == f"{len(models['model'].words):,}"
    assert fields["dimension"] == "32"
    assert "--sg" in fields["trained with"] and "--dim 32" in fields["trained with"]
    assert "--seed 7" in fields["trained with"]
    assert len(fields["loss by epoch"].split()) == 2


def test_info_word2vec_and_json(models):
    result = run("info", models["bin"])
    assert result.exit_code == 0
    assert "word2vec binary" in result.output and "not recorded" in result.output
    data = json.loads(run("info", models["native"], "--json").stdout)
    assert data["format"] == "native" and data["dim"] == 32
    assert data["metadata"]["training"]["epochs"] == 2
    assert data["tokens"] == int(models["model"].vocab.counts.sum())


# ---------------------------------------------------------------------------------------
# plot
# ---------------------------------------------------------------------------------------

def test_plot_writes_a_png(models, tmp_path):
    out = tmp_path / "map.png"
    result = run("plot", "apple", "dog", "guitar", "-k", "4", "-o", out, "-m", models["bin"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "15 words" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.png"]


def test_plot_leaves_out_unknown_words_with_a_warning(models, tmp_path):
    out = tmp_path / "map.svg"
    result = run("plot", "apple", "aple", "-o", out, "-m", models["bin"])
    assert result.exit_code == 0, result.output
    assert "warning: 'aple' is not in the vocabulary" in result.stderr
    assert "apple" in result.stderr  # suggested
    assert out.read_text().lstrip().startswith("<?xml")


def test_plot_with_no_known_word(models, tmp_path):
    result = run("plot", "unicorn", "pegasus", "-o", tmp_path / "m.png", "-m", models["bin"])
    assert_one_line_error(result, "nothing to plot", "unicorn", code=1)
    assert not (tmp_path / "m.png").exists()


def test_plot_without_matplotlib_says_how_to_install(models, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    result = run("plot", "apple", "-o", tmp_path / "m.png", "-m", models["bin"])
    assert_one_line_error(result, "matplotlib", "pip install 'fastw2v[plot]'", code=1)


def test_plot_refuses_unknown_picture_formats(models, tmp_path):
    result = run("plot", "apple", "-o", tmp_path / "m.gif", "-m", models["bin"])
    assert_one_line_error(result, "--output", ".png", code=2)


# ---------------------------------------------------------------------------------------
# convert
# ---------------------------------------------------------------------------------------

def test_convert_round_trip_through_every_format(models, tmp_path):
    original = models["model"].vectors
    steps = [(models["native"], tmp_path / "a.bin"), (tmp_path / "a.bin", tmp_path / "a.txt"),
             (tmp_path / "a.txt", tmp_path / "b.fw2v"), (tmp_path / "b.fw2v", tmp_path / "c.vec")]
    for source, target in steps:
        result = run("convert", source, target)
        assert result.exit_code == 0, result.output
        assert "converted" in result.stderr
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "a.bin"), binary=True)
    assert kv.index_to_key == models["model"].words
    assert kv.vectors.tobytes() == original.tobytes()
    back = fastw2v.Vectors.load(str(tmp_path / "b.fw2v"))
    assert back.words == models["model"].words
    np.testing.assert_allclose(back.vectors, original, rtol=1e-5, atol=1e-7)
    assert "not recorded" not in run("info", tmp_path / "b.fw2v").output


def test_convert_explicit_formats_and_same_file(models, tmp_path):
    target = tmp_path / "model.data"
    assert run("convert", models["bin"], target, "--to", "text").exit_code == 0
    assert target.read_text(encoding="utf-8").startswith(f"{len(models['kv'])} 32\n")
    assert run("convert", target, target, "--to", "native").exit_code == 0
    assert fastw2v.Vectors.load(str(target)).format == "native"


def test_convert_bad_paths(models, tmp_path):
    assert_one_line_error(run("convert", tmp_path / "none.bin", tmp_path / "x.bin"),
                          "none.bin: no such file", code=1)
    result = run("convert", models["bin"], tmp_path / "no" / "x.bin")
    assert_one_line_error(result, "does not exist", code=1)


# ---------------------------------------------------------------------------------------
# Bad input common to the commands
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["similar", "apple"], ["analogy", "a", "b", "c"],
                                     ["evaluate", "--similarity", __file__], ["info"],
                                     ["plot", "apple"]])
def test_missing_default_model_says_how_to_make_one(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    result = run(*command)
    assert_one_line_error(result, f"{DEFAULT_MODEL_PATH}: no such model file",
                          "fastw2v train", code=1)


def test_missing_named_model(tmp_path):
    assert_one_line_error(run("similar", "x", "-m", tmp_path / "nope.fw2v"),
                          "nope.fw2v: no such model file", code=1)


@pytest.mark.parametrize("content, fragment", [
    (b"just some text\n", "not a vector file"),
    (b"", "not a vector file"),
    (b"\x89FW2V\r\n\x1a" + b"\0" * 20, "header"),
    (b"2 3\na 1 2 3\n", "header announces 2 words, file has 1"),
])
def test_file_that_is_not_a_model(tmp_path, content, fragment):
    path = tmp_path / "model.fw2v"
    path.write_bytes(content)
    for command in (["similar", "a"], ["info"]):
        result = run(*command, "-m", path)
        assert_one_line_error(result, str(path), fragment, code=1)


def test_folder_is_not_a_model(tmp_path):
    assert_one_line_error(run("similar", "a", "-m", tmp_path), "is a folder", code=1)


def test_truncated_binary_model(models, tmp_path):
    path = tmp_path / "cut.bin"
    path.write_bytes(models["bin"].read_bytes()[:-100])
    assert_one_line_error(run("similar", "apple", "-m", path), "cut.bin: vector",
                          "ends early", code=1)


def test_unknown_words_get_spelling_suggestions(models):
    result = run("similar", "aple", "-m", models["native"])
    assert_one_line_error(result, "'aple'", "not in the vocabulary", "closest: apple",
                          code=1)
    result = run("analogy", "apple", "Apples", "xqzv", "-m", models["native"])
    assert_one_line_error(result, "'Apples' (closest: apples", "'xqzv' (nothing close)",
                          code=1)


@pytest.mark.parametrize("command", [["similar", "apple"], ["analogy", "a", "b", "c"]])
def test_zero_results_is_refused(models, command):
    result = run(*command, "-n", "0", "-m", models["bin"])
    assert_one_line_error(result, "'-n' / '--top'", "0 is not in the range", code=2)


def test_unknown_method_is_refused(models):
    result = run("analogy", "a", "b", "c", "--method", "3cosfoo", "-m", models["bin"])
    assert_one_line_error(result, "--method", code=2)


def test_suggestions_prefer_one_edit_and_frequent_words(tmp_path):
    path = tmp_path / "v.txt"
    words = ["the", "king", "ukin", "kin", "kings", "Kign"]
    path.write_text(f"{len(words)} 2\n" + "".join(f"{w} 1 {i}\n" for i, w in enumerate(words)),
                    encoding="utf-8")
    result = run("similar", "kign", "-m", path)
    # other capitalisations first, then one edit away by frequency ("ukin" is two away)
    assert_one_line_error(result, "'kign' (closest: Kign, king, kin)", code=1)


def test_library_queries_match_the_trained_model(models):
    vectors = models["model"].as_vectors()
    loaded = fastw2v.load(str(models["native"]))
    expected = models["model"].most_similar("apple", n=5)
    for got in (vectors.most_similar("apple", n=5), loaded.most_similar("apple", n=5)):
        assert [w for w, _ in got] == [w for w, _ in expected]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], atol=1e-6)
    assert loaded.similarity("apple", "apples") == pytest.approx(
        float(models["kv"].similarity("apple", "apples")), abs=1e-6)
    with pytest.raises(fastw2v.UnknownWordError, match="closest: apple"):
        loaded.most_similar("appel")
