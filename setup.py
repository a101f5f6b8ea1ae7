"""Build the compiled kernel. Everything else about the package lives in pyproject.toml."""
import os
import platform

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

# FASTW2V_DEBUG=1 builds with bounds checks and assertions on, so that an index out of
# range fails loudly in the tests instead of corrupting memory.
DEBUG = os.environ.get("FASTW2V_DEBUG") == "1"
# FASTW2V_NATIVE=1 is for local benchmarking only: a wheel built this way may not run on
# another CPU, so we never ship it.
NATIVE = os.environ.get("FASTW2V_NATIVE") == "1"

# -fopenmp-simd honours the `omp simd` pragmas in src/vecops.h without linking OpenMP.
compile_args = (["-O0", "-g"] if DEBUG else ["-O3"]) + ["-fopenmp-simd"]
if NATIVE:
    compile_args.append("-march=native")

directives = {
    "language_level": "3",
    "boundscheck": DEBUG,
    "wraparound": False,
    "initializedcheck": DEBUG,
    "cdivision": True,
}


def kernel_extension(name, source, extra_args=()):
    return Extension(
        name,
        sources=[source],
        include_dirs=[np.get_include(), "src"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args + list(extra_args),
    )


# The baseline build runs on any CPU of the platform. On x86-64 a second build of the
# same source uses AVX2 and FMA; fastw2v/kernel.py picks it at import time when the CPU
# has both, so no wheel ever needs -march=native.
extensions = [
    kernel_extension("fastw2v._kernel", "src/_kernel.pyx"),
    # Tokenising, counting and encoding the corpus: byte work, no floating point, so one
    # portable build serves every CPU.
    kernel_extension("fastw2v._text", "src/_text.pyx"),
    # Phrase detection: Scanners of _text (fastw2v/_text.pxd) that count and join pairs.
    kernel_extension("fastw2v._phrases", "src/_phrases.pyx"),
    # word2vec's text and binary vector files, read and written in streaming blocks.
    kernel_extension("fastw2v._word2vec", "src/_word2vec.pyx"),
    # Brute-force nearest neighbours: one pass over the matrix a query, the top n kept
    # in a small heap; float16 rows widened as they are read. Two builds, as the kernel.
    kernel_extension("fastw2v._neighbours", "src/_neighbours.pyx"),
    # A Ray synchronisation's one-byte rows: float32 arithmetic that the driver and every
    # worker must repeat bit for bit, so no product is ever fused into an add.
    kernel_extension("fastw2v._exchange", "src/_exchange.pyx", ["-ffp-contract=off"]),
]
if platform.machine().lower() in ("x86_64", "amd64") and not NATIVE:
    extensions.append(
        kernel_extension("fastw2v._kernel_avx2", "src/_kernel_avx2.pyx", ["-mavx2", "-mfma"])
    )
    # F16C as well: one instruction widens eight halves (src/halves.h).
    extensions.append(
        kernel_extension("fastw2v._neighbours_avx2", "src/_neighbours_avx2.pyx",
                         ["-mavx2", "-mfma", "-mf16c"])
    )

# "." finds fastw2v/_text.pxd, which src/_phrases.pyx cimports by its package name.
setup(ext_modules=cythonize(extensions, compiler_directives=directives,
                           include_path=["src", "."]))
