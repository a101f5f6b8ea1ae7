"""The Ray engine's arithmetic, without Ray: the synchronisation rule against a plain
statement of it (the mean of whole models), the one-byte exchange, and the cutting of
shards."""

import numpy as np
import pytest

from fastw2v.distributed.engine import RaySettings, block_split, default_sync_every
from fastw2v.distributed.exchange import (
    apply_update,
    combine,
    full_message,
    pack,
    significant,
    wire_bytes,
    worker_message,
)
from fastw2v.distributed.reading import split_shards
from fastw2v.errors import ConfigError
from fastw2v.text.corpus import EncodedCorpus, IdStream


def _workers(rng, start, n_workers, n_changed, scale=1.0):
    """Working copies of `start`, each with `n_changed` random rows moved."""
    models = []
    for _ in range(n_workers):
        model = start.copy()
        rows = np.sort(rng.choice(len(start), size=n_changed, replace=False))
        model[rows] += scale * rng.standard_normal((n_changed, start.shape[1])).astype(np.float32)
        models.append(model)
    return models


def test_changed_rows_give_the_average_of_whole_models():
    rng = np.random.default_rng(0)
    start = rng.standard_normal((50, 4)).astype(np.float32)
    models = _workers(rng, start, 3, 20, scale=0.01)
    # A full round's two one-byte parts a worker, as the engine's last round.
    messages = [part for m in models for part in full_message({"w": m.copy()}, {"w": start})]
    synced, residual = {"w": start.copy()}, {"w": np.zeros_like(start)}
    update = combine(synced, residual, messages, n_workers=3)
    expected = np.mean(np.stack(models).astype(np.float64), axis=0)
    # Deltas of up to about 0.03: the driver's one-byte update is good to 1/254 of a
    # row's largest, about 1e-4; the residual holds the rest of its rounding, so the
    # output (synced + residual) is as close as the workers' two bytes (1/64,516).
    assert np.allclose(synced["w"], expected, rtol=0, atol=2e-4)
    assert np.allclose(synced["w"] + residual["w"], expected, rtol=0, atol=2e-6)
    # Only rows some worker changed travel back; the others are untouched everywhere.
    changed = set(np.flatnonzero(np.any(np.stack(models) != start, axis=(0, 2))).tolist())
    assert set(update["w"].rows().tolist()) == changed
    untouched = np.setdiff1d(np.arange(50), sorted(changed))
    assert np.array_equal(synced["w"][untouched], start[untouched])


def test_the_bytes_are_a_bit_mask_and_one_byte_a_number():
    rows, values = np.array([3, 10, 999]), np.ones((3, 100), dtype=np.float32)
    byte = pack(1000, rows, values)
    assert byte.values.dtype == np.int8
    assert byte.nbytes == 8 + 1000 // 8 + 3 * 100 + 3 * 4  # a float32 scale a row
    assert byte.rows().tolist() == [3, 10, 999]
    # What Ray moves (the pickle and its buffers) is the payload and a little framing.
    assert byte.nbytes <= wire_bytes({"w": byte}) <= byte.nbytes + 400


def test_small_deltas_round_trip_within_half_a_step():
    rng = np.random.default_rng(1)
    deltas = (1e-3 * rng.standard_normal((64, 8))).astype(np.float32)
    deltas[5] = 0  # a row of zeros stays zeros
    packed = pack(64, np.arange(64), deltas)
    back = packed.deltas()
    assert back.dtype == np.float32
    peak = np.max(np.abs(deltas), axis=1, keepdims=True)
    assert np.all(np.abs(back - deltas) <= peak / 254 * 1.001)
    assert not np.array_equal(back, deltas)  # it is rounded
    assert np.array_equal(back[5], np.zeros(8))
    # The largest number of each row is exact (127 times its scale).
    at = np.argmax(np.abs(deltas), axis=1)
    assert np.allclose(back[np.arange(64), at], deltas[np.arange(64), at], rtol=1e-6)


def test_a_delta_that_does_not_fit_is_refused():
    values = np.array([[np.inf]], dtype=np.float32)
    with pytest.raises(FloatingPointError, match="fit in 8 bits"):
        pack(4, np.array([1]), values)


