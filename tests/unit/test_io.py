"""Unit tests for fastw2v.formats.word2vec: word2vec vector files, gensim compatibility,
atomic writes."""

import pickle

import numpy as np
import pytest
from gensim.models import KeyedVectors

import fastw2v.formats.word2vec as fio
from fastw2v.errors import FormatError, OutputError
from fastw2v.formats.detect import detect_format, format_for_path
from fastw2v.formats.files import atomic_write
from fastw2v.formats.word2vec import load_word2vec, save_word2vec
from fastw2v.text.words import WordList

WORDS = ["the", "naïve", "東京", "😀", "Ωmega", "straße", "x", "ℵ₀", "a-b_c", "1984"]


def make_vectors(n=None, dim=7, seed=0):
    n = len(WORDS) if n is None else n
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors[0, 0] = 0.0
    vectors[1, 1] = -1e-30  # tiny
    vectors[2, 2] = 3.4e37  # huge but finite
    vectors[3, 3] = 1.0 / 3.0
    return vectors


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, fmt", [("v.bin", "auto"), ("v.data", "bin"),
                                       ("v.txt", "bin")])
def test_binary_round_trip_is_exact(tmp_path, name, fmt):
    vectors = make_vectors()
    path = str(tmp_path / name)
    save_word2vec(path, WORDS, vectors, fmt=fmt)
    words, loaded = load_word2vec(path, fmt=fmt)
    assert words == WORDS
    assert loaded.dtype == np.float32
    assert loaded.tobytes() == vectors.tobytes()  # bit for bit, -0.0 and all
    assert listing(tmp_path) == [name]


def test_binary_layout_matches_word2vec_c(tmp_path):
    vectors = np.array([[1.0, -2.0], [0.5, 4.0]], dtype=np.float32)
    path = tmp_path / "v.bin"
    save_word2vec(str(path), ["é", "b"], vectors)
    expected = (b"2 2\n" + "é".encode() + b" " + vectors[0].astype("<f4").tobytes() + b"\n"
                + b"b " + vectors[1].astype("<f4").tobytes() + b"\n")
    assert path.read_bytes() == expected


@pytest.mark.parametrize("name, fmt", [("v.txt", "auto"), ("v.vec", "auto"),
                                       ("v.bin", "text")])
def test_text_round_trip_to_1e5_relative(tmp_path, name, fmt):
    vectors = make_vectors()
    path = str(tmp_path / name)
    save_word2vec(path, WORDS, vectors, fmt=fmt)
    words, loaded = load_word2vec(path, fmt=fmt)
    assert words == WORDS
    np.testing.assert_allclose(loaded, vectors, rtol=1e-5, atol=0)
    lines = (tmp_path / name).read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"{len(WORDS)} 7"
    assert [line.split(" ")[0] for line in lines[1:]] == WORDS


def test_round_trip_of_an_empty_model(tmp_path):
    for name in ("e.bin", "e.txt"):
        path = str(tmp_path / name)
        save_word2vec(path, [], np.zeros((0, 3), dtype=np.float32))
        words, vectors = load_word2vec(path)
        assert words == [] and vectors.shape == (0, 3)


def test_save_rejects_bad_words_and_shapes(tmp_path):
    path = str(tmp_path / "v.bin")
    with pytest.raises(OutputError):
        save_word2vec(path, ["a b", "c"], np.zeros((2, 2)))
    with pytest.raises(OutputError):
        save_word2vec(path, ["", "c"], np.zeros((2, 2)))
    with pytest.raises(OutputError):
        save_word2vec(path, ["a\tb", "c"], np.zeros((2, 2)))
    with pytest.raises(OutputError):
        save_word2vec(path, ["a\x00b", "c"], np.zeros((2, 2)))
    with pytest.raises(OutputError, match="listed twice"):
        save_word2vec(path, ["a", "a"], np.zeros((2, 2)))
    with pytest.raises(OutputError, match="'c'"):
        save_word2vec(path, ["a", "c"], np.array([[0, 0], [0, np.nan]]))
    with pytest.raises(ValueError):
        save_word2vec(path, ["a", "b"], np.zeros((3, 2)))
    assert listing(tmp_path) == []


@pytest.mark.parametrize("suffix", [".bin", ".txt"])
def test_words_with_unicode_white_space_round_trip(tmp_path, suffix):
    # The corpus reader splits tokens at ASCII white space only, so a word may hold a
    # no-break space; both word2vec formats separate fields with ASCII bytes and keep it.
    path = str(tmp_path / ("v" + suffix))
    words = ["new\u00a0york", "tokyo\u3000city"]
    vectors = np.arange(4, dtype=np.float32).reshape(2, 2)
    save_word2vec(path, words, vectors)
    loaded_words, loaded = load_word2vec(path)
    assert loaded_words == words
    np.testing.assert_array_equal(loaded, vectors)


