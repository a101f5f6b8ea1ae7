"""The `fastw2v` command line through click's CliRunner, bad input included."""

import os

import pytest
from click.testing import CliRunner
from gensim.models import KeyedVectors

from fastw2v.cli import main

from cli_helpers import assert_one_line_error, interrupt_training


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_every_command_has_help():
    for name, command in main.commands.items():
        assert command.help, name
        result = run(name, "--help")
        assert result.exit_code == 0
        assert "Usage:" in result.output


def test_train_help_shows_defaults_and_aliases():
    result = run("train", "--help")
    flat = " ".join(result.output.split())  # help is wrapped to the terminal width
    for text in ("--dim, --size", "--epochs, --iter", "--threads, --workers",
                 "default: 100", "default: 0.001", "0.025 for skip-gram"):
        assert text in flat


def test_train_writes_gensim_readable_vectors_and_a_summary(tmp_path, small_corpus):
    out = tmp_path / "v.bin"
    result = run("train", small_corpus, "-o", out, "--min-count", "1", "--dim", "16")
    assert result.exit_code == 0, result.output
    assert "vocabulary 7 words" in result.stderr
    assert "words/s" in result.stderr
    vectors = KeyedVectors.load_word2vec_format(str(out), binary=True)
    assert len(vectors.index_to_key) == 7 and vectors.vector_size == 16


def test_quiet_prints_nothing(tmp_path, small_corpus):
    result = run("train", small_corpus, "-o", tmp_path / "v.txt", "--min-count", "1", "-q")
    assert result.exit_code == 0
    assert result.output == ""
    assert (tmp_path / "v.txt").read_text().startswith("7 100\n")


