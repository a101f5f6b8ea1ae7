# cython: language_level=3
# The same neighbour scan as _neighbours.pyx, compiled with AVX2, FMA and F16C enabled
# (see setup.py). fastw2v/queries/neighbours.py imports this build only on a CPU that
# has all three: 256-bit dot products, and float16 rows widened eight at a time.
include "_neighbours.pyx"
