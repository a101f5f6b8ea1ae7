"""What a new user tripped on: a bare command, the resume hint, the model option,
outputs that cannot be created, number style, and the summaries."""

import os

import pytest
from cli_helpers import assert_one_line_error
from click.testing import CliRunner

import fastw2v
from fastw2v.cli import main
from fastw2v.config import DEFAULT_MODEL_PATH
from fastw2v.formats.files import check_writable_path


def run(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


def test_bare_command_prints_the_formatted_help():
    bare = run()
    assert bare.exit_code == 0, bare.output
    assert "Error" not in bare.output
    assert bare.stdout == run("--help").stdout
    # Formatted: the usage line, then the commands one per line.
    assert bare.stdout.startswith("Usage: ")
    assert any(line.split()[:1] == ["similar"] for line in bare.stdout.splitlines())


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_an_output_no_file_can_be_created_in_is_refused_before_training(tmp_path,
                                                                       small_corpus):
    # os.access says root may write in /proc; only creating a file tells the truth.
    result = run("train", small_corpus, "--min-count", "1", "-o", "/proc/v.fw2v")
    assert_one_line_error(result, "--output /proc/v.fw2v", "folder /proc", code=1)
    result = run("train", small_corpus, "--min-count", "1", "-o", tmp_path / "v.fw2v",
                 "--save-vocab", "/proc/vocab.txt")
    assert_one_line_error(result, "--save-vocab /proc/vocab.txt", code=1)
    assert not (tmp_path / "v.fw2v").exists()


def test_checking_an_output_leaves_its_folder_as_it_was(tmp_path):
    (tmp_path / "v.fw2v").write_bytes(b"previous model")
    check_writable_path(str(tmp_path / "v.fw2v"), "--output")
    check_writable_path(str(tmp_path / "new.fw2v"), "--output")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.fw2v"]
    assert (tmp_path / "v.fw2v").read_bytes() == b"previous model"


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A small native model, for the commands that read one."""
    folder = tmp_path_factory.mktemp("model")
    corpus = folder / "small.txt"
    corpus.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 50)
    path = folder / "m.fw2v"
    fastw2v.train(str(corpus), min_count=1, dim=8, epochs=1, threads=1).save(str(path))
    return path


def command_reading_a_model(name):
    """The arguments of command `name` that make it read its model, the model left out."""
    return {"similar": ["cat"], "analogy": ["cat", "dog", "mat"], "score": ["cat", "dog"],
            "evaluate": ["--similarity", "pairs.txt"], "info": [], "plot": ["cat"]}[name]


@pytest.mark.parametrize("name", ["similar", "analogy", "score", "evaluate", "info", "plot"])
def test_every_command_reading_a_model_takes_it_with_m_and_the_same_default(
        tmp_path, monkeypatch, model_file, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pairs.txt").write_text("cat dog 5\n")
    option = next(p for p in main.commands[name].params if "--model" in p.opts)
    assert "-m" in option.opts and option.default == DEFAULT_MODEL_PATH
    missing = run(name, *command_reading_a_model(name))
    assert_one_line_error(missing, f"{DEFAULT_MODEL_PATH}: no such model file",
                          "name a model with -m", code=1)
    for flag in ("-m", "--model"):
        result = run(name, *command_reading_a_model(name), flag, model_file)
        assert "no such model" not in result.output
        if name != "plot":  # plot may lack matplotlib; it reached the model all the same
            assert result.exit_code == 0, result.output


def test_info_still_takes_the_model_as_its_argument(model_file):
    assert run("info", model_file).stdout == run("info", "-m", model_file).stdout
    assert run("info", model_file, "-m", model_file).exit_code == 0
    other = run("info", model_file, "-m", "other.fw2v")
    assert_one_line_error(other, "two models given", code=2)


def test_score_in_the_old_form_still_works_and_says_how_to_write_it(model_file):
    new = run("score", "-m", model_file, "cat", "dog", "the")
    old = run("score", model_file, "cat", "dog", "the")
    assert old.exit_code == 0, old.output
    assert old.stdout == new.stdout
    assert old.stderr.startswith("warning: ") and f"score -m {model_file}" in old.stderr
    assert new.stderr == ""


@pytest.mark.parametrize("options, api, cli", [
    ({"dim": 0}, "dim must be at least 1 (got 0)", "--dim must be at least 1 (got 0)"),
    ({"min_alpha": 0.5, "alpha": 0.1}, "min_alpha (0.5) must not exceed alpha (0.1)",
     "--min-alpha (0.5) must not exceed --alpha (0.1)"),
    ({"loss": "nce", "nce_gamma": "per-word", "architecture": "cbow"},
     "nce_gamma='per-word' needs skip-gram", "--nce-gamma per-word needs skip-gram"),
])
def test_config_errors_name_parameters_in_python_and_options_on_the_command_line(
        small_corpus, options, api, cli):
    with pytest.raises(fastw2v.ConfigError) as raised:
        fastw2v.train(small_corpus, min_count=1, **options)
    assert str(raised.value).startswith(api)
    assert "--" not in str(raised.value)
    assert raised.value.cli_message.startswith(cli)


def test_the_command_line_reports_config_errors_with_its_options(tmp_path, small_corpus):
    result = run("train", small_corpus, "-o", tmp_path / "v.fw2v", "--alpha", "0.1",
                 "--min-alpha", "0.5")
    assert_one_line_error(result, "--min-alpha (0.5) must not exceed --alpha (0.1)", code=1)
    result = run("train", small_corpus, "-o", tmp_path / "v.fw2v", "--cbow", "--loss",
                 "nce", "--nce-gamma", "per-word")
    assert_one_line_error(result, "--nce-gamma per-word needs skip-gram", code=1)
