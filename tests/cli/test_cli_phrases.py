"""`fastw2v phrases` from the command line: what it writes, and how it refuses bad input."""

import gzip
import lzma
import math
from collections import Counter

import pytest
from click.testing import CliRunner

import fastw2v
from fastw2v.cli import main

from cli_helpers import assert_no_traceback, assert_one_line_error


def run(*args):
    result = CliRunner().invoke(main, ["phrases", *[str(a) for a in args]])
    assert_no_traceback(result)
    return result


def collocations(path, repeats=100):
    """Text where `new york` and `los angeles` always come together and other words are
    rarer than --min-count 5, so that exactly these two pairs score (7.6 each)."""
    filler = [f"w{i}" for i in range(100)]
    lines = [f"{filler[i]} new york {filler[(i * 7 + 1) % 100]} {filler[(i * 11 + 2) % 100]} "
             f"los angeles {filler[(i * 13 + 3) % 100]}" for i in range(repeats)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_joins_pairs_and_keeps_lines(tmp_path):
    corpus = collocations(tmp_path / "c.txt")
    out = tmp_path / "out.txt"
    result = run(corpus, "-o", out, "--min-count", "5", "--threshold", "5")
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(corpus.read_text(encoding="utf-8").splitlines())
    assert lines[0] == "w0 new_york w1 w2 los_angeles w3"
    assert "pass 1: 2 phrases, 200 joined" in result.stderr
    assert "pass 1:" in result.stderr and "joined" in result.stderr


def test_compressed_files_in_and_out_and_several_corpora(tmp_path):
    corpus = collocations(tmp_path / "c.txt")
    text = corpus.read_text(encoding="utf-8")
    packed = tmp_path / "c.txt.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    second = tmp_path / "d.txt"
    second.write_text("new york\n", encoding="utf-8")
    out = tmp_path / "out.txt.xz"
    result = run(packed, second, "-o", out, "--min-count", "5", "--threshold", "5")
    assert result.exit_code == 0, result.output
    lines = lzma.decompress(out.read_bytes()).decode().splitlines()
    assert len(lines) == len(text.splitlines()) + 1  # the files one after the other
    assert lines[-1] == "new_york"


def test_two_passes_make_three_word_phrases(tmp_path):
    corpus = tmp_path / "c.txt"
    filler = [f"w{i}" for i in range(50)]
    corpus.write_text("".join(f"{filler[i % 50]} the new york times {filler[(i * 3) % 50]}\n"
                              for i in range(200)), encoding="utf-8")
    out = tmp_path / "out.txt"
    # Pass 1: 'the new' (score 5.85) joins first, then 'york times'; pass 2 joins those.
    result = run(corpus, "-o", out, "--threshold", "5", "--threshold", "3")
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[1] == "w1 the_new_york_times w3"
    assert "pass 2:" in result.stderr


def test_save_then_read_phrases_gives_the_same_text(tmp_path):
    corpus = collocations(tmp_path / "c.txt")
    table = tmp_path / "phrases.tsv"
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    assert run(corpus, "-o", first, "--threshold", "5", "--save-phrases", table).exit_code == 0
    rows = [line.split("\t") for line in table.read_text(encoding="utf-8").splitlines()
            if not line.startswith("#")]
    assert ["new york", "100"] == rows[[r[0] for r in rows].index("new york")][:2]
    assert run(corpus, "-o", second, "--read-phrases", table).exit_code == 0
    assert first.read_bytes() == second.read_bytes()


def test_connector_words_sit_inside_phrases(tmp_path):
    corpus = tmp_path / "c.txt"
    filler = [f"w{i}" for i in range(50)]
    corpus.write_text("".join(f"{filler[i % 50]} bank of america {filler[(i * 3) % 50]} of "
                              f"{filler[(i * 11) % 50]}\n" for i in range(100)),
                      encoding="utf-8")
    out = tmp_path / "out.txt"
    connectors = tmp_path / "connectors.txt"
    connectors.write_text("of\n\nthe\n", encoding="utf-8")
    for spec in ("english", connectors):
        assert run(corpus, "-o", out, "--threshold", "5", "--connector-words",
                   spec).exit_code == 0
        assert "bank_of_america" in out.read_text(encoding="utf-8").split()
    assert run(corpus, "-o", out, "--threshold", "5").exit_code == 0
    assert "bank_of_america" not in out.read_text(encoding="utf-8")


def test_word2vec_scores_are_word2vecs_formula(tmp_path):
    corpus = collocations(tmp_path / "c.txt")
    stats = fastw2v.phrases(str(corpus), str(tmp_path / "o.txt"), threshold=-1e9,
                            min_count=5)
    tokens = [line.split() for line in corpus.read_text(encoding="utf-8").splitlines()]
    words = Counter(t for line in tokens for t in line)
    pairs = Counter((a, b) for line in tokens for a, b in zip(line, line[1:]))
    total = sum(words.values())
    expected = {f"{a} {b}": (n - 5) / (words[a] * words[b]) * total
                for (a, b), n in pairs.items() if min(n, words[a], words[b]) >= 5}
    got = dict(zip(stats.table.passes[0].keys, stats.table.passes[0].scores))
    assert got.keys() == expected.keys()
    for key, score in expected.items():
        assert got[key] == pytest.approx(score, rel=1e-12)
    npmi = fastw2v.phrases(str(corpus), str(tmp_path / "o.txt"), scorer="npmi",
                           threshold=-1, min_count=5)
    a, b = "new", "york"
    p_ab, p_a, p_b = pairs[a, b] / total, words[a] / total, words[b] / total
    got = dict(zip(npmi.table.passes[0].keys, npmi.table.passes[0].scores))
    assert got["new york"] == pytest.approx(math.log(p_ab / (p_a * p_b)) / -math.log(p_ab))


def test_pruned_counts_keep_frequent_pairs_exact(tmp_path):
    corpus = tmp_path / "c.txt"
    # Many distinct rare words force the word and pair tables to prune.
    corpus.write_text("".join(f"new york r{i} s{i} los angeles\n" for i in range(3000)),
                      encoding="utf-8")
    messages = []
    stats = fastw2v.phrases(str(corpus), str(tmp_path / "o.txt"), threshold=1.0,
                            max_vocab=500, max_pairs=400, warn=messages.append)
    assert any("--max-vocab" in m for m in messages)
    assert any("--max-pairs" in m for m in messages)
    counts = dict(zip(stats.table.passes[0].keys, stats.table.passes[0].counts))
    assert counts["new york"] == 3000 and counts["los angeles"] == 3000
    assert (tmp_path / "o.txt").read_text().startswith("new_york r0 s0 los_angeles\n")


def test_warns_when_no_pair_scores_and_writes_the_text_unchanged(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\n\nd  e\tf\n", encoding="utf-8")
    out = tmp_path / "out.txt"
    result = run(corpus, "-o", out)
    assert result.exit_code == 0
    assert "warning: pass 1: no pair scored above the threshold 100" in result.stderr
    assert out.read_text(encoding="utf-8") == "a b c\n\nd e f\n"


def test_invalid_utf8_and_long_tokens_are_reported(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(b"caf\xe9 ok\n" + b"x" * 1001 + b" ok\n")
    out = tmp_path / "out.txt"
    result = run(corpus, "-o", out)
    assert result.exit_code == 0
    assert "1 invalid UTF-8 bytes were replaced" in result.stderr
    assert "1 tokens longer than 1,000 bytes were skipped" in result.stderr
    assert out.read_text(encoding="utf-8") == "caf\ufffd ok\nok\n"


@pytest.mark.parametrize("content,fragments", [
    (b"", ("c.txt", "empty")),
    (b" \n\t\n", ("c.txt", "empty")),
    (b"a b\nc\x00d\n", ("c.txt", "line 2", "NUL")),
])
def test_bad_corpus_is_one_line_and_keeps_the_old_output(tmp_path, content, fragments):
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(content)
    out = tmp_path / "out.txt"
    out.write_text("precious", encoding="utf-8")
    assert_one_line_error(run(corpus, "-o", out), *fragments, code=1)
    assert out.read_text(encoding="utf-8") == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt", "out.txt"]


@pytest.mark.parametrize("args,fragments", [
    (["--scorer", "npmi", "--threshold", "1.5"], ("--threshold", "[-1, 1]", "npmi")),
    (["--threshold", "1", "--threshold", "2", "--passes", "3"], ("--threshold", "--passes 3")),
    (["--min-count", "0"], ("--min-count",)),
    (["--connector-words", "missing.txt"], ("missing.txt", "no such file")),
])
def test_bad_options_are_one_line(tmp_path, args, fragments):
    corpus = collocations(tmp_path / "c.txt")
    assert_one_line_error(run(corpus, "-o", tmp_path / "o.txt", *args), *fragments)


@pytest.mark.parametrize("table,fragments", [
    ("# pass 1\nnew york\t12\n", ("line 2", "tabs")),
    ("new york\ttwelve\t3.0\n", ("line 1", "'twelve'")),
    ("newyork\t12\t3.0\n", ("line 1", "two or more tokens")),
    ("# only comments\n", ("holds no phrase",)),
    (b"\xff\xfe\x00n\x00e\x00w", ("line 1", "not UTF-8")),
])
def test_damaged_phrase_table_is_one_line(tmp_path, table, fragments):
    corpus = collocations(tmp_path / "c.txt")
    path = tmp_path / "t.tsv"
    if isinstance(table, bytes):
        path.write_bytes(table)
    else:
        path.write_text(table, encoding="utf-8")
    out = tmp_path / "out.txt"
    assert_one_line_error(run(corpus, "-o", out, "--read-phrases", path), "t.tsv",
                          *fragments, code=1)
    assert not out.exists()


def test_refuses_to_overwrite_the_corpus(tmp_path):
    corpus = collocations(tmp_path / "c.txt")
    before = corpus.read_bytes()
    assert_one_line_error(run(corpus, "-o", corpus), "-o", "is the corpus")
    assert corpus.read_bytes() == before


def test_help_describes_the_command():
    result = CliRunner().invoke(main, ["phrases", "--help"])
    assert result.exit_code == 0
    for option in ("--scorer", "--threshold", "--passes", "--connector-words",
                   "--save-phrases", "--read-phrases", "--max-pairs"):
        assert option in result.output
