"""Unit tests for fastw2v.training.huffman: the tree that hierarchical softmax walks."""

import heapq
import math
from fractions import Fraction

import numpy as np
import pytest

from fastw2v.training.huffman import huffman_paths


def _paths(counts):
    """huffman_paths as a list of (nodes, codes) per word, after checking its layout."""
    offsets, nodes, codes = huffman_paths(np.asarray(counts))
    n = len(counts)
    assert offsets.dtype == np.int64 and nodes.dtype == np.int32 and codes.dtype == np.uint8
    assert offsets.shape == (n + 1,)
    assert offsets[0] == 0 and np.all(np.diff(offsets) >= 0)
    assert offsets[-1] == len(nodes) == len(codes)
    return [(nodes[offsets[w]:offsets[w + 1]].tolist(), codes[offsets[w]:offsets[w + 1]].tolist())
            for w in range(n)]


def _optimal_cost(counts):
    """The minimum of sum_w count_w * depth_w over binary trees, by repeated merging
    (every merge adds its weight once per level it sits above the leaves)."""
    heap = [int(c) for c in counts]
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        cost += merged
        heapq.heappush(heap, merged)
    return cost


def check_tree(counts):
    counts = [int(c) for c in counts]
    n = len(counts)
    paths = _paths(counts)
    if n == 1:
        assert paths == [([], [])]  # p(the only word) = 1: nothing to learn
        return paths
    lengths = [len(nodes) for nodes, _ in paths]
    codes = [tuple(c) for _, c in paths]
    assert min(lengths) >= 1 and max(lengths) <= n - 1
    assert all(set(c) <= {0, 1} for c in codes)

    # A complete prefix code: Kraft's sum is exactly 1 and no code starts another.
    assert sum(Fraction(1, 2 ** length) for length in lengths) == 1
    assert len(set(codes)) == n
    ordered = sorted(codes)
    for a, b in zip(ordered, ordered[1:]):
        assert b[:len(a)] != a, (a, b)

    # Inner nodes: ids 0 .. n - 2, all used, one root shared by every path, and one node
    # per proper prefix of the codes (the paths describe one tree, consistently).
    all_nodes = [node for nodes, _ in paths for node in nodes]
    assert min(all_nodes) >= 0 and max(all_nodes) <= n - 2
    assert set(all_nodes) == set(range(n - 1))
    assert len({nodes[0] for nodes, _ in paths}) == 1
    node_at = {}
    for nodes, code in paths:
        for depth, node in enumerate(nodes):
            assert node_at.setdefault(tuple(code[:depth]), node) == node
    assert len(node_at) == n - 1
    assert len(set(node_at.values())) == n - 1

    # Huffman's code is optimal, hence a more frequent word never has a longer code.
    assert sum(c * length for c, length in zip(counts, lengths)) == _optimal_cost(counts)
    by_count = np.argsort(-np.array(counts), kind="stable")
    c = np.array(counts)[by_count]
    length = np.array(lengths)[by_count]
    first_equal = np.searchsorted(-c, -c, side="left")  # first word with the same count
    longest_more_frequent = np.where(
        first_equal > 0, np.maximum.accumulate(length)[np.maximum(first_equal - 1, 0)], 0)
    assert np.all(longest_more_frequent <= length)

    # Shannon: H <= expected length < H + 1, in bits.
    total = sum(counts)
    p = [c / total for c in counts if c]
    entropy = -sum(x * math.log2(x) for x in p)
    expected = sum(c * length for c, length in zip(counts, lengths)) / total
    assert entropy - 1e-9 <= expected < entropy + 1
    return paths


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n", [3, 10, 100, 1000])
def test_random_counts_give_an_optimal_prefix_code(seed, n):
    rng = np.random.default_rng([seed, n])
    counts = (rng.pareto(1.0, size=n) * 10).astype(np.int64) + 1
    check_tree(counts)


def test_zipf_counts():
    counts = (10**6 / np.arange(1, 3001)).astype(np.int64) + 1
    paths = check_tree(counts)
    # The most frequent word gets one of the shortest codes.
    assert len(paths[0][0]) == min(len(nodes) for nodes, _ in paths)


def test_single_word():
    check_tree([7])


def test_two_words():
    paths = check_tree([3, 9])
    assert [nodes for nodes, _ in paths] == [[0], [0]]
    assert sorted(code for _, code in paths) == [[0], [1]]


@pytest.mark.parametrize("n, expected_lengths", [(2, [1] * 2), (4, [2] * 4), (8, [3] * 8),
                                                 (5, [2, 2, 2, 3, 3]),
                                                 (6, [2, 2, 3, 3, 3, 3])])
def test_equal_counts(n, expected_lengths):
    paths = check_tree([4] * n)
    assert sorted(len(nodes) for nodes, _ in paths) == expected_lengths


def test_fibonacci_counts_give_the_deepest_tree():
    # Each merge takes the previous subtree and the next leaf: a chain of depth n - 1.
    counts = [1, 1]
    while len(counts) < 15:
        counts.append(counts[-1] + counts[-2])
    paths = check_tree(counts[::-1])
    assert max(len(nodes) for nodes, _ in paths) == len(counts) - 1


def test_zero_counts_still_give_a_valid_tree():
    check_tree([5, 0, 3, 0, 1])


def test_order_of_the_words_does_not_matter_for_the_lengths():
    rng = np.random.default_rng(1)
    counts = rng.integers(1, 10_000, size=200)
    lengths = [len(nodes) for nodes, _ in check_tree(counts)]
    perm = rng.permutation(200)
    permuted = [len(nodes) for nodes, _ in check_tree(counts[perm])]
    # Ties may be broken differently, but the cost cannot change.
    assert sum(c * length for c, length in zip(counts, lengths)) == \
        sum(c * length for c, length in zip(counts[perm], permuted))


def test_deterministic():
    counts = np.array([5, 3, 3, 3, 1, 1, 8])
    first = huffman_paths(counts)
    second = huffman_paths(counts.copy())
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_empty_vocabulary_is_rejected():
    with pytest.raises(ValueError):
        huffman_paths(np.zeros(0, dtype=np.int64))
