# cython: language_level=3
"""The compiled half of a Ray synchronisation's one-byte rows (fastw2v/distributed/exchange.py).

In every round but the last, a worker sends the rows of its working copy that moved,
each as int8 deltas times a float32 scale, and the driver sends back one such update.
exchange.py states the arithmetic in numpy; done that way it made about ten passes
over the changed rows, each with a temporary the size of the matrix, and cost more
than half as long as the training of a round (benchmarks/RESULTS.md, "What Ray costs
on one machine"). Here each step is one pass over the rows.

The arithmetic is exactly exchange.py's, operation for operation in float32, because
the driver and every worker must hold bit-identical synchronised models: a delta d is
coded as c = clip(rint(d / s), -127, 127) with s = (the row's largest |d|) / 127 (1
for a row of zeros), and c stands for the float32 product c * s. The module is built
with -ffp-contract=off (setup.py) so that no compiler fuses a product into an add and
rounds once where numpy rounds twice.
"""

import numpy as np

cimport numpy as cnp
from libc.math cimport NAN, fabsf
from libc.stdint cimport int8_t, int64_t

cnp.import_array()

cdef float FLOAT32_MAX = 3.4028234663852886e38
cdef float ROUNDER = 12582912.0  # 1.5 x 2^23
# Rows are coded through a buffer on the stack; wider rows take exchange.py's numpy path.
MAX_DIM = 4096


cdef inline bint _code_row(const float *delta, Py_ssize_t dim, float peak, int8_t *codes,
                           float *scale_out) noexcept nogil:
    """Code one row of deltas whose largest absolute value is `peak`; False if the row
    is not finite (the training diverged)."""
    cdef Py_ssize_t k
    cdef float scale, q
    if not peak <= FLOAT32_MAX:  # NaN fails too
        return False
    scale = peak / <float>127
    if scale == 0:
        scale = 1
    for k in range(dim):
        # rint(x) for |x| < 2^22, as adding and taking off 1.5 x 2^23 rounds (to
        # nearest, ties to even, as rintf): one add each instead of a libm call a value,
        # and here |x| is at most 127 and a rounding.
        q = (delta[k] / scale + ROUNDER) - ROUNDER
        if q > 127:
            q = 127
        elif q < -127:
            q = -127
        codes[k] = <int8_t>q
    scale_out[0] = scale
    return True


cdef inline float _peak(const float *row, Py_ssize_t dim) noexcept nogil:
    """The largest absolute value of the row, or a NaN of the row."""
    cdef float peak = 0, a
    cdef Py_ssize_t k
    for k in range(dim):
        a = fabsf(row[k])
        if a > peak:
            peak = a
        elif not a <= peak:  # NaN: _code_row refuses the row
            return a
    return peak


cdef _check_width(Py_ssize_t dim):
    if dim > MAX_DIM:  # the rows go through a buffer of MAX_DIM on the stack
        raise ValueError(f"rows of more than {MAX_DIM:,} values go through numpy")


cdef _diverged():
    raise FloatingPointError("a synchronised delta does not fit in 8 bits (the training "
                             "diverged)")


def take_rows(float[:, ::1] working, const float[:, ::1] synced, float threshold):
    """A worker's message for one array: the rows of `working` that differ from
    `synced` by at least `threshold` at some value (every differing row when it is 0 or
    less), ascending, as int8 codes and a scale each; the coded deltas are taken off
    `working` (in place), which keeps what could not be sent. FloatingPointError for a
    row that is not finite."""
    cdef Py_ssize_t n = working.shape[0], dim = working.shape[1], r, k, i, count = 0
    cdef cnp.ndarray chosen = np.zeros(n, dtype=np.uint8)
    cdef cnp.ndarray peaks = np.empty(n, dtype=np.float32)
    cdef unsigned char[::1] chosen_view = chosen
    cdef float[::1] peak_view = peaks
    cdef float peak, d
    cdef bint changed, nan
    with nogil:
        for r in range(n):
            changed = nan = False
            peak = 0
            for k in range(dim):
                if working[r, k] != synced[r, k]:
                    changed = True
                d = fabsf(working[r, k] - synced[r, k])
                if d > peak:
                    peak = d
                elif not d <= peak:
                    nan = True
            if nan:
                peak = NAN  # sent, so that _code_row refuses it
            if changed and (threshold <= 0 or not peak < threshold):
                chosen_view[r] = 1
                peak_view[r] = peak
                count += 1
    rows = np.flatnonzero(chosen)
    codes = np.empty((count, dim), dtype=np.int8)
    scales = np.empty(count, dtype=np.float32)
    cdef int64_t[::1] row_view = rows
    cdef int8_t[:, ::1] code_view = codes
    cdef float[::1] scale_view = scales
    cdef float delta[4096]
    cdef bint finite = True
    _check_width(dim)
    with nogil:
        for i in range(count):
            r = row_view[i]
            for k in range(dim):
                delta[k] = working[r, k] - synced[r, k]
            if not _code_row(delta, dim, peak_view[r], &code_view[i, 0], &scale_view[i]):
                finite = False
                break
            for k in range(dim):
                working[r, k] = working[r, k] - <float>code_view[i, k] * scale_view[i]
    if not finite:
        _diverged()
    return rows, codes, scales


def add_rows(float[:, ::1] array, const int64_t[::1] rows, const int8_t[:, ::1] codes,
             const float[::1] scales):
    """array[rows[i]] += codes[i] * scales[i], in float32: how every side applies an
    update."""
    cdef Py_ssize_t i, k, r, dim = array.shape[1]
    with nogil:
        for i in range(rows.shape[0]):
            r = rows[i]
            for k in range(dim):
                array[r, k] = array[r, k] + <float>codes[i, k] * scales[i]


def finish_update(float[:, ::1] synced, float[:, ::1] residual, const int64_t[::1] rows,
                  const float[:, ::1] summed, float n_workers, float gain):
    """The driver's update for `rows` (ascending), whose workers' deltas add up to
    `summed` (one row each): the mean (the sum / n_workers) times `gain`, plus the
    residual, coded in int8 and a scale a row; what is sent is added to `synced` and the
    rounding left in `residual` (both in place). Returns the codes and scales."""
    cdef Py_ssize_t count = rows.shape[0], dim = synced.shape[1], i, k, r
    codes = np.empty((count, dim), dtype=np.int8)
    scales = np.empty(count, dtype=np.float32)
    cdef int8_t[:, ::1] code_view = codes
    cdef float[::1] scale_view = scales
    cdef float total[4096]
    cdef float sent
    cdef bint finite = True
    _check_width(dim)
    with nogil:
        for i in range(count):
            r = rows[i]
            for k in range(dim):
                if gain == 1:
                    total[k] = residual[r, k] + summed[i, k] / n_workers
                else:
                    total[k] = residual[r, k] + (summed[i, k] / n_workers) * gain
            if not _code_row(total, dim, _peak(total, dim), &code_view[i, 0],
                             &scale_view[i]):
                finite = False
                break
            for k in range(dim):
                sent = <float>code_view[i, k] * scale_view[i]
                synced[r, k] = synced[r, k] + sent
                residual[r, k] = total[k] - sent
    if not finite:
        _diverged()
    return codes, scales
