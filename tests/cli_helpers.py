"""Assertions shared by the CLI test modules (tests/ is on pytest's pythonpath)."""


def assert_no_traceback(result):
    """The command ended through the CLI's own exits, never by an exception escaping it.

    CliRunner catches an escaping exception and keeps it in `result.exception` instead
    of printing its traceback, so "Traceback" never shows in its output: this is the
    check that a user would not have seen one.
    """
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: "
                             f"{result.exception}") from result.exception


def assert_one_line_error(result, *fragments, code=None):
    """The CLI's error contract: non-zero exit, one 'Error: ...' line, no traceback."""
    assert_no_traceback(result)
    assert result.exit_code != 0, result.output
    if code is not None:
        assert result.exit_code == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


def assert_success_or_one_line_error(result, *fragments):
    """Hostile input's contract: the command works, or fails with one line (which holds
    every fragment, e.g. the file's name)."""
    assert_no_traceback(result)
    if result.exit_code != 0:
        assert_one_line_error(result, *fragments)


def interrupt_training(train_args, cwd, signal_name):
    """Run `fastw2v train *train_args` in a child process, send it `signal_name` once its
    progress line shows that training runs, and return (exit status, stderr) after
    checking that it stopped within 5 seconds."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import fastw2v

    command = [sys.executable, "-c", "from fastw2v.cli import main; main()", "train",
               *[str(a) for a in train_args]]
    # The child must import the same fastw2v as the tests (installed or in-place build).
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(fastw2v.__file__)))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=cwd, env=env)
    deadline = time.monotonic() + 60
    while "training" not in process.stderr.readline() and time.monotonic() < deadline:
        pass  # wait until the progress line shows that training runs
    sent = time.monotonic()
    process.send_signal(getattr(signal, signal_name))
    try:
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()  # never leave a child behind, whatever failed
    assert time.monotonic() - sent < 5, stderr
    return process.returncode, stderr
