"""The compiled word2vec readers and writers (src/_word2vec.pyx): what streaming must
not change, and the text writer's number format.

The reader's contract itself (every damaged file refused with its place) is checked by
tests/hostile/test_vector_files.py and tests/unit/test_io.py, which run through it.
Here: a file read in blocks of a few bytes, so that every row, word and number is cut
by a block's end somewhere, loads exactly as it does in one block, or fails with the
same message; and the text values are the ones Python's "%.6g" gives.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fastw2v import _word2vec
from fastw2v.errors import FormatError
from fastw2v.formats import word2vec
from fastw2v.formats.rows import row_norms
from fastw2v.formats.word2vec import read_word2vec, save_word2vec

from hostile_inputs import models, mutations, word2vec_bytes

SUFFIX = {"bin": ".bin", "text": ".txt"}


def outcome(path):
    """What reading gives: (words, vectors, norms) or the error's message."""
    try:
        loaded = read_word2vec(str(path))
    except FormatError as exc:
        return str(exc)
    return loaded.words, loaded.vectors.tobytes(), loaded.norms.tobytes()


def outcome_in_tiny_blocks(path, block):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_word2vec, "BLOCK_BYTES", block)
        patch.setattr(word2vec, "_HEADER_SEARCH_BYTES", 32)
        return outcome(path)


@pytest.mark.parametrize("fmt", ("bin", "text"))
@given(model=models(), data=st.data(), block=st.integers(1, 9))
def test_reading_in_tiny_blocks_changes_nothing(tmp_path_factory, fmt, model, data, block):
    words, vectors = model
    valid = word2vec_bytes(words, vectors, fmt)
    damaged = data.draw(mutations(valid))
    path = tmp_path_factory.mktemp("blocks") / ("v" + SUFFIX[fmt])
    for content in (valid, damaged):
        path.write_bytes(content)
        assert outcome_in_tiny_blocks(path, block) == outcome(path)


@pytest.mark.parametrize("fmt", ("bin", "text"))
def test_round_trip_with_long_and_non_ascii_words_across_blocks(tmp_path, monkeypatch, fmt):
    rng = np.random.default_rng(3)
    words = ["naïve", "東京", "😀" * 40, "w" * 5000, "straße", "x"]
    vectors = rng.standard_normal((len(words), 17)).astype(np.float32)
    path = tmp_path / ("v" + SUFFIX[fmt])
    save_word2vec(str(path), words, vectors)
    with monkeypatch.context() as patch:
        patch.setattr(_word2vec, "BLOCK_BYTES", 64)  # the 5,000-byte word needs growth
        patch.setattr(word2vec, "_HEADER_SEARCH_BYTES", 32)
        loaded = read_word2vec(str(path))
    assert loaded.words == words
    if fmt == "bin":
        np.testing.assert_array_equal(loaded.vectors, vectors)
    else:  # 6 significant digits
        np.testing.assert_allclose(loaded.vectors, vectors, rtol=6e-6)
    np.testing.assert_allclose(loaded.norms, row_norms(loaded.vectors), rtol=1e-6)


def test_text_values_are_written_as_python_formats_them():
    rng = np.random.default_rng(0)
    spread = rng.standard_normal(100_000) * 10.0 ** rng.integers(-45, 39, 100_000)
    with np.errstate(over="ignore"):
        spread = spread.astype(np.float32)
    bits = rng.integers(0, 2**32, 100_000, dtype=np.uint64).astype(np.uint32)
    random_floats = bits.view(np.float32)
    edges = np.array([0.0, -0.0, 0.5, 1234565.0, 1234575.0, 999999.5, 999999.4, 9.999995e-5,
                      1e-4, 1e-5, 123456.5, 1e5, 1e6, 3.4028235e38, 1e-45, -1.1754944e-38,
                      65504.0], dtype=np.float32)
    values = np.concatenate([rng.standard_normal(100_000).astype(np.float32), spread,
                             random_floats, edges])
    values = values[np.isfinite(values)]
    expected = [f"{float(x):.6g}" for x in values.tolist()]  # the same as "%.6g"
    assert _word2vec.format_values(values) == expected


def test_text_values_parse_to_the_nearest_float32(tmp_path):
    # The fast path (up to 2^24 and 10^+-10) and strtof's (more digits, larger
    # exponents) must both give the float32 nearest to the decimal value.
    rng = np.random.default_rng(1)
    values = (rng.standard_normal(3000) * 10.0 ** rng.integers(-30, 30, 3000))
    spelled = [f"{x:.{digits}g}" for x, digits in zip(values, rng.integers(1, 12, 3000))]
    spelled += ["1", "-0", "+2.5", ".5", "5.", "1e3", "1E+3", "16777216", "16777217",
                "0.1", "1e10", "1e-10", "3.4028235e38"]
    dim = len(spelled)
    path = tmp_path / "v.txt"
    path.write_bytes(f"1 {dim}\nw {' '.join(spelled)}\n".encode())
    loaded = read_word2vec(str(path))
    expected = np.array([float(s) for s in spelled], dtype=np.float64).astype(np.float32)
    np.testing.assert_array_equal(loaded.vectors[0], expected)


@pytest.mark.parametrize("bad", ["0x10", "1_0", "1e", "--1", "1.2.3", "e5", "1e5x"])
def test_text_values_outside_the_number_grammar_are_refused(tmp_path, bad):
    path = tmp_path / "v.txt"
    path.write_bytes(f"1 2\nw 1 {bad}\n".encode())
    with pytest.raises(FormatError, match="line 2: a value is not a number"):
        read_word2vec(str(path))


def test_the_last_number_of_a_file_without_a_final_line_end_is_read_to_its_end(tmp_path):
    # The second row's last value takes strtof's path (17 digits); the reader had moved
    # the unread bytes to its buffer's front without the NUL after them, so strtof ran
    # on into stale bytes and the row was called "not a number" instead of cut short.
    row = b" 1.0648363166859264e+16" * 5
    path = tmp_path / "v.txt"
    path.write_bytes(b"2 5\nfirst" + b" 0.25" * 5 + b"\nsecond" + row)
    with pytest.raises(FormatError, match="line 3: the file ends inside this row"):
        read_word2vec(str(path))
    path.write_bytes(b"2 5\nfirst" + b" 0.25" * 5 + b"\nsecond" + row + b"\n")
    assert read_word2vec(str(path)).vectors[1, 4] == np.float32(1.0648363166859264e+16)
