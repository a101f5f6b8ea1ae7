"""Unit tests for fastw2v.text.vocab and the compiled word table: counting, ReduceVocab-style
pruning, sorting, vocabulary files."""

from collections import Counter

import numpy as np
import pytest

from fastw2v._text import WordTable
from fastw2v.errors import VocabularyError
from fastw2v.text.corpus import encode_corpus, scan_corpus
from fastw2v.text.vocab import Vocabulary


def count(tokens, max_vocab):
    """Count str tokens in a WordTable; return (word -> count, the table)."""
    table = WordTable(max_vocab)
    table.count_words(tokens)
    return dict(zip(table.words(), table.counts().tolist())), table


# ---------------------------------------------------------------------------------------
# WordTable counting and pruning
# ---------------------------------------------------------------------------------------

def test_table_counts_exactly_without_pruning():
    tokens = ["the", "cat", "sat", "on", "the", "mat",
              "the", "dog", "sat", "on", "the", "log", "Ωmega", "東京", "東京"]
    counts, table = count(tokens, max_vocab=1000)
    assert counts == {
        "the": 4, "cat": 1, "sat": 2, "on": 2, "mat": 1, "dog": 1, "log": 1,
        "Ωmega": 1, "東京": 2,
    }
    assert table.words()[:3] == ["the", "cat", "sat"]  # entries in order of first sight
    assert table.n_prunes == 0 and table.prune_threshold == 0


def test_table_counts_a_random_stream_exactly_at_its_bound():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(50)]
    tokens = [words[j] for j in rng.integers(0, 50, size=3000)]
    counts, table = count(tokens, max_vocab=50)  # exactly the distinct count
    assert counts == Counter(tokens)
    assert table.n_prunes == 0


def test_table_grows_past_its_first_sizes_and_keeps_every_count():
    # Far more words than the initial 1,024 entries and slots: the table must regrow
    # and rehash without losing or merging a word.
    tokens = [f"word{i % 5000}" for i in range(20000)]
    counts, table = count(tokens, max_vocab=10**6)
    assert len(table) == 5000 and set(counts.values()) == {4}
    assert table.entries_of(["word0", "word4999", "absent"]).tolist() == [0, 4999, -1]


def test_pruning_follows_reduce_vocab_with_a_growing_threshold():
    # max_vocab = 3. Worked by hand after word2vec.c's ReduceVocab, applied as soon as a
    # new word makes the table hold more than max_vocab words:
    #   a x10, b x5, c      -> {a:10, b:5, c:1}
    #   d                   -> 4 words: prune t=1 -> {a:10, b:5}
    #   c, c                -> {a:10, b:5, c:2}
    #   d                   -> 4 words: prune t=2 -> {a:10, b:5}
    #   i x4                -> {a:10, b:5, i:4}
    tokens = ["a"] * 10 + ["b"] * 5 + ["c", "d", "c", "c", "d"] + ["i"] * 4
    counts, table = count(tokens, max_vocab=3)
    assert counts == {"a": 10, "b": 5, "i": 4}
    assert table.n_prunes == 2
    assert table.prune_threshold == 2


def test_pruning_threshold_keeps_growing_and_frequent_words_keep_exact_counts():
    # Each round brings 20 never-seen words once each: with max_vocab = 10 each round
    # forces two or three prunings, and the threshold climbs by one at each. "the" and
    # "of" gain 50 and 30 a round, faster than the threshold climbs, so they are never
    # pruned and must keep their exact counts.
    tokens = []
    for k in range(30):
        tokens += ["the"] * 50 + ["of"] * 30 + [f"rare{k}_{i}" for i in range(20)]
    counts, table = count(tokens, max_vocab=10)
    assert table.n_prunes >= 30
    assert table.prune_threshold == table.n_prunes
    assert table.prune_threshold < 30 * 3
    assert counts["the"] == 50 * 30
    assert counts["of"] == 30 * 30
    assert len(counts) <= 10


