"""Half-precision native files (format version 2): written, read, queried, refused."""

import struct

import numpy as np
import pytest
from click.testing import CliRunner

from fastw2v.cli import main
from fastw2v.errors import OutputError
from fastw2v.formats.native import (
    FLAG_FLOAT16,
    HEADER,
    HEADER_SIZE,
    VERSION,
    VERSION_FLOAT16,
    read_native,
    write_native,
)
from fastw2v.formats.rows import row_norms
from fastw2v.queries.vectors import Vectors

from cli_helpers import assert_one_line_error

WORDS = [f"w{i}" for i in range(300)] + ["naïve", "東京"]


def make_vectors(dim=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((len(WORDS), dim)).astype(np.float32)


def header(path):
    return HEADER.unpack_from(path.read_bytes()[:HEADER_SIZE])


def test_float16_round_trip_holds_the_rounded_values_and_their_norms(tmp_path):
    vectors = make_vectors()
    path = tmp_path / "v.fw2v"
    write_native(str(path), WORDS, vectors, row_norms(vectors), dtype="float16")
    fields = header(path)
    assert fields[1] == VERSION_FLOAT16 and fields[2] & FLAG_FLOAT16
    loaded = read_native(str(path))
    assert loaded.words == WORDS and loaded.version == VERSION_FLOAT16
    assert loaded.vectors.dtype == np.float16
    np.testing.assert_array_equal(loaded.vectors, vectors.astype(np.float16))
    np.testing.assert_allclose(loaded.norms, row_norms(vectors.astype(np.float16)),
                               rtol=1e-6)


def test_float32_files_stay_version_1_and_float16_halves_the_matrix(tmp_path):
    vectors = make_vectors(dim=200)
    full, half = tmp_path / "full.fw2v", tmp_path / "half.fw2v"
    write_native(str(full), WORDS, vectors, row_norms(vectors))
    write_native(str(half), WORDS, vectors, row_norms(vectors), dtype="float16")
    assert header(full)[1] == VERSION and not header(full)[2] & FLAG_FLOAT16
    matrix_bytes = vectors.nbytes
    assert full.stat().st_size - half.stat().st_size >= matrix_bytes // 2 - 64


def test_a_value_beyond_float16_range_is_refused_and_nothing_written(tmp_path):
    vectors = make_vectors()
    vectors[7, 3] = 70000.0
    path = tmp_path / "v.fw2v"
    with pytest.raises(OutputError, match="'w7' holds a value beyond float16's range"):
        write_native(str(path), WORDS, vectors, row_norms(vectors), dtype="float16")
    assert not path.exists()


def test_float16_queries_rank_as_float32_on_the_same_values(tmp_path):
    vectors = make_vectors(seed=2)
    path = tmp_path / "v.fw2v"
    Vectors(WORDS, vectors).save(str(path), dtype="float16")
    half = Vectors.load(str(path))
    assert half.vectors.dtype == np.float16 and half.dtype_name == "float16"
    # The reference: float32 computation on exactly the values stored.
    widened = Vectors(WORDS, vectors.astype(np.float16).astype(np.float32))
    for word in ("w0", "w17", "naïve"):
        got, want = half.most_similar(word, n=10), widened.most_similar(word, n=10)
        assert [w for w, _ in got] == [w for w, _ in want]
        np.testing.assert_allclose([c for _, c in got], [c for _, c in want], rtol=1e-5)


def test_a_version_2_file_without_the_flag_and_a_version_1_file_with_it(tmp_path):
    vectors = make_vectors()
    path = tmp_path / "v.fw2v"
    write_native(str(path), WORDS, vectors, row_norms(vectors))
    data = path.read_bytes()
    # Version 1 never has float16 matrices: the flag there is damage.
    flags = struct.unpack_from("<I", data, 12)[0] | FLAG_FLOAT16
    path.write_bytes(data[:12] + struct.pack("<I", flags) + data[16:])
    runner = CliRunner()
    assert_one_line_error(runner.invoke(main, ["info", str(path)]), "disagree")


def test_cli_convert_to_float16_and_info_shows_it(tmp_path):
    vectors = make_vectors()
    source, target = tmp_path / "v.bin", tmp_path / "half.fw2v"
    Vectors(WORDS, vectors).save(str(source))
    runner = CliRunner()
    result = runner.invoke(main, ["convert", str(source), str(target), "--dtype", "float16"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["info", str(target)])
    assert "float16" in result.output and "version 2" in result.output
    # Converting on without --dtype keeps float16; to a word2vec file gives float32.
    again, back = tmp_path / "again.fw2v", tmp_path / "back.bin"
    assert runner.invoke(main, ["convert", str(target), str(again)]).exit_code == 0
    assert read_native(str(again)).vectors.dtype == np.float16
    assert runner.invoke(main, ["convert", str(target), str(back)]).exit_code == 0
    np.testing.assert_array_equal(Vectors.load(str(back)).vectors,
                                  vectors.astype(np.float16).astype(np.float32))


def test_cli_refuses_float16_for_word2vec_files(tmp_path):
    source = tmp_path / "v.bin"
    Vectors(WORDS, make_vectors()).save(str(source))
    result = CliRunner().invoke(main, ["convert", str(source), str(tmp_path / "x.txt"),
                                       "--dtype", "float16"])
    assert_one_line_error(result, "--dtype float16 is for .fw2v files", code=2)
    assert not (tmp_path / "x.txt").exists()


def test_train_float16_writes_a_model_that_scores_and_continues(tmp_path, small_corpus):
    runner = CliRunner()
    model = tmp_path / "half.fw2v"
    result = runner.invoke(main, ["train", str(small_corpus), "-o", str(model), "--dtype",
                                  "float16", "--epochs", "1", "--threads", "1", "-q"])
    assert result.exit_code == 0, result.output
    loaded = read_native(str(model))
    assert loaded.vectors.dtype == np.float16 and loaded.context.dtype == np.float16
    word = loaded.words[0]
    result = runner.invoke(main, ["score", "-m", str(model), word, loaded.words[1]])
    assert result.exit_code == 0, result.output
    more = tmp_path / "more.fw2v"
    result = runner.invoke(main, ["train", str(small_corpus), "--init-from", str(model),
                                  "-o", str(more), "--epochs", "1", "--threads", "1", "-q"])
    assert result.exit_code == 0, result.output
    assert read_native(str(more)).vectors.dtype == np.float32
