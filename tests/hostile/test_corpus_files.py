"""Hostile corpora through the public command line: `fastw2v train` in its own process,
with a timeout, so that a hang or a crash of the compiled reader shows as a failure.

The contract: exit 0 with a model whose vocabulary is the corpus's own tokens, or exit
1 with one line that names the file; never a traceback, a hang or a signal. What the
corpus reader documents (fastw2v/text/corpus.py) is checked as well:
- tokens are split at ASCII white space; a no-break space belongs to its token;
- a NUL byte is refused, naming its line;
- invalid UTF-8 bytes become U+FFFD, and a warning counts them;
- tokens over 1,000 bytes are skipped whole (never cut), and a warning counts them;
- a corpus without tokens is refused.
"Silent garbage" is a model whose words are not the corpus's tokens (a token cut, glued
to a neighbour or to a byte-order mark, or dropped without a warning), or a missing
warning.
"""

import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastw2v.formats.word2vec import load_word2vec

MAX_TOKEN_BYTES = 1000  # fastw2v.text.corpus.MAX_TOKEN_BYTES, written out: the documented limit
TIMEOUT = 60  # seconds: far beyond what any corpus here needs, short of a hang

pieces = st.sampled_from([
    b"the", b"cat", b"\xc3\xa9t\xc3\xa9", b"New\xc2\xa0York", b" ", b"\t", b"  ", b"\n",
    b"\r\n", b"\x0b", b"\x0c", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00",
    b"y" * (MAX_TOKEN_BYTES + 1), b"z" * MAX_TOKEN_BYTES, b"\xe2\x82\xac" * 400,
])
corpora = st.one_of(st.lists(pieces, max_size=30).map(b"".join), st.binary(max_size=300))


def train(tmp_path, data, *options, name="corpus.txt"):
    """Run `fastw2v train` on `data`; returns (process result, output path)."""
    corpus = tmp_path / name
    corpus.write_bytes(data)
    output = tmp_path / "v.txt"
    output.unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "fastw2v", "train", str(corpus), "-o", str(output),
         "--min-count", "1", "--dim", "4", "--epochs", "1", "--threads", "1", "-q",
         *options],
        cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode in (0, 1), result  # never a signal (crash) or a usage error
    assert "Traceback" not in result.stderr, result.stderr
    return result, output


def error_line(result, corpus_name="corpus.txt"):
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert corpus_name in lines[0], lines[0]
    return lines[0]


def expected_tokens(data):
    """The corpus's tokens as the documented rules make them, for valid UTF-8."""
    return {t.decode("utf-8") for t in data.split() if len(t) <= MAX_TOKEN_BYTES}


def is_utf8(data):
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


