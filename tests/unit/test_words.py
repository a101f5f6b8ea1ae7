"""WordList: the compact word list must behave as the list of strings it replaces."""

import pickle
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastw2v.errors import OutputError
from fastw2v.formats.native import read_native, write_native
from fastw2v.formats.rows import check_words
from fastw2v.text import words as words_module
from fastw2v.text.vocab import Vocabulary
from fastw2v.text.words import WordList, first_rows

WORDS = ["the", "a", "thé", "ab", "b", "ab", "naïve", "日本", "abc", "b"]

# Any text but the separator; never empty.
word_text = st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)),
                    min_size=1, max_size=6)


def test_a_word_list_reads_back_as_the_list_it_was_made_from():
    held = WordList.of(WORDS)
    assert len(held) == len(WORDS)
    assert list(held) == WORDS
    assert [held[i] for i in range(-len(WORDS), len(WORDS))] == WORDS + WORDS
    assert list(reversed(held)) == WORDS[::-1]
    assert held == WORDS and held == tuple(WORDS) and held != WORDS[:-1]
    assert held == WordList.of(list(WORDS)) and held != WordList.of(WORDS[1:])
    with pytest.raises(IndexError):
        held[len(WORDS)]


@pytest.mark.parametrize("part", [slice(2, 5), slice(0, 0), slice(-3, None), slice(None, 4),
                                  slice(1, 9, 3), slice(None, None, -1), slice(7, 3)])
def test_slices_are_the_lists_slices(part):
    held = WordList.of(WORDS)
    assert list(held[part]) == WORDS[part]
    contiguous = held[part]
    if isinstance(contiguous, WordList) and len(contiguous):
        # A slice is itself searchable, with its own rows.
        assert contiguous.index(WORDS[part][-1]) == WORDS[part].index(WORDS[part][-1])


def test_index_finds_whole_words_only_and_the_first_of_repeats():
    held = WordList.of(WORDS)
    for word in set(WORDS):
        assert held.index(word) == WORDS.index(word)
        assert word in held
    # Prefixes, suffixes and spans of several words are not words of the list.
    for absent in ["t", "he", "th", "bc", "ab\nb", "a\nthé", "", "abcd", "日"]:
        assert absent not in held
        with pytest.raises(ValueError):
            held.index(absent)
    assert held.index("ab", 4) == 5 and held.index("b", 5) == 9
    with pytest.raises(ValueError):
        held.index("ab", 0, 3)
    assert held.index("the") == 0 and held.index("b", -1) == 9
    assert 3 not in held  # type: ignore[operator]


def test_iteration_crosses_its_blocks(monkeypatch):
    monkeypatch.setattr(words_module, "_ITER_BLOCK", 3)
    held = WordList.of(WORDS)
    assert list(held) == WORDS and list(reversed(held)) == WORDS[::-1]
    assert first_rows(held) == {w: WORDS.index(w) for w in WORDS}


def test_a_word_list_refuses_what_it_cannot_hold():
    with pytest.raises(ValueError, match="empty"):
        WordList.of(["a", "", "b"])
    with pytest.raises(ValueError, match="line break"):
        WordList.of(["a", "b\nc"])
    assert WordList.from_blob(b"a\nb", 3) is None
    assert WordList.from_blob(b"a\n\nb", 3) is None  # an empty word
    assert WordList.from_blob(b"a", 0) is None
    assert list(WordList.from_blob(b"", 0)) == []
    assert list(WordList.of([])) == [] and "a" not in WordList.of([])


def test_a_word_list_survives_pickling_as_ray_ships_it():
    held = WordList.of(WORDS, distinct=False)
    back = pickle.loads(pickle.dumps(held))
    assert back == held and list(back) == WORDS and back.distinct is False


def test_a_million_words_cost_a_fraction_of_their_strings():
    rng = np.random.default_rng(0)
    words = ["".join(map(chr, rng.integers(97, 123, size=n))) + str(i)
             for i, n in enumerate(rng.integers(2, 12, size=100_000))]
    held = WordList.of(words)
    as_strings = sum(sys.getsizeof(w) for w in words) + sys.getsizeof(words)
    assert held.nbytes < as_strings / 3


@settings(max_examples=200, deadline=None)
@given(st.lists(word_text, max_size=12), st.data())
def test_any_words_behave_as_their_list(words, data):
    held = WordList.of(words)
    assert list(held) == words and len(held) == len(words)
    probe = data.draw(st.one_of(st.sampled_from(words) if words else word_text, word_text))
    start = data.draw(st.integers(-3, len(words) + 2))
    try:
        expected = words.index(probe, start)
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(ValueError):
            held.index(probe, start)
    else:
        assert held.index(probe, start) == expected
    assert (probe in held) == (probe in words)


def test_a_vocabulary_holds_its_words_compactly_and_distinct():
    vocab = Vocabulary.from_counts({"b": 3, "a": 3, "c": 9}, min_count=1)
    assert isinstance(vocab.words, WordList) and vocab.words.distinct
    assert vocab.words == ["c", "a", "b"] and vocab.index == {"c": 0, "a": 1, "b": 2}
    # Words given as a list are held compactly too, without a promise of distinctness.
    given_list = Vocabulary(["x", "y"], np.array([2, 1]))
    assert isinstance(given_list.words, WordList) and not given_list.words.distinct


def test_writers_check_a_word_list_as_they_check_a_list(tmp_path):
    path = str(tmp_path / "m.fw2v")
    with pytest.raises(OutputError, match="'b c'"):
        check_words(path, WordList.of(["a", "b c", "d"]))
    with pytest.raises(OutputError, match="'x\\\\x00'"):
        check_words(path, WordList.of(["a", "x\0"]))
    with pytest.raises(OutputError, match="'a' is listed twice"):
        check_words(path, WordList.of(["a", "b", "a"]))
    check_words(path, WordList.of(["a", "b", "c"], distinct=True))


def test_a_native_file_reads_into_a_word_list_and_writes_back_the_same_bytes(tmp_path):
    words = ["the", "thé", "日本", "naïve"]
    vectors = np.arange(8, dtype=np.float32).reshape(4, 2)
    norms = np.linalg.norm(vectors, axis=1).astype(np.float32)
    first, second = str(tmp_path / "a.fw2v"), str(tmp_path / "b.fw2v")
    write_native(first, words, vectors, norms)
    read = read_native(first)
    assert isinstance(read.words, WordList) and read.words == words
    write_native(second, read.words, read.vectors, read.norms)
    with open(first, "rb") as a, open(second, "rb") as b:
        assert a.read() == b.read()
