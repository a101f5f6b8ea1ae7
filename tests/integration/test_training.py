"""Training end to end on synthetic corpora with planted structure."""

import bz2
import gzip
import lzma

import numpy as np
import pytest

import fastw2v
from fastw2v.errors import CorpusError, TrainingDiverged, VocabularyError
from fastw2v.text import synthetic


def nouns():
    for topic in synthetic.TOPICS.values():
        yield from topic["nouns"]


def topic_precision(model, planted, k=5):
    """Fraction of the top-k neighbours of every noun that belong to its topic."""
    hits = total = 0
    for noun in nouns():
        for neighbour, _ in model.most_similar(noun, n=k):
            hits += planted.same_topic(noun, neighbour)
            total += 1
    return hits / total


def plural_analogy_accuracy(model):
    """a : plural(a) :: b : ? answered by plural(b), over pairs of nouns in different topics."""
    all_nouns = list(nouns())
    correct = total = 0
    for i, a in enumerate(all_nouns):
        b = all_nouns[(i + 11) % len(all_nouns)]
        answer, _ = model.most_similar([synthetic.plural(a), b], [a], n=1)[0]
        correct += answer == synthetic.plural(b)
        total += 1
    return correct / total


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_planted_topics_and_relation_are_recovered(synthetic_corpus, architecture):
    path, planted = synthetic_corpus
    model = fastw2v.train(path, architecture=architecture, threads=1, seed=3)
    # Chance is about 1/6 (six topics); a working trainer puts nearly every neighbour in
    # the right topic. 0.9 leaves room for the adjectives and fillers that share contexts.
    assert topic_precision(model, planted) >= 0.9
    # The plural direction is planted identically for all 48 nouns.
    assert plural_analogy_accuracy(model) >= 0.8
    assert all(np.isfinite(model.loss_history))
    assert model.loss_history[-1] < model.loss_history[0]


def test_two_threads_reach_the_same_quality(synthetic_corpus):
    path, planted = synthetic_corpus
    one = fastw2v.train(path, threads=1)
    two = fastw2v.train(path, threads=2)
    assert abs(topic_precision(one, planted) - topic_precision(two, planted)) <= 0.05
    assert two.stats.n_words_trained == one.stats.n_words_trained
    assert abs(two.loss_history[-1] - one.loss_history[-1]) < 0.05


def test_one_thread_with_a_seed_is_bit_identical(synthetic_corpus):
    path, _ = synthetic_corpus
    a = fastw2v.train(path, threads=1, seed=7, epochs=2)
    b = fastw2v.train(path, threads=1, seed=7, epochs=2)
    c = fastw2v.train(path, threads=1, seed=8, epochs=2)
    assert np.array_equal(a.vectors, b.vectors)
    assert np.array_equal(a.context_vectors, b.context_vectors)
    assert a.loss_history == b.loss_history
    assert not np.array_equal(a.vectors, c.vectors)


def test_vocabulary_is_frequency_sorted_and_min_count_applies(synthetic_corpus):
    path, _ = synthetic_corpus
    model = fastw2v.train(path, threads=1, epochs=1, min_count=1)
    counts = model.vocab.counts
    assert np.all(counts[:-1] >= counts[1:])
    expected = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            for token in line.split():
                expected[token] = expected.get(token, 0) + 1
    assert dict(zip(model.words, counts.tolist())) == expected
    assert model.stats.n_words == sum(expected.values())


def test_a_single_long_line_trains_like_many_lines(tmp_path, synthetic_corpus):
    # text8-style: the whole corpus on one line, longer than a read block and than a
    # sentence. Every token must still be read and trained on.
    path, planted = synthetic_corpus
    with open(path, encoding="utf-8") as f:
        text = f.read()
    one_line = tmp_path / "one-line.txt"
    one_line.write_text(text.replace("\n", " "), encoding="utf-8")
    model = fastw2v.train(str(one_line), threads=1)
    assert model.stats.n_words == len(text.split())
    assert model.stats.n_sentences == -(-len(text.split()) // 10_000)
    assert topic_precision(model, planted) >= 0.8


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"),
                                           (lzma.open, ".xz")])
def test_compressed_corpora_give_the_same_model(tmp_path, small_corpus, opener, suffix):
    with open(small_corpus, "rb") as f:
        raw = f.read()
    packed = tmp_path / ("small.txt" + suffix)
    with opener(packed, "wb") as out:
        out.write(raw)
    plain = fastw2v.train(small_corpus, min_count=1, threads=1, epochs=1)
    compressed = fastw2v.train(str(packed), min_count=1, threads=1, epochs=1)
    assert compressed.words == plain.words
    assert np.array_equal(compressed.vectors, plain.vectors)


def test_save_and_read_vocab(tmp_path, synthetic_corpus):
    path, _ = synthetic_corpus
    vocab_path = tmp_path / "vocab.txt"
    first = fastw2v.train(path, threads=1, epochs=1, save_vocab=str(vocab_path))
    lines = vocab_path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"{first.words[0]} {first.vocab.counts[0]}"
    second = fastw2v.train(path, threads=1, epochs=1, read_vocab=str(vocab_path))
    assert second.words == first.words
    assert np.array_equal(second.vectors, first.vectors)


def test_divergence_is_reported_with_advice(synthetic_corpus):
    path, _ = synthetic_corpus
    with pytest.raises(TrainingDiverged, match="lower --alpha"):
        fastw2v.train(path, threads=2, alpha=1e6, epochs=1)


def test_empty_corpus_and_unreachable_min_count(tmp_path, small_corpus):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n\n \t\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="empty"):
        fastw2v.train(str(empty))
    with pytest.raises(VocabularyError, match="--min-count"):
        fastw2v.train(small_corpus, min_count=10_000)


def test_unknown_and_invalid_options_name_the_option(small_corpus):
    with pytest.raises(fastw2v.ConfigError, match="^dim must be at least 1"):
        fastw2v.train(small_corpus, dim=0)
    with pytest.raises(fastw2v.ConfigError, match="unknown"):
        fastw2v.train(small_corpus, dimension=10)
