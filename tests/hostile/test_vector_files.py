"""Hostile word2vec vector files, text and binary, at the library and through the CLI.

The contract: a load returns exactly what the file holds, or raises FormatError whose
message starts with the file's path; no other exception, ever. "Silent garbage" is a
load that succeeds with something else: a row count other than the header's, a NaN or
infinite value, an empty, duplicated or white-space word, or, for a damaged copy of a
valid file, vectors that differ from the ones written.

Decisions (see fastw2v/formats/word2vec.py): NaN and infinite values are refused, naming the line or
vector; so is a word listed twice, naming both places; a text file whose last row has no
line end is refused, since it may be cut inside its last number.
"""

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import assume, example, given
from hypothesis import strategies as st

from fastw2v.cli import main
from fastw2v.errors import FormatError
from fastw2v.formats.word2vec import load_word2vec

from cli_helpers import assert_one_line_error, assert_success_or_one_line_error
from hostile_inputs import check_loaded, models, mutations, word, word2vec_bytes

FORMATS = ("bin", "text")
SUFFIX = {"bin": ".bin", "text": ".txt"}


def load_bytes(folder, data, fmt, name="v"):
    """Write `data` to a file of `fmt`'s suffix and load it (auto-detected format)."""
    path = folder / (name + SUFFIX[fmt])
    path.write_bytes(data)
    return str(path), lambda: load_word2vec(str(path))


def load_or_error(path, load):
    """The loaded (words, vectors), or None after a FormatError that names the file."""
    try:
        words, vectors = load()
    except FormatError as exc:
        assert str(exc).startswith(f"{path}: "), str(exc)
        assert "\n" not in str(exc)
        return None
    check_loaded(words, vectors)
    return words, vectors


def assert_format_error(path, load, *fragments):
    with pytest.raises(FormatError) as info:
        load()
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message


# ---------------------------------------------------------------------------------------
# Valid files, and valid files cut or damaged
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
@given(model=models())
def test_a_valid_file_loads_exactly(tmp_path, fmt, model):
    words, vectors = model
    path, load = load_bytes(tmp_path, word2vec_bytes(words, vectors, fmt), fmt)
    loaded_words, loaded = load()
    assert loaded_words == words
    assert loaded.tobytes() == vectors.tobytes()  # text: repr() of a float32 is exact


@pytest.mark.parametrize("fmt", FORMATS)
@given(model=models(), data=st.data())
def test_a_file_cut_anywhere_is_refused_or_loses_only_a_line_end(tmp_path, fmt, model,
                                                                 data):
    words, vectors = model
    full = word2vec_bytes(words, vectors, fmt)
    cut = data.draw(st.integers(0, len(full) - 1), label="bytes kept")
    path, load = load_bytes(tmp_path, full[:cut], fmt)
    loaded = load_or_error(path, load)
    if loaded is not None:
        # Only the final line end of a binary file may go: the values are all there.
        assert fmt == "bin" and cut == len(full) - 1
        assert loaded[0] == words and loaded[1].tobytes() == vectors.tobytes()


@pytest.mark.parametrize("fmt", FORMATS)
@given(model=models(), data=st.data())
def test_a_damaged_file_is_refused_or_loads_what_it_says(tmp_path, fmt, model, data):
    words, vectors = model
    damaged = data.draw(mutations(word2vec_bytes(words, vectors, fmt)), label="file")
    path, load = load_bytes(tmp_path, damaged, fmt)
    loaded = load_or_error(path, load)
    if loaded is not None:
        header = damaged.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].split()
        assert loaded[1].shape == (int(header[0]), int(header[1]))


