"""What a new user tripped on: a bare command, the resume hint, the model option,
outputs that cannot be created, number style, and the summaries."""

import os

import pytest
from click.testing import CliRunner

from fastw2v.cli import main
from fastw2v.formats.files import check_writable_path

from cli_helpers import assert_one_line_error


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


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_an_output_no_file_can_be_created_in_is_refused_before_training(tmp_path,
                                                                       small_corpus):
    # os.access says root may write in /proc; only creating a file tells the truth.
    result = run("train", small_corpus, "--min-count", "1", "-o", "/proc/v.fw2v")
    assert_one_line_error(result, "--output /proc/v.fw2v", "folder /proc", code=1)
    result = run("train", small_corpus, "--min-count", "1", "-o", tmp_path / "v.fw2v",
                 "--save-vocab", "/proc/vocab.txt")
    assert_one_line_error(result, "--save-vocab /proc/vocab.txt", code=1)
    assert not (tmp_path / "v.fw2v").exists()


def test_checking_an_output_leaves_its_folder_as_it_was(tmp_path):
    (tmp_path / "v.fw2v").write_bytes(b"previous model")
    check_writable_path(str(tmp_path / "v.fw2v"), "--output")
    check_writable_path(str(tmp_path / "new.fw2v"), "--output")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.fw2v"]
    assert (tmp_path / "v.fw2v").read_bytes() == b"previous model"
