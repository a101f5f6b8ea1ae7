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