# ---------------------------------------------------------------------------------------
# atomic_write
# ---------------------------------------------------------------------------------------

def test_atomic_write_keeps_old_file_when_writing_raises(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"old content")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(str(path), "wb") as out:
            out.write(b"new partial content" * 1000)
            raise RuntimeError("boom")
    assert path.read_bytes() == b"old content"
    assert listing(tmp_path) == ["model.bin"]


def test_atomic_write_text_mode_replaces_on_success(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("old\n")
    with atomic_write(str(path), "w") as out:
        out.write("東京 3\n")
    assert path.read_text(encoding="utf-8") == "東京 3\n"
    assert listing(tmp_path) == ["vocab.txt"]


def test_save_word2vec_failing_midway_leaves_old_file(tmp_path, monkeypatch):
    path = tmp_path / "v.bin"
    save_word2vec(str(path), ["old"], np.ones((1, 2), dtype=np.float32))
    before = path.read_bytes()

    def write_half_then_fail(out, blob, bounds, vectors):
        out.write(bytes(blob[:bounds[1] - 1]) + b" " + vectors[0].tobytes() + b"\n")
        raise KeyboardInterrupt  # even a BaseException must clean up

    monkeypatch.setattr(fio, "write_binary", write_half_then_fail)
    with pytest.raises(KeyboardInterrupt):
        save_word2vec(str(path), WORDS, make_vectors())
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["v.bin"]


def test_atomic_write_turns_os_error_into_output_error(tmp_path):
    path = tmp_path / "v.bin"
    with pytest.raises(OutputError, match="v.bin"):
        with atomic_write(str(path), "wb") as out:
            out.write(b"x")
            raise OSError(28, "No space left on device")
    assert listing(tmp_path) == []
    with pytest.raises(OutputError):
        with atomic_write(str(tmp_path / "missing-folder" / "v.bin"), "wb"):
            pass


# ---------------------------------------------------------------------------------------
# gensim compatibility
# ---------------------------------------------------------------------------------------

def test_gensim_loads_our_binary_file(tmp_path):
    vectors = make_vectors()
    path = str(tmp_path / "ours.bin")
    save_word2vec(path, WORDS, vectors)
    kv = KeyedVectors.load_word2vec_format(path, binary=True)
    assert list(kv.index_to_key) == WORDS
    assert np.array_equal(kv.vectors, vectors)


def test_gensim_loads_our_text_file(tmp_path):
    vectors = make_vectors()
    path = str(tmp_path / "ours.txt")
    save_word2vec(path, WORDS, vectors)
    kv = KeyedVectors.load_word2vec_format(path, binary=False)
    assert list(kv.index_to_key) == WORDS
    np.testing.assert_allclose(kv.vectors, vectors, rtol=1e-5, atol=0)


def _gensim_keyed_vectors(words, vectors):
    kv = KeyedVectors(vector_size=vectors.shape[1])
    kv.add_vectors(words, vectors)
    return kv


@pytest.mark.parametrize("binary, name", [(True, "g.bin"), (False, "g.txt")])
def test_we_load_gensim_written_files(tmp_path, binary, name):
    vectors = make_vectors(seed=3)
    path = str(tmp_path / name)
    _gensim_keyed_vectors(WORDS, vectors).save_word2vec_format(path, binary=binary)
    words, loaded = load_word2vec(path)
    assert words == WORDS
    if binary:
        assert np.array_equal(loaded, vectors)
    else:
        np.testing.assert_allclose(loaded, vectors, rtol=1e-6, atol=0)


def test_we_load_binary_rows_without_trailing_newline(tmp_path):
    # Some writers (older gensim) omit the newline after each binary vector.
    vectors = make_vectors()
    body = b"".join(w.encode() + b" " + v.tobytes() for w, v in zip(WORDS, vectors))
    path = tmp_path / "nonl.bin"
    path.write_bytes(f"{len(WORDS)} 7\n".encode() + body)
    words, loaded = load_word2vec(str(path))
    assert words == WORDS
    assert np.array_equal(loaded, vectors)


# ---------------------------------------------------------------------------------------
# Malformed files
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("cut", [1, 4, 27, 29])
def test_load_rejects_truncated_binary(tmp_path, cut):
    path = tmp_path / "v.bin"
    save_word2vec(str(path), WORDS, make_vectors())
    data = path.read_bytes()
    # cut = 1 only drops the final newline, which is optional: still valid.
    path.write_bytes(data[:-cut])
    if cut == 1:
        assert load_word2vec(str(path))[0] == WORDS
        return
    with pytest.raises(FormatError) as info:
        load_word2vec(str(path))
    assert str(info.value).startswith(f"{path}:")
    assert "ends early" in str(info.value)


def test_load_rejects_binary_header_overstating_words(tmp_path):
    path = tmp_path / "v.bin"
    save_word2vec(str(path), WORDS, make_vectors())
    data = path.read_bytes()
    path.write_bytes(data.replace(b"10 7\n", b"11 7\n", 1))
    with pytest.raises(FormatError, match="vector 11 of 11"):
        load_word2vec(str(path))


def test_load_rejects_binary_header_understating_words(tmp_path):
    path = tmp_path / "v.bin"
    save_word2vec(str(path), WORDS, make_vectors())
    data = path.read_bytes()
    path.write_bytes(data.replace(b"10 7\n", b"9 7\n", 1))
    with pytest.raises(FormatError, match="after the 9 vectors"):
        load_word2vec(str(path))


@pytest.mark.parametrize("header", [b"11 7\n", b"9 7\n"])
def test_load_rejects_text_header_body_mismatch(tmp_path, header):
    path = tmp_path / "v.txt"
    save_word2vec(str(path), WORDS, make_vectors())
    data = path.read_bytes()
    path.write_bytes(header + data.split(b"\n", 1)[1])
    with pytest.raises(FormatError) as info:
        load_word2vec(str(path))
    assert str(info.value).startswith(f"{path}:")
    assert "file has 10" in str(info.value)


def test_load_rejects_text_dimension_mismatch_naming_line(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("2 3\na 1 2 3\nb 1 2\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"line 3: expected a word and 3 values, got 2"):
        load_word2vec(str(path))


@pytest.mark.parametrize("content, fragment", [
    (b"", "line 1"),
    (b"2 x\n", "line 1"),
    (b"2 3 4\n", "line 1"),
    (b"-1 3\n", "line 1"),
    (b"1 0\n", "line 1"),
    (b"1 2\na 1 nan\n", "NaN"),
    (b"1 2\na 1 zz\n", "line 2"),
    (b"1 2\n\xff 1 2\n", "UTF-8"),
])
def test_load_rejects_malformed_text(tmp_path, content, fragment):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(FormatError) as info:
        load_word2vec(str(path))
    assert str(info.value).startswith(f"{path}:")
    assert fragment in str(info.value)


def test_load_missing_file_is_format_error(tmp_path):
    with pytest.raises(FormatError):
        load_word2vec(str(tmp_path / "missing.bin"))


# ---------------------------------------------------------------------------------------
# Variants other tools write, and format detection
# ---------------------------------------------------------------------------------------

def test_round_trip_ours_to_gensim_and_back(tmp_path):
    for binary, name in ((True, "v.bin"), (False, "v.txt")):
        vectors = make_vectors(seed=5)
        ours = str(tmp_path / ("ours-" + name))
        theirs = str(tmp_path / ("gensim-" + name))
        save_word2vec(ours, WORDS, vectors)
        KeyedVectors.load_word2vec_format(ours, binary=binary).save_word2vec_format(
            theirs, binary=binary)
        words, loaded = load_word2vec(theirs)
        assert words == WORDS
        if binary:
            assert loaded.tobytes() == vectors.tobytes()
        else:
            np.testing.assert_allclose(loaded, vectors, rtol=1e-5, atol=0)


def test_fasttext_vec_variants_are_read(tmp_path):
    # fastText writes a space after the header and after every row; Windows tools write
    # \r\n; some files lack the final newline.
    text = "3 2 \nnaïve 0.5 -1 \n東京 1e-3 2.5 \nb 3 4 "
    for name, data in (("a.vec", text), ("b.vec", text.replace("\n", "\r\n")),
                       ("c.vec", text + "\n\n"), ("d.txt", "\ufeff" + text),
                       ("e.data", "\ufeff" + text)):
        path = tmp_path / name
        path.write_bytes(data.encode("utf-8"))
        words, vectors = load_word2vec(str(path))
        assert words == ["naïve", "東京", "b"]
        np.testing.assert_array_equal(vectors, np.array([[0.5, -1], [1e-3, 2.5], [3, 4]],
                                                        dtype=np.float32))


def test_binary_with_windows_header_line_end(tmp_path):
    vectors = make_vectors()
    body = b"".join(w.encode() + b" " + v.tobytes() + b"\n" for w, v in zip(WORDS, vectors))
    path = tmp_path / "crlf.bin"
    path.write_bytes(f"{len(WORDS)} 7\r\n".encode() + body)
    words, loaded = load_word2vec(str(path))
    assert words == WORDS and loaded.tobytes() == vectors.tobytes()


@pytest.mark.parametrize("header", [b"10 8\n", b"10 6\n"])
def test_binary_header_dimension_that_disagrees_with_the_rows(tmp_path, header):
    path = tmp_path / "v.bin"
    save_word2vec(str(path), WORDS, make_vectors())
    path.write_bytes(header + path.read_bytes().split(b"\n", 1)[1])
    with pytest.raises(FormatError) as info:
        load_word2vec(str(path))
    assert str(info.value).startswith(f"{path}: vector ")


def test_binary_non_finite_value_names_the_vector(tmp_path):
    vectors = make_vectors()
    vectors[3, 1] = np.inf
    path = tmp_path / "v.bin"
    # Built by hand: save_word2vec refuses to write such a vector.
    body = b"".join(w.encode() + b" " + v.tobytes() + b"\n" for w, v in zip(WORDS, vectors))
    path.write_bytes(f"{len(WORDS)} 7\n".encode() + body)
    with pytest.raises(FormatError, match=r"vector 4 \('😀'\) holds a NaN or infinite"):
        load_word2vec(str(path))


@pytest.mark.parametrize("row, fragment", [
    (b"a 1 inf", "line 3: a value is NaN"),
    (b"a 1 1e50", "line 3: a value is NaN, infinite or too large"),
    (b"a 1 2 3", "line 3: expected a word and 2 values, got 3"),
])
def test_text_bad_rows_name_their_line(tmp_path, row, fragment):
    path = tmp_path / "v.txt"
    path.write_bytes(b"2 2\nok 1 2\n" + row + b"\n")
    with pytest.raises(FormatError, match=fragment):
        load_word2vec(str(path))


def test_detect_format_by_magic_suffix_and_content(tmp_path):
    vectors = make_vectors()
    save_word2vec(str(tmp_path / "t.data"), WORDS, vectors, fmt="text")
    save_word2vec(str(tmp_path / "b.data"), WORDS, vectors, fmt="bin")
    assert detect_format(str(tmp_path / "t.data")) == "text"
    assert detect_format(str(tmp_path / "b.data")) == "bin"
    assert load_word2vec(str(tmp_path / "t.data"))[0] == WORDS
    assert load_word2vec(str(tmp_path / "b.data"))[1].tobytes() == vectors.tobytes()


@pytest.mark.parametrize("content", [b"", b"hello world\n", b"\x00\x01\x02", b"3\n",
                                     b"<html>\n"])
def test_detect_format_rejects_files_that_are_no_vectors(tmp_path, content):
    path = tmp_path / "model.bin"
    path.write_bytes(content)
    with pytest.raises(FormatError, match="not a vector file"):
        detect_format(str(path))


def test_detect_format_missing_file_and_folder(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        detect_format(str(tmp_path / "missing.bin"))
    with pytest.raises(FormatError, match="is a folder"):
        detect_format(str(tmp_path))


def test_format_for_path():
    assert format_for_path("v.fw2v") == "native"
    assert format_for_path("v.VEC") == "text"
    assert format_for_path("v.txt") == "text"
    assert format_for_path("v.bin") == "bin"
    assert format_for_path("v") == "bin"
    assert format_for_path("v.fw2v", "text") == "text"


def test_a_repeated_text_word_names_the_lines_blank_lines_included(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes("3 2\n\nnaïve 1 2\n\nb 1 2\nnaïve 3 4\n".encode())
    with pytest.raises(FormatError, match=r"line 6: word 'naïve' is listed twice "
                                          r"\(first at line 3\)"):
        load_word2vec(str(path))


def test_a_read_file_holds_its_words_compactly_and_writes_them_back(tmp_path):
    words = ["the", "naïve", "東京", "x" * 300]
    vectors = np.arange(8, dtype=np.float32).reshape(4, 2)
    for name in ("v.bin", "v.txt"):
        save_word2vec(str(tmp_path / name), words, vectors)
        read = fio.read_word2vec(str(tmp_path / name))
        assert isinstance(read.words, WordList) and read.words.distinct
        assert read.words == words and read.words.index("東京") == 2
        assert pickle.loads(pickle.dumps(read.words)) == words  # as Ray ships it
        save_word2vec(str(tmp_path / ("again-" + name)), read.words, read.vectors)
        assert (tmp_path / name).read_bytes() == (tmp_path / ("again-" + name)).read_bytes()


@pytest.mark.parametrize("name", ["v.bin", "v.txt"])
def test_a_word_that_utf8_cannot_hold_is_refused_in_one_line(tmp_path, name):
    with pytest.raises(OutputError, match="cannot be written in UTF-8"):
        save_word2vec(str(tmp_path / name), ["ok", "bad\udc80"], np.ones((2, 3), np.float32))
    assert not (tmp_path / name).exists()
