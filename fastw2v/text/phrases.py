"""Phrases: find collocations from word and pair counts and join them in the text.

`phrases(corpus, output)` reads the corpus twice per pass: once to count words and
candidate phrases (src/_phrases.pyx's PairCounter), once to write the text with every
candidate that scored above the threshold joined by `_` (PhraseJoiner). Further passes
run on the previous pass's output, so `new_york times` can become `new_york_times`.

Decisions a user should know:
- Tokens follow the training rules (src/_text.pyx's Scanner): split at ASCII white
  space, invalid UTF-8 replaced by U+FFFD, tokens over 1,000 bytes skipped; both with a
  warning. Lines stay lines; inside a line the output has one space between tokens.
- A candidate is a word, the connector words after it, and the next word that is not a
  connector word; it is joined when it and both its end words occur at least
  `min_count` times and its score is greater than the threshold. Connector words are
  not counted as words and never end a phrase (gensim's rule).
- Reading left to right, a word that has just ended a phrase does not start another.
- Several corpus files are one corpus: counted together, written one after the other
  into the one output.
- Counting holds at most `max_vocab` words and `max_pairs` candidates; above that the
  rarest are pruned as word2vec.c's ReduceVocab does, with a warning.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import lzma
import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import IO, Callable, ContextManager, Iterator, List, Optional, Sequence, Tuple, Union

from .. import _phrases, _text
from ..errors import ConfigError, CorpusError, FormatError, OutputError, python_warning
from ..formats.files import atomic_write, check_writable_path, read_failure
from .corpus import _scan_file

SCORERS = {"word2vec": _phrases.SCORER_WORD2VEC, "npmi": _phrases.SCORER_NPMI}
DEFAULT_THRESHOLDS = {"word2vec": 100.0, "npmi": 0.5}
DEFAULT_MIN_COUNT = 5
DEFAULT_MAX_VOCAB = 10_000_000
# Candidate phrases held while counting; each costs about 70 bytes (entry, slots, key).
DEFAULT_MAX_PAIRS = 20_000_000
# The connector words of gensim's ENGLISH_CONNECTOR_WORDS (a fact about its behaviour).
ENGLISH_CONNECTOR_WORDS = ("a", "an", "the", "for", "of", "with", "without", "at", "from",
                           "to", "in", "on", "by", "and", "or")

Warn = Callable[[str], None]


@dataclass
class PhrasePass:
    """The phrases one pass joins: keys (tokens joined by a space), counts, scores."""

    threshold: float
    keys: List[str] = field(default_factory=list)
    counts: List[int] = field(default_factory=list)
    scores: List[float] = field(default_factory=list)
    n_joined: int = 0  # occurrences joined in the text


@dataclass
class PhraseTable:
    """Every pass's phrases, and the settings that made them; saved and read as text."""

    scorer: str
    min_count: int
    connector_words: Tuple[str, ...]
    passes: List[PhrasePass]

    def save(self, path: str) -> None:
        with atomic_write(path, "w") as out:
            out.write(f"# fastw2v phrases: scorer {self.scorer}, min_count {self.min_count}\n")
            if self.connector_words:
                out.write("# connector words: " + " ".join(self.connector_words) + "\n")
            out.write("# columns, tab-separated: the phrase (its tokens, space-separated), "
                      "count, score\n")
            for number, one in enumerate(self.passes, 1):
                out.write(f"# pass {number} threshold {one.threshold!r}\n")
                for key, count, score in zip(one.keys, one.counts, one.scores):
                    out.write(f"{key}\t{count}\t{score!r}\n")

    @classmethod
    def load(cls, path: str) -> PhraseTable:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise read_failure(FormatError, path, exc, "a phrase table") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad_line = data[:exc.start].count(b"\n") + 1
            raise FormatError(f"{path}: line {bad_line:,}: not UTF-8; is this a phrase table "
                              f"written by --save-phrases?") from None
        table = cls("unknown", 0, (), [])
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            if line.startswith("#") and "\t" not in line:
                words = line[1:].split()
                if words[:1] == ["pass"]:
                    threshold = float(words[3]) if len(words) >= 4 else float("nan")
                    table.passes.append(PhrasePass(threshold))
                elif line.startswith("# connector words:"):
                    table.connector_words = tuple(line.split(":", 1)[1].split())
                continue
            fields = line.split("\t")
            where = f"{path}: line {number:,}"
            if len(fields) != 3:
                raise FormatError(f"{where}: expected a phrase, a count and a score separated "
                                  f"by tabs, got {len(fields)} field(s)")
            key, count_text, score_text = fields
            if len(key.split(" ")) < 2 or "" in key.split(" "):
                raise FormatError(f"{where}: the phrase {key!r} is not two or more tokens "
                                  f"separated by single spaces")
            try:
                count, score = int(count_text), float(score_text)
            except ValueError:
                raise FormatError(f"{where}: the count {count_text!r} or the score "
                                  f"{score_text!r} is not a number") from None
            if not table.passes:
                table.passes.append(PhrasePass(float("nan")))
            table.passes[-1].keys.append(key)
            table.passes[-1].counts.append(count)
            table.passes[-1].scores.append(score)
        if not any(one.keys for one in table.passes):
            raise FormatError(f"{path}: holds no phrase; is this a phrase table written by "
                              f"--save-phrases?")
        return table


