"""Which builds of the kernel are installed. The `kernel` fixture (tests/conftest.py) runs
the kernel tests on every build that available_builds() returns, so a build missing from
the package would not fail them: it would only go untested. This is the check that a
CPU able to run a build has it."""

import os
import platform

import pytest

from fastw2v import _kernel
from fastw2v.training.kernel import available_builds

try:  # numpy >= 2
    from numpy._core._multiarray_umath import __cpu_features__ as CPU_FEATURES
except ImportError:  # numpy 1.x
    from numpy.core._multiarray_umath import __cpu_features__ as CPU_FEATURES


def test_the_baseline_build_is_always_there():
    assert available_builds()["baseline"] is _kernel


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="the AVX2 build exists on x86-64 only")
@pytest.mark.skipif(not (CPU_FEATURES.get("AVX2") and CPU_FEATURES.get("FMA3")),
                    reason="this CPU has no AVX2 and FMA")
@pytest.mark.skipif(os.environ.get("FASTW2V_NATIVE") == "1",
                    reason="a FASTW2V_NATIVE=1 build leaves out the AVX2 build (setup.py)")
def test_an_x86_64_cpu_with_avx2_and_fma_gets_the_avx2_build():
    # A packaging change that stops building or shipping fastw2v._kernel_avx2 would make
    # every such CPU train on the slower baseline build, and the avx2 runs of the kernel
    # tests would silently disappear.
    builds = available_builds()
    assert "avx2" in builds, sorted(builds)
    assert builds["avx2"].__name__ == "fastw2v._kernel_avx2"


@pytest.mark.parametrize("setting", ["auto", "baseline"])
def test_training_runs_on_the_fastest_build_unless_told_otherwise(setting, tmp_path):
    # In a child process: the build is chosen once, when fastw2v is first imported. It
    # runs in an empty folder, so that `python -c` imports the installed package and not
    # the source tree (whose fastw2v/ has no compiled code) from the current folder.
    import subprocess
    import sys

    env = dict(os.environ, FASTW2V_KERNEL=setting)
    out = subprocess.run([sys.executable, "-c", "from fastw2v.training import kernel; "
                          "print(kernel.BUILD, sorted(kernel.available_builds()))"],
                         env=env, cwd=tmp_path, capture_output=True, text=True,
                         check=True).stdout.split(" ", 1)
    build, available = out[0], out[1]
    expected = "avx2" if setting == "auto" and "avx2" in available else "baseline"
    assert build == expected
