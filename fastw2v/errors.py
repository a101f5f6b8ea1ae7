"""The errors fastw2v raises for problems a user can fix.

Every message says what is wrong, where (a path, a path:line, or an option), and when
it helps, what to do. The CLI prints the message on one line and exits with status 1;
anything that is not a FastW2VError is a bug in fastw2v and keeps its traceback.
"""

import warnings
from typing import Optional


class FastW2VError(Exception):
    """Base class of every error caused by input, options or the environment."""


class ConfigError(FastW2VError):
    """An option has an invalid value; the message names the option.

    The message names a setting as the caller gave it: as a Python parameter (`dim`)
    for `fastw2v.train`. `cli_message` names it as the command-line option (`--dim`),
    and is the message itself when the two wordings agree.
    """

    def __init__(self, message: str, cli_message: Optional[str] = None):
        super().__init__(message)
        self.cli_message = message if cli_message is None else cli_message


class CorpusError(FastW2VError):
    """The corpus cannot be read or holds nothing to train on."""


class VocabularyError(FastW2VError):
    """A vocabulary file is malformed, or no word is frequent enough."""


class FormatError(FastW2VError):
    """A vector file is malformed; the message names the file and line."""


class OutputError(FastW2VError):
    """An output path cannot be written."""


class TrainingDiverged(FastW2VError):
    """The loss became NaN or infinite: the learning rate is too high."""


class ClusterError(FastW2VError):
    """A Ray cluster cannot be reached, cannot host the workers, or lost one."""


class FastW2VWarning(UserWarning):
    """Something the library changed or left out and the user should know (invalid
    UTF-8 replaced, rare words pruned, tokens skipped, more threads than cores)."""


def python_warning(message: str) -> None:
    """Report `message` through Python's warnings as a FastW2VWarning: what functions
    taking a `warn=` callback do when none is given. The warning names the line that
    called the function which called `warn`."""
    warnings.warn(message, FastW2VWarning, stacklevel=3)
