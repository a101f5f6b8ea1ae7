# Type stub for the AVX2/FMA build of src/_kernel.pyx (src/_kernel_avx2.pyx): the
# same interface as the baseline build.
from ._kernel import *  # noqa: F403
