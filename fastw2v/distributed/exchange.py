"""What a synchronisation puts on the wire, and how both ends keep it exact.

A message holds, for each array, which rows travel as a bit mask over the array's rows
(one bit a row, however many rows travel) and the rows' *deltas* in one byte a number
(int8 times a float32 scale a row), where the first version sent 8 bytes of row
number and 4 bytes a number. A full round (the last, or before a checkpoint) sends
every moved row, each delta in two such messages, the second coding what the first
left (`full_message`). No rounding is lost for good: what one side could not send
waits and goes into its next message (error feedback). Float16 was measured first
and left more than the issue's 50 bytes per trained word (docs/distributed.md, "What
travels").

Every worker and the driver hold the same *synchronised model*, bit for bit:
- A worker trains its working copy; at a synchronisation it sends, for each row, the
  working copy minus the synchronised model, rounded, leaving out rows whose
  difference is still negligible (`significant`; a full round sends every row). What
  it did not send (those rows, and the rounding of the others) simply stays in its
  working copy, so it keeps training on its own progress and sends it later.
- The driver adds up the workers' rounded deltas in float32, divides by W, adds its
  own residual, rounds that update and sends it; it adds exactly the rounded numbers,
  in float32, to its synchronised model, and keeps the rounding error in its residual
  (with the part of the block learning rate that waits for the row's next update).
  Every worker adds the same numbers to the same float32 rows of its synchronised
  model and of its working copy. So the driver's and every worker's synchronised
  models stay identical, and each working copy differs from it only by that worker's
  unsent part.
- The output is the driver's synchronised model after the last round plus its residual.
"""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np

from .. import _exchange
from ..config import available_cores

# A worker sends a row when the largest absolute value of its unsent delta reaches this
# fraction of the learning rate the worker trains with at that point of the run (the
# rate x F, engine.py); smaller differences wait on the worker. docs/distributed.md,
# "What travels".
SKIP_BELOW = 0.05
# A full round (the last, which nothing follows to carry a rounding error on, and the
# one before a checkpoint) sends each delta in this many messages of one byte a number,
# each coding what the ones before left: two bytes leave at most 1/64,516 of a row's
# largest delta (float16 leaves up to 1/2,048 of a value), and the compiled code does
# both.
FULL_ROUND_PARTS = 2
# The driver combines a round's rows in up to this many threads, each a run of at least
# MIN_RUN_ROWS rows (fewer are not worth a thread): the combine is bound by memory,
# which a few cores saturate.
MAX_COMBINE_THREADS = 4
MIN_RUN_ROWS = 4096


@dataclass(frozen=True)
class Packed:
    """Some rows of an array of `n_rows` rows: `mask` (np.packbits of which rows) and
    their `values`, int8, one row each, in row order, with a float32 `scale` a row."""

    n_rows: int
    mask: np.ndarray
    values: np.ndarray
    scale: np.ndarray

    @property
    def nbytes(self) -> int:
        """The bytes that travel: mask, values, scales and the row count."""
        return 8 + self.mask.nbytes + self.values.nbytes + self.scale.nbytes

    def rows(self) -> np.ndarray:
        """The row numbers, ascending (int64)."""
        return np.flatnonzero(np.unpackbits(self.mask, count=self.n_rows))

    def deltas(self) -> np.ndarray:
        """The values as float32: each int8 times its row's scale (one float32
        product: the same bits on every machine)."""
        return self.values.astype(np.float32) * self.scale[:, None]


Message = Dict[str, Packed]


def pack(n_rows: int, rows: np.ndarray, values: np.ndarray) -> Packed:
    """`values` (float32, one row for each of `rows`, ascending and distinct) in one
    byte a number: int8 from -127 to 127 times the row's largest absolute value / 127."""
    peak = np.max(np.abs(values), axis=1) if len(values) else np.zeros(0, np.float32)
    if not np.all(np.isfinite(peak)):
        raise FloatingPointError("a synchronised delta does not fit in 8 bits (the "
                                 "training diverged)")
    scale = (peak / np.float32(127)).astype(np.float32)
    scale[scale == 0] = 1
    coded = np.clip(np.rint(values / scale[:, None]), -127, 127).astype(np.int8)
    return Packed(n_rows, row_mask(n_rows, rows), coded, scale)


