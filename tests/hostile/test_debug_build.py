"""The debug build (FASTW2V_DEBUG=1, see setup.py) really checks indices.

The test runs only when FASTW2V_DEBUG=1 is set while testing, as .ci/run sets it for
its debug stage. It also guards that stage: if the package under test was built
without bounds checks (a stale build reused, the variable lost on the way to the
compiler), it fails instead of letting the kernel tests pass unchecked.

The probe is an out-of-range index the kernel's own validation does not catch: a
negative-sampling trainer never reads the hierarchical-softmax paths, so it does not
check them, but it still takes the address of element 0 of `path_offsets`. With an
empty array that is index 0 of a buffer of length 0. A release build only computes the
address (never read, so harmless); a bounds-checked build must raise IndexError.
"""

import dataclasses
import os

import numpy as np
import pytest

from fastw2v.config import TrainConfig
from fastw2v.state import ModelState
from fastw2v.text.vocab import Vocabulary
from fastw2v.training.kernel import KernelSettings, build_tables

pytestmark = pytest.mark.skipif(os.environ.get("FASTW2V_DEBUG") != "1",
                                reason="for the bounds-checked build (FASTW2V_DEBUG=1)")


def test_an_index_out_of_range_fails_loudly(kernel):
    # `kernel` (tests/conftest.py) is each build this CPU can run; .ci/run builds them all
    # with FASTW2V_DEBUG=1.
    config = TrainConfig(dim=4, loss="ns")
    counts = np.array([5, 3, 2], dtype=np.int64)
    tables = build_tables(counts, config)
    words = [str(i) for i in range(len(counts))]
    initial = ModelState.initial(Vocabulary(words, counts), config)
    w_in, w_out, gamma = initial.w_in, initial.w_out, initial.gamma
    settings = KernelSettings.from_config(config)
    kernel.Trainer(w_in, w_out, gamma, tables, settings)  # valid: builds
    empty = dataclasses.replace(tables, path_offsets=np.zeros(0, dtype=np.int64))
    with pytest.raises(IndexError, match="Out of bounds"):
        kernel.Trainer(w_in, w_out, gamma, empty, settings)
