"""Every training hyperparameter in one frozen object, with defaults and validation.

The CLI options mirror these field names (`min_count` is `--min-count`). A ConfigError
from here is worded twice: with the parameter names for `fastw2v.train(min_count=0)`,
and with the option names (`cli_message`) for `fastw2v train --min-count 0`, so each
user reads the name they typed.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Callable, Optional

from .errors import ConfigError

# Where `fastw2v train` writes when no -o is given, and what the query commands read
# when no model is named.
DEFAULT_MODEL_PATH = "vectors.fw2v"

# The encoder ends a sentence after this many in-vocabulary tokens of one line, so the
# kernel can hold a whole sentence in a fixed buffer; context windows do not cross
# these breaks (gensim uses the same 10,000-token limit). No token is dropped.
MAX_SENTENCE_TOKENS = 10_000

# The largest |--nce-gamma-init| accepted (see TrainConfig._validate).
MAX_NCE_GAMMA_INIT = 1000.0

# The exact softmax costs a dot product with every word per training pair: above this
# many words it is refused unless forced (see TrainConfig.check_vocabulary). At 20,000
# words a pair costs 4,000 times what negative sampling's 5 noise words do.
SOFTMAX_MAX_WORDS = 20_000

ARCHITECTURES = ("skipgram", "cbow")
LOSSES = ("ns", "nce", "hs", "softmax")
GAMMA_MODES = ("global", "per-word", "fixed")
DEFAULT_ALPHA = {"skipgram": 0.025, "cbow": 0.05}


def available_cores() -> int:
    """Cores this process may run on (honours CPU affinity, unlike os.cpu_count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def option_name(field: str) -> str:
    return "--" + field.replace("_", "-")


class _Wording:
    """How a message names settings: as parameters of fastw2v.train (`dim`, `dim=0`,
    `'cbow'`) or as command-line options (`--dim`, `--dim 0`, `cbow`)."""

    def __init__(self, cli: bool):
        self.cli = cli

    def name(self, field: str) -> str:
        return option_name(field) if self.cli else field

    def value(self, value) -> str:
        return str(value) if self.cli else repr(value)

    def given(self, field: str, value) -> str:
        """The setting as it was written: `--dim 0` or `dim=0`."""
        return (f"{option_name(field)} {value}" if self.cli
                else f"{field}={value!r}")


def _error(words: Callable[[_Wording], str]) -> ConfigError:
    """A ConfigError worded for the Python API and for the command line."""
    return ConfigError(words(_Wording(cli=False)), words(_Wording(cli=True)))


@dataclass(frozen=True)
class TrainConfig:
    """Training settings. `alpha=None` and `threads=None` resolve in `resolved()`."""

    architecture: str = "skipgram"
    dim: int = 100
    window: int = 5
    negative: int = 5
    sample: float = 1e-3
    ns_exponent: float = 0.75
    alpha: Optional[float] = None
    min_alpha: float = 0.0001
    epochs: int = 5
    min_count: int = 5
    max_vocab: int = 10_000_000
    threads: Optional[int] = None
    seed: int = 1
    # How the softmax over the vocabulary is avoided: negative sampling (ns),
    # noise-contrastive estimation (nce) or hierarchical softmax (hs); or the exact
    # softmax itself (skip-gram, small vocabularies), the reference. See docs/theory.md.
    loss: str = "ns"
    # Skip-gram: train all context words of a centre word against one shared set of
    # output rows (the word and its noise words), as Ji et al.'s HogBatch does; on wiki8
    # it trains 2.2x faster than per-pair noise at the same or better quality
    # (benchmarks/RESULTS.md). CBOW: centre words 2 * window + 1 positions apart, whose
    # windows share no context word, use one draw of noise words, fetched into the cache
    # once. False gives word2vec's sampling: a draw per pair (skip-gram) or per centre
    # word (CBOW).
    shared_negatives: bool = True
    # NCE's normaliser: one learned scalar (global), one per input word (per-word), or
    # held at nce_gamma_init (fixed).
    nce_gamma: str = "global"
    nce_gamma_init: float = 0.0
    # NCE: subtract log(k q(c)) from the logit. Off, with a fixed gamma of 0, NCE is
    # exactly negative sampling.
    nce_noise_correction: bool = True
    # NCE: learn a bias b_c per predicted word, added to the logit, to carry log p(c).
    nce_context_bias: bool = False
    # The exact softmax: train even above SOFTMAX_MAX_WORDS words.
    force_softmax: bool = False

    def resolved(self) -> TrainConfig:
        """Validate every field and fill in the defaults that depend on others."""
        self._validate()
        alpha = self.alpha if self.alpha is not None else DEFAULT_ALPHA[self.architecture]
        threads = self.threads if self.threads is not None else available_cores()
        resolved = dataclasses.replace(self, alpha=alpha, threads=threads)
        if resolved.min_alpha > alpha:
            raise _error(lambda w: f"{w.name('min_alpha')} ({self.min_alpha}) must not "
                                   f"exceed {w.name('alpha')} ({alpha})")
        return resolved

    def _validate(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise _error(lambda w: f"{w.name('architecture')} must be one of "
                                   f"{', '.join(ARCHITECTURES)} (got {self.architecture!r})")
        if self.loss not in LOSSES:
            raise _error(lambda w: f"{w.name('loss')} must be one of {', '.join(LOSSES)} "
                                   f"(got {self.loss!r})")
        if self.nce_gamma not in GAMMA_MODES:
            raise _error(lambda w: f"{w.name('nce_gamma')} must be one of "
                                   f"{', '.join(GAMMA_MODES)} (got {self.nce_gamma!r})")
        if self.loss == "softmax" and self.architecture == "cbow":
            raise _error(lambda w: f"{w.given('loss', 'softmax')} needs skip-gram: the "
                                   f"exact softmax is implemented for skip-gram only")
        if self.nce_context_bias and self.loss != "nce":
            raise _error(lambda w: f"{w.name('nce_context_bias')} needs "
                                   f"{w.given('loss', 'nce')} (got {w.value(self.loss)})")
        if self.loss == "nce" and self.nce_gamma == "per-word" and self.architecture == "cbow":
            raise _error(lambda w: f"{w.given('nce_gamma', 'per-word')} needs skip-gram: "
                                   f"CBOW's input is a window, not a word")
        # gamma is a log normaliser: log Z of a vocabulary of V words lies within
        # |log V| plus the scores' range, a few dozen nats. A value beyond the bound is a
        # typo, and one beyond float32 would overflow the kernel's logits.
        if not isinstance(self.nce_gamma_init, (int, float)) or not (
                abs(self.nce_gamma_init) <= MAX_NCE_GAMMA_INIT):
            raise _error(lambda w: f"{w.name('nce_gamma_init')} must be a number between "
                                   f"-{MAX_NCE_GAMMA_INIT:g} and {MAX_NCE_GAMMA_INIT:g} "
                                   f"(got {self.nce_gamma_init!r})")
        at_least_one = ["dim", "window", "epochs", "min_count", "max_vocab"]
        for field in at_least_one:
            _require_int(field, getattr(self, field), minimum=1)
        _require_int("negative", self.negative, minimum=1)
        _require_int("seed", self.seed, minimum=0)
        if self.threads is not None:
            _require_int("threads", self.threads, minimum=1)
        _require_number("sample", self.sample, minimum=0.0)
        _require_number("ns_exponent", self.ns_exponent, minimum=0.0)
        _require_number("min_alpha", self.min_alpha, minimum=0.0)
        if self.alpha is not None:
            _require_number("alpha", self.alpha, minimum=0.0)
            if self.alpha <= 0:
                raise _error(lambda w: f"{w.name('alpha')} must be greater than 0 "
                                       f"(got {self.alpha})")


def check_vocabulary(config: TrainConfig, n_words: int) -> None:
    """Refuse the exact softmax above SOFTMAX_MAX_WORDS words unless forced: every
    training pair would cost a dot product with each of them."""
    if config.loss == "softmax" and n_words > SOFTMAX_MAX_WORDS and not config.force_softmax:
        raise _error(lambda w: f"{w.given('loss', 'softmax')} costs a dot product with "
                               f"every word per pair: {n_words:,} words is above its "
                               f"limit of {SOFTMAX_MAX_WORDS:,} (raise {w.name('min_count')}, "
                               f"or give {w.name('force_softmax')}"
                               f"{'' if w.cli else '=True'} to train anyway)")


def _require_int(field: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _error(lambda w: f"{w.name(field)} must be a whole number (got {value!r})")
    if value < minimum:
        raise _error(lambda w: f"{w.name(field)} must be at least {minimum} (got {value})")


def _require_number(field: str, value, minimum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _error(lambda w: f"{w.name(field)} must be a number (got {value!r})")
    if not (value >= minimum) or value == float("inf"):
        raise _error(lambda w: f"{w.name(field)} must be a finite number >= {minimum} "
                               f"(got {value})")


def config_from_options(**options) -> TrainConfig:
    """Build a TrainConfig from keyword options, rejecting names it does not know."""
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(
            f"unknown training option(s): {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    return TrainConfig(**options).resolved()


def config_with_overrides(base: TrainConfig, options: dict, fixed,
                          why: Callable[[Callable[[str], str]], str]) -> TrainConfig:
    """`base` with the options given here (None means not given), resolved.

    A field in `fixed` may be given only with the value `base` already has; otherwise
    ConfigError names the setting, both values and why it cannot change: `why(name)`,
    where `name(field)` names a setting in the caller's wording (`dim` or `--dim`).
    """
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(f"unknown training option(s): {', '.join(unknown)}")
    given = {name: value for name, value in options.items() if value is not None}
    changed = [name for name in sorted(set(given) & set(fixed))
               if given[name] != getattr(base, name)]
    if changed:
        name = changed[0]
        raise _error(lambda w: f"{w.given(name, given[name])} differs from "
                               f"{w.value(getattr(base, name))} in {why(w.name)}")
    return dataclasses.replace(base, **given).resolved()