def test_workers_and_driver_end_every_sync_with_identical_synchronised_models():
    """Several rounds of the exchange, as the engine and the workers run it: after each
    update every worker's synchronised model equals the driver's bit for bit, each
    working copy differs from it only by that worker's unsent part, and what was not
    sent is not lost: the output is the average of every worker's training."""
    rng = np.random.default_rng(2)
    n_workers, start = 3, rng.standard_normal((40, 6)).astype(np.float32)
    driver = {"w": start.copy()}
    residual = {"w": np.zeros_like(start)}
    synced = [{"w": start.copy()} for _ in range(n_workers)]
    working = [{"w": start.copy()} for _ in range(n_workers)]
    trained = np.zeros((40, 6))  # the sum of every worker's steps, in float64
    threshold = 0.02
    for r in range(6):
        last = r == 5
        messages = []
        for w in range(n_workers):
            steps = np.zeros_like(start)
            rows = rng.choice(40, size=10, replace=False)
            # Big and small steps: the small ones wait on the worker.
            steps[rows] = rng.choice([0.05, 0.001], size=(10, 1)) * rng.standard_normal(
                (10, 6)).astype(np.float32)
            working[w]["w"] += steps
            trained += steps
            before = working[w]["w"].copy()
            if last:  # every row, in two one-byte parts, as the engine's last round
                parts = full_message(working[w], synced[w])
                assert len(parts) == 2 and parts[0]["w"].values.dtype == np.int8
                messages.extend(parts)
                continue
            messages.append(worker_message(working[w], synced[w], threshold))
            sent = messages[-1]["w"]
            unsent = np.setdiff1d(np.flatnonzero(np.any(before != synced[w]["w"], axis=1)),
                                  sent.rows())
            assert np.array_equal(working[w]["w"][unsent], before[unsent])
            assert np.all(np.abs(working[w]["w"][unsent] - synced[w]["w"][unsent]) < threshold)
        update = combine(driver, residual, messages, n_workers)
        if last:
            break
        for w in range(n_workers):
            apply_update(synced[w], update)
            apply_update(working[w], update)
            assert np.array_equal(synced[w]["w"], driver["w"])
            assert np.all(np.abs(working[w]["w"] - synced[w]["w"]) < threshold)
    # What the two bytes of the last round leave on the workers is below 1/64,516 of a
    # row's largest delta (here up to about 0.3).
    output = driver["w"] + residual["w"]
    assert np.allclose(output, start + trained / n_workers, rtol=0, atol=1e-5)


def test_a_threshold_keeps_back_only_small_rows():
    deltas = np.array([[0.1, 0.0], [0.001, -0.002], [0.0, -0.05]], dtype=np.float32)
    assert significant(deltas, 0.01).tolist() == [True, False, True]
    assert significant(deltas, 0.0).all()


def _encoded(sentences):
    ids = np.concatenate([np.r_[np.arange(n) % 7, -1] for n in sentences]).astype(np.int32)
    return EncodedCorpus(IdStream.of(ids), n_words=int(np.sum(sentences)), n_skipped=0,
                         n_sentences=len(sentences)), ids


def test_shards_cover_the_stream_in_order_at_sentence_ends():
    encoded, ids = _encoded([30, 5, 12, 40, 8, 9, 25, 3, 16, 20])
    shards = split_shards(encoded, 3, job_tokens=10)
    assert len(shards) == 3
    assert np.array_equal(np.concatenate(shards), ids)
    assert all(len(shard) and shard[-1] == -1 for shard in shards)
    assert max(map(len, shards)) < 2 * min(map(len, shards)) + 41


def test_a_corpus_too_small_for_the_workers_is_refused():
    encoded, _ = _encoded([3, 4])
    with pytest.raises(ConfigError, match="too small for 5 workers"):
        split_shards(encoded, 5, job_tokens=1000)