@dataclass
class PhraseStats:
    """What a `phrases` run did."""

    table: PhraseTable
    n_tokens: int = 0  # tokens of the corpus (over-long ones excluded)
    n_lines: int = 0
    seconds: float = 0.0

    @property
    def n_joined(self) -> int:
        return sum(one.n_joined for one in self.table.passes)


def _config_error(parameter: str, option: str, problem: str) -> ConfigError:
    return ConfigError(f"{parameter} {problem}", f"{option} {problem}")


def _thresholds(scorer: str, threshold, passes: Optional[int]) -> List[float]:
    if threshold is None:
        values = [DEFAULT_THRESHOLDS[scorer]]
    elif isinstance(threshold, (int, float)):
        values = [float(threshold)]
    else:
        values = [float(t) for t in threshold]
        if not values:
            values = [DEFAULT_THRESHOLDS[scorer]]
    if scorer == "npmi":
        for value in values:
            if not -1.0 <= value <= 1.0:
                raise _config_error("threshold", "--threshold",
                                    f"must be within [-1, 1] for the npmi scorer (got {value:g})")
    if passes is None:
        return values
    if passes < 1:
        raise _config_error("passes", "--passes", f"must be at least 1 (got {passes})")
    if len(values) == 1:
        return values * passes
    if len(values) != passes:
        raise ConfigError(
            f"threshold has {len(values)} values for {passes} passes; give one value, or "
            f"one per pass", f"--threshold was given {len(values)} times for --passes "
            f"{passes}; give it once, or once per pass")
    return values


def connector_words_of(spec: Union[str, Sequence[str], None]) -> Tuple[str, ...]:
    """`english`, `none` (or None), a file of one word per line, or a list of words."""
    if spec is None or spec == "none":
        return ()
    if spec == "english":
        return ENGLISH_CONNECTOR_WORDS
    if not isinstance(spec, str):
        return tuple(spec)
    try:
        with open(spec, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise read_failure(ConfigError, spec, exc, "a file of connector words") from None
    words = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise FormatError(f"{spec}: line {number:,}: not UTF-8") from None
        if not line:
            continue
        if len(line.split()) != 1:
            raise FormatError(f"{spec}: line {number:,}: expected one connector word per "
                              f"line, got {line!r}")
        words.append(line)
    if not words:
        raise FormatError(f"{spec}: holds no connector word (one word per line)")
    return tuple(words)


def _compressed(raw: IO[bytes], path: str) -> ContextManager[IO[bytes]]:
    """The output stream for `path`: compressed by its suffix, as the corpus is read.
    Closing it leaves `raw` open, for atomic_write to finish."""
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="wb")  # type: ignore[return-value]
    if lower.endswith(".bz2"):
        return bz2.BZ2File(raw, "wb")
    if lower.endswith(".xz"):
        return lzma.LZMAFile(raw, "wb")
    return contextlib.nullcontext(raw)


