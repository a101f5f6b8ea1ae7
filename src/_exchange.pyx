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
from libc.stdint cimport int8_t, int64_t, uint32_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

cnp.import_array()

cdef float FLOAT32_MAX = 3.4028234663852886e38
cdef float ROUNDER = 12582912.0  # 1.5 x 2^23
# Rows are coded through a buffer on the stack; wider rows take exchange.py's numpy path.
MAX_DIM = 4096

# The loops below have no branch in them, so that the compiler turns each into vector
# instructions: a row's largest absolute value is taken on the bits (below), a clip is
# a conditional expression. Each operation is still numpy's, in the same order.


cdef inline uint32_t _magnitude_bits(float x) noexcept nogil:
    """The bits of |x|. For numbers that are not negative, the order of their bits as
    unsigned integers is the order of the numbers, with every NaN above infinity: so
    the largest of them is an integer maximum, which vectorizes where a float maximum
    (whose NaN rules differ) does not."""
    cdef uint32_t bits
    memcpy(&bits, &x, 4)
    return bits & 0x7fffffff


cdef inline float _from_bits(uint32_t bits) noexcept nogil:
    cdef float x
    memcpy(&x, &bits, 4)
    return x


cdef inline float _peak(const float *row, Py_ssize_t dim) noexcept nogil:
    """The largest absolute value of the row, or a NaN if it holds one."""
    cdef uint32_t peak = 0, bits
    cdef Py_ssize_t k
    for k in range(dim):
        bits = _magnitude_bits(row[k])
        peak = bits if bits > peak else peak
    return _from_bits(peak)


cdef inline float _difference_peak(const float *working, const float *synced,
                                   Py_ssize_t dim, bint *changed) noexcept nogil:
    """The largest |working - synced| of a row (a NaN if one is), and in `changed`
    whether any value differs (+0 and -0 do not; inf and inf do not, though their
    difference is a NaN)."""
    cdef uint32_t peak = 0, bits
    cdef int differs = 0
    cdef Py_ssize_t k
    for k in range(dim):
        differs |= working[k] != synced[k]
        bits = _magnitude_bits(working[k] - synced[k])
        peak = bits if bits > peak else peak
    changed[0] = differs != 0
    return _from_bits(peak)


cdef inline bint _scale_of(float peak, float *scale) noexcept nogil:
    """The scale of a row whose largest absolute value is `peak`; False if the row is
    not finite (the training diverged)."""
    if not peak <= FLOAT32_MAX:  # NaN fails too
        return False
    scale[0] = peak / <float>127
    if scale[0] == 0:
        scale[0] = 1
    return True


cdef inline float _code(float delta, float scale) noexcept nogil:
    """One delta in int8 steps of `scale`: rint(delta / scale) clipped to +-127.
    rint(x) for |x| < 2^22 is adding and taking off 1.5 x 2^23 (to nearest, ties to
    even, as rintf): one add each instead of a libm call a value, and here |x| is at
    most 127 and a rounding."""
    cdef float q = (delta / scale + ROUNDER) - ROUNDER
    q = 127 if q > 127 else q
    return -127 if q < -127 else q


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
    cdef Py_ssize_t n = working.shape[0], dim = working.shape[1], r, k, count = 0
    # Room for every row, so that a row is measured and coded in one visit while it is
    # in the cache. np.empty leaves the pages untouched: only the rows coded take memory.
    rows = np.empty(n, dtype=np.int64)
    codes = np.empty((n, dim), dtype=np.int8)
    scales = np.empty(n, dtype=np.float32)
    cdef int64_t[::1] row_view = rows
    cdef int8_t[:, ::1] code_view = codes
    cdef float[::1] scale_view = scales
    cdef float *row
    cdef const float *base
    cdef int8_t *coded
    cdef float peak, scale, q
    cdef bint changed, finite = True
    with nogil:
        for r in range(n):
            row, base = &working[r, 0], &synced[r, 0]
            peak = _difference_peak(row, base, dim, &changed)
            if not changed or (threshold > 0 and peak < threshold):
                continue
            if not _scale_of(peak, &scale):
                finite = False
                break
            coded = &code_view[count, 0]
            for k in range(dim):
                q = _code(row[k] - base[k], scale)
                coded[k] = <int8_t>q
                row[k] = row[k] - q * scale
            row_view[count], scale_view[count] = r, scale
            count += 1
    if not finite:
        _diverged()
    return rows[:count], codes[:count], scales[:count]


def add_rows(float[:, ::1] array, const int64_t[::1] rows, const int8_t[:, ::1] codes,
             const float[::1] scales):
    """array[rows[i]] += codes[i] * scales[i], in float32: how every side applies an
    update."""
    cdef Py_ssize_t i, k, dim = array.shape[1]
    cdef float *row
    cdef const int8_t *coded
    cdef float scale
    with nogil:
        for i in range(rows.shape[0]):
            row, coded, scale = &array[rows[i], 0], &codes[i, 0], scales[i]
            for k in range(dim):
                row[k] = row[k] + <float>coded[k] * scale


