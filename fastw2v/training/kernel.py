"""Picks the fastest build of the compiled kernel that this CPU can run.

Both builds come from src/_kernel.pyx and expose the same interface: `_kernel` runs on
any CPU of the platform, `_kernel_avx2` (x86-64 only) uses AVX2 and FMA. Set
FASTW2V_KERNEL=baseline to force the portable build, e.g. to compare the two.
"""

import os

try:  # numpy >= 2
    from numpy._core._multiarray_umath import __cpu_features__ as _CPU_FEATURES
except ImportError:  # numpy 1.x
    from numpy.core._multiarray_umath import __cpu_features__ as _CPU_FEATURES


def _has_avx2_fma() -> bool:
    return bool(_CPU_FEATURES.get("AVX2")) and bool(_CPU_FEATURES.get("FMA3"))


kernel = None
if os.environ.get("FASTW2V_KERNEL", "auto") != "baseline" and _has_avx2_fma():
    try:
        from .. import _kernel_avx2 as kernel
    except ImportError:  # a build without the AVX2 variant (not x86-64, or native)
        kernel = None
if kernel is None:
    from .. import _kernel as kernel

BUILD = "avx2" if kernel.__name__.endswith("_avx2") else "baseline"