def test_a_resumed_run_on_ray_keeps_its_workers_and_interval():
    saved = {"workers": 4, "sync_every": 1000, "rounds_done": 3, "shards": []}
    settings = RaySettings.of("local", None, None, resumed=saved, resuming="c.ckpt")
    assert (settings.address, settings.workers, settings.sync_every) == ("local", 4, 1000)
    assert RaySettings.of("auto", 4, 1000, resumed=saved, resuming="c.ckpt").workers == 4
    with pytest.raises(ConfigError, match=r"keeps its ray_workers \(4; got 2\)"):
        RaySettings.of("local", 2, None, resumed=saved, resuming="c.ckpt")
    with pytest.raises(ConfigError, match=r"keeps its sync_every \(1,000; got 2,000\)"):
        RaySettings.of("local", None, 2000, resumed=saved, resuming="c.ckpt")
    with pytest.raises(ConfigError, match="c.ckpt was written by a run on Ray"):
        RaySettings.of(None, None, None, resumed=saved, resuming="c.ckpt")
    with pytest.raises(ConfigError, match="c.ckpt was written by a run on one machine"):
        RaySettings.of("local", None, None, resumed=None, resuming="c.ckpt")
    # Not resuming: the defaults.
    fresh = RaySettings.of("local", None, None)
    assert (fresh.workers, fresh.sync_every) == (2, 800_000)
    # 1.6M words a round in all, at least 400,000 a worker.
    assert [default_sync_every(n) for n in (1, 2, 3, 4, 8)] == [
        1_600_000, 800_000, 533_333, 400_000, 400_000]
    assert RaySettings.of("local", 8, None).sync_every == 400_000
    assert fresh.max_worker_rate == 0.0667 and fresh.max_block_rate == 2 and fresh.split_block
    # CBOW: 1M words a round in all, at least 250,000 a worker, and B up to 3.
    assert [default_sync_every(n, "cbow") for n in (1, 2, 4, 8)] == [
        1_000_000, 500_000, 250_000, 250_000]
    cbow = RaySettings.of("local", 4, None, architecture="cbow")
    assert (cbow.sync_every, cbow.max_block_rate) == (250_000, 3)
    assert cbow.rate_factor(0.05) == pytest.approx(1.334)
    assert cbow.block_rate(0.05) == pytest.approx(4 / 1.334)
    assert RaySettings.of("local", None, None, max_worker_rate=0.2).max_worker_rate == 0.2
    with pytest.raises(ConfigError, match="ray_max_worker_rate must be a positive number"):
        RaySettings.of("local", None, None, max_worker_rate=0)


def test_a_resumed_run_on_ray_keeps_its_largest_worker_rate():
    def factors(saved, workers):
        """F and B for skip-gram's rate, resuming `saved` written by `workers` workers."""
        settings = RaySettings.of("local", None, None, resumed={**saved, "workers": workers},
                                  resuming="c.ckpt")
        return settings.rate_factor(0.025), settings.block_rate(0.025)

    # Written before the largest rate was recorded: the plain average, rate x W.
    saved = {"workers": 8, "sync_every": 1000, "rounds_done": 3, "shards": []}
    assert factors(saved, 8) == (8, 1)
    # With it recorded but no limit on B (the rule before): 16 workers have B = 4; with
    # the limit recorded, B stops at 2 and the workers' rate goes past 0.1.
    saved["max_worker_rate"] = 0.1
    assert factors(saved, 8) == (4, 2) and factors(saved, 16) == (4, 4)
    saved["max_block_rate"] = 2.0
    assert factors(saved, 16) == (8, 2)
    # Written before B was spread over two rounds: applied at once, as it was trained.
    settings = RaySettings.of("local", None, None, resumed=saved, resuming="c.ckpt")
    assert settings.block_split(0.025) == (2, 0)
    saved["split_block"] = True
    settings = RaySettings.of("local", None, None, resumed=saved, resuming="c.ckpt")
    assert settings.block_split(0.025) == pytest.approx((2 * 2 ** 0.5 - 1, (2 ** 0.5 - 1) ** 2))
    with pytest.raises(ConfigError, match=r"keeps its ray_max_worker_rate \(0.1; got 0.2\)"):
        RaySettings.of("local", None, None, resumed=saved, resuming="c.ckpt",
                       max_worker_rate=0.2)


@pytest.mark.parametrize("gain, carry", [(2.0, 0.0), block_split(2.0)])
def test_a_block_rate_moves_the_model_by_that_many_mean_deltas(gain, carry):
    """The driver's step with block learning rate B, at once or split over two rounds,
    against a float64 statement of it: the synchronised model (plus the driver's
    residual, which holds the part that waits) becomes start + B x the mean of the
    workers' deltas, over several rounds, and every worker's synchronised model stays
    bit-identical to the driver's."""
    rng = np.random.default_rng(5)
    n_workers = 4
    start = rng.standard_normal((30, 5)).astype(np.float32)
    driver, residual = {"w": start.copy()}, {"w": np.zeros_like(start)}
    synced = [{"w": start.copy()} for _ in range(n_workers)]
    expected = start.astype(np.float64)
    for r in range(5):
        last = r == 4
        messages, deltas = [], []
        for w in range(n_workers):
            working = synced[w]["w"].copy()
            rows = rng.choice(30, size=8, replace=False)
            working[rows] += 0.05 * rng.standard_normal((8, 5)).astype(np.float32)
            parts = (full_message({"w": working}, synced[w]) if last
                     else [worker_message({"w": working}, synced[w], 0.0)])
            messages.extend(parts)
            step = np.zeros(start.shape)
            for part in parts:
                step[part["w"].rows()] += part["w"].deltas()
            deltas.append(step)
        update = combine(driver, residual, messages, n_workers, gain=gain, carry=carry)
        expected += (gain + carry) * np.mean(deltas, axis=0)
        assert np.allclose(driver["w"] + residual["w"], expected, rtol=0, atol=1e-6)
        for w in range(n_workers):
            apply_update(synced[w], update)
            assert np.array_equal(synced[w]["w"], driver["w"])
    # Not the plain average: twice as far from the start.
    plain = start + (expected - start) / (gain + carry)
    assert np.abs(driver["w"] + residual["w"] - plain).max() > 0.01