class PhraseRun:
    """One `phrases` run: its settings, the passes it makes, and what they found."""

    def __init__(self, paths: Sequence[str], scorer: str, thresholds: List[float],
                 min_count: int, connectors: Tuple[str, ...], max_vocab: int,
                 max_pairs: int, tmp_dir: Optional[str], warn: Warn):
        self.paths = list(paths)
        self.scorer = scorer
        self.thresholds = thresholds
        self.min_count = min_count
        self.connectors = connectors
        self.max_vocab = max_vocab
        self.max_pairs = max_pairs
        self.tmp_dir = tmp_dir
        self.warn = warn
        self.n_tokens = 0
        self.n_lines = 0

    def _connector_table(self) -> _text.WordTable:
        return _text.WordTable.fixed(sorted(set(self.connectors)))

    def count_and_score(self, inputs: Sequence[str], number: int, threshold: float) -> PhrasePass:
        """Count the candidates of `inputs` and keep those that make phrases."""
        words = _text.WordTable(self.max_vocab)
        pairs = _phrases.PairTable(self.max_pairs)
        linked = _text.WordTable(self.max_pairs)
        connectors = self._connector_table()
        n_tokens = 0
        for path in inputs:
            counter = _phrases.PairCounter(words, False, pairs, linked, connectors)
            read = _scan_file(path, counter)
            n_tokens += read.n_tokens
            if number == 1:
                self._report_reading(path, read)
        if n_tokens == 0:
            names = ", ".join(self.paths)
            raise CorpusError(f"{names}: the corpus is empty (no tokens)")
        if words.n_prunes:
            self.warn(f"pass {number}: more than {self.max_vocab:,} distinct words "
                      f"(--max-vocab): words seen up to {words.prune_threshold:,} times at a "
                      f"pruning were dropped, so rare counts may be underestimated")
        for table in (pairs, linked):
            if table.n_prunes:
                self.warn(f"pass {number}: more than {self.max_pairs:,} distinct pairs "
                          f"(--max-pairs): pairs seen up to {table.prune_threshold:,} times "
                          f"at a pruning were dropped, so rare pairs may be missed")
        adjacent, with_connectors = _phrases.score_candidates(
            words, pairs, linked, SCORERS[self.scorer], threshold, self.min_count, n_tokens)
        firsts, seconds, counts, scores = adjacent
        keys = [f"{a} {b}" for a, b in zip(words.words(firsts.tolist()),
                                           words.words(seconds.tolist()))]
        entries, linked_counts, linked_scores = with_connectors
        keys += linked.words(entries.tolist())
        result = PhrasePass(threshold, keys, counts.tolist() + linked_counts.tolist(),
                            scores.tolist() + linked_scores.tolist())
        if number == 1:
            self.n_tokens = n_tokens
        return result

    def _report_reading(self, path: str, read) -> None:
        self.n_lines += read.n_lines
        if read.n_long_tokens:
            self.warn(f"{path}: {read.n_long_tokens:,} tokens longer than "
                      f"{_text.MAX_TOKEN_BYTES:,} bytes were skipped")
        if read.n_invalid_bytes:
            self.warn(f"{path}: {read.n_invalid_bytes:,} invalid UTF-8 bytes were replaced "
                      f"by U+FFFD")

    def join(self, inputs: Sequence[str], one: PhrasePass, out: IO[bytes],
             number: int) -> None:
        """Write `inputs` to `out` with the phrases of `one` joined."""
        table = _text.WordTable.fixed(one.keys)
        connectors = self._connector_table()
        n_tokens = 0
        for path in inputs:
            joiner = _phrases.PhraseJoiner(table, False, connectors)
            read = _scan_file(path, joiner, lambda _ids, j=joiner: out.write(j.output()))
            out.write(joiner.output())
            one.n_joined += joiner.n_joined
            n_tokens += read.n_tokens
            if number == 1 and not self.n_tokens:  # a saved table: nothing was counted
                self._report_reading(path, read)
        if n_tokens == 0:
            raise CorpusError(f"{', '.join(self.paths)}: the corpus is empty (no tokens)")
        if number == 1 and not self.n_tokens:
            self.n_tokens = n_tokens


@contextlib.contextmanager
def _intermediate(tmp_dir: Optional[str]) -> Iterator[str]:
    """A temporary plain-text file for one pass's output, removed afterwards."""
    directory = tmp_dir or tempfile.gettempdir()
    try:
        fd, path = tempfile.mkstemp(prefix="fastw2v-phrases-", suffix=".txt", dir=tmp_dir)
    except OSError as exc:
        raise OutputError(f"cannot create a temporary file in {directory}: "
                          f"{exc.strerror}") from None
    os.close(fd)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _write_pass(run: PhraseRun, inputs: Sequence[str], one: PhrasePass, path: str,
                number: int, final: bool) -> None:
    if final:
        with atomic_write(path, "wb") as raw, _compressed(raw, path) as out:
            run.join(inputs, one, out, number)
        return
    try:
        with open(path, "wb") as plain:
            run.join(inputs, one, plain, number)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write a pass's output: "
                          f"{exc.strerror or exc}") from None


