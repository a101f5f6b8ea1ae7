"""The `fastw2v` command line: parse options, call the library, format the output.

Every user error ends in one line on stderr and a non-zero exit: 2 for a bad option or
argument (click's usage errors), 1 for a problem with the input or the environment
(a FastW2VError), 130 when interrupted. No traceback is shown for any of them.

`common.py` holds the `fastw2v` group that does this, and what the commands share; the
commands live by what they do: `training.py` (train, demo, phrases), `queries.py`
(similar, analogy, similarity, odd-one-out, score, classes, index), `evaluation.py`
(evaluate, plot, theory) and `files.py` (info, convert).
"""

from . import evaluation, files, queries, training  # noqa: F401 (each adds its commands)
from .common import main

__all__ = ["main"]