def combine_rows(float[:, ::1] synced, float[:, ::1] residual, const int64_t[::1] union,
                 list rows, list codes, list scales, float n_workers, float gain,
                 float carry=0):
    """The driver's update for the rows `union` (ascending: every row some worker
    sent), from the workers' messages in message order (worker w sent the rows
    `rows[w]`, ascending, as `codes[w]` times `scales[w]`): a row's deltas summed in
    float32 in message order, the sum / n_workers (the mean) times `gain`, plus the
    residual, coded in int8 and a scale a row; what is sent is added to `synced`, and
    the rounding, plus the mean times `carry` when that is not 0, left in `residual`
    (both in place). Returns the codes and scales.

    One pass over the union: each worker's next row is a cursor into its message, so
    no matrix of sums is ever made."""
    cdef Py_ssize_t count = union.shape[0], dim = synced.shape[1], n_parts = len(rows)
    cdef Py_ssize_t i, k, r, w, at
    _check_width(dim)
    if not len(codes) == len(scales) == n_parts:
        raise ValueError("rows, codes and scales must come one of each a worker")
    out_codes = np.empty((count, dim), dtype=np.int8)
    out_scales = np.empty(count, dtype=np.float32)
    cdef int8_t[:, ::1] code_view = out_codes
    cdef float[::1] scale_view = out_scales
    cdef const int64_t[::1] part_rows
    cdef const int8_t[:, ::1] part_codes
    cdef const float[::1] part_scales
    # Each worker's arrays as pointers, with its length and cursor (the arrays live on
    # in the lists, which the caller holds): two blocks, freed together.
    cdef void **pointers = <void **>malloc(3 * n_parts * sizeof(void *))
    cdef Py_ssize_t *length = <Py_ssize_t *>malloc(2 * n_parts * sizeof(Py_ssize_t))
    if pointers == NULL or length == NULL:
        free(pointers)
        free(length)
        raise MemoryError()
    cdef const int64_t **row_at = <const int64_t **>pointers
    cdef const int8_t **code_at = <const int8_t **>(pointers + n_parts)
    cdef const float **scale_at = <const float **>(pointers + 2 * n_parts)
    cdef Py_ssize_t *cursor = length + n_parts
    cdef float total[4096]
    cdef float mean[4096]
    cdef float *model
    cdef float *left
    cdef const int8_t *coded
    cdef int8_t *out
    cdef float scale, q
    cdef bint finite = True, covered = True
    try:
        for w in range(n_parts):
            part_rows, part_codes, part_scales = rows[w], codes[w], scales[w]
            length[w], cursor[w] = part_rows.shape[0], 0
            if part_codes.shape[0] != length[w] or part_scales.shape[0] != length[w]:
                raise ValueError(f"worker {w + 1}'s rows, codes and scales differ in length")
            if length[w] and part_codes.shape[1] != dim:
                raise ValueError(f"worker {w + 1}'s rows are not {dim} wide")
            row_at[w] = &part_rows[0] if length[w] else NULL
            code_at[w] = &part_codes[0, 0] if length[w] else NULL
            scale_at[w] = &part_scales[0] if length[w] else NULL
        with nogil:
            for i in range(count):
                r = union[i]
                for k in range(dim):
                    total[k] = 0
                for w in range(n_parts):
                    at = cursor[w]
                    if at < length[w] and row_at[w][at] == r:
                        coded, scale = code_at[w] + at * dim, scale_at[w][at]
                        for k in range(dim):
                            total[k] = total[k] + <float>coded[k] * scale
                        cursor[w] = at + 1
                model, left = &synced[r, 0], &residual[r, 0]
                for k in range(dim):
                    mean[k] = total[k] / n_workers
                # Two loops rather than a test a value: the mean alone when gain is 1, as
                # numpy (exchange.combine) adds it.
                if gain == 1:
                    for k in range(dim):
                        total[k] = left[k] + mean[k]
                else:
                    for k in range(dim):
                        total[k] = left[k] + mean[k] * gain
                if not _scale_of(_peak(total, dim), &scale):
                    finite = False
                    break
                out = &code_view[i, 0]
                for k in range(dim):
                    q = _code(total[k], scale)
                    out[k] = <int8_t>q
                    model[k] = model[k] + q * scale
                    left[k] = total[k] - q * scale
                if carry != 0:
                    for k in range(dim):
                        left[k] = left[k] + mean[k] * carry
                scale_view[i] = scale
            for w in range(n_parts):
                if finite and cursor[w] != length[w]:
                    covered = False
    finally:
        free(pointers)
        free(length)
    if not finite:
        _diverged()
    if not covered:
        raise ValueError("a worker sent a row that is not in the union of the rows sent")
    return out_codes, out_scales