@pytest.mark.parametrize("fmt", FORMATS)
@given(model=models(), words_off=st.integers(-3, 3), dim_off=st.integers(-3, 3))
@example(model=(["0", "00"], np.zeros((2, 2), dtype=np.float32)), words_off=-1, dim_off=3)
def test_a_header_that_disagrees_with_the_rows_is_refused_unless_they_fit_it(
        tmp_path, fmt, model, words_off, dim_off):
    words, vectors = model
    n, dim = vectors.shape
    assume((words_off or dim_off) and n + words_off >= 0 and dim + dim_off >= 1)
    header = f"{n + words_off} {dim + dim_off}\n".encode()
    data = word2vec_bytes(words, vectors, fmt, header)
    path, load = load_bytes(tmp_path, data, fmt)
    loaded = load_or_error(path, load)
    if loaded is not None:
        # Rarely the bytes are a valid file of the header after all: binary rows of two
        # words, ['0', '00'] with dim 2, read as one row of dim 5 ("0", then 8 value
        # bytes, the line end, "00 " and 8 more). A reader may accept only such a file,
        # and must then read exactly what it says.
        assert loaded[1].shape == (n + words_off, dim + dim_off)
        assert word2vec_bytes(*loaded, fmt, header).rstrip(b"\n") == data.rstrip(b"\n")


@pytest.mark.parametrize("fmt", FORMATS)
@given(model=models(), data=st.data(),
       bad=st.sampled_from([np.nan, np.inf, -np.inf, -np.nan]))
def test_a_nan_or_infinite_value_is_refused_naming_its_row(tmp_path, fmt, model, data,
                                                           bad):
    words, vectors = model
    row = data.draw(st.integers(0, len(words) - 1), label="row")
    column = data.draw(st.integers(0, vectors.shape[1] - 1), label="column")
    vectors = vectors.copy()
    vectors[row, column] = bad
    path, load = load_bytes(tmp_path, word2vec_bytes(words, vectors, fmt), fmt)
    where = f"vector {row + 1}" if fmt == "bin" else f"line {row + 2}"
    assert_format_error(path, load, where)


@pytest.mark.parametrize("fmt", FORMATS)
@given(model=models(), data=st.data())
def test_a_vector_too_long_for_float32_is_refused_naming_its_row(tmp_path, fmt, model,
                                                                 data):
    # Each value finite, the length (which cosines divide by) beyond float32.
    words, vectors = model
    row = data.draw(st.integers(0, len(words) - 1), label="row")
    assume(vectors.shape[1] > 1)
    vectors = vectors.copy()
    vectors[row, :2] = (3e38, -3e38)
    path, load = load_bytes(tmp_path, word2vec_bytes(words, vectors, fmt), fmt)
    where = f"vector {row + 1}" if fmt == "bin" else f"line {row + 2}"
    assert_format_error(path, load, where, "too long")


@given(model=models(), digits=st.integers(20, 60))
def test_a_text_value_beyond_float32_is_refused(tmp_path, model, digits):
    words, vectors = model
    lines = word2vec_bytes(words, vectors, "text").split(b"\n")
    parts = lines[1].split(b" ")
    parts[1] = b"9" * digits  # float32 ends at 3.4e38: 39 nines or more are too large
    lines[1] = b" ".join(parts)
    path, load = load_bytes(tmp_path, b"\n".join(lines), "text")
    if digits >= 39:
        assert_format_error(path, load, "line 2")
    else:
        assert load()[1][0, 0] == np.float32(float(b"9" * digits))


@pytest.mark.parametrize("fmt", FORMATS)
@given(model=models(), data=st.data())
def test_a_word_listed_twice_is_refused_naming_both_places(tmp_path, fmt, model, data):
    words, vectors = model
    first = data.draw(st.integers(0, len(words) - 1), label="first")
    words = list(words)
    words.append(words[first])
    vectors = np.vstack([vectors, vectors[:1]])
    path, load = load_bytes(tmp_path, word2vec_bytes(words, vectors, fmt), fmt)
    place = "vector {}" if fmt == "bin" else "line {}"
    offset = 1 if fmt == "bin" else 2
    assert_format_error(path, load, "listed twice", place.format(len(words) - 1 + offset),
                        place.format(first + offset))


@pytest.mark.parametrize("fmt", FORMATS)
@given(model=models(), data=st.data(),
       bad_word=st.sampled_from([b"", b"a\tb", b"\x00", b"a\x0bb", b"\xff\xfe"]))
