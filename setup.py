"""Build the compiled kernel. Everything else about the package lives in pyproject.toml."""
import os

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

extensions = [
    Extension(
        "fastw2v._kernel",
        sources=["src/_kernel.pyx"],
        include_dirs=[np.get_include(), "src"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args,
    ),
]

setup(ext_modules=cythonize(extensions, compiler_directives=directives, include_path=["src"]))
