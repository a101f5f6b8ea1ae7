"""The Ray engine's arithmetic, without Ray: the synchronisation rule against a plain
statement of it (the mean of whole models), and the cutting of shards."""

import numpy as np
import pytest

from fastw2v.distributed.engine import combine, split_shards
from fastw2v.errors import ConfigError
from fastw2v.text.corpus import EncodedCorpus, IdStream


def test_changed_rows_give_exactly_the_average_of_whole_models():
    rng = np.random.default_rng(0)
    start = rng.standard_normal((50, 4)).astype(np.float32)
    models, changes = [], []
    for _ in range(3):
        model = start.copy()
        rows = np.sort(rng.choice(50, size=20, replace=False))
        model[rows] += rng.standard_normal((20, 4)).astype(np.float32)
        models.append(model)
        changed = np.flatnonzero(np.any(model != start, axis=1))
        changes.append({"w": (changed, model[changed] - start[changed])})
    master = {"w": start.copy()}
    combined = combine(master, changes, n_workers=3)
    expected = np.mean(np.stack(models).astype(np.float64), axis=0)
    assert np.allclose(master["w"], expected, rtol=0, atol=1e-6)
    rows, values = combined["w"]
    # Only rows some worker changed travel back, and they are the combined ones.
    assert set(rows.tolist()) == set(np.concatenate([c["w"][0] for c in changes]).tolist())
    assert np.array_equal(values, master["w"][rows])
    untouched = np.setdiff1d(np.arange(50), rows)
    assert np.array_equal(master["w"][untouched], start[untouched])


def _encoded(sentences):
    ids = np.concatenate([np.r_[np.arange(n) % 7, -1] for n in sentences]).astype(np.int32)
    return EncodedCorpus(IdStream.of(ids), n_words=int(np.sum(sentences)), n_skipped=0,
                         n_sentences=len(sentences)), ids


def test_shards_cover_the_stream_in_order_at_sentence_ends():
    encoded, ids = _encoded([30, 5, 12, 40, 8, 9, 25, 3, 16, 20])
    shards = split_shards(encoded, 3, job_tokens=10)
    assert len(shards) == 3
    assert np.array_equal(np.concatenate(shards), ids)
    assert all(len(shard) and shard[-1] == -1 for shard in shards)
    assert max(map(len, shards)) < 2 * min(map(len, shards)) + 41


def test_a_corpus_too_small_for_the_workers_is_refused():
    encoded, _ = _encoded([3, 4])
    with pytest.raises(ConfigError, match="too small for 5 workers"):
        split_shards(encoded, 5, job_tokens=1000)
