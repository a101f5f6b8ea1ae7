"""Checkpoints: the whole state of a training run in one file, so that it can be resumed.

A checkpoint is the model's state (fastw2v/state.py) plus the training position.

The trainer (fastw2v/training/trainer.py) takes a checkpoint between two jobs, with no
job in flight, so the file describes one consistent point of the run: every job before
`(epoch, token)` is fully applied to the matrices, none after it has started. Resuming
(training/starts.py) re-encodes the same corpus with the saved vocabulary, restores the
matrices, the sums and every thread's random generator, and carries on with the job at
`(epoch, token)`; the learning rate
is a function of that position, so it needs no state of its own. With one thread the
job order is fixed, and a resumed run ends bit-identical to an uninterrupted one.

The file is an uncompressed NumPy .npz archive (a zip of .npy arrays, as np.savez
writes it), written through formats.files.atomic_write so it appears complete or not
at all. Its members:

    meta            uint8, UTF-8 JSON: "format" (FORMAT) and "version" (VERSION), the
                    resolved training config, the corpus fingerprint, the size of the
                    encoded stream, the job size, the next job (epoch, position), words
                    done, tokens kept, the global NCE normaliser, and the statistics of
                    the vocabulary pass (they are not recounted on resume)
    words           uint8, the vocabulary in UTF-8, words separated by "\\n", in id order
    counts          int64 (n_words,)
    w_in            float32 (n_words, dim), word2vec's syn0
    w_out           float32 (n_out, dim): syn1neg, or the inner nodes for hierarchical softmax
    gamma           float32 (1,) or (n_words,), NCE's normaliser(s)
    rng_states      uint64 (threads,), each worker's xorshift state
    epoch_loss      float64 (epochs,), the summed loss of each epoch so far
    epoch_examples  int64 (epochs,), the examples those sums are over
    context_bias    float32 (n_words,), NCE's context bias (--nce-context-bias); only
                    then, so that checkpoints written before it existed read the same

A run on Ray (fastw2v/distributed/engine.py) writes the same file at a synchronisation
point, with one more entry in meta, "ray": the workers, the interval, the rounds done
and each shard's own position (as the fields of TrainingPosition). Its "epoch" is the
earliest shard's and its "position" 0, its rng_states every worker thread's; only a run
on Ray resumes it.

Nothing is pickled (the loader passes allow_pickle=False), so a checkpoint from an
unknown source cannot run code; zip's CRC-32 of each member is checked as it is read,
so a damaged file is refused rather than silently resumed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ..config import TrainConfig
from ..errors import ConfigError, CorpusError, FormatError
from ..formats.files import atomic_write, read_failure
from ..state import ModelState
from ..text.sources import CorpusArgument, CorpusFiles
from ..text.vocab import Vocabulary
from ..text.words import WordList

FORMAT = "fastw2v-checkpoint"
VERSION = 1
# The fingerprint hashes this much of the corpus's start and of its end: enough to tell
# two corpora apart in practice, and quick on a file of any size.
FINGERPRINT_BYTES = 1 << 20
ARRAYS = ("words", "counts", "w_in", "w_out", "gamma", "rng_states", "epoch_loss",
          "epoch_examples")
# Arrays only some states have (an absent one is empty).
OPTIONAL_ARRAYS = ("context_bias",)
# The first bytes of every zip archive, hence of every .npz file.
ZIP_MAGIC = b"PK\x03\x04"
# The interval `--checkpoint PATH` uses when --checkpoint-every is not given.
DEFAULT_INTERVAL = "30m"


@dataclass(frozen=True)
class CorpusFingerprint:
    """What identifies the corpus a checkpoint was made from.

    Size and hashes of the first and last MiB are compared; the path and modification
    time are not, since a corpus moved or copied to another disk is still the same text.
    """

    path: str  # as given when training started, for messages
    size: int
    head: str  # sha256 of the first FINGERPRINT_BYTES, hex
    tail: str  # sha256 of the last FINGERPRINT_BYTES, hex

    @classmethod
    def of(cls, corpus: CorpusArgument) -> CorpusFingerprint:
        """The fingerprint of a corpus file, or of several read in order: their total
        size, and hashes over every file's size, head and tail (a single file keeps the
        one-file hashes, so checkpoints made before corpora could be several resume)."""
        files = CorpusFiles.of(corpus)
        parts = [cls._of_file(path) for path in files.paths]
        if len(parts) == 1:
            return cls(str(files), *parts[0])
        head = hashlib.sha256("".join(f"{size}:{head};" for size, head, _ in parts).encode())
        tail = hashlib.sha256("".join(f"{size}:{tail};" for size, _, tail in parts).encode())
        return cls(str(files), sum(size for size, _, _ in parts), head.hexdigest(),
                   tail.hexdigest())

    @staticmethod
    def _of_file(path: str) -> Tuple[int, str, str]:
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                head = hashlib.sha256(f.read(FINGERPRINT_BYTES)).hexdigest()
                f.seek(max(0, size - FINGERPRINT_BYTES))
                tail = hashlib.sha256(f.read(FINGERPRINT_BYTES)).hexdigest()
        except OSError as exc:
            raise CorpusError(f"{path}: cannot read: {exc.strerror}") from None
        return size, head, tail

    def check(self, path: CorpusArgument, checkpoint: str) -> None:
        """Refuse to resume `checkpoint` on a corpus other than the one it was made from."""
        other = CorpusFingerprint.of(path)
        if other.size != self.size:
            what = f"{other.size:,} bytes, not {self.size:,}"
        elif (other.head, other.tail) != (self.head, self.tail):
            what = "the same size but different content"
        else:
            return
        raise CorpusError(f"{path}: is not the corpus the checkpoint {checkpoint} was made "
                          f"from ({self.path}): it has {what}; resume with that corpus")


@dataclass(frozen=True)
class CheckpointInterval:
    """How often a checkpoint is written: every `seconds` of training, or every
    `epochs` epochs (at the start of the epoch that follows)."""

    seconds: Optional[float] = None
    epochs: Optional[int] = None

    @classmethod
    def parse(cls, text: str) -> CheckpointInterval:
        """'90s', '30m', '2h' (time) or '1e' (epochs); ConfigError names the option."""
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([smhe])\s*", str(text).lower())
        problem = None
        if match is None:
            problem = "expected a number and a unit: 90s, 30m, 2h, or 2e for epochs"
        else:
            number, unit = float(match.group(1)), match.group(2)
            if unit == "e":
                if number != int(number) or number < 1:
                    problem = "a number of epochs must be a whole number of at least 1"
                else:
                    return cls(epochs=int(number))
            elif number <= 0:
                problem = "the interval must be longer than 0"
            else:
                return cls(seconds=number * {"s": 1, "m": 60, "h": 3600}[unit])
        raise ConfigError(f"checkpoint_every {text!r}: {problem}",
                          f"--checkpoint-every {text!r}: {problem}")

    def __str__(self) -> str:
        return f"{self.epochs}e" if self.epochs is not None else f"{self.seconds:g}s"


@dataclass
class TrainingPosition:
    """Where a run stands between two jobs: the next job, and the sums so far."""

    epoch: int = 0  # the next job: its epoch (== config.epochs when no job is left) ...
    token: int = 0  # ... and its first token in the encoded stream
    words_done: int = 0
    kept: int = 0
    epoch_loss: List[float] = field(default_factory=list)
    epoch_examples: List[int] = field(default_factory=list)
    rng_states: List[int] = field(default_factory=list)  # one per worker thread
    global_gamma: float = 0.0  # NCE's global normaliser, summed in float64
    train_seconds: float = 0.0  # spent training up to here, over every part of the run

    @classmethod
    def beginning(cls, epochs: int, global_gamma: float) -> TrainingPosition:
        """Before the first job: nothing trained yet."""
        return cls(epoch_loss=[0.0] * epochs, epoch_examples=[0] * epochs,
                   global_gamma=global_gamma)

    def share_done(self, total_words: int) -> float:
        return self.words_done / total_words if total_words else 0.0


@dataclass
class Checkpoint:
    """Everything a run needs to continue from between two jobs: the model's state, the
    position, and what identifies the corpus and its encoding."""

    state: ModelState
    at: TrainingPosition
    corpus: CorpusFingerprint
    stream_length: int  # tokens and sentence ends of the encoded corpus
    n_words: int  # in-vocabulary tokens per epoch
    job_tokens: int  # the job size the run was cut with
    counting: Dict[str, Any]  # what the vocabulary pass found (not recounted on resume)
    # A run on Ray: workers, sync_every, rounds_done and each shard's position (shards).
    ray: Optional[Dict[str, Any]] = None

    @property
    def config(self) -> TrainConfig:
        assert self.state.config is not None
        return self.state.config


def save_checkpoint(path: str, checkpoint: Checkpoint) -> None:
    """Write `checkpoint` to `path` atomically (the previous one stays until then)."""
    state, at = checkpoint.state, checkpoint.at
    assert state.w_out is not None  # a checkpoint's state is a trained one
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "config": dataclasses.asdict(checkpoint.config),
        "corpus": dataclasses.asdict(checkpoint.corpus),
        "stream_length": checkpoint.stream_length,
        "n_words": checkpoint.n_words,
        "job_tokens": checkpoint.job_tokens,
        "epoch": at.epoch,
        "position": at.token,
        "words_done": at.words_done,
        "kept": at.kept,
        # JSON writes a float's shortest round-tripping repr: the value comes back exact.
        "global_gamma": at.global_gamma,
        "stats": dict(checkpoint.counting, train_seconds=at.train_seconds),
    }
    if checkpoint.ray is not None:
        meta["ray"] = checkpoint.ray
    arrays: Dict[str, Any] = {
        "meta": _bytes_array(json.dumps(meta, sort_keys=True).encode("utf-8")),
        "words": _bytes_array(WordList.of(state.vocab.words).blob),
        "counts": np.asarray(state.vocab.counts, dtype=np.int64),
        "w_in": state.w_in,
        "w_out": state.w_out,
        "gamma": state.gamma,
        "rng_states": np.array(at.rng_states, dtype=np.uint64),
        "epoch_loss": np.array(at.epoch_loss, dtype=np.float64),
        "epoch_examples": np.array(at.epoch_examples, dtype=np.int64),
    }
    if len(state.context_bias):
        arrays["context_bias"] = state.context_bias
    with atomic_write(path, "wb") as out:
        np.savez(out, **arrays)


def _bytes_array(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8)


def load_checkpoint(path: str) -> Checkpoint:
    """Read and validate a checkpoint; FormatError (one line, naming `path`) if it is
    missing, truncated, damaged, foreign or inconsistent."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            magic = f.read(len(ZIP_MAGIC))
    except OSError as exc:
        raise read_failure(FormatError, path, exc, "a checkpoint file") from None
    if magic != ZIP_MAGIC:  # a model, a corpus, a .npy: not something we wrote
        raise _foreign(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "meta" not in archive:
                raise _foreign(path)
            meta = json.loads(bytes(archive["meta"]).decode("utf-8"))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise _foreign(path)
            if meta.get("version") != VERSION:
                raise FormatError(f"{path}: checkpoint version {meta.get('version')} is not "
                                  f"supported (this fastw2v reads version {VERSION})")
            missing = [name for name in ARRAYS if name not in archive]
            if missing:
                raise FormatError(f"{path}: the checkpoint lacks {', '.join(missing)} "
                                  f"(file damaged)")
            arrays = {name: archive[name] for name in ARRAYS + OPTIONAL_ARRAYS
                      if name in archive}
    except FormatError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        # np.load raises these for a truncated archive (no zip directory at its end) and
        # for a member whose CRC-32 does not match its bytes.
        raise FormatError(f"{path}: the checkpoint is truncated or damaged: "
                          f"{' '.join(str(exc).split())}") from None
    try:
        return _checkpoint_from(meta, arrays)
    except (KeyError, TypeError, ValueError, ConfigError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path}: the checkpoint is inconsistent (file damaged?): "
                          f"{' '.join(str(exc).split())}") from None


