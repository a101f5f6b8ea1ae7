# cython: language_level=3
# The same kernel as _kernel.pyx, compiled with AVX2 and FMA enabled (see setup.py).
# fastw2v/training/kernel.py imports this build only on a CPU that has both instructions, so the
# package runs everywhere and uses 256-bit fused multiply-adds where it can.
include "_kernel.pyx"
