"""Unit tests for fastw2v.text.corpus: reading, decoding, compression, counting, encoding, jobs.

Most tests read a corpus the way training does (a counting scan, a vocabulary of every
word, the encoded stream) and turn the stream back into lines of words; each is run at
several block sizes, so that tokens, multi-byte characters and line ends are cut by block
edges. Both encoding paths are checked against each other every time: mapping the scan's
entry stream, and reading the corpus again with a fixed vocabulary.
"""

import bz2
import gzip
import lzma

import numpy as np
import pytest

import fastw2v.text.corpus as corpus
from fastw2v.config import MAX_SENTENCE_TOKENS
from fastw2v.errors import CorpusError
from fastw2v.text.corpus import (
    SENTENCE_END,
    EncodedCorpus,
    IdStream,
    ReadStats,
    encode_corpus,
    scan_corpus,
)
from fastw2v.text.vocab import Vocabulary

# A long line (far more than 16 bytes), multi-byte tokens that a byte cut could split,
# a token longer than a block, blank and white-space-only lines, tabs and other ASCII
# white space, and no newline at the very end.
LONG_TOKEN = "supercalifragilisticexpialidocious" * 2
TEXT = (
    "the quick brown fox jumps over the lazy dog " * 6 + "end\n"
    "東京 は 日本 の 首都 です 😀😀😀 naïve straße Ωmega\n"
    "\n"
    "   \t  \n"
    f"short {LONG_TOKEN} tail\n"
    "tab\tseparated\tvalues\x0bvertical\x0cformfeed\n"
    "x\n"
    "y z\n"
    "last line without newline"
)

BLOCK_SIZES = [1, 2, 3, 5, 7, 16, 17, 31, 64, 4096]
NO_CUT = 10**9  # max_sentence that never cuts a line


def expected_lines(text):
    return [line.split() for line in text.split("\n") if line.split()]


def stream_lines(ids, words):
    """The stream's sentences as lists of words."""
    lines, current = [], []
    for i in ids.tolist():
        if i == SENTENCE_END:
            lines.append(current)
            current = []
        else:
            current.append(words[i])
    assert current == [], "the stream must end with a sentence end"
    return lines


def read_corpus(path, stats=None, max_vocab=10**6):
    """Read `path` as training does, with every word in the vocabulary; return its lines.

    `stats`, if given, receives the reader's counts. Both encoding paths must agree.
    """
    scan = scan_corpus(str(path), max_vocab)
    vocab, entries = Vocabulary.from_table(scan.table, 1)
    mapped = encode_corpus(str(path), vocab.words, scan=scan, entry_of_word=entries,
                           max_sentence=NO_CUT)
    reread = encode_corpus(str(path), vocab.words, max_sentence=NO_CUT)
    assert mapped.ids.tolist() == reread.ids.tolist()
    assert (mapped.n_words, mapped.n_sentences) == (reread.n_words, reread.n_sentences)
    if stats is not None:
        stats.__dict__.update(scan.stats.__dict__)
    return stream_lines(mapped.ids, vocab.words)


def read_tokens(path, stats=None):
    return [t for line in read_corpus(path, stats) for t in line]


@pytest.fixture
def tiny_blocks(monkeypatch):
    def set_size(size):
        monkeypatch.setattr(corpus, "BLOCK_BYTES", size)
    set_size(16)
    return set_size


# ---------------------------------------------------------------------------------------
# Reading: tokens, lines, decoding
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("block_bytes", BLOCK_SIZES)
def test_reading_gives_exact_tokens_in_order(tmp_path, tiny_blocks, block_bytes):
    tiny_blocks(block_bytes)
    path = tmp_path / "c.txt"
    path.write_text(TEXT, encoding="utf-8")
    tokens = read_tokens(path)
    # Equality with str.split() also proves no token was cut in two (a cut token would
    # show up as two tokens) and no multi-byte character was broken (no U+FFFD).
    assert tokens == TEXT.split()
    assert LONG_TOKEN in tokens


