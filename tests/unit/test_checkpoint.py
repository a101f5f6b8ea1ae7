"""The checkpoint file: exact round trip, damaged and foreign files, intervals, fingerprints."""

import shutil

import numpy as np
import pytest

from fastw2v.config import TrainConfig
from fastw2v.errors import ConfigError, CorpusError, FormatError
from fastw2v.state import ModelState
from fastw2v.text.vocab import Vocabulary
from fastw2v.training.checkpoint import (
    Checkpoint,
    CheckpointInterval,
    CorpusFingerprint,
    TrainingPosition,
    load_checkpoint,
    save_checkpoint,
)


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("the cat sat on the mat\n" * 100, encoding="utf-8")
    return str(path)


def make_state(corpus, loss="nce", nce_gamma="per-word", threads=2, epochs=3):
    rng = np.random.default_rng(0)
    config = TrainConfig(dim=4, loss=loss, nce_gamma=nce_gamma, threads=threads,
                         epochs=epochs).resolved()
    words = ["the", "cat", "sat", "on", "mat", "ünïcode"]
    n_out = len(words) - 1 if loss == "hs" else len(words)
    n_gamma = len(words) if nce_gamma == "per-word" else 1
    state = ModelState(
        Vocabulary(words, np.array([200, 100, 100, 100, 100, 7], dtype=np.int64)),
        rng.standard_normal((len(words), 4)).astype(np.float32),
        config=config,
        w_out=rng.standard_normal((n_out, 4)).astype(np.float32),
        gamma=rng.standard_normal(n_gamma).astype(np.float32))
    at = TrainingPosition(
        epoch=1, token=350, words_done=1234, kept=1000,
        epoch_loss=[123.456789012345678, 1.0 / 3.0, 0.0], epoch_examples=[5000, 17, 0],
        rng_states=[2**64 - 1, 12345][:threads],
        global_gamma=0.1 + 0.2,  # a float64 with no short decimal form
        train_seconds=1.5)
    return Checkpoint(state, at, corpus=CorpusFingerprint.of(corpus), stream_length=700,
                      n_words=600, job_tokens=20_000, counting={"n_tokens_read": 600})


@pytest.mark.parametrize("loss, nce_gamma", [("nce", "per-word"), ("nce", "global"),
                                             ("hs", "global"), ("ns", "global")])
def test_round_trip_is_exact(tmp_path, corpus, loss, nce_gamma):
    saved = make_state(corpus, loss, nce_gamma)
    path = str(tmp_path / "state.ckpt")
    save_checkpoint(path, saved)
    back = load_checkpoint(path)
    for name in ("w_in", "w_out", "gamma"):
        assert np.array_equal(getattr(back.state, name), getattr(saved.state, name)), name
        assert getattr(back.state, name).dtype == np.float32
        assert getattr(back.state, name).flags.writeable  # training writes in place
    assert back.state.vocab.words == saved.state.vocab.words
    assert np.array_equal(back.state.vocab.counts, saved.state.vocab.counts)
    assert back.config == saved.config
    assert back.at == saved.at  # every field of the position, floats exactly
    for field in ("corpus", "stream_length", "n_words", "job_tokens", "counting"):
        assert getattr(back, field) == getattr(saved, field), field


def test_the_ray_part_round_trips_and_a_damaged_one_is_refused(tmp_path, corpus):
    import dataclasses

    saved = make_state(corpus, "ns", "global")
    assert saved.ray is None and load_checkpoint(_saved(tmp_path, saved)).ray is None
    shards = [dataclasses.asdict(dataclasses.replace(saved.at, words_done=n, token=0))
              for n in (600, 634)]
    ray = {"workers": 2, "sync_every": 400_000, "rounds_done": 7, "shards": shards}
    back = load_checkpoint(_saved(tmp_path, dataclasses.replace(saved, ray=ray)))
    assert back.ray == ray
    assert [TrainingPosition(**p) for p in back.ray["shards"]][1].words_done == 634
    for damaged in (dict(ray, workers=3), dict(ray, shards=[dict(shards[0], bogus=1)] * 2),
                    dict(ray, sync_every=0)):
        path = _saved(tmp_path, dataclasses.replace(saved, ray=damaged))
        with pytest.raises(FormatError, match="inconsistent"):
            load_checkpoint(path)


def _saved(tmp_path, checkpoint):
    path = str(tmp_path / "ray.ckpt")
    save_checkpoint(path, checkpoint)
    return path


