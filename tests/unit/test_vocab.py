"""Unit tests for fastw2v.vocab: counting, ReduceVocab-style pruning, sorting, vocab files."""

from collections import Counter

import numpy as np
import pytest

from fastw2v.errors import VocabularyError
from fastw2v.vocab import Vocabulary, count_tokens


# ---------------------------------------------------------------------------------------
# count_tokens
# ---------------------------------------------------------------------------------------

def test_count_tokens_counts_exactly_without_pruning():
    batches = [
        ["the", "cat", "sat", "on", "the", "mat"],
        [],
        ["the", "dog", "sat", "on", "the", "log", "Ωmega", "東京"],
        ["東京"],
    ]
    result = count_tokens(batches, max_vocab=1000)
    assert dict(result.counts) == {
        "the": 4, "cat": 1, "sat": 2, "on": 2, "mat": 1, "dog": 1, "log": 1,
        "Ωmega": 1, "東京": 2,
    }
    assert result.n_tokens == 15
    assert result.n_prunes == 0
    assert result.prune_threshold == 0


def test_count_tokens_accepts_a_generator_and_counts_random_stream_exactly():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(50)]
    batches = [[words[j] for j in rng.integers(0, 50, size=int(rng.integers(0, 40)))]
               for _ in range(100)]
    expected = Counter(token for batch in batches for token in batch)
    result = count_tokens((b for b in batches), max_vocab=50)  # exactly the distinct count
    assert result.counts == expected
    assert result.n_tokens == sum(len(b) for b in batches)
    assert result.n_prunes == 0


def test_pruning_follows_reduce_vocab_threshold_one_then_two_then_three():
    # max_vocab = 3; each batch is worked out by hand following word2vec.c's ReduceVocab:
    # when too many words are held, drop every word with count <= t, t = 1, 2, 3, ...
    batches = [
        # a:10 b:5 c:1 d:1 e:1 -> 5 > 3 -> prune t=1 -> {a:10, b:5}
        ["a"] * 10 + ["b"] * 5 + ["c", "d", "e"],
        # + c:2 d:2 e:2 -> 5 > 3 -> prune t=2 -> {a:10, b:5}
        ["c", "c", "d", "d", "e", "e"],
        # a:11, f g h:1 -> 5 > 3 -> prune t=3 -> {a:11, b:5}
        ["f", "g", "h", "a"],
        # b:6, i:4 -> {a:11, b:6, i:4}: 3 words, no pruning
        ["b", "i", "i", "i", "i"],
    ]
    result = count_tokens(batches, max_vocab=3)
    assert dict(result.counts) == {"a": 11, "b": 6, "i": 4}
    assert result.n_prunes == 3
    assert result.prune_threshold == 3
    assert result.n_tokens == 18 + 6 + 4 + 5


def test_pruning_can_raise_the_threshold_several_times_within_one_batch():
    # max_vocab = 2: after t=1 {p:2, q:2, r:2, a:5} still holds 4 words, so t=2 follows
    # at once, leaving {a:5}.
    batch = ["p", "p", "q", "q", "r", "r", "s"] + ["a"] * 5
    result = count_tokens([batch], max_vocab=2)
    assert dict(result.counts) == {"a": 5}
    assert result.n_prunes == 2
    assert result.prune_threshold == 2
    assert result.n_tokens == 12


def test_pruning_threshold_keeps_growing_and_frequent_words_keep_exact_counts():
    # Every batch holds 20 never-seen words once each plus frequent words, so every batch
    # forces exactly one pruning: after k batches the threshold is k. "the" (50 per batch)
    # and "of" (30 per batch) always stay far above it and must keep their exact counts.
    batches = []
    for k in range(30):
        batch = ["the"] * 50 + ["of"] * 30 + [f"rare{k}_{i}" for i in range(20)]
        batches.append(batch)
    result = count_tokens(batches, max_vocab=10)
    assert result.n_prunes == 30
    assert result.prune_threshold == 30
    assert result.counts["the"] == 50 * 30
    assert result.counts["of"] == 30 * 30
    assert set(result.counts) == {"the", "of"}
    assert result.n_tokens == 30 * 100
    assert len(result.counts) <= 10


def test_pruning_memory_bound_and_exact_counts_on_zipf_like_stream():
    rng = np.random.default_rng(1)
    frequent = ["alpha", "beta", "gamma"]
    batches = []
    for k in range(40):
        batch = [frequent[j] for j in rng.integers(0, 3, size=300)]
        batch += [f"tail{int(x)}" for x in rng.integers(0, 5000, size=60)]
        rng.shuffle(batch)
        batches.append(batch)
    exact = Counter(t for b in batches for t in b)
    result = count_tokens(batches, max_vocab=25)
    assert result.n_prunes >= 1
    assert result.prune_threshold == result.n_prunes  # one more at each pruning
    assert len(result.counts) <= 25
    # Each frequent word gets ~100 per batch, far above the threshold (which ends at
    # about one per batch here), so none can have been pruned: counts are exact.
    assert result.prune_threshold < 100
    for word in frequent:
        assert result.counts[word] == exact[word]
    # No count is ever overestimated.
    for word, count in result.counts.items():
        assert count <= exact[word]


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
