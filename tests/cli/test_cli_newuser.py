"""What a new user tripped on: a bare command, the resume hint, the model option,
outputs that cannot be created, number style, and the summaries."""

import os
import shlex
import shutil
import struct
import subprocess
import sys

import pytest
from click.testing import CliRunner

import fastw2v
from fastw2v.cli import main
from fastw2v.config import DEFAULT_MODEL_PATH
from fastw2v.formats.files import check_writable_path
from fastw2v.training.trainer import TrainingInterrupted

from cli_helpers import assert_one_line_error, interrupt_training


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
            "evaluate": ["--similarity", "pairs.txt"], "info": [], "plot": ["cat"],
            "similarity": ["cat", "dog"], "odd-one-out": ["cat", "dog", "mat"],
            "classes": ["-k", "2", "-o", "classes.txt"]}[name]


@pytest.mark.parametrize("name", ["similar", "analogy", "score", "evaluate", "info", "plot",
                                  "similarity", "odd-one-out", "classes"])
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


# ---------------------------------------------------------------------------------------
# The resume hint and the summaries
# ---------------------------------------------------------------------------------------

def interrupted_at_once(checkpoint):
    """A stand-in for the trainer that is interrupted after writing `checkpoint`."""
    def train(corpus, **_):
        raise TrainingInterrupted(checkpoint, corpus)
    return train


def test_the_resume_hint_repeats_the_outputs_with_absolute_quoted_paths(
        tmp_path, small_corpus, monkeypatch):
    folder = tmp_path / "my runs' folder"  # a space and a quote, to be shell-quoted
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setattr("fastw2v.cli.training.train_model",
                        interrupted_at_once(str(folder / "run  1.ckpt")))
    result = run("train", small_corpus, "-o", "v.txt", "--format", "bin", "--save-context",
                 "ctx.bin", "--save-vocab", "vocab.txt", "--checkpoint", "run  1.ckpt",
                 "--checkpoint-every", "2e", "--tmp-dir", ".", "-q", "--dim", "8",
                 "--epochs", "3", "--threads", "1", "--cbow")
    assert result.exit_code == 130
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: interrupted; training state saved in {folder}/run  1.ckpt;")
    command = shlex.split(last.split("to finish the run: ", 1)[1])
    assert command == ["fastw2v", "train", small_corpus, "-o", str(folder / "v.txt"),
                       "--format", "bin", "--save-context", str(folder / "ctx.bin"),
                       "--save-vocab", str(folder / "vocab.txt"), "--tmp-dir", str(folder),
                       "--checkpoint-every", "2e", "-q",
                       "--resume", str(folder / "run  1.ckpt")]


