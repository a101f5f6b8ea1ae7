"""Word classes (fastw2v/queries/classes.py): spherical k-means from a k-means++ start,
checked against its own definition (a converged result is a fixed point of the
assignment and centroid steps), on separated clusters, and on bad k."""

import numpy as np
import pytest

from fastw2v.errors import ConfigError
from fastw2v.queries.classes import word_classes
from fastw2v.queries.vectors import Vectors

from clustering import adjusted_rand_index


def test_adjusted_rand_index_on_known_cases():
    assert adjusted_rand_index([0, 0, 1, 1], [5, 5, 3, 3]) == pytest.approx(1.0)
    # 4/7 by hand: pairs together in both 1, in truth 2, found 1, expected 2*1/6.
    assert adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(4 / 7)
    rng = np.random.default_rng(0)
    assert abs(adjusted_rand_index(rng.integers(5, size=5000),
                                   rng.integers(5, size=5000))) < 0.01


def blobs(n_clusters, per_cluster, dim, spread, seed=0):
    """Words around `n_clusters` random directions, most frequent words interleaved."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim))
    truth = np.tile(np.arange(n_clusters), per_cluster)
    lengths = rng.uniform(0.5, 3.0, size=len(truth))[:, None]  # cosine ignores length
    matrix = lengths * (centres[truth] + spread * rng.normal(size=(len(truth), dim)))
    words = [f"w{i}" for i in range(len(truth))]
    return Vectors(words, matrix.astype(np.float32)), truth


def test_separated_clusters_are_found_exactly():
    vectors, truth = blobs(8, 50, 20, spread=0.2)
    result = word_classes(vectors, 8, seed=3)
    assert adjusted_rand_index(truth, result.labels) == pytest.approx(1.0)
    assert result.converged and result.n_changed == 0
    assert 2 <= result.iterations <= 10
    assert sorted(result.sizes().tolist()) == [50] * 8


def test_a_converged_result_is_a_fixed_point_of_spherical_kmeans():
    vectors, _ = blobs(10, 40, 16, spread=1.0, seed=1)  # overlapping: many rounds
    result = word_classes(vectors, 7, seed=2, tolerance=0)  # until no word moves
    assert result.converged
    units = vectors.vectors / np.linalg.norm(vectors.vectors, axis=1)[:, None]
    # Every centroid is the direction of the sum of its class's unit vectors ...
    for label in range(7):
        total = units[result.labels == label].sum(axis=0)
        np.testing.assert_allclose(result.centroids[label], total / np.linalg.norm(total),
                                   atol=1e-5)
    # ... and every word is in the class of its most similar centroid.
    cosines = units @ result.centroids.T.astype(np.float64)
    assert np.all(cosines[np.arange(len(units)), result.labels]
                  >= cosines.max(axis=1) - 1e-5)
    assert result.mean_cosine == pytest.approx(
        float(cosines[np.arange(len(units)), result.labels].mean()), abs=1e-5)


def test_the_seed_makes_it_repeatable_and_classes_are_numbered_by_first_word():
    vectors, _ = blobs(10, 40, 16, spread=1.0, seed=1)
    a = word_classes(vectors, 12, seed=5)
    b = word_classes(vectors, 12, seed=5)
    c = word_classes(vectors, 12, seed=6)
    assert np.array_equal(a.labels, b.labels) and a.iterations == b.iterations
    assert not np.array_equal(a.labels, c.labels)
    first_seen = list(dict.fromkeys(a.labels.tolist()))
    assert first_seen == list(range(12))


def test_max_iterations_stops_early_and_says_so():
    vectors, _ = blobs(10, 40, 16, spread=1.0, seed=1)
    result = word_classes(vectors, 7, seed=2, max_iterations=1)
    assert result.iterations == 1 and not result.converged
    assert result.n_changed == len(vectors)  # the first round places every word


def test_the_tolerance_says_how_many_words_may_still_move():
    vectors, _ = blobs(10, 40, 16, spread=1.0, seed=1)
    exact = word_classes(vectors, 7, seed=2, tolerance=0)
    assert exact.converged and exact.n_changed == 0
    loose = word_classes(vectors, 7, seed=2, tolerance=0.5)
    assert loose.converged and 0 < loose.n_changed <= 200
    assert loose.iterations < exact.iterations
    for tolerance in (-0.1, 1.5):
        with pytest.raises(ConfigError, match="tolerance must be between 0 and 1"):
            word_classes(vectors, 7, tolerance=tolerance)


def test_every_class_gets_a_word_even_with_repeated_vectors():
    matrix = np.array([[1, 0], [1, 0], [1, 0], [1, 0], [0, 1], [0, 1]], dtype=np.float32)
    vectors = Vectors([f"w{i}" for i in range(6)], matrix)
    for k in (3, 5, 6):
        result = word_classes(vectors, k, seed=0)
        assert np.all(result.sizes() >= 1), k
        assert result.k == k


def test_k_out_of_range_is_refused():
    vectors, _ = blobs(3, 4, 5, spread=0.1)
    for k in (1, 0, 13):
        with pytest.raises(ConfigError, match=f"k must be between 2 and the 12 words.*got {k}"):
            word_classes(vectors, k)
    with pytest.raises(ConfigError, match="max_iterations"):
        word_classes(vectors, 2, max_iterations=0)


def test_save_writes_word_and_class_in_vocabulary_order(tmp_path):
    vectors, _ = blobs(3, 4, 5, spread=0.1)
    result = word_classes(vectors, 3, seed=1)
    path = tmp_path / "classes.txt"
    result.save(str(path))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [line.split() for line in lines] == [[w, str(c)] for w, c in
                                                zip(vectors.words, result.labels.tolist())]
    assert result.members(0)[0] == "w0"
