"""The shares Ray workers read on their own (fastw2v/distributed/reading.py), without Ray:
read one after the other they are the corpus, every token once and no line split, and
what each counts adds up to one process's count."""

import gzip
import os
import random

import numpy as np
import pytest

from fastw2v.distributed.reading import CountMerger, count_share, plan_shares
from fastw2v.text.corpus import encode_corpus, line_start_at, scan_corpus
from fastw2v.text.sources import CorpusFiles, CorpusShare, FilePart
from fastw2v.text.vocab import Vocabulary

WORDS = [f"w{i}" for i in range(40)] + ["é", "naïve"]


def _text(rng: random.Random, n_lines: int, bom: bool = False, final_newline: bool = True,
          crlf: bool = False) -> bytes:
    """Lines of random length (some blank, some long), as a corpus file may hold them."""
    lines = []
    for _ in range(n_lines):
        length = rng.choice([0, 1, 3, 8, 30, 200])
        sep = rng.choice([" ", "  ", "\t"])
        lines.append(sep.join(rng.choice(WORDS) for _ in range(length)))
    end = "\r\n" if crlf else "\n"
    text = end.join(lines) + (end if final_newline else "")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


@pytest.fixture
def corpus_files(tmp_path):
    """Five files: a byte-order mark, CRLF, no final newline, an empty one, a .gz."""
    rng = random.Random(1)
    specs = [("a.txt", dict(bom=True)), ("b.txt", dict(crlf=True)),
             ("c.txt", dict(final_newline=False)), ("d.txt", None), ("e.txt.gz", {})]
    paths = []
    for name, options in specs:
        path = tmp_path / name
        data = b"" if options is None else _text(rng, rng.randint(50, 400), **options)
        if name.endswith(".gz"):
            with gzip.open(path, "wb") as f:
                f.write(data)
        else:
            path.write_bytes(data)
        paths.append(str(path))
    return paths


def _ids(source) -> np.ndarray:
    """The source encoded with every word: its tokens and sentence ends, in order."""
    return encode_corpus(source, WORDS).ids


def _joined(shares) -> np.ndarray:
    return np.concatenate([_ids(share) for share in shares if share.parts])


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_the_shares_read_in_order_are_the_corpus(corpus_files, n):
    sizes = [os.path.getsize(path) for path in corpus_files]
    plan = plan_shares(corpus_files, sizes, n)
    assert len(plan.shares) == n and sum(plan.sizes) == sum(sizes)
    whole = _ids(CorpusFiles.of(corpus_files))
    # Every token once, and the sentence ends where they were: no line split or doubled.
    assert np.array_equal(_joined(plan.shares), whole)
    for share in plan.shares:
        for part in share.parts:
            if part.path.endswith(".gz"):
                assert part.whole  # a compressed file is never cut
            with open(part.path, "rb") as f:
                data = f.read()
            # A part begins at a line start and ends at a line end or its file's end.
            assert part.start == 0 or data[part.start - 1:part.start] == b"\n"
            assert part.end is None or data[part.end - 1:part.end] == b"\n"
    if n <= 2:
        assert plan.problem is None


def test_random_cuts_at_line_starts_read_every_token_once(tmp_path):
    rng = random.Random(7)
    path = tmp_path / "one.txt"
    path.write_bytes(_text(rng, 3000, bom=True, final_newline=False))
    size = path.stat().st_size
    whole = _ids(str(path))
    for _ in range(20):
        offsets = sorted(rng.randrange(size + 1) for _ in range(rng.randint(1, 6)))
        cuts = [0, *(line_start_at(str(path), offset) for offset in offsets), size]
        parts = [FilePart(str(path), a, b) for a, b in zip(cuts, cuts[1:]) if a < b]
        assert np.array_equal(_joined([CorpusShare((p,)) for p in parts]), whole)
        # One share of all the parts reads as the file does too.
        assert np.array_equal(_ids(CorpusShare(tuple(parts))), whole)


def test_a_line_start_is_after_a_line_end(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"ab cd\r\nef\n\ngh")
    assert [line_start_at(str(path), i) for i in range(14)] == [
        0, 7, 7, 7, 7, 7, 7, 7, 10, 10, 10, 11, 13, 13]


def test_one_compressed_file_cannot_be_shared(tmp_path):
    path = tmp_path / "big.txt.gz"
    with gzip.open(path, "wb") as f:
        f.write(_text(random.Random(2), 500))
    plan = plan_shares([str(path)], [path.stat().st_size], 2)
    assert "big.txt.gz is compressed and cannot be cut" in plan.problem
    # Several compressed files of about the same size share out whole.
    plan = plan_shares([str(path)] * 4, [path.stat().st_size] * 4, 2)
    assert plan.problem is None
    assert [len(share.parts) for share in plan.shares] == [2, 2]


def test_too_few_lines_for_the_workers(tmp_path):
    path = tmp_path / "one-line.txt"
    path.write_bytes(b"a b c d e f g\n")
    plan = plan_shares([str(path)], [path.stat().st_size], 3)
    assert "cannot be shared among 3 workers: its lines are too few or too long" in (
        plan.problem)


@pytest.mark.parametrize("max_vocab", [10**6, 20])
def test_the_counts_of_the_shares_merge_to_one_count(corpus_files, tmp_path, max_vocab):
    sizes = [os.path.getsize(path) for path in corpus_files]
    plan = plan_shares(corpus_files, sizes, 3)
    merger = CountMerger(max_vocab)
    for share in plan.shares:
        merger.add(count_share(share, max_vocab, str(tmp_path))[1])
    alone = scan_corpus(corpus_files, max_vocab)
    assert merger.read.n_tokens == alone.stats.n_tokens
    assert merger.read.n_lines == alone.stats.n_lines
    counts = dict(zip(alone.table.words(), alone.table.counts().tolist()))
    if max_vocab > len(WORDS):
        assert merger.counts == counts and merger.n_prunes == 0
        assert (Vocabulary.from_counts(merger.counts, 5).words
                == Vocabulary.from_counts(counts, 5).words)
    else:
        # Pruned by the same rule, within the bound, and never over the true counts.
        assert merger.n_prunes >= 1 and len(merger.counts) <= max_vocab
        truth = CountMerger(10**6)
        for share in plan.shares:
            truth.add(count_share(share, 10**6, str(tmp_path))[1])
        assert all(c <= truth.counts[w] for w, c in merger.counts.items())