def test_the_resume_hint_names_the_default_output_too(tmp_path, small_corpus, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("fastw2v.cli.training.train_model", interrupted_at_once("run.ckpt"))
    result = run("train", small_corpus, "--checkpoint", "run.ckpt")
    command = shlex.split(result.stderr.strip().splitlines()[-1].split(": ", 2)[2])
    assert command == ["fastw2v", "train", small_corpus,
                       "-o", str(tmp_path / DEFAULT_MODEL_PATH),
                       "--resume", str(tmp_path / "run.ckpt")]


@pytest.mark.parametrize("typed, repeated", [("30m", "30m"), ("2h", "2h"), ("90s", "90s"),
                                             ("120s", "2m"), ("1.5h", "90m"), ("3e", "3e")])
def test_the_resume_hint_repeats_the_checkpoint_interval_in_its_unit(
        tmp_path, small_corpus, monkeypatch, typed, repeated):
    monkeypatch.setattr("fastw2v.cli.training.train_model",
                        interrupted_at_once(str(tmp_path / "run.ckpt")))
    result = run("train", small_corpus, "-o", tmp_path / "v.fw2v", "--checkpoint",
                 tmp_path / "run.ckpt", "--checkpoint-every", typed)
    assert f" --checkpoint-every {repeated} --resume " in result.stderr


@pytest.mark.slow
def test_the_resume_hint_run_verbatim_elsewhere_finishes_the_run(tmp_path, synthetic_corpus):
    folder = tmp_path / "the run's folder"
    folder.mkdir()
    corpus = folder / "corpus.txt"
    shutil.copy(synthetic_corpus[0], corpus)
    status, stderr = interrupt_training(
        ["corpus.txt", "-o", "v.fw2v", "--save-vocab", "vocab.txt", "--checkpoint",
         "run.ckpt", "--threads", "1", "--epochs", "16", "--dim", "32"], folder, "SIGINT")
    assert status == 130, stderr
    hint = stderr.strip().splitlines()[-1].split("to finish the run: ", 1)[1]
    # Run the hint as the user would paste it, through a shell, from another folder,
    # with `fastw2v` standing for this interpreter's fastw2v.
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    (bin_folder / "fastw2v").write_text(
        f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -c "
        f"'from fastw2v.cli import main; main()' \"$@\"\n")
    (bin_folder / "fastw2v").chmod(0o755)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = dict(os.environ, PATH=f"{bin_folder}{os.pathsep}{os.environ['PATH']}",
               PYTHONPATH=os.path.dirname(os.path.dirname(fastw2v.__file__)))
    finished = subprocess.run(hint, shell=True, cwd=elsewhere, env=env,
                              capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in folder.iterdir()) == ["corpus.txt", "v.fw2v", "vocab.txt"]
    assert fastw2v.load(str(folder / "v.fw2v")).metadata["training"]["epochs"] == 16


def model_resumed_in_epoch_2(corpus):
    """A stand-in for the trainer returning a run resumed halfway, in epoch 2 of 2."""
    def train(*_, **__):
        model = fastw2v.train(corpus, min_count=1, dim=8, epochs=2, threads=1)
        model.stats.resumed_epoch, model.stats.resumed_share = 2, 0.5
        return model
    return train


def test_a_resumed_run_says_its_time_and_speed_cover_the_resumed_part(
        tmp_path, small_corpus, monkeypatch):
    fresh = run("train", small_corpus, "-o", tmp_path / "fresh.fw2v", "--min-count", "1",
                "--epochs", "2")
    assert "resuming" not in fresh.stderr and "resumed part" not in fresh.stderr
    monkeypatch.setattr("fastw2v.cli.training.train_model", model_resumed_in_epoch_2(small_corpus))
    result = run("train", small_corpus, "-o", tmp_path / "v.fw2v", "--resume", "run.ckpt")
    assert result.exit_code == 0, result.output
    summary = result.stderr.strip().splitlines()[-1]
    # The whole run's words: 600 in-vocabulary tokens a pass, 2 passes.
    assert "1,200 words trained in 2 epochs (50% before resuming in epoch 2)" in summary
    assert "| resumed part: " in summary and " words/s |" in summary


def test_a_resumed_run_from_the_command_line_says_where_it_took_up(tmp_path, small_corpus):
    checkpoint = tmp_path / "run.ckpt"  # at the start of the second of two epochs
    fastw2v.train(small_corpus, checkpoint=str(checkpoint), checkpoint_every="1e", epochs=2,
                  min_count=1, threads=1)
    result = run("train", small_corpus, "--resume", checkpoint, "-o", tmp_path / "v.fw2v")
    assert result.exit_code == 0, result.output
    assert ("1,200 words trained in 2 epochs (50% before resuming in epoch 2) | resumed "
            "part: ") in result.stderr.strip().splitlines()[-1]


def test_the_demo_says_vocabulary_size_and_words_trained_apart():
    result = run("demo", "--sentences", "2000", "--threads", "1")
    assert result.exit_code == 0, result.output
    summary = next(line for line in result.stdout.splitlines() if "words/s" in line)
    assert summary.startswith("vocabulary 192 words | ")
    words_trained = int(summary.split(" | ")[1].split(" words trained in 5 epochs")[0]
                        .replace(",", ""))
    assert words_trained > 100_000


def test_plot_of_a_word_alone_shows_its_neighbours(tmp_path, model_file):
    out = tmp_path / "map.svg"
    alone = run("plot", "cat", "-o", out, "-m", model_file)
    assert alone.exit_code == 0, alone.output
    # The model knows 7 words: cat and its 6 neighbours, fewer than the 10 asked for.
    assert alone.stderr.strip() == f"saved {out}: 7 words"
    assert run("plot", "cat", "-k", "0", "-o", out, "-m", model_file).stderr.strip() == (
        f"saved {out}: 1 word")
    assert run("plot", "cat", "-k", "2", "-o", out, "-m", model_file).stderr.strip() == (
        f"saved {out}: 3 words")
    # Several words are a map of their own; neighbours only when asked for.
    assert run("plot", "cat", "dog", "-o", out, "-m", model_file).stderr.strip() == (
        f"saved {out}: 2 words")


def test_plot_of_one_known_word_among_unknown_ones_shows_its_neighbours(tmp_path,
                                                                        model_file):
    out = tmp_path / "map.svg"
    result = run("plot", "cat", "kat", "-o", out, "-m", model_file)
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().splitlines()[-1] == f"saved {out}: 7 words"


# ---------------------------------------------------------------------------------------
# One number style in messages: thousands separators
# ---------------------------------------------------------------------------------------

def binary_rows(n_words):
    return [f"w{i} ".encode() + struct.pack("<2f", 1.0, float(i)) + b"\n"
            for i in range(n_words)]


def test_vector_numbers_in_messages_have_thousands_separators(tmp_path):
    path = tmp_path / "v.bin"
    rows = binary_rows(2000)
    path.write_bytes(b"2000 2\n" + b"".join(rows[:1233]) + rows[1233][:5])
    assert_one_line_error(run("info", "-m", path),
                          f"{path}: vector 1,234 of 2,000: file ends early", code=1)
    path.write_bytes(b"1500 2\n" + b"".join(rows))
    assert_one_line_error(run("info", "-m", path),
                          f"{path}: data after the 1,500 vectors the header announces",
                          code=1)


def test_line_numbers_and_counts_in_messages_have_thousands_separators(tmp_path):
    path = tmp_path / "v.txt"
    lines = [f"w{i} 1 {i}\n" for i in range(1500)]
    path.write_text("1500 2\n" + "".join(lines[:1233]) + "w1233 1\n" + "".join(lines[1234:]))
    assert_one_line_error(run("info", "-m", path),
                          f"{path}: line 1,235: expected a word and 2 values, got 1", code=1)
    path.write_text("1000 2\n" + "".join(lines))
    assert_one_line_error(run("info", "-m", path),
                          f"{path}: line 1,002: header announces 1,000 words, file has 1,500",
                          code=1)


def test_evaluation_file_line_numbers_have_thousands_separators(tmp_path, model_file):
    questions = tmp_path / "questions.txt"
    questions.write_text(": animals\n" + "cat dog mat log\n" * 1200 + "cat dog mat\n")
    assert_one_line_error(run("evaluate", "-m", model_file, "--analogies", questions),
                          f"{questions}: line 1,202: expected a question of 4 words", code=1)
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("cat dog 5\n" * 999 + "cat dog\n")
    assert_one_line_error(run("evaluate", "-m", model_file, "--similarity", pairs),
                          f"{pairs}: line 1,000: expected 'word1 word2 score'", code=1)
