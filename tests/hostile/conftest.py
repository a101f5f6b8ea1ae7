"""Hypothesis settings for the hostile-input tests.

The default profile keeps the whole folder well under a minute on two cores; set
FASTW2V_HYPOTHESIS=thorough for a long local hunt (the examples found are kept in
.hypothesis/ and replayed first on the next run).
"""

import os

from hypothesis import HealthCheck, settings

# A test writes its example to a file under pytest's tmp_path and overwrites it with the
# next example, so a function-scoped fixture is shared by the examples on purpose.
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.register_profile("default", max_examples=40, **_COMMON)
settings.register_profile("thorough", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("FASTW2V_HYPOTHESIS", "default"))