def test_pruning_memory_bound_and_exact_counts_on_zipf_like_stream():
    rng = np.random.default_rng(1)
    frequent = ["alpha", "beta", "gamma"]
    tokens = []
    for _ in range(40):
        batch = [frequent[j] for j in rng.integers(0, 3, size=300)]
        batch += [f"tail{int(x)}" for x in rng.integers(0, 5000, size=60)]
        rng.shuffle(batch)
        tokens += batch
    exact = Counter(tokens)
    counts, table = count(tokens, max_vocab=25)
    assert table.n_prunes >= 1
    assert table.prune_threshold == table.n_prunes  # one more at each pruning
    assert len(counts) <= 25
    # Each frequent word comes ~100 times per 360 tokens, far faster than the threshold
    # climbs, so none was ever pruned: their counts are exact.
    assert table.prune_threshold < min(exact[w] for w in frequent) / 10
    for word in frequent:
        assert counts[word] == exact[word]
    # No count is ever overestimated.
    for word, n in counts.items():
        assert n <= exact[word]


def test_a_pruned_scan_encodes_by_reading_again_and_loses_no_token(tmp_path):
    # Pruning makes the scan's entry stream stale; the corpus must then be encoded by a
    # second read, and every token of a vocabulary word must still be there.
    rng = np.random.default_rng(3)
    lines = []
    for k in range(200):
        line = [f"common{j}" for j in rng.integers(0, 5, size=8)]
        line += [f"rare{k}_{j}" for j in range(3)]
        rng.shuffle(line)
        lines.append(" ".join(line))
    path = tmp_path / "c.txt"
    path.write_text("\n".join(lines) + "\n")
    scan = scan_corpus(str(path), max_vocab=20, tmp_dir=str(tmp_path))
    assert scan.n_prunes > 0 and scan.entries is None
    vocab, entries = Vocabulary.from_table(scan.table, 5)
    assert sorted(vocab.words) == [f"common{j}" for j in range(5)]
    enc = encode_corpus(str(path), vocab.words, scan=scan, entry_of_word=entries)
    index = vocab.index
    expected = []
    for line in lines:
        expected += [index[t] for t in line.split() if t in index] + [-1]
    assert enc.ids.tolist() == expected
    assert enc.n_skipped == 3 * 200


def test_fixed_table_refuses_a_repeated_word():
    with pytest.raises(ValueError, match="twice"):
        WordTable.fixed(["a", "b", "a"])


def test_from_table_sorts_by_count_then_code_point_and_applies_min_count():
    counts, table = count(["b", "a", "c", "a", "b", "z", "é", "é"], max_vocab=100)
    vocab, entries = Vocabulary.from_table(table, 2)
    assert vocab.words == ["a", "b", "é"]
    assert vocab.counts.tolist() == [2, 2, 2]
    assert table.words(entries.tolist()) == vocab.words
    empty, none = Vocabulary.from_table(table, 3)
    assert len(empty) == 0 and len(none) == 0


# ---------------------------------------------------------------------------------------
# Vocabulary.from_counts
# ---------------------------------------------------------------------------------------

def test_from_counts_sorts_by_descending_count_then_code_point():
    counts = {"z": 3, "é": 3, "a": 3, "B": 3, "b": 3, "big": 10, "tiny": 1, "mid": 5,
              "😀": 3, "Z": 5}
    vocab = Vocabulary.from_counts(counts, min_count=1)
    # Code points: "B"=66 < "a"=97 < "b"=98 < "z"=122 < "é"=233 < "😀"=128512;
    # "Z"=90 < "mid" (109).
    assert vocab.words == ["big", "Z", "mid", "B", "a", "b", "z", "é", "😀", "tiny"]
    assert vocab.counts.tolist() == [10, 5, 5, 3, 3, 3, 3, 3, 3, 1]
    assert vocab.counts.dtype == np.int64
    assert vocab.index == {w: i for i, w in enumerate(vocab.words)}
    assert vocab.total == sum(counts.values())
    assert len(vocab) == 10


