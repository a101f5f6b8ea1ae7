"""The Huffman tree of hierarchical softmax.

Hierarchical softmax (Morin & Bengio 2005; word2vec's -hs) factorises p(c | w) along the
path from the root of a binary tree to the leaf c: at each inner node n the path turns
left with probability sigma(<u_w, v_n>) and right with 1 - sigma(<u_w, v_n>). The
probabilities of all leaves sum to 1 by construction, whatever the vectors. A Huffman
tree built from the word counts gives frequent words short paths, so the expected cost
per prediction is about the entropy of the unigram distribution, in bits.

We store the tree as three flat arrays the kernel reads:
  path_offsets[c] .. path_offsets[c + 1]   the slice of word c's path
  path_nodes[...]                          inner-node ids (rows of the output matrix), root first
  path_codes[...]                          0 = left, 1 = right at that node
A one-word vocabulary has an empty path (p = 1).
"""

from __future__ import annotations

from typing import Tuple

import numpy as np


def huffman_paths(counts: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Build the tree for `counts` (one per word); return (offsets, nodes, codes)."""
    counts = np.asarray(counts, dtype=np.int64)
    n_words = len(counts)
    if n_words == 0:
        raise ValueError("a Huffman tree needs at least one word")
    n_nodes = 2 * n_words - 1
    weight = np.zeros(n_nodes, dtype=np.int64)
    weight[:n_words] = counts
    parent = np.full(n_nodes, -1, dtype=np.int64)
    branch = np.zeros(n_nodes, dtype=np.uint8)

    # Two-queue construction, O(V) after sorting: leaves in ascending count order, and
    # inner nodes, which are created in ascending weight order by construction.
    leaves = np.argsort(counts, kind="stable")  # ascending; ties by id
    leaves = leaves.tolist()
    weights = weight.tolist()
    leaf_pos = 0
    inner_pos = n_words
    for new in range(n_words, n_nodes):
        chosen = []
        for _ in range(2):
            take_leaf = leaf_pos < n_words and (
                inner_pos >= new or weights[leaves[leaf_pos]] <= weights[inner_pos])
            if take_leaf:
                chosen.append(leaves[leaf_pos])
                leaf_pos += 1
            else:
                chosen.append(inner_pos)
                inner_pos += 1
        weights[new] = weights[chosen[0]] + weights[chosen[1]]
        parent[chosen[0]] = new
        parent[chosen[1]] = new
        branch[chosen[1]] = 1

    parents = parent.tolist()
    branches = branch.tolist()
    root = n_nodes - 1
    offsets = np.zeros(n_words + 1, dtype=np.int64)
    all_nodes = []
    all_codes = []
    for word in range(n_words):
        nodes, codes = [], []
        node = word
        while node != root:
            nodes.append(parents[node] - n_words)  # inner nodes numbered 0 .. V-2
            codes.append(branches[node])
            node = parents[node]
        nodes.reverse()
        codes.reverse()
        all_nodes.extend(nodes)
        all_codes.extend(codes)
        offsets[word + 1] = offsets[word] + len(nodes)
    return (offsets, np.array(all_nodes, dtype=np.int32),
            np.array(all_codes, dtype=np.uint8))
