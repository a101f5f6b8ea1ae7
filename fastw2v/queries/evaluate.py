"""Intrinsic evaluation: analogy accuracy and word-similarity Spearman correlation.

Analogies follow word2vec's questions-words format and gensim's
`evaluate_word_analogies` rules, so the two agree on the same vectors:

- a line `: name` starts a section; every other non-blank line is a question `a b c d`
  ("a is to b as c is to d"); questions before the first section header form a section
  named after the file;
- only the `restrict` most frequent words (the first rows) take part, and words are
  matched case-insensitively (Python's casefold; of several spellings that fold alike,
  the most frequent one's vector is used); a question with a word outside them is
  skipped and counted as skipped, not as wrong;
- the answer is the best-scoring restricted word other than a, b and c (and other
  spellings of them): 3CosAdd by default, 3CosMul on request (see Vectors.analogy);
- sections whose name starts with "gram" are syntactic, the others semantic (the
  questions-words convention); the two subtotals are reported only when a file has both.

Similarity files hold `word1 word2 score` lines, tab- or space-separated; blank lines
and lines starting with `#` are ignored. Pairs are matched case-insensitively over the
whole vocabulary; a pair with an unknown word is skipped and counted. The result is
Spearman's rho (average ranks for ties, as scipy.stats.spearmanr) between the given
scores and the cosines.

In both kinds of file, fields are separated by ASCII white space, as corpus tokens are:
a no-break space belongs to its word.

A malformed line in either kind of file (a question without four words, a pair without
exactly three fields, a score that is not a finite number, bytes that are not UTF-8)
stops the evaluation with `path: line N: what is wrong`. The line is refused rather than
skipped: a score computed on a silently shortened set would not be comparable with
anyone else's.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import asdict, dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import FastW2VError
from ..formats.files import bom_length, read_failure
from .vectors import COSMUL_EPSILON, METHODS, Vectors

DEFAULT_RESTRICT = 30_000
# Questions scored per matrix product: the scores take batch x restrict floats
# (256 x 30,000 x 4 bytes = 31 MB; three such for 3CosMul).
BATCH = 256


class EvaluationFileError(FastW2VError):
    """An analogy or similarity file is missing, unreadable or malformed."""


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------

@dataclass
class AnalogyScore:
    """Questions of one section (or a subtotal): answered correctly, answered, skipped."""

    name: str
    correct: int = 0
    answered: int = 0
    skipped: int = 0  # had a word outside the restricted vocabulary

    @property
    def accuracy(self) -> Optional[float]:
        """correct / answered, or None when nothing was answered."""
        return self.correct / self.answered if self.answered else None

    def add(self, other: AnalogyScore) -> None:
        self.correct += other.correct
        self.answered += other.answered
        self.skipped += other.skipped

    def to_dict(self) -> dict:
        return dict(asdict(self), accuracy=self.accuracy)


@dataclass
class AnalogyResult:
    path: str
    restrict: int
    method: str
    sections: List[AnalogyScore]
    semantic: Optional[AnalogyScore]
    syntactic: Optional[AnalogyScore]
    overall: AnalogyScore

    def to_dict(self) -> dict:
        return {
            "file": self.path, "restrict": self.restrict, "method": self.method,
            "sections": [s.to_dict() for s in self.sections],
            "semantic": self.semantic.to_dict() if self.semantic else None,
            "syntactic": self.syntactic.to_dict() if self.syntactic else None,
            "overall": self.overall.to_dict(),
        }


@dataclass
class SimilarityResult:
    path: str
    pairs: int
    used: int
    skipped: int  # pairs with a word not in the vocabulary
    spearman: Optional[float]  # None with fewer than two pairs or constant scores
    skipped_words: List[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"file": self.path, "pairs": self.pairs, "used": self.used,
                "skipped": self.skipped, "spearman": self.spearman}


# ---------------------------------------------------------------------------------------
# Reading the files
# ---------------------------------------------------------------------------------------

_ASCII_WHITE_SPACE = re.compile("[ \t\n\r\x0b\x0c]+")


def _fields(text: str) -> List[str]:
    """`text` split at ASCII white space, as the corpus reader splits tokens: other
    white space (a no-break space) is part of a word, or it could never match one."""
    return [f for f in _ASCII_WHITE_SPACE.split(text) if f]


def _lines(path: str) -> Iterator[Tuple[int, str]]:
    """(line number, text without its line end) of a UTF-8 file; errors name the line."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            for line_no, raw in enumerate(f, start=1):
                if line_no == 1:
                    raw = raw[bom_length(raw):]
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise EvaluationFileError(
                        f"{path}: line {line_no:,}: not valid UTF-8") from None
                yield line_no, text.rstrip("\r\n")
    except OSError as exc:
        raise read_failure(EvaluationFileError, path, exc) from None


