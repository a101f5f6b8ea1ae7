"""The kernel's random stream: MirrorRng predicts its draws, workers are seeded apart, and
a saved state resumes the same stream."""

import numpy as np
import pytest
from kernel_reference import MirrorRng
from kernel_trainers import make_tables, make_trainer


def test_mirror_rng_reproduces_kernel_noise_draws(kernel):
    counts = np.array([500, 120, 60, 60, 7, 3, 1, 1, 0, 40])
    tables = make_tables(counts)
    w = np.zeros((len(counts), 2), dtype=np.float32)
    trainer = make_trainer(kernel, w, w.copy(), tables=tables)
    worker = trainer.new_worker(2024)
    mirror = MirrorRng(worker.rng_state)
    draws = trainer.draw_noise(worker, 5000)
    expected = [mirror.noise(tables) for _ in range(5000)]
    assert draws.tolist() == expected
    assert worker.rng_state == mirror.state


def test_worker_seeding(kernel):
    w = np.zeros((5, 3), dtype=np.float32)
    trainer = make_trainer(kernel, w, w.copy())
    states = [trainer.new_worker(seed).rng_state for seed in range(50)]
    assert all(s != 0 for s in states)  # xorshift's state must never be zero
    assert len(set(states)) == 50
    assert trainer.new_worker(7).rng_state == trainer.new_worker(7).rng_state
    # The seed alone determines the state, whatever the buffer sizes.
    assert kernel.Worker(3, 10, 2, 2, 7).rng_state == trainer.new_worker(7).rng_state


def test_a_restored_rng_state_continues_the_same_stream(kernel):
    counts = np.array([50, 20, 9, 4, 1])
    tables = make_tables(counts)
    w = np.zeros((len(counts), 2), dtype=np.float32)
    trainer = make_trainer(kernel, w, w.copy(), tables=tables)
    worker = trainer.new_worker(11)
    trainer.draw_noise(worker, 100)  # move away from the seeded state
    saved = worker.rng_state
    expected = trainer.draw_noise(worker, 500)
    other = trainer.new_worker(99)
    other.rng_state = saved
    assert other.rng_state == saved
    assert trainer.draw_noise(other, 500).tolist() == expected.tolist()
    with pytest.raises(ValueError, match="zero"):
        other.rng_state = 0
