"""Hostile native (.fw2v) files: cut, damaged in the header, the word list or the JSON.

The contract: `read_native` returns what the file holds or raises FormatError naming
the file. "Silent garbage" here is a successful load that breaks the format's own
invariants: a word count other than the header's, an empty word, a matrix or norms of
another shape, a negative, NaN or infinite norm, a negative word count, metadata that is
not a JSON object or whose known entries have the wrong type. The format has no checksum
and its loader does not scan the matrix (that is what makes it load in milliseconds), so
a flipped bit inside the float values is out of reach by design; everything before
the matrix is checked.
"""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from fastw2v.cli import main
from fastw2v.errors import FormatError
from fastw2v.formats.native import HEADER, read_native, write_native
from fastw2v.queries.vectors import row_norms

from cli_helpers import assert_success_or_one_line_error
from hostile_inputs import models, mutations

# JSON values of any shape, for metadata entries.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=8)
KNOWN_KEYS = ("writer", "matrix", "training", "loss_history", "nce_gamma", "corpus_tokens",
              "words_trained")


def native_bytes(tmp_path, words, vectors, loss="ns", metadata=None):
    """A native file as training writes it: counts, metadata and the output matrix."""
    path = tmp_path / "model.fw2v"
    n = len(words)
    context_rows = max(1, n - 1) if loss == "hs" else n
    meta = {"writer": "test", "training": {"loss": loss, "negative": 3},
            "nce_gamma": [0.5], "loss_history": [1.5, 1.25]}
    meta.update(metadata or {})
    write_native(str(path), words, vectors, row_norms(vectors),
                 counts=np.arange(n, 0, -1, dtype=np.int64), metadata=meta,
                 context=np.ones((context_rows, vectors.shape[1]), dtype=np.float32))
    return path.read_bytes()


def read_or_error(path):
    """The NativeFile, checked against the format's invariants, or None after a
    FormatError that names the file."""
    try:
        native = read_native(str(path))
    except FormatError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc), str(exc)
        return None
    n = len(native.words)
    assert "" not in native.words
    assert native.vectors.ndim == 2 and native.vectors.shape[0] == n
    assert native.norms.shape == (n,)
    assert np.isfinite(native.norms).all() and (native.norms >= 0).all()
    assert native.counts is None or (native.counts.shape == (n,) and (native.counts >= 0).all())
    assert isinstance(native.metadata, dict)
    for key in ("loss_history", "nce_gamma"):
        values = native.metadata.get(key) or []  # null: as if absent
        assert isinstance(values, list) and all(math.isfinite(v) for v in values)
    return native


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def check_cli(path, words):
    """Every command that reads a native file works on it or fails in one line, which
    names the file when the file is the problem (a query may fail for its own reasons,
    e.g. a word whose vector is zero)."""
    assert_success_or_one_line_error(run("info", path), str(path))
    assert_success_or_one_line_error(run("info", "--json", path), str(path))
    assert_success_or_one_line_error(run("similar", "-m", path, words[0]))
    assert_success_or_one_line_error(run("score", "-m", path, words[0], words[-1]))


@given(model=models(), data=st.data())
def test_a_file_cut_anywhere_is_refused(tmp_path, model, data):
    words, vectors = model
    full = native_bytes(tmp_path, words, vectors)
    cut = data.draw(st.integers(0, len(full) - 1), label="bytes kept")
    path = tmp_path / "cut.fw2v"
    path.write_bytes(full[:cut])
    with pytest.raises(FormatError) as info:
        read_native(str(path))
    assert str(info.value).startswith(f"{path}: ")
    check_cli(path, words)