def test_the_context_bias_round_trips_and_older_checkpoints_have_none(tmp_path, corpus):
    import dataclasses

    saved = make_state(corpus, "nce", "global")
    config = dataclasses.replace(saved.config, nce_context_bias=True)
    bias = np.random.default_rng(1).standard_normal(6).astype(np.float32)
    state = dataclasses.replace(saved.state, config=config, context_bias=bias)
    path = str(tmp_path / "bias.ckpt")
    save_checkpoint(path, dataclasses.replace(saved, state=state))
    back = load_checkpoint(path)
    assert np.array_equal(back.state.context_bias, bias)
    assert back.state.context_bias.flags.writeable
    # Without the bias, no member is written: the file is what earlier versions wrote.
    save_checkpoint(str(tmp_path / "plain.ckpt"), saved)
    with np.load(str(tmp_path / "plain.ckpt")) as archive:
        assert "context_bias" not in archive
    assert load_checkpoint(str(tmp_path / "plain.ckpt")).state.context_bias.shape == (0,)


def test_saving_replaces_the_old_checkpoint_without_temporary_files(tmp_path, corpus):
    path = tmp_path / "state.ckpt"
    save_checkpoint(str(path), make_state(corpus))
    later = make_state(corpus)
    later.at.words_done = 9999
    save_checkpoint(str(path), later)
    assert load_checkpoint(str(path)).at.words_done == 9999
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt", "state.ckpt"]


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.999])
def test_a_truncated_checkpoint_is_refused_naming_the_file(tmp_path, corpus, keep):
    path = tmp_path / "state.ckpt"
    save_checkpoint(str(path), make_state(corpus))
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(FormatError, match="state.ckpt: the checkpoint is truncated or damaged"):
        load_checkpoint(str(path))


def test_a_flipped_byte_in_a_matrix_is_detected(tmp_path, corpus):
    saved = make_state(corpus)
    path = tmp_path / "state.ckpt"
    save_checkpoint(str(path), saved)
    data = bytearray(path.read_bytes())
    where = data.find(saved.state.w_in.tobytes())  # uncompressed: the matrix is there verbatim
    assert where > 0
    data[where + 5] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError, match="state.ckpt: .*damaged.*CRC"):
        load_checkpoint(str(path))


def test_foreign_files_are_refused(tmp_path, corpus):
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    other_npz = tmp_path / "other.npz"
    np.savez(other_npz, a=np.arange(3))
    for path in (text, other_npz, tmp_path / "empty"):
        path.touch()
        with pytest.raises(FormatError, match=f"{path.name}: is not a fastw2v checkpoint"):
            load_checkpoint(str(path))
    with pytest.raises(FormatError, match="missing.ckpt: no such file"):
        load_checkpoint(str(tmp_path / "missing.ckpt"))


def test_an_inconsistent_checkpoint_is_refused(tmp_path, corpus):
    bad = make_state(corpus)
    bad.state.w_in = bad.state.w_in[:, :3].copy()  # not --dim 4
    path = tmp_path / "state.ckpt"
    save_checkpoint(str(path), bad)
    with pytest.raises(FormatError, match="state.ckpt: the checkpoint is inconsistent.*w_in"):
        load_checkpoint(str(path))


@pytest.mark.parametrize("text, seconds, epochs", [
    ("90s", 90, None), ("30m", 1800, None), ("1.5h", 5400, None), ("2e", None, 2),
    (" 1E ", None, 1), ("0.5m", 30, None)])
def test_interval_syntax(text, seconds, epochs):
    interval = CheckpointInterval.parse(text)
    assert (interval.seconds, interval.epochs) == (seconds, epochs)


@pytest.mark.parametrize("text", ["", "30", "m", "10 minutes", "0m", "0e", "1.5e", "-2e"])
def test_bad_intervals_name_the_option(text):
    with pytest.raises(ConfigError, match="^checkpoint_every ") as raised:
        CheckpointInterval.parse(text)
    assert raised.value.cli_message.startswith("--checkpoint-every ")


def test_fingerprint_accepts_a_moved_copy_and_refuses_other_text(tmp_path, corpus):
    saved = CorpusFingerprint.of(corpus)
    copy = tmp_path / "elsewhere.txt"
    shutil.copy(corpus, copy)
    saved.check(str(copy), "state.ckpt")  # same bytes at another path and time: fine
    same_size = tmp_path / "same_size.txt"
    same_size.write_text("the dog sat on the mat\n" * 100, encoding="utf-8")
    with pytest.raises(CorpusError, match="same_size.txt: is not the corpus the checkpoint "
                                          "state.ckpt was made from.*different content"):
        saved.check(str(same_size), "state.ckpt")
    longer = tmp_path / "longer.txt"
    longer.write_text("the cat sat on the mat\n" * 101, encoding="utf-8")
    with pytest.raises(CorpusError, match="2,323 bytes, not 2,300"):
        saved.check(str(longer), "state.ckpt")
