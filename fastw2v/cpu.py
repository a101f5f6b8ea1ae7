"""What this CPU can run: the one place that asks, for every module with several builds
(the training kernel's fastw2v/training/kernel.py, the neighbour scan's
fastw2v/queries/neighbours.py), so that no build is imported on a CPU it would crash.

numpy's record of the CPU's features lives in a private module, which numpy 2 moved
and which has no type stub: it is imported by name.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Dict

try:  # numpy >= 2
    _umath = importlib.import_module("numpy._core._multiarray_umath")
except ImportError:  # numpy 1.x
    _umath = importlib.import_module("numpy.core._multiarray_umath")
CPU_FEATURES: Dict[str, bool] = _umath.__cpu_features__


def cpu_has(*features: str) -> bool:
    """True if the CPU has every one of `features`, by numpy's names ("AVX2", "FMA3",
    "F16C", ...)."""
    return all(bool(CPU_FEATURES.get(name)) for name in features)


def runnable_builds(baseline: ModuleType, fast_name: str,
                    *features: str) -> Dict[str, ModuleType]:
    """A compiled module's builds that are installed and that this CPU can run, by name:
    "baseline" (portable) always, "avx2" (the module `fast_name`) when the CPU has every
    one of `features` and the build was installed (it is not on other platforms, nor
    in a FASTW2V_NATIVE=1 build: see setup.py)."""
    builds: Dict[str, ModuleType] = {"baseline": baseline}
    if cpu_has(*features):
        try:
            builds["avx2"] = importlib.import_module(fast_name)
        except ImportError:
            pass
    return builds


def pick_build(builds: Dict[str, ModuleType]) -> str:
    """The fastest of `builds`, unless FASTW2V_KERNEL=baseline asks for the portable one
    (to compare the two)."""
    if os.environ.get("FASTW2V_KERNEL", "auto") == "baseline":
        return "baseline"
    return "avx2" if "avx2" in builds else "baseline"