@given(model=models(), data=st.data())
def test_a_damaged_header_is_refused_or_still_consistent(tmp_path, model, data):
    words, vectors = model
    full = bytearray(native_bytes(tmp_path, words, vectors))
    fields = list(HEADER.unpack_from(full))
    which = data.draw(st.integers(1, len(fields) - 1), label="field")
    fields[which] = data.draw(st.one_of(
        st.integers(0, 2**32 - 1 if which <= 2 else 2**64 - 1),
        st.integers(-3, 3).map(lambda d: max(0, fields[which] + d))), label="value")
    full[:HEADER.size] = HEADER.pack(*fields)
    path = tmp_path / "damaged.fw2v"
    path.write_bytes(bytes(full))
    read_or_error(path)
    check_cli(path, words)


@given(model=models(), data=st.data())
def test_damage_before_the_matrix_is_refused_or_still_consistent(tmp_path, model, data):
    # Header, word list, counts and JSON: everything the loader reads and checks.
    words, vectors = model
    full = native_bytes(tmp_path, words, vectors)
    matrix_offset = HEADER.unpack_from(full)[10]
    front = data.draw(mutations(full[:matrix_offset]), label="front")
    path = tmp_path / "damaged.fw2v"
    path.write_bytes(front + full[matrix_offset:])
    read_or_error(path)
    check_cli(path, words)


@given(model=models(), key=st.sampled_from(KNOWN_KEYS), value=json_values,
       loss=st.sampled_from(("ns", "nce", "hs")))
def test_metadata_of_any_shape_never_breaks_a_command(tmp_path, model, key, value, loss):
    words, vectors = model
    data = native_bytes(tmp_path, words, vectors, loss, {key: value})
    path = tmp_path / "meta.fw2v"
    path.write_bytes(data)
    read_or_error(path)
    check_cli(path, words)


@given(model=models(), training=st.dictionaries(
    st.sampled_from(("loss", "negative", "dim")), json_values, max_size=3),
    gamma=st.lists(st.floats(-5, 5), min_size=0, max_size=8))
def test_training_settings_of_any_shape_never_break_score(tmp_path, model, training, gamma):
    words, vectors = model
    data = native_bytes(tmp_path, words, vectors, "nce",
                        {"training": training, "nce_gamma": gamma})
    path = tmp_path / "settings.fw2v"
    path.write_bytes(data)
    check_cli(path, words)


def test_deeply_nested_json_is_refused_not_a_recursion_error(tmp_path):
    # 100,000 "[" overflow the JSON parser's recursion limit: a RecursionError, which is
    # no ValueError, used to escape as a traceback.
    data = bytearray(native_bytes(tmp_path, ["a", "b"], np.ones((2, 2), np.float32),
                                  metadata={"pad": "x" * 100_000}))
    fields = HEADER.unpack_from(data)
    meta_offset, meta_size = fields[8], fields[9]
    data[meta_offset:meta_offset + meta_size] = b"[" * meta_size
    path = tmp_path / "nested.fw2v"
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError, match="not valid JSON"):
        read_native(str(path))


@pytest.mark.parametrize("key, value", [("loss_history", "abc"), ("loss_history", [1, "x"]),
                                        ("training", [1]), ("nce_gamma", 3),
                                        ("loss_history", [float("nan")])])
def test_wrongly_typed_metadata_is_refused_naming_the_entry(tmp_path, key, value):
    path = tmp_path / "m.fw2v"
    path.write_bytes(native_bytes(tmp_path, ["a", "b"], np.ones((2, 2), np.float32),
                                  metadata={key: value}))
    with pytest.raises(FormatError, match=f"'{key}'"):
        read_native(str(path))


def test_metadata_json_is_what_the_writer_wrote(tmp_path):
    # The test's own file builder is a real training file: it reads back unchanged.
    path = tmp_path / "ok.fw2v"
    path.write_bytes(native_bytes(tmp_path, ["a", "b"], np.ones((2, 2), np.float32)))
    native = read_or_error(path)
    assert native.metadata["loss_history"] == [1.5, 1.25]
    assert json.loads(json.dumps(native.metadata)) == native.metadata