def row_mask(n_rows: int, rows: np.ndarray) -> np.ndarray:
    """Which of `n_rows` rows travel, one bit a row (np.packbits)."""
    mask = np.zeros(n_rows, dtype=np.uint8)
    mask[rows] = 1
    return np.packbits(mask)


def wire_bytes(value: object) -> int:
    """The bytes Ray moves for `value`: its pickle (protocol 5, as Ray serialises) with
    the arrays' buffers, which Ray carries out of band, counted at their size."""
    buffers: list = []
    stream = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
    return len(stream) + sum(memoryview(b).nbytes for b in buffers)


def significant(deltas: np.ndarray, threshold: float) -> np.ndarray:
    """Which rows of `deltas` are worth sending now: those whose largest absolute value
    is at least `threshold` (all of them when it is 0)."""
    if threshold <= 0:
        return np.ones(len(deltas), dtype=bool)
    return np.max(np.abs(deltas), axis=1) >= threshold


def _compiled(array: np.ndarray) -> bool:
    """Whether the one-pass compiled code (src/_exchange.pyx) does this exchange: the
    messages of float32 C-contiguous arrays of rows it can hold. It repeats the numpy
    statement below exactly (tests/unit/test_distributed_sync.py holds them to the same
    bits)."""
    return (array.dtype == np.float32 and array.flags.c_contiguous
            and array.shape[1] <= _exchange.MAX_DIM)


def worker_message(working: Dict[str, np.ndarray], synced: Dict[str, np.ndarray],
                   threshold: float) -> Message:
    """A worker's message: for each array, the rows of the working copy that differ from
    the synchronised model by at least `threshold`, as deltas in one byte a number,
    which are taken off the working copy (in place): what stays is the unsent part."""
    message: Message = {}
    for name, array in working.items():
        base = synced[name]
        if _compiled(array) and _compiled(base):
            rows, codes, scales = _exchange.take_rows(array, base, threshold)
            message[name] = Packed(len(array), row_mask(len(array), rows), codes, scales)
            continue
        rows = np.flatnonzero(np.any(array != base, axis=1))
        deltas = array[rows] - base[rows]
        chosen = significant(deltas, threshold)
        packed = pack(len(array), rows[chosen], deltas[chosen])
        array[rows[chosen]] -= packed.deltas()
        message[name] = packed
    return message


def full_message(working: Dict[str, np.ndarray],
                 synced: Dict[str, np.ndarray]) -> List[Message]:
    """A full round's messages: every row of the working copy that differs from the
    synchronised model, in FULL_ROUND_PARTS one-byte messages, each of what the ones
    before left in the working copy (which keeps the last one's rounding)."""
    return [worker_message(working, synced, 0.0) for _ in range(FULL_ROUND_PARTS)]


def mean_deltas(messages: List[Message], name: str,
                n_workers: int) -> Tuple[np.ndarray, np.ndarray]:
    """The rows of array `name` some worker sent (ascending) and the sum of the workers'
    deltas for each, added in message order (float32), divided by W: the mean delta of
    the W models, zero for the others.

    Each worker's deltas are added into one slot per sent row, in message order (a
    row appears at most once in a message); sorting the concatenated rows and
    summing runs of them with reduceat gave the same sums at many times the cost."""
    parts = [m[name] for m in messages]
    sent = np.zeros(parts[0].n_rows, dtype=bool)
    rows_of = [part.rows() for part in parts]
    for rows in rows_of:
        sent[rows] = True
    union = np.flatnonzero(sent)
    slot = np.cumsum(sent) - 1  # row -> its place among the sent rows
    total = np.zeros((len(union), parts[0].values.shape[1]), dtype=np.float32)
    for rows, part in zip(rows_of, parts):
        total[slot[rows]] += part.deltas()
    return union, total / np.float32(n_workers)