def test_an_empty_or_broken_word_is_refused(tmp_path, fmt, model, data, bad_word):
    words, vectors = model
    row = data.draw(st.integers(0, len(words) - 1), label="row")
    raw = [w.encode() for w in words]
    raw[row] = bad_word
    path, load = load_bytes(tmp_path, word2vec_bytes(raw, vectors, fmt), fmt)
    assert_format_error(path, load)


@pytest.mark.parametrize("fmt", FORMATS)
@given(data=st.one_of(
    st.binary(max_size=300),
    st.tuples(st.integers(0, 5), st.integers(0, 5), st.binary(max_size=200)).map(
        lambda t: f"{t[0]} {t[1]}\n".encode() + t[2])))
def test_random_bytes_are_refused_or_load_consistently(tmp_path, fmt, data):
    path, load = load_bytes(tmp_path, data, fmt)
    load_or_error(path, load)


@given(n=st.integers(0, 10**30), dim=st.integers(0, 10**30))
def test_an_enormous_header_fails_fast_without_allocating(tmp_path, n, dim):
    # A damaged header must not make the reader ask for terabytes before the rows.
    for fmt in FORMATS:
        path, load = load_bytes(tmp_path, f"{n} {dim}\nw 1 2\n".encode(), fmt)
        if (n, dim) == (1, 2) and fmt == "text":
            continue
        load_or_error(path, load)


def test_a_text_file_without_its_final_line_end_is_refused(tmp_path):
    # "b 3 45" cut to "b 3 4" would load with a wrong value: no final line end is refused.
    path, load = load_bytes(tmp_path, b"2 2\na 1 2\nb 3 4", "text")
    assert_format_error(path, load, "line 3", "without a line end")
    # fastText ends its rows with a space: a last row ending so is complete.
    path, load = load_bytes(tmp_path, b"2 2\na 1 2 \nb 3 4 ", "text")
    assert load()[0] == ["a", "b"]


# ---------------------------------------------------------------------------------------
# Through the command line
# ---------------------------------------------------------------------------------------

def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("fmt", FORMATS)
@given(model=models(), data=st.data())
def test_cli_reads_damaged_files_or_fails_in_one_line(tmp_path, fmt, model, data):
    words, vectors = model
    damaged = data.draw(st.one_of(mutations(word2vec_bytes(words, vectors, fmt)),
                                  st.binary(max_size=100)), label="file")
    path = tmp_path / ("model" + SUFFIX[fmt])
    path.write_bytes(damaged)
    assert_success_or_one_line_error(run("info", path), str(path))
    assert_success_or_one_line_error(run("similar", "-m", path, words[0]))
    out = tmp_path / "out.fw2v"
    result = run("convert", path, out)
    assert_success_or_one_line_error(result, str(path))
    if result.exit_code == 0:  # what was converted reads back the same
        again = tmp_path / "again.bin"
        assert run("convert", out, again).exit_code == 0
        original, converted = load_word2vec(str(path)), load_word2vec(str(again))
        assert original[0] == converted[0]
        assert original[1].tobytes() == converted[1].tobytes()


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_names_the_line_of_a_nan(tmp_path, fmt):
    vectors = np.ones((3, 2), dtype=np.float32)
    vectors[1, 1] = np.nan
    path = tmp_path / ("model" + SUFFIX[fmt])
    path.write_bytes(word2vec_bytes(["a", "b", "c"], vectors, fmt))
    where = "vector 2" if fmt == "bin" else "line 3"
    assert_one_line_error(run("info", path), f"{path}: {where}", code=1)


@given(words=st.lists(word, min_size=2, max_size=4, unique=True))
def test_cli_convert_refuses_nothing_it_wrote(tmp_path, words):
    # Whatever the writer accepts, every reader accepts back, in every format.
    vectors = np.arange(len(words) * 2, dtype=np.float32).reshape(len(words), 2)
    source = tmp_path / "m.bin"
    source.write_bytes(word2vec_bytes(words, vectors, "bin"))
    for name in ("m.txt", "m.fw2v", "m2.bin"):
        result = run("convert", source, tmp_path / name)
        assert result.exit_code == 0, result.output
        assert_success_or_one_line_error(run("info", tmp_path / name))
        assert run("info", tmp_path / name).exit_code == 0
