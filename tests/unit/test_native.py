"""The native .fw2v format: exact round trips, memory-mapped loading, damaged files."""

import os
import struct

import numpy as np
import pytest

from fastw2v.errors import FormatError, OutputError
from fastw2v.formats import native
from fastw2v.formats.detect import detect_format
from fastw2v.formats.native import HEADER, HEADER_SIZE, read_native, write_native
from fastw2v.formats.word2vec import save_word2vec
from fastw2v.queries.vectors import Vectors, row_norms

WORDS = ["the", "naïve", "東京", "😀", "Ωmega", "straße", "x", "ℵ₀", "a-b_c", "1984"]


def make_vectors(dim=7, seed=0):
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((len(WORDS), dim)).astype(np.float32)
    vectors[0, 0] = -0.0
    vectors[2, 2] = 3.4e37
    vectors[4] = 0.0  # an all-zero row
    return vectors


def write(path, words=WORDS, vectors=None, counts=None, metadata=None):
    vectors = make_vectors() if vectors is None else vectors
    write_native(str(path), words, vectors, row_norms(vectors), counts=counts,
                 metadata=metadata)
    return vectors


def header_fields(path):
    return HEADER.unpack_from(path.read_bytes()[:HEADER_SIZE])


def test_round_trip_is_exact_with_counts_and_metadata(tmp_path):
    path = tmp_path / "v.fw2v"
    counts = np.arange(len(WORDS), 0, -1) * 1000
    metadata = {"training": {"dim": 7, "architecture": "skipgram"}, "note": "東京"}
    vectors = write(path, counts=counts, metadata=metadata)
    loaded = read_native(str(path))
    assert loaded.words == WORDS
    assert loaded.vectors.tobytes() == vectors.tobytes()  # bit for bit, -0.0 and all
    assert np.array_equal(loaded.counts, counts)
    assert loaded.metadata == metadata
    assert np.array_equal(loaded.norms, row_norms(vectors))
    assert loaded.version == 1
    assert sorted(os.listdir(tmp_path)) == ["v.fw2v"]  # no temporary file left


def test_matrix_is_a_read_only_map_at_an_aligned_offset(tmp_path):
    path = tmp_path / "v.fw2v"
    write(path)
    loaded = read_native(str(path))
    assert not loaded.vectors.flags.writeable
    with pytest.raises(ValueError):
        loaded.vectors[0, 0] = 1.0
    fields = header_fields(path)
    matrix_offset, norms_offset = fields[10], fields[11]
    assert matrix_offset % 64 == 0 and norms_offset % 64 == 0
    assert fields[12] == path.stat().st_size


def test_without_counts_and_empty_model(tmp_path):
    write(tmp_path / "a.fw2v")
    assert read_native(str(tmp_path / "a.fw2v")).counts is None
    empty = np.zeros((0, 3), dtype=np.float32)
    write(tmp_path / "e.fw2v", words=[], vectors=empty)
    loaded = read_native(str(tmp_path / "e.fw2v"))
    assert loaded.words == [] and loaded.vectors.shape == (0, 3)


def test_detected_by_content_whatever_the_name(tmp_path):
    write(tmp_path / "model.bin")
    assert detect_format(str(tmp_path / "model.bin")) == "native"
    vectors = Vectors.load(str(tmp_path / "model.bin"))
    assert vectors.format == "native" and vectors.words == WORDS


def test_same_answers_as_the_word2vec_binary(tmp_path):
    vectors = write(tmp_path / "v.fw2v")
    save_word2vec(str(tmp_path / "v.bin"), WORDS, vectors)
    ours = Vectors.load(str(tmp_path / "v.fw2v"))
    theirs = Vectors.load(str(tmp_path / "v.bin"))
    assert ours.most_similar("the", n=5) == theirs.most_similar("the", n=5)