def combine(synced: Dict[str, np.ndarray], residual: Dict[str, np.ndarray],
            messages: List[Message], n_workers: int, gain: float = 1.0,
            carry: float = 0.0) -> Message:
    """The driver's side: the synchronised model moves by the mean of the workers'
    deltas times `gain` (1: the average of the workers' models, which is the
    synchronised model plus the sum of their deltas divided by W), and the mean times
    `carry` waits in `residual` for the row's next update (the block learning rate is
    gain + carry, spread over two rounds: engine.block_split). Returns that update for
    the rows some worker sent, with the driver's residual of those rows added, in one
    byte a number; adds exactly it to `synced` and leaves its rounding error, and the
    carried part, in `residual` (both in place)."""
    update: Message = {}
    for name, array in synced.items():
        parts = [m[name] for m in messages]
        if _compiled(array) and _compiled(residual[name]):
            mask = np.bitwise_or.reduce(np.stack([part.mask for part in parts]), axis=0)
            union = np.flatnonzero(np.unpackbits(mask, count=len(array)))
            codes, scales = _combine_compiled(array, residual[name], union, parts,
                                              float(n_workers), float(gain), float(carry))
            update[name] = Packed(len(array), mask, codes, scales)
            continue
        rows, mean = mean_deltas(messages, name, n_workers)
        total = residual[name][rows]
        if len(rows):
            total += mean if gain == 1 else mean * np.float32(gain)
        packed = pack(len(array), rows, total)
        sent = packed.deltas()
        array[rows] += sent
        residual[name][rows] = total - sent
        if carry and len(rows):
            residual[name][rows] += mean * np.float32(carry)
        update[name] = packed
    return update


def _combine_compiled(synced: np.ndarray, residual: np.ndarray, union: np.ndarray,
                      parts: List[Packed], n_workers: float, gain: float,
                      carry: float) -> Tuple[np.ndarray, np.ndarray]:
    """_exchange.combine_rows over `union`, cut into one run of rows per core: each run
    touches its own rows and its own stretch of every message (found by binary
    search), and the compiled code releases the GIL, so the runs go in parallel
    threads. The rows are independent, so the result is the same bits however the
    union is cut."""
    rows_of = [part.rows() for part in parts]
    pieces = min(available_cores(), MAX_COMBINE_THREADS, max(1, len(union) // MIN_RUN_ROWS))
    bounds = [len(union) * i // pieces for i in range(pieces + 1)]

    def run(lo: int, hi: int) -> Tuple[np.ndarray, np.ndarray]:
        first, end = (union[lo], union[hi - 1] + 1) if hi > lo else (0, 0)
        spans = [(np.searchsorted(rows, first), np.searchsorted(rows, end)) for rows in rows_of]
        return _exchange.combine_rows(
            synced, residual, union[lo:hi], [rows[a:b] for rows, (a, b) in zip(rows_of, spans)],
            [part.values[a:b] for part, (a, b) in zip(parts, spans)],
            [part.scale[a:b] for part, (a, b) in zip(parts, spans)], n_workers, gain,
            carry)

    if pieces == 1:
        return run(0, len(union))
    with ThreadPoolExecutor(pieces) as pool:
        results = list(pool.map(run, bounds[:-1], bounds[1:]))
    return (np.concatenate([codes for codes, _ in results]),
            np.concatenate([scales for _, scales in results]))


def apply_update(arrays: Dict[str, np.ndarray], update: Message) -> None:
    """Add the driver's rounded update to `arrays` (float32, in place)."""
    for name, packed in update.items():
        if _compiled(arrays[name]):
            _exchange.add_rows(arrays[name], packed.rows(), packed.values, packed.scale)
        else:
            arrays[name][packed.rows()] += packed.deltas()