def test_tiny_blocks_really_cut_the_file(tmp_path, tiny_blocks, monkeypatch):
    tiny_blocks(16)
    path = tmp_path / "c.txt"
    path.write_text(TEXT, encoding="utf-8")
    fed = []
    real_feed = corpus._text.Scanner.feed

    class CountingScanner(corpus._text.Scanner):
        def feed(self, block, final=False):
            fed.append(len(block))
            return real_feed(self, block, final)

    monkeypatch.setattr(corpus._text, "Scanner", CountingScanner)
    scan_corpus(str(path), 1000)
    assert max(fed) == 16 and len(fed) > len(TEXT.encode("utf-8")) // 16


@pytest.mark.parametrize("block_bytes", BLOCK_SIZES)
def test_reading_keeps_line_ends(tmp_path, tiny_blocks, block_bytes):
    tiny_blocks(block_bytes)
    path = tmp_path / "c.txt"
    path.write_text(TEXT, encoding="utf-8")
    assert read_corpus(path) == expected_lines(TEXT)


def test_default_block_size_reads_a_small_file_whole(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(TEXT + "\n", encoding="utf-8")
    stats = ReadStats()
    assert read_corpus(path, stats) == expected_lines(TEXT)
    assert stats.n_tokens == len(TEXT.split())
    assert stats.n_lines == TEXT.count("\n") + 1


def test_only_ascii_white_space_separates_tokens(tmp_path):
    # A no-break space (U+00A0) and an ideographic space (U+3000) are part of a word, as
    # in word2vec.c and fastText; Python's str.split() would cut there.
    path = tmp_path / "c.txt"
    path.write_text("new\u00a0york and\u3000tokyo\n", encoding="utf-8")
    assert read_corpus(path) == [["new\u00a0york", "and\u3000tokyo"]]


@pytest.mark.parametrize("opener, suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"),
                                            (lzma.open, ".xz"), (gzip.open, ".GZ")])
@pytest.mark.parametrize("block_bytes", [16, 4 << 20])
def test_compressed_files_give_the_same_tokens_as_plain(tmp_path, tiny_blocks, opener,
                                                        suffix, block_bytes):
    tiny_blocks(block_bytes)
    plain = tmp_path / "c.txt"
    plain.write_text(TEXT, encoding="utf-8")
    packed = tmp_path / ("c.txt" + suffix)
    with opener(packed, "wb") as f:
        f.write(TEXT.encode("utf-8"))
    assert packed.read_bytes() != plain.read_bytes()
    assert read_corpus(packed) == read_corpus(plain) == expected_lines(TEXT)


def test_corrupt_compressed_file_is_corpus_error(tmp_path):
    path = tmp_path / "c.txt.gz"
    path.write_bytes(b"this is not gzip data at all\n")
    with pytest.raises(CorpusError, match="c.txt.gz"):
        scan_corpus(str(path), 100)


@pytest.mark.parametrize("block_bytes", [1, 3, 16, 4 << 20])
def test_invalid_utf8_is_replaced_and_counted(tmp_path, tiny_blocks, block_bytes):
    tiny_blocks(block_bytes)
    # Invalid bytes: \xff (1), \xc3 before "(" (1), \x80 lone continuation (1), the
    # truncated 3-byte sequence \xe2\x82 (2 bytes, one U+FFFD), \xfe\xfe (2) = 7 bytes.
    data = (b"good caf\xc3\xa9 \xff bad\n"
            b"\xc3( word a\x80b\n"
            b"euro\xe2\x82 sign \xfe\xfe end\n"
            b"clean line\n")
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    stats = ReadStats()
    tokens = read_tokens(path, stats)
    assert tokens == data.decode("utf-8", "replace").split()
    assert tokens[:4] == ["good", "café", "\ufffd", "bad"]
    assert "a\ufffdb" in tokens and "euro\ufffd" in tokens
    assert stats.n_invalid_bytes == 7