Question = Tuple[int, str, str, str, str]  # line number, a, b, c, d


def read_analogies(path: str) -> List[Tuple[str, List[Question]]]:
    """The sections of a questions-words file, in order, each with its questions."""
    sections: List[Tuple[str, List[Question]]] = []
    for line_no, text in _lines(path):
        if text.startswith(":"):
            name = text[1:].strip()
            if not name:
                raise EvaluationFileError(f"{path}: line {line_no:,}: section header "
                                          f"': name' without a name")
            sections.append((name, []))
            continue
        words = _fields(text)
        if not words:
            continue
        if len(words) != 4:
            raise EvaluationFileError(
                f"{path}: line {line_no:,}: expected a question of 4 words 'a b c d' or a "
                f"': section' header, found {len(words):,} word{'s' * (len(words) != 1)}")
        if not sections:
            sections.append((os.path.basename(path), []))
        sections[-1][1].append((line_no, words[0], words[1], words[2], words[3]))
    if not any(questions for _, questions in sections):
        raise EvaluationFileError(f"{path}: holds no analogy question ('a b c d' lines)")
    return sections


Pair = Tuple[int, str, str, float]  # line number, word1, word2, score


def read_similarity_pairs(path: str) -> List[Pair]:
    """The `word1 word2 score` pairs of a similarity file."""
    pairs: List[Pair] = []
    for line_no, text in _lines(path):
        fields = _fields(text)
        if not fields or fields[0].startswith("#"):
            continue
        if "\t" in text:  # tab-separated: the fields are what lies between the tabs
            fields = [f for f in (f.strip(" \r\x0b\x0c") for f in text.split("\t")) if f]
        if len(fields) != 3:
            raise EvaluationFileError(
                f"{path}: line {line_no:,}: expected 'word1 word2 score' (tab- or "
                f"space-separated), found {len(fields):,} field{'s' * (len(fields) != 1)}")
        try:
            score = float(fields[2])
        except ValueError:
            raise EvaluationFileError(f"{path}: line {line_no:,}: score {fields[2]!r} is not "
                                      f"a number") from None
        if not math.isfinite(score):
            raise EvaluationFileError(f"{path}: line {line_no:,}: score {fields[2]!r} is not "
                                      f"a finite number")
        pairs.append((line_no, fields[0], fields[1], score))
    if not pairs:
        raise EvaluationFileError(f"{path}: holds no 'word1 word2 score' pair")
    return pairs


# ---------------------------------------------------------------------------------------
# Analogies
# ---------------------------------------------------------------------------------------

def folded_index(words: Sequence[str]) -> Tuple[Dict[str, int], np.ndarray]:
    """Case-insensitive lookup: folded word -> group id, and each row's group id.

    Group ids are the row of the group's first (most frequent) spelling.
    """
    groups: Dict[str, int] = {}
    group_of = np.empty(len(words), dtype=np.int64)
    for row, word in enumerate(words):
        group_of[row] = groups.setdefault(word.casefold(), row)
    return groups, group_of


