"""A corpus of several files or folders (fastw2v/text/sources.py and the readers over it):
read in order as one text, a line end between two files, a folder's files by name."""

import gzip

import numpy as np
import pytest

from fastw2v.errors import CorpusError
from fastw2v.text.corpus import encode_corpus, scan_corpus
from fastw2v.text.sources import CorpusFiles
from fastw2v.text.vocab import Vocabulary
from fastw2v.training.checkpoint import CorpusFingerprint


def _lines(corpus):
    """The corpus as lines of words, through both encoding paths (they must agree)."""
    scan = scan_corpus(corpus, max_vocab=1000)
    vocab, entry_of_word = Vocabulary.from_table(scan.table, min_count=1)
    mapped = encode_corpus(corpus, vocab.words, scan=scan, entry_of_word=entry_of_word).ids
    reread = encode_corpus(corpus, vocab.words).ids
    assert np.array_equal(mapped, reread)
    lines, line = [], []
    for i in mapped.tolist():
        if i < 0:
            lines.append(line)
            line = []
        else:
            line.append(vocab.words[i])
    return lines, scan.stats


def test_files_are_read_in_order_with_a_line_end_between_them(tmp_path):
    # The first file has no final newline: its last line must not run into the next.
    (tmp_path / "a.txt").write_bytes(b"one two\nthree")
    with gzip.open(tmp_path / "b.txt.gz", "wb") as f:
        f.write(b"four five\n\nsix\n")
    lines, stats = _lines([str(tmp_path / "a.txt"), str(tmp_path / "b.txt.gz")])
    assert lines == [["one", "two"], ["three"], ["four", "five"], ["six"]]
    assert stats.n_tokens == 6


def test_a_folder_is_its_files_sorted_by_name_without_hidden_ones(tmp_path):
    folder = tmp_path / "shards"
    folder.mkdir()
    (folder / "part-10.txt").write_text("ten\n")
    (folder / "part-02.txt").write_text("two\n")
    (folder / ".part-02.txt.swp").write_text("backup\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "deeper.txt").write_text("deeper\n")
    files = CorpusFiles.of(folder)
    assert [p.rsplit("/", 1)[1] for p in files.paths] == ["part-02.txt", "part-10.txt"]
    lines, _ = _lines([str(folder), str(tmp_path / "shards" / "part-02.txt")])
    assert lines == [["two"], ["ten"], ["two"]]


def test_a_nul_byte_names_the_file_and_its_own_line(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"fine\nfine\nfine\n")
    (tmp_path / "b.txt").write_bytes(b"ok\nbad\x00word\n")
    with pytest.raises(CorpusError, match=r"b\.txt: line 2: NUL byte"):
        scan_corpus([str(tmp_path / "a.txt"), str(tmp_path / "b.txt")], max_vocab=100)


@pytest.mark.parametrize("make, message", [
    (lambda tmp: [str(tmp / "a.txt"), str(tmp / "missing.txt")], "missing.txt: no such file"),
    (lambda tmp: [str(tmp / "empty")], "empty: the folder holds no corpus file"),
    (lambda tmp: [], "no corpus given"),
])
def test_bad_paths_are_named(tmp_path, make, message):
    (tmp_path / "a.txt").write_text("a\n")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match=message):
        CorpusFiles.of(make(tmp_path))


def test_fingerprint_of_several_files_sees_each_file_and_their_order(tmp_path):
    (tmp_path / "a.txt").write_text("alpha beta\n")
    (tmp_path / "b.txt").write_text("gamma delta\n")
    a, b = str(tmp_path / "a.txt"), str(tmp_path / "b.txt")
    both = CorpusFingerprint.of([a, b])
    assert both == CorpusFingerprint.of([a, b])
    assert (both.head, both.tail) != (CorpusFingerprint.of([b, a]).head,
                                      CorpusFingerprint.of([b, a]).tail)
    assert both.size == len("alpha beta\n") + len("gamma delta\n")
    # One file keeps the one-file fingerprint, so older checkpoints still resume.
    assert CorpusFingerprint.of([a]).head == CorpusFingerprint.of(a).head
    (tmp_path / "b.txt").write_text("gamma DELTA\n")
    with pytest.raises(CorpusError, match="same size but different content"):
        both.check([a, b], "run.ckpt")
