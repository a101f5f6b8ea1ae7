"""What every command shares: the `fastw2v` group, which turns every user error into
one line; the options of the commands that read a model; tables and JSON output."""

from __future__ import annotations

import os
import sys

import click

from ..config import DEFAULT_MODEL_PATH
from ..errors import ConfigError, FastW2VError
from ..formats.detect import FORMAT_NAMES
from ..training.trainer import TrainingInterrupted


class OneLineErrors(click.Group):
    """A click group that reports every user error on a single line."""

    # click types main() with overloads on standalone_mode; this one always runs click
    # non-standalone and handles the errors itself, so it has a single signature.
    def main(self, args=None, prog_name=None, **extra):  # type: ignore[override]
        _stop_on_sigterm()
        if args is None:
            args = sys.argv[1:]
        if not args:
            # A bare `fastw2v` asks what the tool does: show the help, as --help does
            # (stdout, exit 0). Click 8.2+ would raise it as a usage error, which the
            # one-line error handling below would flatten into one unreadable line.
            args = ["--help"]
        try:
            return super().main(args=args, prog_name=prog_name, standalone_mode=False,
                                **extra)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            _fail(exc.format_message() + hint, exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.exceptions.Abort as exc:  # click's name for a KeyboardInterrupt
            _fail(_interrupted(exc.__cause__), 130, keep_spaces=True)
        except ConfigError as exc:  # worded with the options, not fastw2v.train's names
            _fail(exc.cli_message, 1)
        except FastW2VError as exc:
            _fail(str(exc), 1)
        except KeyboardInterrupt as exc:
            _fail(_interrupted(exc), 130, keep_spaces=True)


def _interrupted(exc) -> str:
    """The interruption message; it says how to resume when a checkpoint was written."""
    if isinstance(exc, TrainingInterrupted):
        command = exc.resume_command
        if command is None:  # not raised through `train` (which adds the command)
            command = f"fastw2v train {exc.corpus} --resume {exc.checkpoint}"
        return (f"interrupted; training state saved in {exc.checkpoint}; to finish the "
                f"run: {command}")
    return "interrupted"


def _stop_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl-C: training stops after its current job (well under a
    second), temporary files are removed and the previous output stays as it was."""
    import signal
    import threading

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def _fail(message: str, code: int, keep_spaces: bool = False) -> None:
    """Print the message on one line and exit. `keep_spaces` for a message that holds a
    command to copy: a quoted path in it may contain runs of spaces."""
    if not keep_spaces:
        message = " ".join(message.split())
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fastw2v")
def main() -> None:
    """Train word2vec vectors fast on one machine, and query them."""


def _same_file(a: str, b: str) -> bool:
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _check_dtype(dtype: str, fmt: str, option: str) -> None:
    """float16 storage exists only in the native format: refuse it for another early."""
    if dtype == "float16" and fmt != "native":
        raise click.UsageError(f"--dtype float16 is for .fw2v files; {option} would be "
                               f"written as {FORMAT_NAMES[fmt]}, which holds float32 only")


QUERY_METHODS = ("3cosadd", "3cosmul")  # fastw2v.vectors.METHODS
DEFAULT_RESTRICT = 30_000  # fastw2v.evaluate.DEFAULT_RESTRICT


def _model_option(command):
    return click.option(
        "-m", "--model", default=DEFAULT_MODEL_PATH, show_default=True, metavar="PATH",
        help="Vector file: fastw2v native (.fw2v), word2vec binary or text (.txt, .vec), "
             "gensim (.kv, .model; needs gensim); the default is where 'fastw2v train' "
             "writes.")(command)


def _json_option(command):
    return click.option("--json", "as_json", is_flag=True,
                         help="Print JSON instead of a table.")(command)


def _restrict_option(command):
    return click.option("--restrict", type=click.IntRange(min=1), metavar="N",
                        help="Search only the N most frequent words.")(command)


def _require_model(path: str) -> None:
    """Fail unless the model file exists, saying how to get one."""
    from ..errors import FormatError

    if not os.path.lexists(path):
        hint = ("; 'fastw2v train CORPUS' writes it, or name a model with -m"
                if path == DEFAULT_MODEL_PATH else "")
        raise FormatError(f"{path}: no such model file{hint}")


def _load_vectors(path: str):
    """Load a vector file, or fail with a message saying how to get one."""
    from ..queries.vectors import Vectors

    _require_model(path)
    return Vectors.load(path, warn=_warn)


def _display_width(text: str) -> int:
    import unicodedata

    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(headers, rows, align: str) -> str:
    """Columns separated by two spaces; `align` has one 'l' or 'r' per column; no header
    line when `headers` is None."""
    cells = [] if headers is None else [[str(h) for h in headers]]
    cells += [[str(c) for c in row] for row in rows]
    widths = [max(_display_width(row[i]) for row in cells) for i in range(len(align))]
    lines = []
    for row in cells:
        padded = []
        for text, width, side in zip(row, widths, align):
            pad = " " * (width - _display_width(text))
            padded.append(text + pad if side == "l" else pad + text)
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def _echo_json(data) -> None:
    import json

    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _size(n_bytes: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit} ({n_bytes:,} bytes)"
    return f"{n_bytes:,} bytes"
