"""A vocabulary that grows: `train --init-from MODEL --grow-vocab`.

The words of the new text that reach --min-count in it and are not in the model join
its vocabulary; every word's count becomes its count in the model plus its count in the
new text, so the noise and subsampling tables, built from the counts, weigh both texts.

The grown vocabulary is sorted again, by descending count and ties by code point, like
any vocabulary (fastw2v/text/vocab.py), and the rows of the matrices are permuted to
follow their words. Appending the new words at the end would keep the old ids, but the
ids are nobody's interface (files store words, not ids), while "most frequent first"
is: `--restrict N` and `evaluate --restrict` mean the N most frequent words, and new
counts reorder even the old words. A grown model is therefore a model like any other.

New words get the rows a fresh run gives (ModelState.initial: input vectors uniform in
[-0.5/dim, 0.5/dim), output vectors zero, gamma at --nce-gamma-init); old words keep
theirs. Hierarchical softmax cannot grow: its output rows belong to the inner nodes of a
Huffman tree built from the counts, and other counts make another tree, whose nodes have
no trained vectors. Rebuilding the tree would throw the whole output side away and with
it most of what continuing keeps, so the start refuses (fastw2v/training/starts.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence

import numpy as np

from ..config import TrainConfig
from ..state import ModelState, gamma_entries
from ..text.vocab import Vocabulary


@dataclass
class Growth:
    """The grown vocabulary, and where each of its words was in the model."""

    vocab: Vocabulary
    old_row: np.ndarray  # int64 per word: its id in the model's vocabulary, -1 if new

    @property
    def new_ids(self) -> np.ndarray:
        return np.flatnonzero(self.old_row < 0)

    @property
    def n_new(self) -> int:
        return int(np.count_nonzero(self.old_row < 0))


def grow_vocabulary(old: Vocabulary, added_counts: np.ndarray, new_words: Sequence[str],
                    new_counts: np.ndarray) -> Growth:
    """`old` with `added_counts` (each old word's count in the new text) added to its
    counts, and `new_words` (none of them in `old`) with their `new_counts`, sorted as a
    vocabulary is: by descending count, ties by code point."""
    words: List[str] = list(old.words) + list(new_words)
    totals = np.concatenate([np.asarray(old.counts, dtype=np.int64)
                             + np.asarray(added_counts, dtype=np.int64),
                             np.asarray(new_counts, dtype=np.int64)])
    # By code point, then a stable sort by descending count (Vocabulary.from_table's way).
    by_word = np.array(sorted(range(len(words)), key=words.__getitem__), dtype=np.int64)
    order = by_word[np.argsort(-totals[by_word], kind="stable")]
    vocab = Vocabulary([words[i] for i in order], totals[order])
    old_row = np.where(order < len(old), order, -1).astype(np.int64)
    return Growth(vocab, old_row)


def grow_state(state: ModelState, growth: Growth, config: TrainConfig) -> ModelState:
    """A new, writable state over the grown vocabulary: the model's rows moved to their
    words' new ids, new words' rows initialised as a fresh run initialises them."""
    assert state.w_out is not None and config.loss != "hs"  # the start refuses HS
    vocab = growth.vocab
    kept = np.flatnonzero(growth.old_row >= 0)
    new = growth.new_ids
    fresh = ModelState.initial(Vocabulary([vocab.words[i] for i in new], vocab.counts[new]),
                               config)
    shapes = ModelState.shapes(len(vocab), config)
    w_in = np.empty(shapes["w_in"], dtype=np.float32)
    w_out = np.empty(shapes["w_out"], dtype=np.float32)
    for grown, old, rows in ((w_in, state.w_in, fresh.w_in), (w_out, state.w_out, fresh.w_out)):
        grown[kept] = old[growth.old_row[kept]]
        grown[new] = rows
    if gamma_entries(len(vocab), config) == len(vocab):  # NCE's per-word normaliser
        gamma = np.empty(shapes["gamma"], dtype=np.float32)
        gamma[kept] = state.gamma[growth.old_row[kept]]
        gamma[new] = fresh.gamma
    else:
        gamma = np.array(state.gamma, dtype=np.float32)
    grown_state = ModelState(vocab, w_in, config=config, w_out=w_out, gamma=gamma,
                             loss_history=list(state.loss_history),
                             provenance=dict(state.provenance))
    grown_state.check()
    return grown_state