def test_invalid_byte_count_is_zero_for_clean_file_and_resets(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"a \xff b\n")
    good = tmp_path / "good.txt"
    good.write_text("a b\n")
    stats = ReadStats()
    read_corpus(bad, stats)
    assert stats.n_invalid_bytes == 1
    stats = ReadStats()
    read_corpus(good, stats)
    assert stats.n_invalid_bytes == 0


@pytest.mark.parametrize("block_bytes", [1, 5, 16, 4 << 20])
def test_nul_byte_raises_corpus_error_naming_the_line(tmp_path, tiny_blocks, block_bytes):
    tiny_blocks(block_bytes)
    path = tmp_path / "c.bin"
    path.write_bytes(b"first line here\nsecond\n\nfourth has a \x00 in it\nfifth\n")
    with pytest.raises(CorpusError) as info:
        scan_corpus(str(path), 100)
    message = str(info.value)
    assert message.startswith(f"{path}: line 4:"), message
    assert "NUL" in message


@pytest.mark.parametrize("block_bytes", [1, 2, 3, 7, 16, 17, 4 << 20])
def test_crlf_gives_the_same_tokens_as_lf(tmp_path, tiny_blocks, block_bytes):
    tiny_blocks(block_bytes)
    lf = tmp_path / "lf.txt"
    crlf = tmp_path / "crlf.txt"
    lf.write_bytes(TEXT.encode("utf-8"))
    crlf.write_bytes(TEXT.replace("\n", "\r\n").encode("utf-8"))
    assert read_corpus(crlf) == read_corpus(lf) == expected_lines(TEXT)
    assert not any("\r" in t for t in read_tokens(crlf))


# Lines that end in white space before the newline, so that a block can be cut after
# that white space with the newline landing at the start of the next block. Every
# BLOCK_BYTES from 1 to 40 is tried, so such cuts certainly happen.
TRAILING = "aaa bbb ccc ddd \neee fff\nggg hhh iii  \n jjj\nkkk\t\nlll\n"


@pytest.mark.parametrize("text", [TRAILING, TEXT.replace("\n", "\r\n")],
                         ids=["trailing-space", "crlf"])
def test_line_ends_survive_a_cut_just_before_the_newline(tmp_path, tiny_blocks, text):
    path = tmp_path / "c.txt"
    path.write_bytes(text.encode("utf-8"))
    wrong = []
    for block_bytes in range(1, 41):
        tiny_blocks(block_bytes)
        if read_corpus(path) != expected_lines(text):
            wrong.append(block_bytes)
    assert wrong == [], f"line ends lost or merged with BLOCK_BYTES in {wrong}"


