"""The trained state of a model, and its one owner: `ModelState`.

A model is its vocabulary (words and counts), the input matrix w_in (word2vec's syn0:
the word vectors), the output matrix w_out (syn1neg, or for hierarchical softmax the
Huffman tree's inner nodes), NCE's normaliser gamma and, when it has one, its context
bias, the settings that say what those arrays mean, and where it came from (loss
history, tokens read). Training writes it, checkpoints carry it, `--init-from`
continues it, the estimators read it and the native file stores it. Each of those asks
this class: the shape rule, allocation, validation and the reading and writing of the
native file are here and nowhere else.

The shape rule: w_in has one row per word; w_out has one row per word, except for
hierarchical softmax, whose n - 1 inner nodes (at least one) are its rows; gamma has
one entry per word for NCE with a per-word normaliser, else one; the context bias has
one entry per word for NCE with --nce-context-bias, else none. Files and checkpoints
written before the context bias existed have none, which is what their settings say.

A native file converted from a word2vec file holds only words and input vectors: its
state has no `config` and no `w_out`. `require_training` refuses such a state, naming
what the caller needed it for.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .config import TrainConfig
from .errors import ConfigError, FormatError
from .formats.detect import FORMAT_NAMES, detect_format, format_for_path
from .formats.gensim import save_gensim
from .formats.native import read_native, write_native
from .formats.rows import row_norms
from .formats.word2vec import save_word2vec
from .text.vocab import Vocabulary
from .version import WRITER

# The native file's metadata entries that describe the training state. Any other entry
# a file holds is kept in `provenance` as it is.
_STATE_ENTRIES = ("training", "loss_history", "nce_gamma", "context_bias")


def output_rows(n_words: int, loss: str) -> int:
    """Rows of w_out: hierarchical softmax's n - 1 inner nodes (at least one), or one
    per word."""
    return max(1, n_words - 1) if loss == "hs" else n_words


def gamma_entries(n_words: int, config: TrainConfig) -> int:
    """Entries of gamma: one per word for NCE's per-word normaliser, else one."""
    per_word = config.loss == "nce" and config.nce_gamma == "per-word"
    return n_words if per_word else 1


def context_bias_entries(n_words: int, config: TrainConfig) -> int:
    """Entries of the context bias: one per word for NCE with a context bias, else none."""
    return n_words if config.loss == "nce" and config.nce_context_bias else 0


def _no_bias() -> np.ndarray:
    return np.zeros(0, dtype=np.float32)


