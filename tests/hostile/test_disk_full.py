"""A disk that fills up while a model is saved.

Simulated with a file-size limit (RLIMIT_FSIZE) on the fastw2v process, with SIGXFSZ
ignored so that a write past the limit fails with EFBIG as a full disk fails with
ENOSPC: the same OSError path through atomic_write. The limit is set above what training
itself writes (the encoded corpus, a few kB) and below the size of the model, so the
failure happens inside the save. The contract: one line naming the file, a non-zero
exit, the older file intact byte for byte, and no temporary file left beside it.
"""

import os
import resource
import signal
import subprocess
import sys

import pytest

LIMIT = 64 * 1024  # bytes any one file may grow to in the limited process
OLD = b"an older model that must survive\n" * 10

pytestmark = pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"),
                                reason="needs RLIMIT_FSIZE (POSIX)")


def limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def fastw2v(*args, cwd, limited=True):
    """Run the installed command line in its own process (the limit must not touch
    pytest's own files); cwd is a temporary folder, so the source tree's fastw2v/ does
    not shadow the installed package."""
    return subprocess.run([sys.executable, "-m", "fastw2v", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          preexec_fn=limit_file_size if limited else None)


@pytest.fixture
def corpus(tmp_path):
    """300 distinct words: a dim-200 model is 240 kB or more in every format, while the
    encoded corpus (3,000 tokens of 4 bytes) stays far below the limit."""
    path = tmp_path / "corpus.txt"
    words = [f"w{i}" for i in range(300)]
    path.write_text("\n".join(" ".join(words[i:] + words[:i]) for i in range(10)) + "\n",
                    encoding="utf-8")
    return path


def assert_failed_cleanly(result, output):
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert str(output) in lines[0] and "Traceback" not in result.stderr
    assert "File too large" in lines[0] and "left as it was" in lines[0]
    assert output.read_bytes() == OLD
    assert sorted(p.name for p in output.parent.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("name", ["model.fw2v", "model.bin", "model.txt"])
def test_train_on_a_full_disk_keeps_the_older_model(tmp_path, corpus, name):
    output = tmp_path / "out" / name
    output.parent.mkdir()
    output.write_bytes(OLD)
    result = fastw2v("train", corpus, "-o", output, "--dim", "200", "--min-count", "1",
                     "--epochs", "1", "--threads", "1", "-q", cwd=tmp_path)
    assert_failed_cleanly(result, output)


@pytest.mark.parametrize("name", ["copy.fw2v", "copy.bin", "copy.txt"])
def test_convert_on_a_full_disk_keeps_the_older_file(tmp_path, corpus, name):
    model = tmp_path / "model.fw2v"
    result = fastw2v("train", corpus, "-o", model, "--dim", "200", "--min-count", "1",
                     "--epochs", "1", "--threads", "1", "-q", cwd=tmp_path, limited=False)
    assert result.returncode == 0, result.stderr
    output = tmp_path / "out" / name
    output.parent.mkdir()
    output.write_bytes(OLD)
    assert_failed_cleanly(fastw2v("convert", model, output, cwd=tmp_path), output)


def test_the_limit_really_bites_only_the_model(tmp_path, corpus):
    # The same training with a small model fits under the limit: the failures above
    # come from the save, not from training's own temporary files.
    output = tmp_path / "small.bin"
    result = fastw2v("train", corpus, "-o", output, "--dim", "8", "--min-count", "1",
                     "--epochs", "1", "--threads", "1", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 0 < os.path.getsize(output) < LIMIT
