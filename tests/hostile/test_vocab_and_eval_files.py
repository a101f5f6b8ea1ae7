"""Hostile vocabulary files (`train --read-vocab`) and evaluation files (`evaluate`).

The contract for each reader: it returns what the file says or raises its own error
(VocabularyError, EvaluationFileError) whose message starts with the file's path and,
for a problem on a line, names the line. "Silent garbage":
- a vocabulary: a word that is empty, holds white space or differs from the file's
  token (a byte-order mark glued to the first word), a count that is negative, not the
  file's number, or that makes the int64 total wrap;
- an analogy file: a question that is not four words of its line;
- a similarity file: a pair whose score is not a finite number of its line.
"""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from fastw2v.cli import main
from fastw2v.errors import VocabularyError
from fastw2v.formats.word2vec import save_word2vec
from fastw2v.queries.evaluate import EvaluationFileError, read_analogies, read_similarity_pairs
from fastw2v.text.vocab import Vocabulary

from cli_helpers import assert_one_line_error, assert_success_or_one_line_error
from hostile_inputs import ASCII_WHITE_SPACE, word

# Lines that look almost right: fields from a small pool of near-miss tokens.
tokens = st.sampled_from(["the", "a", "5", "0", "-3", "1.5", "nan", "inf", "1e999", "٣",
                          "1_000", "+7", "\ufeffthe", "\x00", "é", "99999999999999999999",
                          ":", ": gram", "#", ""])
separators = st.sampled_from([" ", "\t", "  ", "\r", "\u00a0", "\x0b"])
line_ends = st.sampled_from(["\n", "\r\n", "\r", ""])


@st.composite
def near_miss_files(draw):
    lines = draw(st.lists(st.tuples(st.lists(tokens, max_size=5), separators, line_ends),
                          max_size=6))
    text = "".join(sep.join(fields) + end for fields, sep, end in lines)
    return text.encode("utf-8")


hostile_files = st.one_of(st.binary(max_size=200), near_miss_files(),
                          near_miss_files().map(lambda b: b"\xef\xbb\xbf" + b))


def ascii_split(text):
    """Fields as every fastw2v reader separates them: at ASCII white space only."""
    return [f.decode("utf-8") for f in text.encode("utf-8").split()]


def expect_error_or(reader, error, path):
    """reader(path), or None after an `error` that names the file (and a line, if any)."""
    try:
        return reader(str(path))
    except error as exc:
        message = str(exc)
        assert message.startswith(f"{path}: ") and "\n" not in message, message
        return None


# ---------------------------------------------------------------------------------------
# Vocabulary files
# ---------------------------------------------------------------------------------------

@given(data=hostile_files)
def test_a_vocabulary_file_is_read_whole_or_refused(tmp_path, data):
    path = tmp_path / "vocab.txt"
    path.write_bytes(data)
    counts = expect_error_or(Vocabulary.read_counts, VocabularyError, path)
    if counts is None:
        return
    assert counts
    fields = [f.decode("utf-8") for f in data.removeprefix(b"\xef\xbb\xbf").split()]
    for w, c in counts.items():
        assert w and not any(ch in ASCII_WHITE_SPACE for ch in w)
        assert not w.startswith("\ufeff")
        assert type(c) is int and c >= 0 and str(c) in fields  # ASCII digits, as written
        assert w in fields
    assert sum(counts.values()) <= 2**63 - 1
    assert 2 * len(counts) == len(fields)  # every line was used: no word dropped


@given(words=st.lists(word, min_size=1, max_size=8, unique=True),
       counts=st.lists(st.integers(0, 2**60), min_size=8, max_size=8))
def test_a_saved_vocabulary_reads_back_exactly(tmp_path, words, counts):
    counts = dict(zip(words, counts))
    vocab = Vocabulary.from_counts(counts, min_count=0)
    path = tmp_path / "vocab.txt"
    vocab.save(str(path))
    assert Vocabulary.read_counts(str(path)) == counts


@pytest.mark.parametrize("content, fragment", [
    (b"the 5\nof 3\nbad \xff 2\n", "line 3: not valid UTF-8"),
    (b"the 99999999999999999999\n", "line 1: the counts add up"),
    (b"the 5000000000000000000\nof 5000000000000000000\n", "line 2: the counts add up"),
    ("the \u0663\n".encode(), "line 1: count"),
    (b"the 1_000\n", "line 1: count"),
])
def test_vocabulary_errors_name_the_line(tmp_path, content, fragment):
    path = tmp_path / "vocab.txt"
    path.write_bytes(content)
    with pytest.raises(VocabularyError) as info:
        Vocabulary.read_counts(str(path))
    assert str(info.value).startswith(f"{path}: {fragment}"), str(info.value)


