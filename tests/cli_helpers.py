"""Assertions shared by the CLI test modules (tests/ is on pytest's pythonpath)."""


def assert_one_line_error(result, *fragments, code=None):
    """The CLI's error contract: non-zero exit, one 'Error: ...' line, no traceback."""
    assert result.exit_code != 0, result.output
    if code is not None:
        assert result.exit_code == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]
