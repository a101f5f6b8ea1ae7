"""The two sampling tables the kernel reads: subsampling and noise.

Subsampling (Mikolov et al. 2013, as implemented in word2vec.c): a token of a word with
corpus frequency f = count / total is kept with probability
    min(1, (sqrt(f / t) + 1) * t / f),
t being --sample; t = 0 keeps everything.

Noise: negative samples come from the unigram distribution raised to --ns-exponent
(0.75 by default) and renormalised. We draw from it with Walker's alias method: two
arrays of one entry per word (8 bytes a word, 0.5 MB for 68,000 words) and O(1) per
draw, exact to 2^-32, where word2vec.c fills a 10^8-entry table (400 MB) that misses
the cache on nearly every draw.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """Per-word probability that subsampling keeps one token of it (float32)."""
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones(len(counts), dtype=np.float32)
    threshold = sample * counts.sum()
    keep = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
    return np.minimum(keep, 1.0).astype(np.float32)


def noise_distribution(counts: np.ndarray, exponent: float) -> np.ndarray:
    """counts^exponent, normalised to sum to 1 (float64)."""
    weights = np.asarray(counts, dtype=np.float64) ** exponent
    return weights / weights.sum()


def log_noise(counts: np.ndarray, exponent: float, negative: int) -> np.ndarray:
    """NCE's per-word noise correction log(k q(c)) (float32)."""
    q = noise_distribution(counts, exponent)
    with np.errstate(divide="ignore"):
        return np.log(max(negative, 1) * q).astype(np.float32)


def alias_table(probabilities: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Build Walker's alias table (Vose's construction) for `probabilities`.

    Returns (threshold, alias): draw a slot i uniformly, then take i if a uniform
    32-bit integer is below threshold[i], otherwise alias[i]. Slots that always keep
    themselves get threshold 2^32 - 1 and alias[i] = i, so the draw is exact.
    """
    n = len(probabilities)
    scaled = np.asarray(probabilities, dtype=np.float64) * n
    keep = np.ones(n, dtype=np.float64)
    alias = np.arange(n, dtype=np.int32)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    scaled_list = scaled.tolist()
    while small and large:
        s = small.pop()
        g = large[-1]
        keep[s] = scaled_list[s]
        alias[s] = g
        scaled_list[g] -= 1.0 - scaled_list[s]
        if scaled_list[g] < 1.0:
            large.pop()
            small.append(g)
    # Whatever is left holds probability 1 up to rounding: it keeps itself.
    threshold = np.floor(keep * 2.0**32)
    threshold = np.minimum(threshold, 2.0**32 - 1).astype(np.uint32)
    full = keep >= 1.0
    alias[full] = np.arange(n, dtype=np.int32)[full]
    return threshold, alias


def alias_probabilities(threshold: np.ndarray, alias: np.ndarray) -> np.ndarray:
    """The distribution an alias table draws from (for tests and checks)."""
    n = len(threshold)
    accept = threshold.astype(np.float64) / 2.0**32
    full = alias == np.arange(n)
    accept[full] = 1.0
    result = accept / n
    np.add.at(result, alias, (1.0 - accept) / n)
    return result