@dataclass
class ModelState:
    """A model's vocabulary, matrices, normaliser, settings and provenance.

    `provenance` holds what the native file records about how the state was made
    (writer, corpus_tokens, words_trained, and anything else a file carried); `norms`, when
    known, are w_in's row norms as a native file stores them.
    """

    vocab: Vocabulary
    w_in: np.ndarray
    config: Optional[TrainConfig] = None
    w_out: Optional[np.ndarray] = None
    gamma: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.float32))
    context_bias: np.ndarray = field(default_factory=_no_bias)  # b_c, NCE's option
    loss_history: List[float] = field(default_factory=list)
    provenance: Dict[str, Any] = field(default_factory=dict)
    norms: Optional[np.ndarray] = None
    format_version: Optional[int] = None  # of the native file it was read from

    # -- the shape rule and construction ---------------------------------------------

    @staticmethod
    def shapes(n_words: int, config: TrainConfig) -> Dict[str, Tuple[int, ...]]:
        """The shape of each array of a trained state of `n_words` words."""
        return {"w_in": (n_words, config.dim),
                "w_out": (output_rows(n_words, config.loss), config.dim),
                "gamma": (gamma_entries(n_words, config),),
                "context_bias": (context_bias_entries(n_words, config),)}

    @classmethod
    def initial(cls, vocab: Vocabulary, config: TrainConfig) -> ModelState:
        """The state before training: word2vec.c's initialisation, input vectors uniform
        in [-0.5/dim, 0.5/dim), output vectors zero (so early gradients flow to the
        output side first), gamma at --nce-gamma-init, the context bias at zero."""
        shapes = cls.shapes(len(vocab), config)
        rng = np.random.default_rng(config.seed)
        w_in = rng.random(shapes["w_in"], dtype=np.float32)
        w_in -= 0.5
        w_in /= config.dim
        return cls(vocab, w_in, config=config,
                   w_out=np.zeros(shapes["w_out"], dtype=np.float32),
                   gamma=np.full(shapes["gamma"], config.nce_gamma_init, dtype=np.float32),
                   context_bias=np.zeros(shapes["context_bias"], dtype=np.float32))

    @property
    def words(self) -> Sequence[str]:
        return self.vocab.words

    @property
    def dim(self) -> int:
        return int(self.w_in.shape[1])

    @property
    def trained(self) -> bool:
        """Whether the state can be trained on or scored: settings and w_out known."""
        return self.config is not None and self.w_out is not None

    def check(self) -> None:
        """Raise ValueError naming the first array that breaks the shape rule, or whose
        type training cannot write."""
        if not self.trained:
            raise ValueError("the state holds no training settings or output matrix")
        assert self.config is not None and self.w_out is not None
        counts = np.asarray(self.vocab.counts)
        if counts.shape != (len(self.vocab),):
            raise ValueError(f"counts is {counts.shape}, expected ({len(self.vocab)},)")
        arrays = {"w_in": self.w_in, "w_out": self.w_out, "gamma": self.gamma,
                  "context_bias": self.context_bias}
        for name, shape in self.shapes(len(self.vocab), self.config).items():
            array = arrays[name]
            # A float16 file's matrices are read as they are stored; `writable` makes
            # the float32 copy that training updates.
            stored = (np.float32, np.float16) if name != "gamma" else (np.float32,)
            if array.shape != shape or array.dtype not in stored:
                raise ValueError(f"{name} is {array.dtype} {array.shape}, expected "
                                 f"float32 {shape}")

    def require_training(self, path: str, advice: str) -> ModelState:
        """This state, if it holds what training and scoring need; else FormatError
        naming `path` and giving `advice` (what the caller needs, how to get it)."""
        if not self.trained:
            raise FormatError(f"{path}: holds no output matrix and training settings "
                              f"(converted from a word2vec file?); {advice}")
        try:
            self.check()
        except ValueError as exc:
            raise FormatError(f"{path}: does not hold a consistent model: {exc} "
                              f"(file damaged)") from None
        return self

    def writable(self) -> ModelState:
        """A copy whose arrays training can update in place (a loaded state's arrays
        are read-only memory maps of its file)."""
        def copy(array):
            return np.array(array, dtype=np.float32, order="C")
        return dataclasses.replace(
            self, w_in=copy(self.w_in), w_out=None if self.w_out is None else copy(self.w_out),
            gamma=copy(self.gamma), context_bias=copy(self.context_bias),
            loss_history=list(self.loss_history), provenance=dict(self.provenance), norms=None)

    # -- the native file ---------------------------------------------------------------

    def metadata(self) -> Dict[str, Any]:
        """What a native file records about this state besides its arrays."""
        metadata = {"writer": WRITER, "matrix": "input", **self.provenance}
        if self.config is not None:
            metadata["training"] = dataclasses.asdict(self.config)
            metadata["loss_history"] = [float(x) for x in self.loss_history]
            # NCE's learned normaliser: one value, or one per word (--nce-gamma per-word).
            metadata["nce_gamma"] = [float(x) for x in self.gamma]
            if len(self.context_bias):  # NCE's b_c, one per word (--nce-context-bias)
                metadata["context_bias"] = [float(x) for x in self.context_bias]
        return metadata

    def save(self, path: str, fmt: str = "auto", context_path: Optional[str] = None,
             dtype: str = "float32") -> str:
        """Save atomically; returns the format written (see formats.detect.format_for_path).

        A native file holds the whole state, output matrix included, so it can be
        scored and trained on again; the word2vec formats hold the words and w_in only,
        gensim's (.kv, .model; needs gensim) the words, w_in and the counts.
        `context_path` also writes w_out alone, as word vectors, in the same format.
        `dtype="float16"` stores a native file's matrices in half precision.
        """
        fmt = format_for_path(path, fmt)
        if fmt == "native":
            write_native(path, self.words, self.w_in, self._norms(), counts=self.vocab.counts,
                         metadata=self.metadata(), context=self.w_out, dtype=dtype)
        elif fmt == "gensim":
            save_gensim(path, self.words, self.w_in, self.vocab.counts)
        else:
            save_word2vec(path, self.words, self.w_in, fmt)
        if context_path is not None and self.w_out is not None:
            context_fmt = format_for_path(context_path, fmt)
            if context_fmt == "native":
                write_native(context_path, self.words, self.w_out,
                             row_norms(self.w_out), counts=self.vocab.counts,
                             metadata=dict(self.metadata(), matrix="context"), dtype=dtype)
            elif context_fmt == "gensim":
                save_gensim(context_path, self.words, self.w_out, self.vocab.counts)
            else:
                save_word2vec(context_path, self.words, self.w_out, context_fmt)
        return fmt

    def _norms(self) -> np.ndarray:
        if self.norms is None:
            self.norms = row_norms(self.w_in)
        return self.norms

    @classmethod
    def load(cls, path: str) -> ModelState:
        """Read a native file: its arrays stay read-only memory maps (see `writable`).

        FormatError, naming `path`, for a file that is not native or whose recorded
        state is inconsistent. A file without training settings or output matrix loads
        as a state of words and vectors only (see `require_training`).
        """
        fmt = detect_format(path)
        if fmt != "native":
            raise FormatError(f"{path}: a {FORMAT_NAMES[fmt]} file holds no output "
                              f"(context) matrix or training settings; give a .fw2v model "
                              f"written by 'fastw2v train'")
        native = read_native(path)
        metadata = native.metadata
        counts = native.counts if native.counts is not None else np.zeros(
            len(native.words), dtype=np.int64)
        state = cls(Vocabulary(native.words, counts), native.vectors,
                    norms=native.norms, format_version=native.version,
                    loss_history=[float(x) for x in metadata.get("loss_history") or []],
                    provenance={k: v for k, v in metadata.items() if k not in _STATE_ENTRIES})
        settings = metadata.get("training")
        if not isinstance(settings, dict) or native.context is None:
            return state
        try:
            config = TrainConfig(**settings).resolved()
        except (TypeError, ConfigError) as exc:
            raise FormatError(f"{path}: the recorded training settings are invalid: "
                              f"{exc}") from None
        if native.counts is None:
            raise FormatError(f"{path}: holds training settings but no word counts "
                              f"(file damaged)")
        gamma = metadata.get("nce_gamma")
        state.config = config
        state.w_out = native.context
        state.gamma = np.array([config.nce_gamma_init] if gamma is None else gamma,
                               dtype=np.float32)
        state.context_bias = np.array(metadata.get("context_bias") or [], dtype=np.float32)
        try:
            state.check()
        except ValueError as exc:
            raise FormatError(f"{path}: the output matrix or gamma does not match "
                              f"{len(native.words):,} words and --loss {config.loss}: "
                              f"{exc} (file damaged)") from None
        return state