def _foreign(path: str) -> FormatError:
    return FormatError(f"{path}: is not a fastw2v checkpoint (give a file written by "
                       f"'fastw2v train --checkpoint')")


def _checkpoint_from(meta: Dict[str, Any], arrays: Dict[str, np.ndarray]) -> Checkpoint:
    """Build the checkpoint and check that every part agrees with the others."""
    config = TrainConfig(**meta["config"]).resolved()
    blob = bytes(arrays["words"])
    blob.decode("utf-8")  # UnicodeDecodeError: damaged, as the caller reports
    words = WordList.from_blob(blob, len(arrays["counts"]))
    if words is None:
        raise ValueError("the word list does not match the counts")
    # Training updates the matrices in place: they must be writable and C-contiguous
    # (np.load returns them so; np.require copies only if not).
    state = ModelState(
        Vocabulary(words, arrays["counts"]),
        np.require(arrays["w_in"], requirements=["C", "W"]),
        config=config,
        w_out=np.require(arrays["w_out"], requirements=["C", "W"]),
        gamma=np.require(arrays["gamma"], requirements=["C", "W"]),
        context_bias=np.require(arrays.get("context_bias", np.zeros(0, dtype=np.float32)),
                                requirements=["C", "W"]))
    state.check()  # the shape rule (fastw2v/state.py)
    if arrays["counts"].dtype != np.int64:
        raise ValueError(f"counts is {arrays['counts'].dtype}, expected int64")
    for name, dtype in (("epoch_loss", np.float64), ("epoch_examples", np.int64)):
        array = arrays[name]
        if array.shape != (config.epochs,) or array.dtype != dtype:
            raise ValueError(f"{name} is {array.dtype} {array.shape}, expected "
                             f"{np.dtype(dtype)} ({config.epochs},)")
    rng_states = arrays["rng_states"]
    if rng_states.ndim != 1 or len(rng_states) < 1 or np.any(rng_states == 0):
        raise ValueError("the random generators' states are missing or zero")
    epoch, token = int(meta["epoch"]), int(meta["position"])
    stream_length = int(meta["stream_length"])
    if not (0 <= epoch <= config.epochs and 0 <= token < max(1, stream_length)):
        raise ValueError(f"the next job (epoch {epoch}, token {token}) is outside the run")
    if not math.isfinite(meta["global_gamma"]):
        raise ValueError("the NCE normaliser is not finite")
    counting = dict(meta["stats"])
    train_seconds = float(counting.pop("train_seconds", 0.0))
    at = TrainingPosition(
        epoch=epoch, token=token, words_done=int(meta["words_done"]), kept=int(meta["kept"]),
        epoch_loss=[float(x) for x in arrays["epoch_loss"]],
        epoch_examples=[int(x) for x in arrays["epoch_examples"]],
        rng_states=[int(x) for x in rng_states],
        global_gamma=float(meta["global_gamma"]), train_seconds=train_seconds)
    return Checkpoint(state, at, CorpusFingerprint(**meta["corpus"]),
                      stream_length=stream_length, n_words=int(meta["n_words"]),
                      job_tokens=int(meta["job_tokens"]), counting=counting,
                      ray=_ray_part(meta.get("ray")))


def _ray_part(ray: Any) -> Optional[Dict[str, Any]]:
    """The "ray" entry of a checkpoint's meta, checked: each shard's position must make
    a TrainingPosition (TypeError otherwise)."""
    if ray is None:
        return None
    workers, shards = int(ray["workers"]), ray["shards"]
    if workers < 1 or len(shards) != workers or int(ray["sync_every"]) < 1:
        raise ValueError(f"the Ray part names {workers} workers and {len(shards)} shards")
    for shard in shards:
        TrainingPosition(**shard)
    return dict(ray, rounds_done=int(ray["rounds_done"]))
