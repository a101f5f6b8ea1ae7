"""`--init-from MODEL`: continue training a saved model on more text, its vocabulary fixed.

The model must be a native file written by `fastw2v train`: continuing needs the output
matrix (and NCE's gamma), the word counts and the training settings, which word2vec's
formats do not keep. The new corpus is encoded with the model's vocabulary, so word ids,
the noise and subsampling tables and the hierarchical-softmax tree (which all follow
from the model's counts) stay what the output matrix was trained with. Tokens of other
words are left out, and reported from the counting pass that precedes encoding.

The settings the model was trained with are the defaults of the new run; options given
explicitly override them, except those that define what the matrices mean (FIXED).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Callable, Dict

import numpy as np

from ..config import TrainConfig, config_with_overrides, option_name
from ..errors import ConfigError, FormatError
from ..formats.detect import FORMAT_NAMES, detect_format
from ..text.vocab import Vocabulary

# The dimension, the loss (what w_out's rows are) and NCE's normaliser mode (the shape
# of gamma) are the model's; every other setting may change.
FIXED = ("dim", "loss", "nce_gamma")
# How many of the most frequent unknown words the warning names.
SHOWN_UNKNOWN = 5


@dataclass
class BaseModel:
    """A trained model to continue from: writable copies of its arrays."""

    path: str
    config: TrainConfig
    vocab: Vocabulary
    w_in: np.ndarray
    w_out: np.ndarray
    gamma: np.ndarray


def load_base_model(path: str) -> BaseModel:
    """Read a model for --init-from; FormatError naming `path` if it cannot be continued."""
    from ..formats.native import read_native

    path = os.fspath(path)
    fmt = detect_format(path)
    advice = "--init-from needs a .fw2v model written by 'fastw2v train'"
    if fmt != "native":
        raise FormatError(f"{path}: a {FORMAT_NAMES[fmt]} file holds no output (context) "
                          f"matrix, so training cannot continue from it; {advice}")
    native = read_native(path)
    settings = native.metadata.get("training")
    if native.context is None or not isinstance(settings, dict) or native.counts is None:
        raise FormatError(f"{path}: holds no output matrix, word counts or training "
                          f"settings (converted from a word2vec file?); {advice}")
    try:
        config = TrainConfig(**settings).resolved()
    except (TypeError, ConfigError) as exc:
        raise FormatError(f"{path}: the recorded training settings are invalid: "
                          f"{exc}") from None
    n_words = len(native.words)
    n_out = max(1, n_words - 1) if config.loss == "hs" else n_words
    per_word = config.loss == "nce" and config.nce_gamma == "per-word"
    gamma = np.array(native.metadata.get("nce_gamma", [config.nce_gamma_init]),
                     dtype=np.float32)
    if native.context.shape[0] != n_out or len(gamma) != (n_words if per_word else 1):
        raise FormatError(f"{path}: the output matrix or gamma does not match "
                          f"{n_words:,} words and --loss {config.loss} (file damaged)")
    # Copies: the file's arrays are read-only memory maps, and training writes in place.
    return BaseModel(path, config, Vocabulary(list(native.words), np.array(native.counts)),
                     np.array(native.vectors, dtype=np.float32, order="C"),
                     np.array(native.context, dtype=np.float32, order="C"), gamma)


def continued_config(model: BaseModel, options: Dict) -> TrainConfig:
    """The model's settings with the options given; FIXED ones may not change. The
    thread count is not inherited: it belongs to the machine, not to the model."""
    base = dataclasses.replace(model.config, threads=None)
    fixed = ", ".join(option_name(name) for name in FIXED)
    return config_with_overrides(base, options, FIXED,
                                 f"the model {model.path}: --init-from keeps its {fixed}")


def report_unknown_words(corpus: str, vocab: Vocabulary, scan, n_unknown: int,
                         model_path: str, warn: Callable[[str], None]) -> None:
    """Warn about the `n_unknown` tokens (the encoder's exact count) of words outside
    `vocab`; the distinct words and the most frequent ones come from the counting pass
    `scan` (fastw2v.corpus.CorpusScan), which may have pruned rare ones."""
    if not n_unknown:
        return
    counts = scan.table.counts()
    known = scan.table.entries_of(vocab.words)
    unknown = np.ones(len(counts), dtype=bool)
    unknown[known[known >= 0]] = False
    entries = np.flatnonzero(unknown)
    distinct = (f"at least {len(entries):,}" if scan.n_prunes else f"{len(entries):,}")
    top = entries[np.argsort(-counts[entries], kind="stable")[:SHOWN_UNKNOWN]]
    shown = ", ".join(f"{word} ({int(counts[entry]):,})"
                      for word, entry in zip(scan.table.words(top.tolist()), top))
    warn(f"{corpus}: {n_unknown:,} tokens of {distinct} distinct words are not in the "
         f"vocabulary of {model_path} (fixed by --init-from) and are left out; the most "
         f"frequent: {shown}")
