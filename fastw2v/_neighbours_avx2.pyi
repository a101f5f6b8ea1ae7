# Type stub for the AVX2/FMA/F16C build of src/_neighbours.pyx (src/_neighbours_avx2.pyx):
# the same interface as the baseline build.
from ._neighbours import *  # noqa: F403
