"""return_free_heap hands freed heap memory back to the system (glibc's malloc_trim)."""

import platform

import pytest

from fastw2v.training.heap import return_free_heap

glibc = platform.libc_ver()[0] == "glibc"


def resident_bytes() -> int:
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


@pytest.mark.skipif(not glibc, reason="malloc_trim is glibc's; elsewhere it is a no-op")
def test_freed_heap_leaves_the_resident_size():
    # Blocks of 4 KiB are glibc's (pymalloc serves only up to 512 bytes) and sit in its
    # heap, below the mmap threshold. One block allocated after them and kept alive pins
    # the top of the heap, so free() alone cannot shrink it: as after counting a corpus.
    blocks = [bytearray(4096) for _ in range(40_000)]  # 160 MiB, every page touched
    pin = bytearray(4096)
    del blocks
    before = resident_bytes()
    assert return_free_heap()
    after = resident_bytes()
    assert before - after > 100 * 2**20, (before, after)
    del pin

