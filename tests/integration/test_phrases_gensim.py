"""`fastw2v phrases` finds the phrases gensim's Phrases finds, given the same scoring
function, threshold, min-count and connector words, and joins them the same way.

gensim's default scorer divides by the vocabulary size, not by the number of tokens as
word2vec.c does; it is given word2vec.c's formula here. gensim joins a pair whose count
is below min_count when its (negative) score still beats the threshold; our rule and
word2vec.c's require min_count occurrences of the pair and of both words, so the scorer
given to gensim requires them too. gensim's npmi scorer requires min_count occurrences
of the pair, which implies them for both words: it is used as it is.
"""

import math

import numpy as np
import pytest
from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

import fastw2v


def word2vec_scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count,
                    corpus_word_count):
    """word2vec.c's score, with its min-count rule, in gensim's scorer signature."""
    if min(worda_count, wordb_count, bigram_count) < min_count:
        return -math.inf
    return (bigram_count - min_count) / worda_count / wordb_count * corpus_word_count


def collocation_text(n_sentences, seed, connectors=()):
    """Sentences of Zipf-distributed words with planted collocations: 60 two-word names
    at different rates (some near any threshold) and, when given, connector words both
    inside planted names (`w_of_w`) and between random words."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(3000)]
    weights = 1.0 / np.arange(1, len(vocab) + 1) ** 1.05
    weights /= weights.sum()
    names = [(f"n{i}a", f"n{i}b") for i in range(60)]
    name_rates = np.geomspace(0.02, 0.0005, len(names))
    lengths = rng.integers(5, 25, size=n_sentences)
    drawn = rng.choice(len(vocab), size=int(lengths.sum()), p=weights).tolist()
    planted = rng.random((n_sentences, len(names))) < name_rates * 5
    sentences = []
    start = 0
    for row, length in enumerate(lengths.tolist()):
        words = [vocab[i] for i in drawn[start:start + length]]
        start += length
        for a, b in (names[j] for j in np.flatnonzero(planted[row])):
            at = int(rng.integers(0, len(words) + 1))
            middle = [connectors[int(rng.integers(len(connectors)))]] if (
                connectors and rng.random() < 0.3) else []
            words[at:at] = [a, *middle, b]
        if connectors:
            for _ in range(int(rng.integers(0, 3))):
                at = int(rng.integers(0, len(words) + 1))
                words.insert(at, connectors[int(rng.integers(len(connectors)))])
        sentences.append(words)
    return sentences


def write(path, sentences):
    path.write_text("".join(" ".join(s) + "\n" for s in sentences), encoding="utf-8")
    return str(path)


def agreement(ours, theirs):
    both = ours | theirs
    return len(ours & theirs) / len(both) if both else 1.0


def our_phrase_types(stats):
    return {key.replace(" ", "_") for key in stats.table.passes[0].keys}


@pytest.mark.parametrize("scorer,threshold", [("word2vec", 30.0), ("word2vec", 100.0),
                                              ("npmi", 0.3), ("npmi", 0.6)])
def test_same_phrase_types_and_text_as_gensim(tmp_path, scorer, threshold):
    sentences = collocation_text(20_000, seed=1)
    corpus = write(tmp_path / "corpus.txt", sentences)
    out = tmp_path / "out.txt"
    stats = fastw2v.phrases(corpus, str(out), scorer=scorer, threshold=threshold,
                            min_count=5)
    gensim_scoring = word2vec_scorer if scorer == "word2vec" else "npmi"
    model = Phrases(sentences, min_count=5, threshold=threshold, scoring=gensim_scoring,
                    connector_words=frozenset())
    theirs = set(model.export_phrases())
    ours = our_phrase_types(stats)
    assert len(theirs) >= 40, "the test text should hold many phrases"
    assert agreement(ours, theirs) >= 0.99, (sorted(ours - theirs)[:10],
                                            sorted(theirs - ours)[:10])
    # The joined text agrees too, line for line.
    our_lines = out.read_text(encoding="utf-8").splitlines()
    their_lines = [" ".join(model[s]) for s in sentences]
    assert len(our_lines) == len(sentences)
    same = sum(a == b for a, b in zip(our_lines, their_lines))
    assert same / len(sentences) >= 0.99


@pytest.mark.parametrize("scorer,threshold", [("word2vec", 50.0), ("npmi", 0.4)])
def test_connector_words_agree_with_gensim(tmp_path, scorer, threshold):
    connectors = ("of", "the", "and", "in")
    sentences = collocation_text(20_000, seed=2, connectors=connectors)
    corpus = write(tmp_path / "corpus.txt", sentences)
    out = tmp_path / "out.txt"
    stats = fastw2v.phrases(corpus, str(out), scorer=scorer, threshold=threshold,
                            min_count=5, connector_words="english")
    model = Phrases(sentences, min_count=5, threshold=threshold,
                    scoring=word2vec_scorer if scorer == "word2vec" else "npmi",
                    connector_words=ENGLISH_CONNECTOR_WORDS)
    theirs = set(model.export_phrases())
    ours = our_phrase_types(stats)
    with_connector = {p for p in ours if len(p.split("_")) == 3}
    assert len(with_connector) >= 10, "phrases with a connector inside should be found"
    assert agreement(ours, theirs) >= 0.99, (sorted(ours - theirs)[:10],
                                            sorted(theirs - ours)[:10])
    our_lines = out.read_text(encoding="utf-8").splitlines()
    their_lines = [" ".join(model[s]) for s in sentences]
    same = sum(a == b for a, b in zip(our_lines, their_lines))
    assert same / len(sentences) >= 0.99


def test_two_passes_agree_with_gensim_applied_twice(tmp_path):
    sentences = collocation_text(20_000, seed=3)
    # A planted three-word name: pass 1 joins its first two words, pass 2 the rest.
    for i, s in enumerate(sentences):
        if i % 50 == 0:
            s[len(s) // 2:len(s) // 2] = ["new", "york", "times"]
    corpus = write(tmp_path / "corpus.txt", sentences)
    out = tmp_path / "out.txt"
    stats = fastw2v.phrases(corpus, str(out), threshold=[200.0, 100.0], min_count=5)
    first = Phrases(sentences, min_count=5, threshold=200.0, scoring=word2vec_scorer,
                    connector_words=frozenset())
    once = [first[s] for s in sentences]
    second = Phrases(once, min_count=5, threshold=100.0, scoring=word2vec_scorer,
                     connector_words=frozenset())
    # gensim's vocabulary holds pass 1's joined tokens (`n1a_n1b`) under the same keys
    # as phrases, and its export_phrases reads such keys as phrases of pass 2, scored
    # with other counts. So compare the phrase types each tool made in pass 2: the
    # tokens of its output that pass 1's output does not hold.
    tokens_of_pass_1 = {token for s in once for token in s}
    lines = out.read_text(encoding="utf-8").splitlines()
    ours = {token for line in lines for token in line.split()} - tokens_of_pass_1
    theirs = {token for s in once for token in second[s]} - tokens_of_pass_1
    assert len(theirs) >= 3 and "new_york_times" in theirs
    assert agreement(ours, theirs) >= 0.99, (sorted(ours - theirs)[:10],
                                            sorted(theirs - ours)[:10])
    assert ours <= {k.replace(" ", "_") for k in stats.table.passes[1].keys}
    assert sum("new_york_times" in line.split() for line in lines) >= len(sentences) // 50 * 0.9
    their_lines = [" ".join(second[s]) for s in once]
    assert sum(a == b for a, b in zip(lines, their_lines)) / len(lines) >= 0.99
