"""Hypothesis strategies and file builders shared by the tests in tests/hostile.

The builders write word2vec files byte by byte from the format's definition, not through
fastw2v's writer, so that a reader test does not lean on the code it checks.
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# The bytes that separate words and tokens everywhere in fastw2v (fastw2v.formats.word2vec).
ASCII_WHITE_SPACE = " \t\n\r\x0b\x0c"

# A word as any reader and writer must take it: non-empty, no ASCII white space (other
# white space, a no-break space say, belongs to the word), no NUL, no surrogates (not
# encodable in UTF-8).
word = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",),
                           blacklist_characters="\0" + ASCII_WHITE_SPACE),
    min_size=1, max_size=8,
)


@st.composite
def models(draw, max_words=6, max_dim=5):
    """(words, vectors): distinct words and a float32 matrix, one row each, that every
    writer accepts: finite values, and rows whose length fits float32 (values up to
    1e37 in magnitude, so at most sqrt(max_dim) * 1e37 < 3.4e38)."""
    assert max_dim <= 100
    words = draw(st.lists(word, min_size=1, max_size=max_words, unique=True))
    dim = draw(st.integers(1, max_dim))
    values = st.floats(-9.999999933815813e36, 9.999999933815813e36, width=32)  # +-1e37
    vectors = draw(hnp.arrays(np.float32, (len(words), dim), elements=values))
    return words, vectors


def word2vec_bytes(words, vectors, fmt, header=None, row_end=b"\n"):
    """A word2vec file: `header` (default "V D") then one row per word; `fmt` is "bin"
    (UTF-8 word, space, little-endian float32 values, `row_end`) or "text" (word and
    values as repr() of each float, separated by spaces, `row_end`)."""
    n, dim = vectors.shape
    out = [header if header is not None else f"{n} {dim}\n".encode()]
    for w, row in zip(words, vectors):
        w = w.encode("utf-8") if isinstance(w, str) else w
        if fmt == "bin":
            out.append(w + b" " + np.asarray(row, dtype="<f4").tobytes() + row_end)
        else:
            out.append(w + b" " + " ".join(repr(float(x)) for x in row).encode() + row_end)
    return b"".join(out)


def check_loaded(words, vectors):
    """What any successful load must give whatever the file held: one row per word,
    finite float32 values, words that are non-empty, distinct and free of ASCII white
    space (no format could have separated such a word from its values)."""
    assert isinstance(vectors, np.ndarray) and vectors.dtype == np.float32
    assert vectors.ndim == 2 and vectors.shape[0] == len(words) and vectors.shape[1] >= 1
    assert np.isfinite(vectors).all()
    assert len(set(words)) == len(words)
    for w in words:
        assert w and not any(ch in w for ch in ASCII_WHITE_SPACE), repr(w)


def mutations(data: bytes):
    """A strategy for `data` with one to three bytes replaced, deleted or inserted."""
    if not data:
        return st.binary(max_size=8)

    @st.composite
    def mutate(draw):
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 3))):
            pos = draw(st.integers(0, max(0, len(out) - 1)))
            kind = draw(st.sampled_from(("replace", "delete", "insert")))
            byte = draw(st.integers(0, 255))
            if kind == "replace" and out:
                out[pos] = byte
            elif kind == "delete" and out:
                del out[pos]
            else:
                out.insert(pos, byte)
        return bytes(out)

    return mutate()
