"""`fastw2v train --checkpoint / --resume / --init-from` from the command line."""

import numpy as np
import pytest
from click.testing import CliRunner

import fastw2v
from fastw2v.cli import main
from fastw2v.training.checkpoint import load_checkpoint

from cli_helpers import assert_one_line_error, interrupt_training


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# Long enough (about 5 million words) that a signal sent once training shows progress
# lands well inside the run, short enough to run three times in a test.
LONG_RUN = ["--threads", "1", "--seed", "3", "--epochs", "16", "--dim", "32"]


@pytest.fixture(scope="module")
def long_run(synthetic_corpus, tmp_path_factory):
    """The uninterrupted run the interrupted ones must reproduce."""
    corpus, _ = synthetic_corpus
    out = tmp_path_factory.mktemp("reference") / "reference.fw2v"
    result = run("train", corpus, "-o", out, "-q", *LONG_RUN)
    assert result.exit_code == 0, result.output
    return corpus, fastw2v.load(str(out))


@pytest.mark.slow
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_a_signal_writes_a_checkpoint_and_resuming_matches_an_uninterrupted_run(
        tmp_path, long_run, signal_name):
    corpus, reference = long_run
    out = tmp_path / "v.fw2v"
    out.write_bytes(b"previous model")
    checkpoint = tmp_path / "run.ckpt"
    status, stderr = interrupt_training(
        [corpus, "-o", out, "--checkpoint", checkpoint, *LONG_RUN], tmp_path, signal_name)
    assert status == 130, stderr
    assert stderr.strip().splitlines()[-1] == (
        f"Error: interrupted; training state saved in {checkpoint}; to finish the run: "
        f"fastw2v train {corpus} -o {out} --resume {checkpoint}")
    assert "Traceback" not in stderr
    assert out.read_bytes() == b"previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.ckpt", "v.fw2v"]
    saved = load_checkpoint(str(checkpoint))
    assert 0 < saved.at.words_done < reference.metadata["words_trained"]

    result = run("train", corpus, "--resume", checkpoint, "-o", out, "-q")
    assert result.exit_code == 0, result.output
    resumed = fastw2v.load(str(out))
    assert np.array_equal(resumed.vectors, reference.vectors)
    assert resumed.metadata == reference.metadata  # loss history, words trained, settings
    # The run is finished and its vectors saved: the checkpoint is gone.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.fw2v"]


def test_a_finished_run_deletes_its_checkpoint(tmp_path, small_corpus):
    result = run("train", small_corpus, "-o", tmp_path / "v.fw2v", "--min-count", "1", "-q",
                 "--epochs", "3", "--checkpoint", tmp_path / "run.ckpt",
                 "--checkpoint-every", "1e")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.txt", "v.fw2v"]


@pytest.mark.parametrize("value", ["10", "2x", "0m", "1.5e", "soon"])
def test_bad_checkpoint_intervals_are_usage_errors(tmp_path, small_corpus, value):
    result = run("train", small_corpus, "--checkpoint", tmp_path / "c", "--checkpoint-every",
                 value)
    assert_one_line_error(result, "--checkpoint-every", repr(value), code=2)


def test_checkpoint_every_needs_a_checkpoint(small_corpus):
    assert_one_line_error(run("train", small_corpus, "--checkpoint-every", "1e"),
                          "--checkpoint-every needs --checkpoint", code=2)


def test_checkpoint_must_not_be_the_output_or_the_corpus(tmp_path, small_corpus):
    out = tmp_path / "v.fw2v"
    assert_one_line_error(run("train", small_corpus, "-o", out, "--checkpoint", out),
                          "--output and --checkpoint are the same file", code=1)
    assert_one_line_error(run("train", small_corpus, "--checkpoint", small_corpus),
                          "--checkpoint", "is the corpus itself", code=1)


def write_checkpoint(corpus, path, *options):
    """A checkpoint at the start of the last of two epochs."""
    fastw2v.train(corpus, checkpoint=str(path), checkpoint_every="1e", epochs=2,
                  min_count=1, threads=1, **dict(options))


def test_resume_errors_are_one_line(tmp_path, small_corpus):
    checkpoint = tmp_path / "run.ckpt"
    write_checkpoint(small_corpus, checkpoint)
    assert_one_line_error(run("train", small_corpus, "--resume", checkpoint, "--dim", "50"),
                          "--dim 50 differs from 100 in the checkpoint", "run.ckpt",
                          "(only --threads may change)", code=1)
    assert_one_line_error(run("train", small_corpus, "--resume", checkpoint, "--cbow"),
                          "--architecture cbow differs from skipgram", code=1)
    other = tmp_path / "other.txt"
    other.write_text("a b c\n" * 10)
    assert_one_line_error(run("train", other, "--resume", checkpoint),
                          "other.txt: is not the corpus the checkpoint", code=1)
    assert_one_line_error(run("train", small_corpus, "--resume", checkpoint,
                              "--init-from", "m.fw2v"),
                          "--resume and --init-from cannot be combined", code=1)
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(checkpoint.read_bytes()[:3000])
    assert_one_line_error(run("train", small_corpus, "--resume", truncated),
                          "truncated.ckpt: the checkpoint is truncated or damaged", code=1)
    assert_one_line_error(run("train", small_corpus, "--resume", small_corpus),
                          "--resume", "is the corpus itself", code=1)
    assert_one_line_error(run("train", small_corpus, "--resume", tmp_path / "none.ckpt"),
                          "none.ckpt: no such file", code=1)