def test_from_counts_is_independent_of_input_order():
    counts = {f"w{i}": (i * 37) % 5 + 1 for i in range(40)}
    reversed_counts = dict(reversed(list(counts.items())))
    a = Vocabulary.from_counts(counts, min_count=1)
    b = Vocabulary.from_counts(reversed_counts, min_count=1)
    assert a.words == b.words
    assert np.array_equal(a.counts, b.counts)


def test_from_counts_applies_min_count():
    counts = {"a": 5, "b": 4, "c": 3, "d": 2, "e": 1}
    vocab = Vocabulary.from_counts(counts, min_count=3)
    assert vocab.words == ["a", "b", "c"]  # count == min_count is kept
    assert vocab.counts.tolist() == [5, 4, 3]
    assert "d" not in vocab and "c" in vocab
    empty = Vocabulary.from_counts(counts, min_count=6)
    assert len(empty) == 0


# ---------------------------------------------------------------------------------------
# save / read_counts
# ---------------------------------------------------------------------------------------

def test_save_then_read_counts_round_trips_non_ascii(tmp_path):
    counts = {"naïve": 7, "東京": 7, "😀": 3, "straße": 2, "Ωmega": 12, "plain": 1,
              "ℵ₀": 5}
    vocab = Vocabulary.from_counts(counts, min_count=1)
    path = tmp_path / "vocab.txt"
    vocab.save(str(path))
    assert Vocabulary.read_counts(str(path)) == counts
    # word2vec.c's format: `word count` per line, in id order, UTF-8.
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == [f"{w} {c}" for w, c in zip(vocab.words, vocab.counts.tolist())]
    # Reading back and rebuilding gives the same ids.
    again = Vocabulary.from_counts(Vocabulary.read_counts(str(path)), min_count=1)
    assert again.words == vocab.words
    assert np.array_equal(again.counts, vocab.counts)
    # atomic_write leaves no temporary file behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vocab.txt"]


def test_read_counts_tolerates_blank_lines_and_crlf(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"the 10\r\n\r\nof 4\n  \nand 0\n")
    assert Vocabulary.read_counts(str(path)) == {"the": 10, "of": 4, "and": 0}


@pytest.mark.parametrize(
    "content, line_no, fragment",
    [
        ("a 1\nb 2 3\n", 2, "3 fields"),
        ("a 1\nb\n", 2, "1 fields"),
        ("a 1\nb x\n", 2, "not a whole number"),
        ("a 1.5\n", 1, "not a whole number"),
        ("a 1\nb 2\nc -4\n", 3, "negative"),
        ("a 1\nb 2\n\na 3\n", 4, "listed twice"),
    ],
)
def test_read_counts_rejects_malformed_lines_naming_path_and_line(tmp_path, content, line_no,
                                                                  fragment):
    path = tmp_path / "bad.vocab"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(VocabularyError) as info:
        Vocabulary.read_counts(str(path))
    message = str(info.value)
    assert message.startswith(f"{path}: line {line_no}:"), message
    assert fragment in message


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_read_counts_rejects_empty_file(tmp_path, content):
    path = tmp_path / "empty.vocab"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(VocabularyError) as info:
        Vocabulary.read_counts(str(path))
    assert str(info.value).startswith(f"{path}:")
    assert "empty" in str(info.value)


def test_read_counts_rejects_invalid_utf8_and_missing_file(tmp_path):
    path = tmp_path / "latin1.vocab"
    path.write_bytes(b"caf\xe9 3\n")
    with pytest.raises(VocabularyError, match="UTF-8"):
        Vocabulary.read_counts(str(path))
    missing = tmp_path / "missing.vocab"
    with pytest.raises(VocabularyError) as info:
        Vocabulary.read_counts(str(missing))
    assert str(info.value).startswith(f"{missing}:")