def _check_paths(paths: Sequence[str], output: str, save_phrases: Optional[str]) -> None:
    if not paths:
        raise ConfigError("corpus names no file", "give at least one CORPUS file")
    for path in paths:
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise read_failure(CorpusError, path, exc, "a text file") from None
    for option, target in (("-o", output), ("--save-phrases", save_phrases)):
        if target is None:
            continue
        check_writable_path(target, option)
        for path in paths:
            if os.path.exists(target) and os.path.samefile(path, target):
                raise OutputError(f"{option} {target}: is the corpus {path}; write the "
                                  f"phrased text to another file")


def phrases(corpus: Union[str, Sequence[str]], output: str, *, scorer: str = "word2vec",
            threshold: Union[float, Sequence[float], None] = None,
            min_count: int = DEFAULT_MIN_COUNT, passes: Optional[int] = None,
            connector_words: Union[str, Sequence[str], None] = "none",
            max_vocab: int = DEFAULT_MAX_VOCAB, max_pairs: int = DEFAULT_MAX_PAIRS,
            save_phrases: Optional[str] = None, read_phrases: Optional[str] = None,
            tmp_dir: Optional[str] = None, warn: Optional[Warn] = None) -> PhraseStats:
    """Join the collocations of `corpus` (a path or several) with `_`, writing `output`.

    scorer: "word2vec" ((n_ab - min_count) / (n_a n_b) * N, threshold default 100) or
    "npmi" (normalised PMI, threshold in [-1, 1], default 0.5). threshold: one value, or
    one per pass. passes: detection passes, each over the previous one's output (default:
    one per threshold). connector_words: "none", "english", a file of one word per line,
    or a list. save_phrases: write the phrase table there. read_phrases: join the phrases
    of a saved table instead of counting. Warnings go to Python's `warnings` as
    FastW2VWarning, or to `warn(message)` if given.
    """
    started = time.perf_counter()
    warn = warn or python_warning
    paths = [corpus] if isinstance(corpus, (str, os.PathLike)) else list(corpus)
    paths = [os.fspath(p) for p in paths]
    if scorer not in SCORERS:
        raise _config_error("scorer", "--scorer",
                            f"must be one of {', '.join(SCORERS)} (got {scorer!r})")
    if min_count < 1:
        raise _config_error("min_count", "--min-count", f"must be at least 1 (got {min_count})")
    for name, option, value in (("max_vocab", "--max-vocab", max_vocab),
                                ("max_pairs", "--max-pairs", max_pairs)):
        if value < 1:
            raise _config_error(name, option, f"must be at least 1 (got {value})")
    _check_paths(paths, output, save_phrases)
    if read_phrases is not None:
        table = PhraseTable.load(read_phrases)
        connectors = table.connector_words
        thresholds = [one.threshold for one in table.passes]
    else:
        thresholds = _thresholds(scorer, threshold, passes)
        connectors = connector_words_of(connector_words)
        table = PhraseTable(scorer, min_count, connectors, [])
    run = PhraseRun(paths, scorer, thresholds, min_count, connectors, max_vocab, max_pairs,
                    tmp_dir, warn)
    with contextlib.ExitStack() as temporaries:
        inputs: Sequence[str] = paths
        for number in range(1, len(thresholds) + 1):
            if read_phrases is None:
                one = run.count_and_score(inputs, number, thresholds[number - 1])
                table.passes.append(one)
            else:
                one = table.passes[number - 1]
                one.n_joined = 0
            if not one.keys:
                warn(f"pass {number}: no pair scored above the threshold "
                     f"{one.threshold:g} with at least {min_count:,} occurrences; "
                     f"the pass leaves the text unchanged")
            final = number == len(thresholds)
            target = output if final else temporaries.enter_context(_intermediate(tmp_dir))
            _write_pass(run, inputs, one, target, number, final)
            inputs = [target]
    if save_phrases is not None:
        table.save(save_phrases)
    return PhraseStats(table, run.n_tokens, run.n_lines, time.perf_counter() - started)