def test_writer_rejects_bad_words_and_shapes(tmp_path):
    path = str(tmp_path / "v.fw2v")
    vectors = make_vectors()[:2]
    with pytest.raises(OutputError):
        write_native(path, ["a b", "c"], vectors, row_norms(vectors))
    with pytest.raises(OutputError):
        write_native(path, ["a\nb", "c"], vectors, row_norms(vectors))
    with pytest.raises(ValueError):
        write_native(path, ["a"], vectors, row_norms(vectors))
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "v.fw2v"
    write(path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(native.json, "dumps", fail)
    with pytest.raises(KeyboardInterrupt):
        write(path, vectors=make_vectors(seed=1))
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["v.fw2v"]


# ---------------------------------------------------------------------------------------
# Damaged files
# ---------------------------------------------------------------------------------------

def assert_format_error(path, *fragments):
    with pytest.raises(FormatError) as info:
        read_native(str(path))
    message = str(info.value)
    assert message.startswith(f"{path}:")
    for fragment in fragments:
        assert fragment in message
    return message


@pytest.mark.parametrize("keep", [0.999, 0.5, 0.1])
def test_truncated_file(tmp_path, keep):
    path = tmp_path / "v.fw2v"
    write(path)
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    assert_format_error(path, "ends early")


def test_file_cut_inside_its_header(tmp_path):
    path = tmp_path / "v.fw2v"
    write(path)
    path.write_bytes(path.read_bytes()[:40])
    assert_format_error(path, "header")


def test_trailing_bytes(tmp_path):
    path = tmp_path / "v.fw2v"
    write(path)
    path.write_bytes(path.read_bytes() + b"junk")
    assert_format_error(path, "4 bytes after the end")


def test_not_native_and_newer_version(tmp_path):
    path = tmp_path / "v.fw2v"
    write(path)
    data = path.read_bytes()
    path.write_bytes(b"X" + data[1:])
    assert_format_error(path, "not a fastw2v native file")
    path.write_bytes(data[:8] + struct.pack("<I", 3) + data[12:])
    assert_format_error(path, "version 3", "upgrade")


def test_offsets_that_disagree(tmp_path):
    path = tmp_path / "v.fw2v"
    write(path)
    fields = list(header_fields(path))
    fields[10] += 4  # matrix offset no longer aligned
    data = path.read_bytes()
    path.write_bytes(HEADER.pack(*fields) + data[HEADER.size:])
    assert_format_error(path, "disagree")


def test_word_list_that_disagrees_with_the_header(tmp_path):
    path = tmp_path / "v.fw2v"
    write(path)
    data = path.read_bytes()
    start = HEADER_SIZE
    path.write_bytes(data[:start] + data[start:].replace(b"the\n", b"the ", 1))
    assert_format_error(path, "9 words", "announces 10")


def test_non_finite_norm(tmp_path):
    path = tmp_path / "v.fw2v"
    write(path)
    norms_offset = header_fields(path)[11]
    data = bytearray(path.read_bytes())
    data[norms_offset:norms_offset + 4] = np.float32(np.nan).tobytes()
    path.write_bytes(bytes(data))
    assert_format_error(path, "NaN")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_an_output_matrix_with_a_nonfinite_value_is_refused(tmp_path, bad):
    vectors = make_vectors()
    context = make_vectors(seed=1)
    context[3, 5] = bad
    path = tmp_path / "m.fw2v"
    with pytest.raises(OutputError, match="output matrix holds a NaN or infinite value"):
        write_native(str(path), WORDS, vectors, row_norms(vectors), context=context)
    assert not path.exists()


def test_an_output_matrix_of_the_largest_finite_values_is_written(tmp_path):
    # Finite values whose squares overflow float32 (not float64) are not NaN or infinite.
    vectors = make_vectors()
    context = np.full((len(WORDS), 7), np.finfo(np.float32).max, dtype=np.float32)
    path = tmp_path / "m.fw2v"
    write_native(str(path), WORDS, vectors, row_norms(vectors), context=context)
    assert np.array_equal(read_native(str(path)).context, context)