def test_a_split_block_rate_adds_its_second_part_with_the_rows_next_update():
    """One row, two workers, B = 2 split: the first round moves the row by 2 sqrt(2) - 1
    mean deltas and keeps (sqrt(2) - 1)^2 of it, which the row's next update carries
    with that round's own part; a row settled within each round (its mean delta minus
    its error) comes to rest, where B = 2 at once swings for ever."""
    now, later = block_split(2.0)
    assert now + later == pytest.approx(2) and now == pytest.approx(2 * 2 ** 0.5 - 1)
    start = np.zeros((3, 4), dtype=np.float32)
    driver, residual = {"w": start.copy()}, {"w": np.zeros_like(start)}

    def round_of(delta):
        working = [start.copy(), start.copy()]
        for w in working:
            w[1] = delta
        messages = [worker_message({"w": w}, {"w": start}, 0.0) for w in working]
        return combine(driver, residual, messages, 2, gain=now, carry=later)

    first = round_of(np.full(4, 0.1, dtype=np.float32))
    assert np.allclose(first["w"].deltas(), now * 0.1, rtol=1e-2)
    assert np.allclose(residual["w"][1], later * 0.1, rtol=1e-2, atol=1e-4)
    second = round_of(np.full(4, 0.2, dtype=np.float32))
    assert np.allclose(second["w"].deltas(), now * 0.2 + later * 0.1, rtol=1e-2)
    assert np.allclose(driver["w"][1] + residual["w"][1], 2 * 0.3, rtol=1e-4)

    def settle(now, later, rounds=40):
        """The error of a row that every worker brings to 0 within each round."""
        error, waiting = 1.0, 0.0
        for _ in range(rounds):
            mean = -error
            error, waiting = error + now * mean + waiting, later * mean
        return abs(error + waiting)

    assert settle(now, later) < 1e-12 and settle(2.0, 0.0) == 1.0


@pytest.mark.parametrize("workers, alpha, factor, block", [
    (2, 0.025, 2, 1),  # skip-gram: the plain average with the rate x W up to 2.67 workers
    (4, 0.025, 2.668, 4 / 2.668),  # beyond, the driver multiplies the mean delta
    (8, 0.025, 4, 2),  # ... up to 2 times; the workers' rate passes 0.0667 instead
    (16, 0.025, 8, 2),
    (2, 0.05, 1.334, 2 / 1.334),  # CBOW's rate reaches the largest at 1.33 workers
    (4, 0.05, 2, 2),
    (1, 0.05, 1, 1),
    (2, 0.2, 1, 2),  # a rate above the largest: the sum of the deltas, as far as B allows
    (3, 0.2, 1.5, 2),
])
def test_the_rate_factor_and_the_block_rate_share_the_workers(workers, alpha, factor, block):
    settings = RaySettings("local", workers, 400_000)
    assert settings.max_worker_rate == 0.0667 and settings.max_block_rate == 2
    assert settings.rate_factor(alpha) == pytest.approx(factor)
    assert settings.block_rate(alpha) == pytest.approx(block)
    assert settings.rate_factor(alpha) * settings.block_rate(alpha) == pytest.approx(workers)
    # B spread over two rounds, all of it in the end; the plain average needs no wait.
    now, later = settings.block_split(alpha)
    assert now + later == pytest.approx(block) and (later == 0) == (block == 1)
    # No largest rate is the first rule, the plain average with the rate x W.
    unlimited = RaySettings("local", workers, 400_000, max_worker_rate=float("inf"))
    assert unlimited.rate_factor(alpha) == workers and unlimited.block_rate(alpha) == 1


def _exchange_case(seed, n=300, dim=17, n_workers=3):
    """A synchronised model and workers' working copies that moved it: many rows
    changed a little, some a lot, some not at all, some by exact halves of a step."""
    rng = np.random.default_rng(seed)
    synced = rng.standard_normal((n, dim)).astype(np.float32)
    workings = []
    for w in range(n_workers):
        working = synced.copy()
        moved = rng.random(n) < 0.7
        working[moved] += (rng.standard_normal((int(moved.sum()), dim))
                           * rng.choice([1e-4, 1e-2, 1.0], size=(int(moved.sum()), 1))
                           ).astype(np.float32)
        # A row whose deltas are k + 0.5 steps of its scale (a rounding tie for rint).
        working[w, :3] = synced[w, :3] + np.array([127, 2.5, -0.5], dtype=np.float32)
        workings.append(working)
    return synced, workings