def test_a_byte_order_mark_is_not_part_of_the_first_word(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes("\ufeffthe 5\nof 3\n".encode())
    assert Vocabulary.read_counts(str(path)) == {"the": 5, "of": 3}


def test_a_no_break_space_belongs_to_its_word_as_in_the_corpus(tmp_path):
    # The corpus reader keeps "New\u00a0York" one token, so --save-vocab writes it as
    # one word: --read-vocab must read it back as one.
    vocab = Vocabulary.from_counts({"New\u00a0York": 4, "the": 9}, min_count=1)
    path = tmp_path / "vocab.txt"
    vocab.save(str(path))
    assert Vocabulary.read_counts(str(path)) == {"the": 9, "New\u00a0York": 4}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@given(data=hostile_files)
def test_train_with_a_hostile_vocabulary_trains_or_fails_in_one_line(tmp_path, data):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the a é the a é 5 0\n" * 20, encoding="utf-8")
    vocab = tmp_path / "vocab.txt"
    vocab.write_bytes(data)
    out = tmp_path / "v.fw2v"
    out.unlink(missing_ok=True)
    result = run("train", corpus, "--read-vocab", vocab, "-o", out, "--min-count", "1",
                 "--dim", "4", "--epochs", "1", "--threads", "1", "-q")
    assert_success_or_one_line_error(result)
    assert out.exists() == (result.exit_code == 0)


# ---------------------------------------------------------------------------------------
# Evaluation files
# ---------------------------------------------------------------------------------------

def read_evaluation_file(tmp_path, data, reader):
    """(what `reader` read, the file's lines), or (None, None) after an
    EvaluationFileError that names the file."""
    path = tmp_path / "evaluation.txt"
    path.write_bytes(data)
    read = expect_error_or(reader, EvaluationFileError, path)
    return (None, None) if read is None else (read, data.decode("utf-8").split("\n"))


@given(data=hostile_files)
def test_an_analogy_file_is_read_whole_or_refused(tmp_path, data):
    sections, lines = read_evaluation_file(tmp_path, data, read_analogies)
    if sections is None:
        return
    assert any(questions for _, questions in sections)
    for name, questions in sections:
        assert name
        for line_no, *question in questions:
            line = lines[line_no - 1]
            line = line.lstrip("\ufeff") if line_no == 1 else line
            assert question == ascii_split(line)


@given(data=hostile_files)
def test_a_similarity_file_is_read_whole_or_refused(tmp_path, data):
    pairs, lines = read_evaluation_file(tmp_path, data, read_similarity_pairs)
    if pairs is None:
        return
    assert pairs
    for line_no, w1, w2, score in pairs:
        assert math.isfinite(score)
        line = lines[line_no - 1]
        assert w1 in line and w2 in line
        assert ascii_split(w1) == [w1] and ascii_split(w2) == [w2]


@pytest.fixture
def small_model(tmp_path):
    path = tmp_path / "model.bin"
    words = ["the", "a", "é", "5", "0", "king", "queen", "man"]
    vectors = np.random.default_rng(0).standard_normal((len(words), 4)).astype(np.float32)
    save_word2vec(str(path), words, vectors)
    return path


@given(analogies=hostile_files, pairs=hostile_files)
def test_evaluate_on_hostile_files_works_or_fails_in_one_line(tmp_path, small_model,
                                                              analogies, pairs):
    for name, data, option in (("q.txt", analogies, "--analogies"),
                               ("s.txt", pairs, "--similarity")):
        path = tmp_path / name
        path.write_bytes(data)
        result = run("evaluate", "-m", small_model, option, path)
        assert_success_or_one_line_error(result, str(path))


def test_a_question_with_no_possible_answer_is_not_counted_correct(tmp_path):
    # With three words, every candidate answer is a question word and is left out: the
    # question is answered wrong (there is nothing to answer), never right by default.
    model = tmp_path / "m.bin"
    save_word2vec(str(model), ["a", "b", "c"], np.eye(3, dtype=np.float32))
    questions = tmp_path / "q.txt"
    questions.write_text(": s\na b c a\n", encoding="utf-8")
    result = run("evaluate", "-m", model, "--analogies", questions, "--json")
    assert result.exit_code == 0, result.output
    overall = json.loads(result.output)["analogies"][0]["overall"]
    assert overall["answered"] == 1 and overall["correct"] == 0


def test_a_no_break_space_belongs_to_its_word_in_evaluation_files(tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text(": s\nNew\u00a0York a b c\n", encoding="utf-8")
    assert read_analogies(str(questions))[0][1] == [(2, "New\u00a0York", "a", "b", "c")]
    pairs = tmp_path / "s.txt"
    pairs.write_text("New\u00a0York city 5\n", encoding="utf-8")
    assert read_similarity_pairs(str(pairs)) == [(1, "New\u00a0York", "city", 5.0)]


def test_evaluate_errors_name_file_and_line(tmp_path, small_model):
    path = tmp_path / "s.txt"
    path.write_text("the a 1\nthe a nan\n", encoding="utf-8")
    assert_one_line_error(run("evaluate", "-m", small_model, "--similarity", path),
                          f"{path}: line 2", code=1)