def test_default_output_is_vectors_fw2v_in_the_current_folder(tmp_path, small_corpus,
                                                              monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("train", small_corpus, "--min-count", "1", "-q", "--epochs", "1")
    assert result.exit_code == 0
    assert (tmp_path / "vectors.fw2v").read_bytes()[:8] == b"\x89FW2V\r\n\x1a"


def test_context_vectors_and_vocabulary_files(tmp_path, small_corpus):
    result = run("train", small_corpus, "-o", tmp_path / "v.bin", "--min-count", "1", "-q",
                 "--save-context", tmp_path / "ctx.bin", "--save-vocab", tmp_path / "vocab.txt",
                 "--cbow", "--window", "2", "--negative", "3", "--sample", "0",
                 "--threads", "2", "--seed", "5")
    assert result.exit_code == 0, result.output
    context = KeyedVectors.load_word2vec_format(str(tmp_path / "ctx.bin"), binary=True)
    assert context.index_to_key[0] == "the"
    assert (tmp_path / "vocab.txt").read_text().splitlines()[0] == "the 200"


def test_missing_corpus(tmp_path):
    assert_one_line_error(run("train", tmp_path / "nope.txt"), "nope.txt", "no such file",
                          code=1)


def test_corpus_folder_without_files(tmp_path):
    # A folder is the files in it (issue 12); one that holds none is named in the error.
    folder = tmp_path / "shards"
    folder.mkdir()
    assert_one_line_error(run("train", folder, "-o", tmp_path / "v.bin"), "shards",
                          "holds no corpus file", code=1)


def test_empty_corpus(tmp_path):
    corpus = tmp_path / "empty.txt"
    corpus.write_bytes(b"")
    assert_one_line_error(run("train", corpus, "-o", tmp_path / "v.bin"), "empty.txt",
                          "empty", code=1)
    assert not (tmp_path / "v.bin").exists()


def test_no_word_reaches_min_count(small_corpus, tmp_path):
    result = run("train", small_corpus, "-o", tmp_path / "v.bin", "--min-count", "1000")
    assert_one_line_error(result, "small.txt", "--min-count", "'the', occurs 200 times", code=1)


def test_nul_byte_is_refused_with_its_line(tmp_path):
    corpus = tmp_path / "binary.txt"
    corpus.write_bytes(b"one two\nthree\x00four\n")
    assert_one_line_error(run("train", corpus, "--min-count", "1"), "binary.txt: line 2",
                          "NUL", code=1)


def test_invalid_utf8_is_replaced_and_reported(tmp_path):
    corpus = tmp_path / "latin1.txt"
    corpus.write_bytes(("caf\xe9 au lait\n" * 10).encode("latin-1"))
    result = run("train", corpus, "-o", tmp_path / "v.txt", "--min-count", "1", "-q")
    assert result.exit_code == 0, result.output
    assert "warning: " in result.stderr and "10 invalid UTF-8 bytes" in result.stderr
    words = [line.split()[0] for line in (tmp_path / "v.txt").read_text().splitlines()[1:]]
    assert "caf\ufffd" in words


def test_crlf_line_ends_train_like_lf(tmp_path):
    lf = tmp_path / "lf.txt"
    crlf = tmp_path / "crlf.txt"
    text = "a b c d\ne f g h\n" * 20
    lf.write_bytes(text.encode())
    crlf.write_bytes(text.replace("\n", "\r\n").encode())
    for corpus, out in ((lf, "lf.bin"), (crlf, "crlf.bin")):
        result = run("train", corpus, "-o", tmp_path / out, "--min-count", "1", "-q",
                     "--threads", "1")
        assert result.exit_code == 0
    assert (tmp_path / "lf.bin").read_bytes() == (tmp_path / "crlf.bin").read_bytes()


@pytest.mark.parametrize("option,value", [
    ("--dim", "0"), ("--window", "0"), ("--negative", "-1"), ("--sample", "-1"),
    ("--alpha", "0"), ("--threads", "0"), ("--epochs", "0"), ("--min-count", "0"),
    ("--dim", "many"),
])
def test_absurd_options_are_refused(small_corpus, option, value):
    assert_one_line_error(run("train", small_corpus, option, value), option, code=2)


def test_output_folder_must_exist(tmp_path, small_corpus):
    result = run("train", small_corpus, "-o", tmp_path / "no" / "v.bin")
    assert_one_line_error(result, "--output", "does not exist", code=1)


def test_output_must_not_be_the_corpus(small_corpus):
    before = open(small_corpus, "rb").read()
    assert_one_line_error(run("train", small_corpus, "-o", small_corpus), "is the corpus",
                          code=1)
    assert open(small_corpus, "rb").read() == before


def test_a_failed_run_keeps_the_previous_output(tmp_path, small_corpus):
    out = tmp_path / "v.bin"
    out.write_bytes(b"previous model")
    result = run("train", small_corpus, "-o", out, "--min-count", "1", "--alpha", "1e9",
                 "--epochs", "1", "-q")
    assert_one_line_error(result, "diverged", "lower --alpha", code=1)
    assert out.read_bytes() == b"previous model"
    assert sorted(os.listdir(tmp_path)) == ["small.txt", "v.bin"]  # no temporary file left


def test_demo_shows_the_planted_structure():
    result = run("demo", "--sentences", "5000")
    assert result.exit_code == 0, result.output
    assert "apple : apples :: dog : dogs" in result.stdout
    assert "apples*" in result.stdout


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_a_signal_stops_training_quickly_and_keeps_the_old_output(tmp_path, signal_name):
    corpus = tmp_path / "big.txt"
    corpus.write_text("alpha beta gamma delta epsilon zeta eta theta\n" * 20_000)
    out = tmp_path / "v.bin"
    out.write_bytes(b"previous model")
    status, stderr = interrupt_training(
        [corpus, "-o", out, "--epochs", "1000", "--min-count", "1"], tmp_path, signal_name)
    assert status == 130, stderr
    assert stderr.strip().splitlines()[-1] == "Error: interrupted"
    assert "Traceback" not in stderr
    assert out.read_bytes() == b"previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.txt", "v.bin"]


def test_train_on_several_files_and_a_folder_equals_one_file(tmp_path):
    # With one thread and one seed, training is deterministic: a corpus given as files
    # and a folder of shards must train exactly as the same text in one file.
    text = [f"w{i % 7} w{i % 5} w{i % 3} w{i % 11}\n" for i in range(600)]
    (tmp_path / "whole.txt").write_text("".join(text))
    (tmp_path / "shards").mkdir()
    (tmp_path / "first.txt").write_text("".join(text[:200]))
    (tmp_path / "shards" / "p1.txt").write_text("".join(text[200:400]))
    (tmp_path / "shards" / "p2.txt").write_text("".join(text[400:]))
    common = ["--threads", "1", "--min-count", "1", "--dim", "8", "--epochs", "2", "-q"]
    whole = run("train", tmp_path / "whole.txt", "-o", tmp_path / "whole.txt.vec", *common)
    parts = run("train", tmp_path / "first.txt", tmp_path / "shards",
                "-o", tmp_path / "parts.vec", *common)
    assert whole.exit_code == 0 and parts.exit_code == 0, parts.stderr
    assert (tmp_path / "parts.vec").read_bytes() == (tmp_path / "whole.txt.vec").read_bytes()
