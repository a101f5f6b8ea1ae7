"""Give the memory that counting freed back to the system before the matrices arrive.

Building the vocabulary makes and drops large temporaries (lists of a million words'
ids and keys, the counting table's pieces). glibc keeps what they freed in its heap,
because lists and numpy buffers above its mmap threshold come from the heap once a
larger block has been freed (the threshold follows the largest freed mapping). That
freed memory stays in the process's resident size for the whole run, beside matrices
that then grow to their full size: measured in benchmarks/SCALE.md. `malloc_trim`
returns it. Elsewhere than glibc there is no such call, and nothing to do.
"""

from __future__ import annotations

import ctypes
import ctypes.util


def _glibc_malloc_trim():
    if ctypes.util.find_library("c") is None:
        return None
    try:
        return ctypes.CDLL(None).malloc_trim  # None: the C library the process has
    except (AttributeError, OSError):  # musl, macOS, Windows: no malloc_trim
        return None


_MALLOC_TRIM = _glibc_malloc_trim()


def return_free_heap() -> bool:
    """Ask glibc to return its heap's free pages; False where that cannot be asked."""
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    return True