def test_missing_file_and_folder_are_corpus_errors(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        scan_corpus(str(tmp_path / "missing.txt"), 100)
    with pytest.raises(CorpusError, match="folder"):
        scan_corpus(str(tmp_path), 100)


def test_empty_and_blank_files_yield_no_tokens(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.txt"
    blank.write_bytes(b"\n \n\t\r\n")
    for path in (empty, blank):
        scan = scan_corpus(str(path), 100)
        assert len(scan.table) == 0 and scan.stats.n_tokens == 0


# ---------------------------------------------------------------------------------------
# encode_corpus
# ---------------------------------------------------------------------------------------

E = SENTENCE_END
WORDS = ["the", "cat", "sat", "on", "mat", "dog", "東京"]


def encode(tmp_path, text, words=WORDS, **kwargs):
    """Encode `text` with the vocabulary `words` by both paths; they must agree."""
    path = tmp_path / "c.txt"
    path.write_bytes(text.encode("utf-8"))
    reread = encode_corpus(str(path), words, tmp_dir=str(tmp_path), **kwargs)
    scan = scan_corpus(str(path), 10**6, tmp_dir=str(tmp_path))
    mapped = encode_corpus(str(path), words, tmp_dir=str(tmp_path), scan=scan, **kwargs)
    assert mapped.ids.tolist() == reread.ids.tolist()
    assert ((mapped.n_words, mapped.n_skipped, mapped.n_sentences)
            == (reread.n_words, reread.n_skipped, reread.n_sentences))
    return reread


@pytest.mark.parametrize("block_bytes", [1, 4, 16, 4 << 20])
def test_encode_corpus_ids_with_sentence_ends_and_oov_removed(tmp_path, tiny_blocks,
                                                              block_bytes):
    tiny_blocks(block_bytes)
    text = ("the cat sat on the mat\n"
            "a dog zzz sat\n"          # a, zzz: out of vocabulary
            "\n"
            "unknown words only\n"     # no in-vocabulary token: no sentence
            "東京 the\n"
            "dog")                     # no final newline
    enc = encode(tmp_path, text)
    assert enc.ids.dtype == np.int32
    assert enc.ids.tolist() == [0, 1, 2, 3, 0, 4, E,
                                5, 2, E,
                                6, 0, E,
                                5, E]
    assert enc.n_words == 11
    assert enc.n_skipped == 5
    assert enc.n_sentences == 4
    # The temporary files never show in the folder (created unlinked).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt"]


def test_encode_corpus_matches_independent_encoding_on_random_text(tmp_path, tiny_blocks):
    tiny_blocks(16)
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)] + ["東京", "naïve"]
    vocabulary = [w for i, w in enumerate(words) if i % 3]  # a third are out of vocabulary
    index = {w: i for i, w in enumerate(vocabulary)}
    lines = []
    for _ in range(200):
        n = int(rng.integers(0, 12))
        lines.append(" ".join(words[j] for j in rng.integers(0, len(words), size=n)))
    text = "\n".join(lines) + "\n"
    enc = encode(tmp_path, text, vocabulary)
    expected = []
    n_skipped = 0
    for line in lines:
        ids = [index[t] for t in line.split() if t in index]
        n_skipped += sum(t not in index for t in line.split())
        if ids:
            expected += ids + [E]
    assert enc.ids.tolist() == expected
    assert enc.n_skipped == n_skipped
    assert enc.n_words == sum(1 for i in expected if i != E)
    assert enc.n_sentences == expected.count(E)


@pytest.mark.parametrize("block_bytes", [1, 5, 16, 4 << 20])
def test_encode_corpus_cuts_long_lines_every_max_sentence_tokens(tmp_path, tiny_blocks,
                                                                 block_bytes):
    tiny_blocks(block_bytes)
    words = [f"t{i}" for i in range(20)]
    text = ("t0 t1 t2 t3 t4 t5 t6 t7 t8 t9 t10\n"   # 11 tokens: 3 + 3 + 3 + 2
            "t11 t12 t13\n"                          # exactly 3: one sentence
            "t14 oov t15 oov oov t16 t17\n"          # OOV do not count: 3 + 1
            "t18 t19\n")
    enc = encode(tmp_path, text, words, max_sentence=3)
    assert enc.ids.tolist() == [0, 1, 2, E, 3, 4, 5, E, 6, 7, 8, E, 9, 10, E,
                                11, 12, 13, E,
                                14, 15, 16, E, 17, E,
                                18, 19, E]
    # No token lost: every in-vocabulary token appears once, in order.
    assert [i for i in enc.ids.tolist() if i != E] == list(range(20))
    assert enc.n_words == 20 and enc.n_skipped == 3
    assert enc.n_sentences == 8


def test_encode_corpus_sentences_never_exceed_max_sentence(tmp_path, tiny_blocks):
    tiny_blocks(16)
    rng = np.random.default_rng(2)
    words = [f"w{i}" for i in range(10)]
    index = {w: i for i, w in enumerate(words)}
    text = "\n".join(" ".join(f"w{j}" for j in rng.integers(0, 12, size=int(rng.integers(0, 40))))
                     for _ in range(50))
    enc = encode(tmp_path, text, words, max_sentence=7)
    ids = enc.ids.tolist()
    assert ids[-1] == E
    lengths = []
    run = 0
    for i in ids:
        if i == E:
            lengths.append(run)
            run = 0
        else:
            run += 1
    assert max(lengths) <= 7 and min(lengths) >= 1
    assert [i for i in ids if i != E] == [index[t] for t in text.split() if t in index]


