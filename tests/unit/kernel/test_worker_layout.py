"""Each thread's scratch buffers own their cache lines (src/_kernel.pyx, _private_zeros):
two threads' buffers in one line would bounce it between cores at every write."""

import numpy as np
import pytest


@pytest.mark.parametrize("count, dtype", [(1, np.uint8), (7, np.int32), (16, np.float32),
                                          (17, np.float32), (100, np.uintp)])
def test_a_private_buffer_starts_a_line_and_owns_its_last_one(kernel, count, dtype):
    line = kernel.CACHE_LINE
    buffers = [kernel._private_zeros(count, dtype) for _ in range(50)]
    spans = []
    for buffer in buffers:
        assert buffer.shape == (count,) and buffer.dtype == dtype
        assert not buffer.any()
        start = buffer.ctypes.data
        assert start % line == 0
        first_line = start // line
        last_line = (start + buffer.nbytes - 1) // line
        spans.append((first_line, last_line))
    # No two buffers touch a common line.
    spans.sort()
    for (_, last), (first, _) in zip(spans, spans[1:]):
        assert first > last
