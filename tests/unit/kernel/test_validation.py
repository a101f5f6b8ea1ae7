"""What the kernel refuses before it runs nogil code: mismatched arrays and tables, bad
settings, out-of-range ids, and workers sized for another trainer."""

import dataclasses

import numpy as np
import pytest
from kernel_reference import END
from kernel_trainers import default_counts, make_tables, make_trainer, n_out_rows, random_model

from fastw2v.config import TrainConfig
from fastw2v.state import ModelState
from fastw2v.text.vocab import Vocabulary
from fastw2v.training.kernel import KernelSettings, build_tables


def test_name_tables_match_the_settings_names(kernel):
    assert set(kernel.ARCHITECTURES) == {"skipgram", "cbow"}
    assert set(kernel.LOSSES) == {"ns", "nce", "hs", "softmax"}
    assert set(kernel.GAMMA_MODES) == {"global", "per-word", "fixed"}


def _valid_arguments(n=20, dim=8, loss="ns", gamma_mode="global"):
    counts = np.arange(n, 0, -1) + 5
    w_in = np.zeros((n, dim), dtype=np.float32)
    w_out = np.zeros((n_out_rows(n, loss), dim), dtype=np.float32)
    gamma = np.zeros(n if gamma_mode == "per-word" else 1, dtype=np.float32)
    tables = make_tables(counts, loss, 5)
    settings = KernelSettings("skipgram", loss, gamma_mode, True, False, 5, 5, 100)
    return dict(w_in=w_in, w_out=w_out, gamma=gamma, tables=tables, settings=settings)


def _construct(kernel, a):
    return kernel.Trainer(a["w_in"], a["w_out"], a["gamma"], a["tables"], a["settings"])


@pytest.mark.parametrize("loss, gamma_mode", [("ns", "global"), ("nce", "global"),
                                              ("nce", "per-word"), ("nce", "fixed"),
                                              ("hs", "global")])
def test_trainer_accepts_matching_shapes(kernel, loss, gamma_mode):
    _construct(kernel, _valid_arguments(loss=loss, gamma_mode=gamma_mode))


def _replace_table(a, **changes):
    a["tables"] = dataclasses.replace(a["tables"], **changes)


def _replace_settings(a, **changes):
    a["settings"] = dataclasses.replace(a["settings"], **changes)