# Each example starts a process (about 0.4 s): fewer examples than the other readers get
# (15 by default; more with FASTW2V_HYPOTHESIS=thorough, see conftest.py).
@settings(max_examples=settings.default.max_examples * 3 // 8)
@given(data=corpora)
def test_any_corpus_trains_or_fails_in_one_line(tmp_path, data):
    result, output = train(tmp_path, data)
    if b"\x00" in data:
        line = data[:data.index(b"\x00")].count(b"\n") + 1
        assert f"line {line:,}: NUL byte" in error_line(result)
        return
    # A leading UTF-8 byte-order mark marks the file; it is no token.
    text = data.removeprefix(b"\xef\xbb\xbf")
    tokens = [t for t in text.split() if len(t) <= MAX_TOKEN_BYTES]
    if not tokens:
        assert "empty" in error_line(result)
        return
    assert result.returncode == 0, result.stderr
    words, vectors = load_word2vec(str(output))  # finite, consistent (see the readers)
    n_long = sum(1 for t in data.split() if len(t) > MAX_TOKEN_BYTES)
    if n_long:
        assert re.search(rf"\b{n_long} tokens? longer than 1,000 bytes", result.stderr), \
            result.stderr
    if is_utf8(b" ".join(tokens)):  # invalid bytes inside a skipped token do not count
        assert set(words) == expected_tokens(data)
        assert "invalid UTF-8" not in result.stderr
    else:
        assert "invalid UTF-8 bytes were replaced" in result.stderr, result.stderr
        assert len(words) <= len(set(tokens))


@pytest.mark.parametrize("data, fragment", [
    (b"", "empty"),
    (b"\n\n\n", "empty"),
    (b" \t \r\n \x0b\x0c \n", "empty"),
    (b"the cat\nsat\x00on\n", "line 2: NUL byte"),
    (b"\x00", "line 1: NUL byte"),
    (b"y" * 5000 + b"\n" + b"z" * 1001, "empty"),
])
def test_corpora_without_training_text_are_refused(tmp_path, data, fragment):
    result, output = train(tmp_path, data)
    assert fragment in error_line(result)
    assert not output.exists()


def test_enormous_tokens_are_skipped_whole_and_counted(tmp_path):
    data = b"the cat " + b"x" * 5000 + b" sat\n" + b"y" * 1001 + b"\n" + b"z" * 1000 + b"\n"
    result, output = train(tmp_path, data)
    assert result.returncode == 0, result.stderr
    assert "2 tokens longer than 1,000 bytes were skipped" in result.stderr
    assert set(load_word2vec(str(output))[0]) == {"the", "cat", "sat", "z" * 1000}


def test_invalid_utf8_is_replaced_and_counted(tmp_path):
    result, output = train(tmp_path, b"caf\xe9 the \xff\xfe cat\n")
    assert result.returncode == 0, result.stderr
    assert "3 invalid UTF-8 bytes were replaced by U+FFFD" in result.stderr
    words = load_word2vec(str(output))[0]
    assert {"the", "cat"} <= set(words) and all("\ufffd" in w for w in words
                                                if w not in ("the", "cat"))


@pytest.mark.parametrize("suffix, compress", [(".gz", "gzip"), (".bz2", "bz2"),
                                              (".xz", "lzma")])
@settings(max_examples=settings.default.max_examples // 8)
@given(cut=st.floats(0.0, 0.99), junk=st.binary(max_size=20))
def test_a_damaged_compressed_corpus_fails_in_one_line(tmp_path, suffix, compress, cut,
                                                       junk):
    import importlib

    packed = importlib.import_module(compress).compress(b"the cat sat on the mat\n" * 500)
    damaged = packed[:int(len(packed) * cut)] + junk
    result, output = train(tmp_path, damaged, name="corpus.txt" + suffix)
    if result.returncode:
        error_line(result, "corpus.txt" + suffix)
    else:  # only what was decompressed before the damage: its words, nothing else
        assert set(load_word2vec(str(output))[0]) <= {"the", "cat", "sat", "on", "mat"}


def test_a_byte_order_mark_is_not_part_of_the_first_token(tmp_path):
    result, output = train(tmp_path, b"\xef\xbb\xbfthe cat\nthe dog\n")
    assert result.returncode == 0, result.stderr
    assert set(load_word2vec(str(output))[0]) == {"the", "cat", "dog"}


@pytest.mark.slow
def test_a_100_mb_line_is_read_in_bounded_time_and_memory(tmp_path):
    # One line of 100 MB without a line end: a few words, a 60 MB token (skipped) and
    # 40 MB of white space. Reading it must not hold it whole more than once.
    corpus = tmp_path / "line.txt"
    with open(corpus, "wb") as f:
        f.write(b"the cat sat on the mat ")
        f.write(b"x" * 60_000_000)
        f.write(b" \t" * 20_000_000)
        f.write(b" the dog sat on the log")
    # A wrapper reports the peak memory of the child, which RUSAGE_CHILDREN gives once
    # it has been waited for.
    wrapper = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(r.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.exit(r.returncode)\n")
    output = tmp_path / "v.txt"
    result = subprocess.run(
        [sys.executable, "-c", wrapper, sys.executable, "-m", "fastw2v", "train",
         str(corpus), "-o", str(output), "--min-count", "1", "--dim", "4", "--epochs", "1",
         "--threads", "1", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stderr
    assert "1 tokens longer than 1,000 bytes were skipped" in result.stderr, result.stderr
    assert set(load_word2vec(str(output))[0]) == {"the", "cat", "sat", "on", "mat", "dog",
                                                  "log"}
    peak_mb = int(result.stdout.split()[-1]) / 1024  # ru_maxrss is in kB on Linux
    assert peak_mb < 300, f"peak memory {peak_mb:.0f} MB for a 100 MB line"
