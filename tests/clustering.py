"""The agreement of two clusterings, for the tests of word classes (tests/ is on
pytest's pythonpath)."""

import numpy as np


def adjusted_rand_index(truth, found):
    """Hubert & Arabie's adjusted Rand index of two labellings: 1 for the same partition,
    about 0 for independent ones (the expected agreement by chance is subtracted)."""
    _, truth = np.unique(np.asarray(truth), return_inverse=True)
    _, found = np.unique(np.asarray(found), return_inverse=True)
    table = np.zeros((truth.max() + 1, found.max() + 1), dtype=np.int64)
    np.add.at(table, (truth, found), 1)

    def pairs(x):
        return float((x * (x - 1) // 2).sum())

    together = pairs(table)
    rows, columns = pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    expected = rows * columns / pairs(np.array([len(truth)]))
    best = (rows + columns) / 2
    return (together - expected) / (best - expected)
