"""What the Python API tells its caller while training: warnings, progress, resumption."""

import io
import re
import warnings

import numpy as np
import pytest

import fastw2v
from fastw2v.config import available_cores
from fastw2v.errors import FastW2VWarning
from fastw2v.training import progress


def test_warnings_reach_pythons_warnings_by_default(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(b"the cat sat \xff on the mat\n" * 20)
    with pytest.warns(FastW2VWarning, match=r"c.txt: 20 invalid UTF-8 bytes were replaced"):
        fastw2v.train(str(corpus), dim=4, epochs=1, min_count=1, threads=1)


def test_a_warn_callable_receives_the_warnings_instead(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(b"the cat sat \xff on the mat\n" * 20)
    received = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning that escaped would fail the test
        fastw2v.train(str(corpus), dim=4, epochs=1, min_count=1, threads=1,
                      warn=received.append)
    assert len(received) == 1 and "invalid UTF-8" in received[0]


def test_more_threads_than_cores_draws_a_warning(small_corpus):
    cores = available_cores()
    with pytest.warns(FastW2VWarning, match=rf"{cores + 3} threads on {cores} cores"):
        fastw2v.train(small_corpus, dim=4, epochs=1, min_count=1, threads=cores + 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fastw2v.train(small_corpus, dim=4, epochs=1, min_count=1, threads=cores)


def progress_lines(monkeypatch, **train_options):
    """The progress lines (a file, not a terminal: one per 10%) of a training run."""
    stream = io.StringIO()
    real = progress.ProgressPrinter

    def to_stream(*args, **kwargs):
        return real(*args, **dict(kwargs, stream=stream))

    monkeypatch.setattr("fastw2v.training.trainer.ProgressPrinter", to_stream)
    # Redraw often, so that a run of a second shows every tenth of its progress.
    monkeypatch.setattr("fastw2v.training.trainer.Trainer.progress_interval", 0.005)
    model = fastw2v.train(progress=True, **train_options)
    return model, stream.getvalue().splitlines()


def test_the_learning_rate_shown_falls_steadily_to_min_alpha(synthetic_corpus, monkeypatch):
    corpus, _ = synthetic_corpus
    _, lines = progress_lines(monkeypatch, corpus=corpus, dim=8, epochs=4, threads=2,
                              alpha=0.05, min_alpha=0.0001)
    shown = [(float(m.group(1)), float(m.group(2))) for m in
             (re.search(r"training +([\d.]+)% .* alpha ([\d.]+)", line) for line in lines) if m]
    assert len(shown) >= 5, lines
    percents, alphas = zip(*shown)
    assert list(alphas) == sorted(alphas, reverse=True), lines
    for percent, alpha in shown:  # the rate is a function of the share done
        assert alpha == pytest.approx(0.05 - (0.05 - 0.0001) * percent / 100, abs=6e-5)


def test_a_resumed_run_says_where_it_resumes_and_times_its_own_part(synthetic_corpus,
                                                                    tmp_path, monkeypatch):
    corpus, _ = synthetic_corpus
    checkpoint = str(tmp_path / "run.ckpt")
    options = dict(dim=8, epochs=3, threads=1, seed=2)
    whole = fastw2v.train(corpus, **options)
    fastw2v.train(corpus, checkpoint=checkpoint, checkpoint_every="1e", **options)
    resumed, lines = progress_lines(monkeypatch, corpus=corpus, resume=checkpoint)
    assert lines[0] == "resuming at epoch 3 of 3, 66.7% of the run already trained"
    assert (resumed.stats.resumed_epoch, resumed.stats.resumed_share) == (3, pytest.approx(2 / 3))
    assert resumed.stats.words_before_resume == 2 * resumed.stats.n_words
    assert resumed.stats.n_words_trained == whole.stats.n_words_trained
    assert np.array_equal(resumed.vectors, whole.vectors)
    # Its speed is the words of its own part over its own time.
    part = resumed.stats.n_words_trained - resumed.stats.words_before_resume
    assert resumed.stats.words_per_second == pytest.approx(
        part / resumed.stats.seconds["train"])
    assert fastw2v.train(corpus, **options).stats.resumed_epoch is None
