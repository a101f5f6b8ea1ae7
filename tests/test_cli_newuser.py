"""What a new user tripped on: a bare command, the resume hint, the model option,
outputs that cannot be created, number style, and the summaries."""

from click.testing import CliRunner

from fastw2v.cli import main


def run(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


def test_bare_command_prints_the_formatted_help():
    bare = run()
    assert bare.exit_code == 0, bare.output
    assert "Error" not in bare.output
    assert bare.stdout == run("--help").stdout
    # Formatted: the usage line, then the commands one per line.
    assert bare.stdout.startswith("Usage: ")
    assert any(line.split()[:1] == ["similar"] for line in bare.stdout.splitlines())