def test_resume_keeps_the_checkpoint_settings_and_defaults_are_no_change(tmp_path,
                                                                         small_corpus):
    checkpoint = tmp_path / "run.ckpt"
    write_checkpoint(small_corpus, checkpoint, ("dim", 12), ("window", 2))
    result = run("train", small_corpus, "--resume", checkpoint, "-o", tmp_path / "v.fw2v",
                 "-q", "--threads", "2")
    assert result.exit_code == 0, result.output
    vectors = fastw2v.load(str(tmp_path / "v.fw2v"))
    assert vectors.dim == 12 and vectors.metadata["training"]["window"] == 2
    assert vectors.metadata["training"]["threads"] == 2
    assert not checkpoint.exists()


def test_resume_into_another_checkpoint_file_leaves_the_first(tmp_path, small_corpus):
    first = tmp_path / "first.ckpt"
    write_checkpoint(small_corpus, first)
    before = first.read_bytes()
    result = run("train", small_corpus, "--resume", first, "--checkpoint",
                 tmp_path / "second.ckpt", "-o", tmp_path / "v.fw2v", "-q")
    assert result.exit_code == 0, result.output
    assert first.read_bytes() == before
    assert not (tmp_path / "second.ckpt").exists()  # deleted when the run finished


def test_init_from_reports_unknown_words(tmp_path, small_corpus):
    model = tmp_path / "base.fw2v"
    assert run("train", small_corpus, "-o", model, "--min-count", "1", "-q",
               "--dim", "8").exit_code == 0
    more = tmp_path / "more.txt"
    more.write_text("the cat sat on the sofa\nthe bird sat on the sofa\n" * 20)
    result = run("train", more, "--init-from", model, "-o", tmp_path / "v.fw2v")
    assert result.exit_code == 0, result.output
    assert ("warning: " + str(more) + ": 60 tokens of 2 distinct words are not in the "
            "vocabulary of " + str(model)) in result.stderr
    assert "sofa (40), bird (20)" in result.stderr
    assert "vocabulary 7 words" in result.stderr
    continued = fastw2v.load(str(tmp_path / "v.fw2v"))
    assert continued.words == fastw2v.load(str(model)).words


def test_init_from_a_word2vec_file_is_refused(tmp_path, small_corpus):
    text = tmp_path / "base.txt"
    assert run("train", small_corpus, "-o", text, "--min-count", "1", "-q").exit_code == 0
    assert_one_line_error(run("train", small_corpus, "--init-from", text),
                          "base.txt: a word2vec text file holds no output (context) matrix",
                          code=1)


def test_train_help_documents_the_new_options():
    flat = " ".join(run("train", "--help").output.split())
    for text in ("--checkpoint PATH", "--checkpoint-every INTERVAL", "90s, 30m, 2h",
                 "--resume PATH", "--init-from MODEL", "default: 30m"):
        assert text in flat, text


def test_grow_vocab_from_the_command_line(tmp_path, small_corpus):
    model = tmp_path / "base.fw2v"
    assert run("train", small_corpus, "-o", model, "--min-count", "1", "-q",
               "--dim", "8").exit_code == 0
    more = tmp_path / "more.txt"
    more.write_text("the cat sat on the sofa\nthe bird sat on the sofa\n" * 20
                    + "a rare zebra\n")
    out = tmp_path / "v.fw2v"
    result = run("train", more, "--init-from", model, "--grow-vocab", "--min-count", "5",
                 "-o", out)
    assert result.exit_code == 0, result.output
    # sofa and bird join; a, rare and zebra occur once, below --min-count, and are left out.
    assert "vocabulary 9 words (2 new)" in result.stderr
    assert ("3 tokens of 3 distinct words are not in the vocabulary of " + str(model)
            + " and occur fewer than 5 times (--min-count), so they did not join it"
            ) in " ".join(result.stderr.split())
    grown = fastw2v.load(str(out))
    assert {"sofa", "bird"} <= set(grown.words) and "zebra" not in grown.words
    assert grown.similarity("sofa", "bird") == grown.similarity("bird", "sofa")


def test_grow_vocab_refusals_from_the_command_line(tmp_path, small_corpus):
    assert_one_line_error(run("train", small_corpus, "--grow-vocab"),
                          "--grow-vocab needs --init-from MODEL", code=1)
    hs = tmp_path / "hs.fw2v"
    assert run("train", small_corpus, "-o", hs, "--min-count", "1", "-q", "--dim", "8",
               "--loss", "hs").exit_code == 0
    out = tmp_path / "v.fw2v"
    out.write_bytes(b"previous")
    assert_one_line_error(run("train", small_corpus, "--init-from", hs, "--grow-vocab",
                              "-o", out),
                          "hs.fw2v: --grow-vocab cannot grow a model trained with --loss hs",
                          "without --grow-vocab", code=1)
    binary = tmp_path / "v.bin"
    assert run("convert", hs, binary).exit_code == 0
    assert_one_line_error(run("train", small_corpus, "--init-from", binary, "--grow-vocab",
                              "-o", out),
                          "v.bin: a word2vec binary file holds no output", code=1)
    assert out.read_bytes() == b"previous"
