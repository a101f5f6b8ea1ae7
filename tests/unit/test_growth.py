"""Growing a vocabulary (fastw2v/training/growth.py) on hand-made states: the order of
the grown vocabulary, and every row following its word."""

import numpy as np

from fastw2v.config import TrainConfig
from fastw2v.state import ModelState
from fastw2v.text.vocab import Vocabulary
from fastw2v.training.growth import grow_state, grow_vocabulary


def test_grown_vocabulary_is_sorted_by_the_summed_counts():
    old = Vocabulary(["a", "b", "c"], np.array([10, 8, 5], dtype=np.int64))
    growth = grow_vocabulary(old, np.array([0, 5, 5]), ["z", "d"], np.array([10, 3]))
    # b 13, a 10, c 10, z 10 (ties by code point), d 3
    assert growth.vocab.words == ["b", "a", "c", "z", "d"]
    assert growth.vocab.counts.tolist() == [13, 10, 10, 10, 3]
    assert growth.old_row.tolist() == [1, 0, 2, -1, -1]
    assert growth.new_ids.tolist() == [3, 4] and growth.n_new == 2


def test_grown_vocabulary_equals_a_fresh_count_of_both_texts():
    old = Vocabulary.from_counts({"x": 4, "y": 4, "w": 9}, 1)
    growth = grow_vocabulary(old, np.array([0, 1, 0]), ["v"], np.array([4]))
    both = Vocabulary.from_counts({"x": 4 + (old.words.index("x") == 1),
                                   "y": 4 + (old.words.index("y") == 1),
                                   "w": 9, "v": 4}, 1)
    assert growth.vocab.words == both.words
    assert growth.vocab.counts.tolist() == both.counts.tolist()


def state_of(words, counts, config):
    vocab = Vocabulary(words, np.array(counts, dtype=np.int64))
    state = ModelState.initial(vocab, config)
    n = len(words)
    state.w_in[:] = np.arange(n)[:, None] + 1  # row i holds i + 1
    state.w_out[:] = -(np.arange(n)[:, None] + 1)
    if len(state.gamma) == n:
        state.gamma[:] = np.arange(n) + 0.5
    return state


def test_rows_follow_their_words_and_new_rows_start_fresh():
    for config in (TrainConfig(dim=4, seed=2), TrainConfig(dim=4, loss="nce",
                                                           nce_gamma="per-word",
                                                           nce_gamma_init=-1.0)):
        config = config.resolved()
        state = state_of(["a", "b", "c"], [10, 8, 5], config)
        growth = grow_vocabulary(state.vocab, np.array([0, 5, 5]), ["z", "d"],
                                 np.array([10, 3]))
        grown = grow_state(state, growth, config)
        grown.check()
        for word in ("a", "b", "c"):
            old, new = state.vocab.index[word], grown.vocab.index[word]
            assert np.all(grown.w_in[new] == old + 1)
            assert np.all(grown.w_out[new] == -(old + 1))
            if config.loss == "nce":
                assert grown.gamma[new] == old + 0.5
        for word in ("z", "d"):
            row = grown.vocab.index[word]
            assert np.all(np.abs(grown.w_in[row]) <= 0.5 / 4)
            assert np.all(grown.w_out[row] == 0)
            if config.loss == "nce":
                assert grown.gamma[row] == -1.0
        # The model it grew from is untouched.
        assert np.all(state.w_in[:, 0] == [1, 2, 3])


def test_a_shared_gamma_is_kept_and_no_new_word_changes_only_the_order():
    config = TrainConfig(dim=3, loss="nce").resolved()
    state = state_of(["a", "b"], [5, 4], config)
    state.gamma[:] = 2.5
    growth = grow_vocabulary(state.vocab, np.array([0, 3]), [], np.array([], dtype=np.int64))
    grown = grow_state(state, growth, config)
    assert grown.words == ["b", "a"] and grown.gamma.tolist() == [2.5]
    assert np.all(grown.w_in[0] == 2) and np.all(grown.w_in[1] == 1)