def _as_numpy(monkeypatch):
    from fastw2v.distributed import exchange
    monkeypatch.setattr(exchange, "_compiled", lambda array: False)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("threshold", [0.0, 0.005])
@pytest.mark.parametrize("gain, carry", [(1.0, 0.0), (1.7, 0.0), (2.46, 0.54)])
@pytest.mark.parametrize("threads", [1, 3])
def test_the_compiled_one_byte_exchange_repeats_the_numpy_one_bit_for_bit(
        monkeypatch, seed, threshold, gain, carry, threads):
    from fastw2v.distributed import exchange
    # The driver's combine cut into runs of rows, one a thread, as for a large model.
    monkeypatch.setattr(exchange, "available_cores", lambda: threads)
    monkeypatch.setattr(exchange, "MIN_RUN_ROWS", 7)

    def run():
        synced, workings = _exchange_case(seed)
        messages = [worker_message({"w": working}, {"w": synced}, threshold)
                    for working in workings]
        driver = {"w": synced.copy()}
        residual = {"w": np.full_like(synced, 1e-3)}
        update = combine(driver, residual, messages, n_workers=len(workings), gain=gain,
                         carry=carry)
        applied = synced.copy()
        apply_update({"w": applied}, update)
        return messages, workings, driver["w"], residual["w"], update, applied

    assert exchange._compiled(np.zeros((2, 17), dtype=np.float32))  # not numpy twice
    compiled = run()
    with monkeypatch.context() as patch:
        _as_numpy(patch)
        reference = run()
    for ours, theirs in zip(compiled[0] + [compiled[4]], reference[0] + [reference[4]]):
        packed, expected = ours["w"], theirs["w"]
        assert packed.values.dtype == np.int8
        assert np.array_equal(packed.mask, expected.mask)
        assert np.array_equal(packed.values, expected.values)
        assert np.array_equal(packed.scale, expected.scale)
    for ours, theirs in zip(compiled[1] + list(compiled[2:4]) + [compiled[5]],
                            reference[1] + list(reference[2:4]) + [reference[5]]):
        assert ours.tobytes() == theirs.tobytes()
    # The driver's model and what a worker makes of the update are the same bits.
    assert compiled[2].tobytes() == compiled[5].tobytes()


def test_a_diverged_row_stops_the_compiled_exchange(monkeypatch):
    synced, workings = _exchange_case(0)
    workings[0][5, 3] = np.nan
    with pytest.raises(FloatingPointError, match="diverged"):
        worker_message({"w": workings[0]}, {"w": synced}, 0.0)
    workings[1][7, 1] = np.inf
    with pytest.raises(FloatingPointError, match="diverged"):
        worker_message({"w": workings[1]}, {"w": synced}, 0.005)


def test_a_worker_that_sent_nothing_combines_as_in_numpy(monkeypatch):
    # A worker whose working copy did not move sends an empty message (as every worker
    # does for gamma under negative sampling); the compiled combine walks the others.
    synced, workings = _exchange_case(3)
    workings[1] = synced.copy()

    def run():
        messages = [worker_message({"w": w.copy()}, {"w": synced}, 0.0)
                    for w in workings]
        assert len(messages[1]["w"].values) == 0
        driver, residual = {"w": synced.copy()}, {"w": np.zeros_like(synced)}
        update = combine(driver, residual, messages, n_workers=3, gain=2.0)
        return update["w"], driver["w"], residual["w"]

    compiled = run()
    with monkeypatch.context() as patch:
        _as_numpy(patch)
        reference = run()
    assert np.array_equal(compiled[0].mask, reference[0].mask)
    assert np.array_equal(compiled[0].values, reference[0].values)
    assert np.array_equal(compiled[0].scale, reference[0].scale)
    assert compiled[1].tobytes() == reference[1].tobytes()
    assert compiled[2].tobytes() == reference[2].tobytes()


def test_the_compiled_combine_refuses_a_row_outside_the_union():
    from fastw2v import _exchange
    synced, residual = np.zeros((4, 2), np.float32), np.zeros((4, 2), np.float32)
    codes, scales = np.ones((1, 2), np.int8), np.ones(1, np.float32)
    with pytest.raises(ValueError, match="not in the union"):
        _exchange.combine_rows(synced, residual, np.array([1]), [np.array([2])], [codes],
                               [scales], 1.0, 1.0)