def evaluate_analogies(vectors: Vectors, path: str, restrict: int = DEFAULT_RESTRICT,
                       method: str = "3cosadd") -> AnalogyResult:
    """Analogy accuracy of `vectors` on a questions-words file (rules: module docstring)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    if restrict < 1:
        raise ValueError("restrict must be at least 1")
    sections = read_analogies(path)
    restrict = min(restrict, len(vectors))
    groups, group_of = folded_index(vectors.words[:restrict])
    members: Dict[int, List[int]] = {}
    for row, group in enumerate(group_of.tolist()):
        members.setdefault(group, []).append(row)
    variants = {g: rows for g, rows in members.items() if len(rows) > 1}
    unit = vectors.unit(restrict)

    scores: List[AnalogyScore] = []
    for name, questions in sections:
        score = AnalogyScore(name)
        known = []
        for _, *words in questions:
            question = [groups.get(w.casefold()) for w in words]
            if None in question:
                score.skipped += 1
            else:
                known.append(question)
        ids = np.array(known, dtype=np.int64).reshape(-1, 4)
        for start in range(0, len(ids), BATCH):
            batch = ids[start:start + BATCH]
            predicted = _answer(unit, batch[:, :3], method, variants)
            score.correct += int(np.sum((predicted >= 0)
                                        & (group_of[predicted] == batch[:, 3])))
        score.answered = len(ids)
        scores.append(score)

    overall = AnalogyScore("overall")
    semantic, syntactic = AnalogyScore("semantic"), AnalogyScore("syntactic")
    for score in scores:
        overall.add(score)
        (syntactic if score.name.startswith("gram") else semantic).add(score)
    both = any(s.name.startswith("gram") for s in scores) and not all(
        s.name.startswith("gram") for s in scores)
    return AnalogyResult(os.fspath(path), restrict, method, scores,
                         semantic if both else None, syntactic if both else None, overall)


def _answer(unit: np.ndarray, abc: np.ndarray, method: str,
            variants: Dict[int, List[int]]) -> np.ndarray:
    """The best row for each question (a, b, c rows), never a, b, c or their variants;
    -1 when every row is one of those (a tiny vocabulary), as no answer is possible."""
    a, b, c = unit[abc[:, 0]], unit[abc[:, 1]], unit[abc[:, 2]]
    if method == "3cosadd":
        # argmax of cos(x, b - a + c) = argmax of x . (b - a + c) for unit rows x
        scores = (b - a + c) @ unit.T
    else:
        cos_a, cos_b, cos_c = (((1.0 + m @ unit.T) / 2.0) for m in (a, b, c))
        scores = cos_b * cos_c / (cos_a + np.float32(COSMUL_EPSILON))
    rows = np.arange(len(abc))
    for column in range(3):
        scores[rows, abc[:, column]] = -np.inf
    if variants:
        for i, question in enumerate(abc.tolist()):
            for group in question:
                if group in variants:
                    scores[i, variants[group]] = -np.inf
    best = np.argmax(scores, axis=1)
    # argmax of a row of -inf is 0, an excluded word that could be the expected answer.
    best[scores[rows, best] == -np.inf] = -1
    return best


# ---------------------------------------------------------------------------------------
# Word similarity
# ---------------------------------------------------------------------------------------

def rank_average(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n; tied values share the average of their ranks."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], n]
    average = (starts + ends + 1) / 2.0  # mean of the 1-based ranks starts+1 .. ends
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(average, ends - starts)
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> Optional[float]:
    """Spearman's rank correlation; None if undefined (n < 2 or a constant side)."""
    if len(x) != len(y):
        raise ValueError("x and y differ in length")
    if len(x) < 2:
        return None
    rx, ry = rank_average(x), rank_average(y)
    rx -= rx.mean()
    ry -= ry.mean()
    denominator = math.sqrt(float(rx @ rx) * float(ry @ ry))
    if denominator == 0:
        return None
    return max(-1.0, min(1.0, float(rx @ ry) / denominator))


def evaluate_similarity(vectors: Vectors, path: str) -> SimilarityResult:
    """Spearman's rho between a similarity file's scores and the vectors' cosines."""
    pairs = read_similarity_pairs(path)
    groups, _ = folded_index(vectors.words)
    human, rows1, rows2 = [], [], []
    skipped_words: Dict[str, None] = {}
    for _, w1, w2, score in pairs:
        r1, r2 = groups.get(w1.casefold()), groups.get(w2.casefold())
        if r1 is None or r2 is None:
            for word, row in ((w1, r1), (w2, r2)):
                if row is None:
                    skipped_words[word] = None
            continue
        human.append(score)
        rows1.append(r1)
        rows2.append(r2)
    norms = np.where(vectors.norms > 0, vectors.norms, 1).astype(np.float64)
    v1 = vectors.vectors[rows1].astype(np.float64) / norms[rows1, None]
    v2 = vectors.vectors[rows2].astype(np.float64) / norms[rows2, None]
    cosines = np.einsum("ij,ij->i", v1, v2)
    rho = spearman(np.array(human), cosines)
    return SimilarityResult(os.fspath(path), len(pairs), len(human),
                            len(pairs) - len(human), rho, list(skipped_words))