def test_encode_corpus_keeps_lines_apart_when_a_cut_falls_before_the_newline(tmp_path,
                                                                            tiny_blocks):
    # "aaa bbb ccc ddd " is exactly 16 bytes: with BLOCK_BYTES = 16 the first block ends
    # after the trailing space and the newline opens the second block. The two lines
    # are two sentences and must stay two sentences.
    tiny_blocks(16)
    enc = encode(tmp_path, "aaa bbb ccc ddd \neee\n", ["aaa", "bbb", "ccc", "ddd", "eee"])
    assert enc.ids.tolist() == [0, 1, 2, 3, E, 4, E]
    assert enc.n_sentences == 2


def test_encode_corpus_crlf_corpus_at_default_block_size(tmp_path):
    # The same defect at the real block size, on an ordinary CRLF corpus: lines of 30
    # bytes, the first one padded so that the first 4 MiB read ends right after a "\r".
    # Every line is a sentence, so there must be exactly as many sentence ends as lines.
    block = corpus.BLOCK_BYTES
    line = "w1 w2 w3 w4 w5 w6 w7 w8 w9\r\n"  # 28 bytes, its "\r" at offset 26
    # First line: m bytes of tokens then CRLF, with m chosen so that the "\r" of some
    # later line sits at byte block - 1.
    m = (block - 1 - 26 - 2) % len(line) + len(line)
    first = ("w0" + " w1" * ((m - 2) // 3)).ljust(m)
    n_lines = (block - m - 2) // len(line) + 3
    text = first + "\r\n" + line * n_lines
    data = text.encode("ascii")
    assert data[block - 1:block + 1] == b"\r\n"
    path = tmp_path / "crlf.txt"
    path.write_bytes(data)
    enc = encode_corpus(str(path), [f"w{i}" for i in range(10)], tmp_dir=str(tmp_path))
    expected_sentences = len([ln for ln in text.split("\n") if ln.split()])
    assert enc.n_words == len(text.split())
    assert enc.n_sentences == expected_sentences
    assert int(np.sum(enc.ids == E)) == expected_sentences


def test_encode_corpus_empty_and_all_oov(tmp_path):
    enc = encode(tmp_path, "")
    assert len(enc.ids) == 0 and enc.n_words == 0 and enc.n_sentences == 0
    enc = encode(tmp_path, "xx yy\nzz\n")
    assert len(enc.ids) == 0 and enc.n_skipped == 3 and enc.n_sentences == 0


# ---------------------------------------------------------------------------------------
# EncodedCorpus.job_bounds
# ---------------------------------------------------------------------------------------

def _check_bounds(ids, bounds, job_tokens):
    n = len(ids)
    assert bounds[0][0] == 0
    assert bounds[-1][1] == n
    for (_, e0), (s1, _) in zip(bounds, bounds[1:]):
        assert e0 == s1  # contiguous, no gap, no overlap
    for start, end in bounds:
        assert end > start
        assert ids[end - 1] == SENTENCE_END  # every job ends right after a sentence end
        # A job is at least job_tokens long (unless it is the last) and stops at the
        # first sentence end at or after that point.
        if end < n:
            assert end - start >= job_tokens
            assert SENTENCE_END not in ids[start + job_tokens - 1:end - 1].tolist()


@pytest.mark.parametrize("job_tokens", [1, 2, 3, 5, 10, 37, 1000, 10**6])
def test_job_bounds_cover_the_stream_and_end_after_sentence_ends(job_tokens):
    rng = np.random.default_rng(job_tokens)
    pieces = []
    for _ in range(300):
        pieces += rng.integers(0, 50, size=int(rng.integers(1, 15))).tolist() + [E]
    ids = np.array(pieces, dtype=np.int32)
    enc = EncodedCorpus(IdStream.of(ids), int(np.sum(ids != E)), 0, int(np.sum(ids == E)))
    bounds = enc.job_bounds(job_tokens)
    _check_bounds(ids, bounds, job_tokens)
    if job_tokens >= len(ids):
        assert bounds == [(0, len(ids))]


def test_job_bounds_on_encoded_corpus(tmp_path, tiny_blocks):
    tiny_blocks(16)
    text = "\n".join(("the cat sat on the mat " * (i % 5 + 1)).strip() for i in range(60))
    enc = encode(tmp_path, text)
    for job_tokens in (1, 7, 50, 20_000):
        _check_bounds(enc.ids, enc.job_bounds(job_tokens), job_tokens)


def test_job_bounds_with_longest_possible_sentences():
    # Sentences of MAX_SENTENCE_TOKENS tokens: the end must still be found.
    sentence = [1] * MAX_SENTENCE_TOKENS + [E]
    ids = np.array(sentence * 3, dtype=np.int32)
    enc = EncodedCorpus(IdStream.of(ids), 3 * MAX_SENTENCE_TOKENS, 0, 3)
    bounds = enc.job_bounds(1)
    L = MAX_SENTENCE_TOKENS + 1
    assert bounds == [(0, L), (L, 2 * L), (2 * L, 3 * L)]


def test_job_bounds_of_empty_stream():
    enc = EncodedCorpus(IdStream.of(np.zeros(0, dtype=np.int32)), 0, 0, 0)
    assert enc.job_bounds(10) == []


# ---------------------------------------------------------------------------------------
# Over-long tokens
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("block_bytes", [64, 1000, 4096, 1 << 20])
def test_over_long_tokens_are_skipped_and_counted(tmp_path, monkeypatch, block_bytes):
    monkeypatch.setattr(corpus, "BLOCK_BYTES", block_bytes)
    limit = corpus.MAX_TOKEN_BYTES
    at_limit = "é" * (limit // 2)  # exactly the limit in UTF-8 bytes: kept
    over = "x" * (limit + 1)
    huge = "y" * (20 * limit)  # longer than several blocks
    text = (f"a {over} b\n"
            f"c {at_limit} d\n"
            f"{huge}\n"
            f"e {huge} f {over}\n"
            f"g\n")
    path = tmp_path / "long.txt"
    path.write_text(text, encoding="utf-8")
    stats = ReadStats()
    assert read_corpus(path, stats) == [["a", "b"], ["c", at_limit, "d"], ["e", "f"], ["g"]]
    assert stats.n_long_tokens == 4


def test_training_warns_about_skipped_long_tokens(tmp_path):
    import fastw2v

    path = tmp_path / "c.txt"
    path.write_text(("w1 w2 w3 " + "z" * 5000 + " w4\n") * 20, encoding="utf-8")
    warnings = []
    model = fastw2v.train(str(path), min_count=1, epochs=1, threads=1, warn=warnings.append)
    assert sorted(model.words) == ["w1", "w2", "w3", "w4"]
    assert any("20 tokens longer than 1,000 bytes were skipped" in w for w in warnings)


@pytest.mark.parametrize("block_bytes", [1, 2, 3, 4, 4096])
def test_a_byte_order_mark_at_the_start_is_dropped(tmp_path, tiny_blocks, block_bytes):
    tiny_blocks(block_bytes)
    path = tmp_path / "c.txt"
    path.write_bytes(b"\xef\xbb\xbfthe cat\nthe \xef\xbb\xbfdog\n")
    # Only the file's first three bytes are a marker; elsewhere U+FEFF is text.
    assert read_corpus(path) == [["the", "cat"], ["the", "\ufeffdog"]]