BAD_CASES = {
    "out_rows": ("ns", lambda a: a.update(w_out=np.zeros((19, 8), np.float32))),
    "out_dim": ("ns", lambda a: a.update(w_out=np.zeros((20, 9), np.float32))),
    "keep": ("ns", lambda a: _replace_table(a, keep_probability=np.ones(21, np.float32))),
    "threshold": ("ns", lambda a: _replace_table(
        a, noise_threshold=a["tables"].noise_threshold[:-1].copy())),
    "alias": ("ns", lambda a: _replace_table(a, noise_alias=np.zeros(19, np.int32))),
    "alias_values": ("ns", lambda a: _replace_table(
        a, noise_alias=np.where(np.arange(20) == 3, 20, a["tables"].noise_alias)
        .astype(np.int32))),
    "alias_negative": ("ns", lambda a: _replace_table(
        a, noise_alias=np.full(20, -1, np.int32))),
    "log_noise": ("nce", lambda a: _replace_table(a, log_noise=np.zeros(19, np.float32))),
    "empty": ("ns", lambda a: a.update(w_in=np.zeros((0, 8), np.float32),
                                       w_out=np.zeros((0, 8), np.float32))),
    "no_dim": ("ns", lambda a: a.update(w_in=np.zeros((20, 0), np.float32),
                                        w_out=np.zeros((20, 0), np.float32))),
    "window": ("ns", lambda a: _replace_settings(a, window=0)),
    "negative": ("ns", lambda a: _replace_settings(a, negative=-1)),
    "max_sentence": ("ns", lambda a: _replace_settings(a, max_sentence=0)),
    "gamma_empty": ("nce", lambda a: a.update(gamma=np.zeros(0, np.float32))),
    "gamma_per_word_length": ("nce", lambda a: (
        _replace_settings(a, gamma_mode="per-word"), a.update(gamma=np.zeros(19, np.float32)))),
    "hs_out_rows": ("hs", lambda a: a.update(w_out=np.zeros((18, 8), np.float32))),
    "hs_offsets_length": ("hs", lambda a: _replace_table(
        a, path_offsets=a["tables"].path_offsets[:-1].copy())),
    "hs_offsets_start": ("hs", lambda a: _replace_table(
        a, path_offsets=a["tables"].path_offsets + 1)),
    "hs_offsets_decrease": ("hs", lambda a: _replace_table(
        a, path_offsets=np.where(np.arange(21) == 5, 0, a["tables"].path_offsets))),
    "hs_offsets_end": ("hs", lambda a: _replace_table(
        a, path_nodes=np.append(a["tables"].path_nodes, 0).astype(np.int32),
        path_codes=np.append(a["tables"].path_codes, 0).astype(np.uint8))),
    "hs_codes_length": ("hs", lambda a: _replace_table(
        a, path_codes=a["tables"].path_codes[:-1].copy())),
    "hs_nodes_range": ("hs", lambda a: _replace_table(
        a, path_nodes=np.where(np.arange(len(a["tables"].path_nodes)) == 4, 19,
                               a["tables"].path_nodes).astype(np.int32))),
    "hs_nodes_negative": ("hs", lambda a: _replace_table(
        a, path_nodes=np.where(np.arange(len(a["tables"].path_nodes)) == 4, -1,
                               a["tables"].path_nodes).astype(np.int32))),
    "hs_codes_values": ("hs", lambda a: _replace_table(
        a, path_codes=np.where(np.arange(len(a["tables"].path_codes)) == 2, 2,
                               a["tables"].path_codes).astype(np.uint8))),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_trainer_rejects_mismatched_shapes_and_bad_parameters(kernel, case):
    loss, breaker = BAD_CASES[case]
    a = _valid_arguments(loss=loss)
    _construct(kernel, dict(a))  # valid before the change
    breaker(a)
    with pytest.raises(ValueError):
        _construct(kernel, a)


@pytest.mark.parametrize("field, value", [("architecture", "sg"), ("loss", "full"),
                                          ("gamma_mode", "learned")])
def test_trainer_rejects_unknown_names(kernel, field, value):
    a = _valid_arguments()
    _replace_settings(a, **{field: value})
    with pytest.raises((KeyError, ValueError)):
        _construct(kernel, a)


def test_trainer_accepts_every_configuration_that_training_accepts(kernel):
    # training.py builds the kernel's arrays and tables from a TrainConfig that
    # resolved() accepted, and hands them to the Trainer. Every such config must give a
    # working Trainer (--nce-gamma is an NCE option: with --loss ns or hs it only has to
    # be harmless).
    counts = np.array([50, 30, 20, 10, 5])
    failures = []
    combinations = [(architecture, loss, gamma_mode, bias)
                    for architecture in ("skipgram", "cbow")
                    for loss in ("ns", "nce", "hs", "softmax")
                    for gamma_mode in ("global", "per-word", "fixed")
                    for bias in (False, True)]
    for architecture, loss, gamma_mode, bias in combinations:
        config = TrainConfig(architecture=architecture, loss=loss,
                             nce_gamma=gamma_mode, dim=4, threads=1,
                             nce_context_bias=bias)
        try:
            config = config.resolved()
        except Exception:
            continue  # rejected up front, with a message for the user
        words = [str(i) for i in range(len(counts))]
        initial = ModelState.initial(Vocabulary(words, counts), config)
        w_in, w_out, gamma = initial.w_in, initial.w_out, initial.gamma
        try:
            trainer = kernel.Trainer(w_in, w_out, gamma, build_tables(counts, config),
                                     KernelSettings.from_config(config),
                                     initial.context_bias)
            trainer.train_job(trainer.new_worker(1),
                              np.array([0, 1, 2, 3, 4, END], np.int32), 0.025, 0.0)
        except ValueError as exc:
            failures.append(f"{architecture}/{loss}/--nce-gamma {gamma_mode}/"
                            f"bias {bias}: {exc}")
    assert not failures, ("configurations TrainConfig.resolved() accepts but the kernel "
                          "rejects:\n" + "\n".join(failures))


def test_per_word_gamma_with_cbow_never_touches_memory_outside_gamma(kernel):
    # CBOW's single input is the window's mean, whose word id is -1; per-word NCE would
    # index gamma[-1]. The Trainer must refuse this combination (TrainConfig does, but
    # the kernel's own validation is what guards its nogil code). Here gamma is a view
    # one element into a larger buffer, so an out-of-bounds access shows in storage[0].
    n, dim = 6, 4
    rng = np.random.default_rng(0)
    w_in, w_out = random_model(rng, n, dim, 0.5)
    storage = np.full(n + 1, 5.0, dtype=np.float32)
    gamma = storage[1:]
    tables = make_tables(default_counts(n), "nce", 2)
    settings = KernelSettings("cbow", "nce", "per-word", True, False, 2, 2, 64)
    try:
        trainer = kernel.Trainer(w_in, w_out, gamma, tables, settings)
    except ValueError:
        return  # refused up front: fine
    trainer.train_job(trainer.new_worker(0), np.array([0, 1, 2, 3, 4, 5, END], np.int32),
                      0.1, 0.1)
    assert storage[0] == 5.0, (
        f"CBOW with per-word NCE wrote gamma[-1] (the float before the gamma array): "
        f"it became {storage[0]}; Trainer.__init__ should reject this combination")


def test_new_worker_buffer_sizes(kernel):
    for loss in ("ns", "hs"):
        a = _valid_arguments(loss=loss)
        trainer = _construct(kernel, a)
        worker = trainer.new_worker(0)
        assert (worker.dim, worker.max_sentence, worker.max_inputs) == (8, 100, 10)
        if loss == "hs":
            assert worker.max_targets == int(np.diff(a["tables"].path_offsets).max())
        else:
            assert worker.max_targets == 6


def test_worker_rejects_non_positive_sizes(kernel):
    for sizes in [(0, 4, 2, 2), (3, 0, 2, 2), (3, 4, 0, 2), (3, 4, 2, 0)]:
        with pytest.raises(ValueError):
            kernel.Worker(*sizes, 1)


@pytest.mark.parametrize("loss", ["ns", "nce", "hs"])
def test_train_pair_rejects_bad_ids(kernel, loss):
    w_in = np.zeros((5, 3), dtype=np.float32)
    w_out = np.zeros((n_out_rows(5, loss), 3), dtype=np.float32)
    trainer = make_trainer(kernel, w_in, w_out, loss=loss)
    worker = trainer.new_worker(0)
    for input_word, word in [(5, 0), (0, 5), (-1, 0), (0, -1)]:
        with pytest.raises(ValueError):
            trainer.train_pair(worker, input_word, word, 0.1)


@pytest.mark.parametrize("bad", [20, 21, 2**31 - 1, -2, -(2**31)])
def test_train_job_rejects_out_of_range_ids_before_touching_the_model(kernel, bad):
    rng = np.random.default_rng(0)
    w_in, w_out = random_model(rng, 20, 8, 1.0)
    old_in, old_out = w_in.copy(), w_out.copy()
    trainer = make_trainer(kernel, w_in, w_out)
    worker = trainer.new_worker(0)
    state = worker.rng_state
    tokens = np.array([0, 1, 2, 3, bad, 4, END], dtype=np.int32)
    with pytest.raises(ValueError, match="out of range"):
        trainer.train_job(worker, tokens, 0.025, 0.0)
    assert np.array_equal(w_in, old_in) and np.array_equal(w_out, old_out)
    assert worker.rng_state == state


def test_train_job_and_train_pair_reject_mismatched_workers(kernel):
    w = np.zeros((20, 8), dtype=np.float32)
    trainer = make_trainer(kernel, w, w.copy(), window=5, negative=3, max_sentence=64)
    tokens = np.array([0, 1, END], dtype=np.int32)
    # dim, max_sentence, max_inputs (2 * window), max_targets (negative + 1)
    assert trainer.train_job(kernel.Worker(8, 64, 10, 4, 0), tokens, 0.025, 0.0)[1] == 2
    assert trainer.train_job(kernel.Worker(8, 100, 12, 9, 0), tokens, 0.025, 0.0)[1] == 2
    for sizes in [(7, 64, 10, 4), (8, 32, 10, 4), (8, 64, 9, 4), (8, 64, 10, 3)]:
        worker = kernel.Worker(*sizes, 0)
        with pytest.raises(ValueError):
            trainer.train_job(worker, tokens, 0.025, 0.0)
        with pytest.raises(ValueError):
            trainer.train_pair(worker, 0, 1, 0.025)
