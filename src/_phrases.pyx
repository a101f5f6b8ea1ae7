# cython: language_level=3
"""The compiled side of phrase detection: counting pairs, scoring them, joining them.

Both passes over the text are Scanners (src/_text.pyx) whose per-token work is replaced,
so they cut tokens, replace invalid UTF-8 and skip over-long tokens exactly as training
does, and make no Python object per token.

- `PairCounter` counts every word that is not a connector word in the Scanner's word
  table, and every candidate phrase in a second table: a word, the connector words that
  follow it, and the next word that is not one (`bank of america`; with no connector
  words, just adjacent pairs). A candidate's key is its tokens joined by a space, which no
  token holds, so phrase keys and words never collide. Both tables prune their rarest
  entries when full (word2vec.c's ReduceVocab), so memory is bounded.
- `score_candidates` keeps the candidates whose score is above the threshold.
- `PhraseJoiner` rewrites the text, joining the tokens of every kept candidate with `_`,
  left to right: a word that has just ended a phrase does not start another one.
  Lines stay lines; the tokens of a line are written separated by one space.
"""

from libc.math cimport log
from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy

import numpy as np

from fastw2v._text cimport (
    C_KEY_CAPACITY,
    C_MAX_TOKEN,
    Scanner,
    TableC,
    WordTable,
    find_or_insert,
    prune,
    sanitise_utf8,
)

# The scorers, by number (the Python side names them).
SCORER_WORD2VEC = 0
SCORER_NPMI = 1

cdef enum:
    C_WORD2VEC = 0
    C_NPMI = 1
    # A candidate phrase (its first word and the connector words after it) is held in a
    # buffer of this many bytes; a longer run of connector words abandons the candidate.
    C_PENDING_CAPACITY = 4 * C_KEY_CAPACITY


# The next token of a Scanner's subclass, after the Scanner's rules: over-long tokens are
# counted and skipped (NULL), invalid UTF-8 is replaced. Returns the token's bytes.
cdef inline const uint8_t *clean_token(Scanner s, const uint8_t *token, int *n) noexcept nogil:
    cdef int i
    cdef uint8_t high = 0
    if n[0] > C_MAX_TOKEN:
        s.n_long_tokens += 1
        return NULL
    for i in range(n[0]):
        high |= token[i]
    if high & 0x80:
        n[0] = sanitise_utf8(token, n[0], s.key, &s.n_invalid_bytes)
        token = s.key
    s.n_tokens += 1
    return token


cdef inline bint is_listed(WordTable table, const uint8_t *token, int n) noexcept nogil:
    cdef bint inserted
    if table.t.n_entries == 0:
        return False
    return find_or_insert(&table.t, token, n, &inserted) >= 0


# Count one occurrence of key in a counting table, pruning when it is full.
cdef inline bint count_key(TableC *t, const uint8_t *key, int n) noexcept nogil:
    cdef bint inserted
    cdef Py_ssize_t e = find_or_insert(t, key, n, &inserted)
    if t.failed:
        return False
    t.entries[e].count += 1
    if t.n_entries > t.max_entries and not prune(t):
        t.failed = True
        return False
    return True


cdef class PairCounter(Scanner):
    """Counts words (in `table`) and candidate phrases (in `pairs`) as blocks are fed.

    `PairCounter(words, False, pairs, connectors)`: two counting WordTables and a fixed
    one of connector words (possibly empty).
    """

    cdef readonly WordTable pairs
    cdef WordTable connectors
    cdef uint8_t *pending        # the candidate so far: first word, connector words
    cdef int pending_length      # 0: no candidate open

    def __init__(self, WordTable words, bint emit, WordTable pairs, WordTable connectors):
        self.pairs = pairs
        self.connectors = connectors
        self.stream_valid = False  # nothing is emitted: counting only
        self.pending = <uint8_t *>malloc(C_PENDING_CAPACITY)
        if self.pending == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.pending)

    cdef bint end_line(self) noexcept nogil:
        self.pending_length = 0
        return True

    cdef bint take_token(self, const uint8_t *token, int n) noexcept nogil:
        token = clean_token(self, token, &n)
        if token == NULL:
            return True
        if is_listed(self.connectors, token, n):
            if self.pending_length:
                if self.pending_length + 1 + n > C_PENDING_CAPACITY:
                    self.pending_length = 0
                else:
                    self.pending[self.pending_length] = 32  # ' '
                    memcpy(self.pending + self.pending_length + 1, token, n)
                    self.pending_length += 1 + n
            return True
        if not count_key(&self.table.t, token, n):
            return False
        if self.pending_length and self.pending_length + 1 + n <= C_PENDING_CAPACITY:
            self.pending[self.pending_length] = 32
            memcpy(self.pending + self.pending_length + 1, token, n)
            if not count_key(&self.pairs.t, self.pending, self.pending_length + 1 + n):
                return False
        # This word ends one candidate and starts the next.
        memcpy(self.pending, token, n)
        self.pending_length = n
        return True


# The count of the word key[0:n] in a counting table, 0 when it is not there.
cdef inline int64_t count_of(TableC *t, const uint8_t *key, int n) noexcept nogil:
    cdef bint inserted, was_fixed = t.fixed
    cdef Py_ssize_t e
    t.fixed = True  # look up only
    e = find_or_insert(t, key, n, &inserted)
    t.fixed = was_fixed
    return t.entries[e].count if e >= 0 else 0


def score_candidates(WordTable pairs, WordTable words, int scorer, double threshold,
                     int64_t min_count, int64_t total_words):
    """The candidates of `pairs` that make phrases, and their scores.

    A candidate is kept when it and its two end words each occur at least `min_count`
    times and its score is greater than `threshold`. Scores, with N = total_words:
    SCORER_WORD2VEC: (n_ab - min_count) / (n_a * n_b) * N (word2vec.c's word2phrase);
    SCORER_NPMI: ln(p_ab / (p_a * p_b)) / -ln(p_ab), each p = count / N (Bouma 2009).
    Returns (entries of `pairs`, int64; scores, float64), in entry order.
    """
    cdef TableC *pt = &pairs.t
    cdef TableC *wt = &words.t
    cdef Py_ssize_t e, first, last, n_kept = 0
    cdef int64_t n_ab, n_a, n_b
    cdef const uint8_t *key
    cdef int length
    cdef double score, p_ab, big_n = <double>total_words
    kept = np.empty(pt.n_entries, dtype=np.int64)
    scores = np.empty(pt.n_entries, dtype=np.float64)
    cdef int64_t[::1] kept_view = kept
    cdef double[::1] score_view = scores
    if total_words <= 0:
        return kept[:0], scores[:0]
    with nogil:
        for e in range(pt.n_entries):
            n_ab = pt.entries[e].count
            if n_ab < min_count:
                continue
            key = pt.arena + pt.entries[e].key_offset
            length = pt.entries[e].key_length
            first = 0
            while key[first] != 32:
                first += 1
            last = length - 1
            while key[last] != 32:
                last -= 1
            n_a = count_of(wt, key, <int>first)
            n_b = count_of(wt, key + last + 1, <int>(length - last - 1))
            if n_a < min_count or n_b < min_count or n_a == 0 or n_b == 0:
                continue
            if scorer == C_WORD2VEC:
                score = (<double>(n_ab - min_count)) / (<double>n_a * <double>n_b) * big_n
            else:
                p_ab = n_ab / big_n
                if p_ab >= 1.0:
                    continue
                score = log(p_ab / ((n_a / big_n) * (n_b / big_n))) / -log(p_ab)
            if score > threshold:
                kept_view[n_kept] = e
                score_view[n_kept] = score
                n_kept += 1
    return kept[:n_kept], scores[:n_kept]


cdef class PhraseJoiner(Scanner):
    """Rewrites fed blocks with the phrases of a fixed table joined by `_`.

    `PhraseJoiner(phrases, False, connectors)`: `phrases` is a fixed WordTable of phrase
    keys (tokens joined by a space; each entry's count becomes the number of times it was
    joined), `connectors` a fixed table of connector words. After each `feed`, `output()`
    returns the text written so far and clears it.
    """

    cdef WordTable connectors
    cdef uint8_t *pending        # an open candidate: first word, connector words
    cdef int pending_length      # 0: none open
    cdef uint8_t *buffer         # text written, not yet taken by output()
    cdef Py_ssize_t buffer_length, buffer_capacity
    cdef bint line_has_text      # something was written on the current output line
    cdef int64_t ended_line      # `line` at the last end_line: a newline advanced it
    cdef readonly int64_t n_joined

    def __init__(self, WordTable phrases, bint emit, WordTable connectors):
        self.connectors = connectors
        self.stream_valid = False
        self.ended_line = self.line
        self.pending = <uint8_t *>malloc(C_PENDING_CAPACITY)
        self.buffer_capacity = 1 << 21
        self.buffer = <uint8_t *>malloc(self.buffer_capacity)
        if self.pending == NULL or self.buffer == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.pending)
        free(self.buffer)

    cdef bint write(self, const uint8_t *data, int n, bint spaced) noexcept nogil:
        cdef Py_ssize_t need = self.buffer_length + n + 2
        cdef Py_ssize_t cap = self.buffer_capacity
        cdef void *p
        if need > cap:
            while cap < need:
                cap *= 2
            p = realloc(self.buffer, cap)
            if p == NULL:
                return False
            self.buffer = <uint8_t *>p
            self.buffer_capacity = cap
        if spaced and self.line_has_text:
            self.buffer[self.buffer_length] = 32
            self.buffer_length += 1
        memcpy(self.buffer + self.buffer_length, data, n)
        self.buffer_length += n
        self.line_has_text = True
        return True

    # Write the open candidate's tokens as they were (one space apart) and close it.
    cdef bint flush_pending(self) noexcept nogil:
        cdef int n = self.pending_length
        self.pending_length = 0
        if n:
            return self.write(self.pending, n, True)
        return True

    cdef bint end_line(self) noexcept nogil:
        if not self.flush_pending():
            return False
        # A newline advanced `line`; the call at the end of the input did not, and then a
        # line end is written only to close a last line that had text.
        if self.line != self.ended_line or self.line_has_text:
            if not self.write(<const uint8_t *>b"\n", 1, False):
                return False
            self.line_has_text = False
        self.ended_line = self.line
        return True

    cdef bint take_token(self, const uint8_t *token, int n) noexcept nogil:
        cdef bint inserted
        cdef Py_ssize_t e, i, length
        cdef TableC *phrases
        token = clean_token(self, token, &n)
        if token == NULL:
            return True
        if is_listed(self.connectors, token, n):
            if not self.pending_length:
                return self.write(token, n, True)
            if self.pending_length + 1 + n > C_PENDING_CAPACITY:
                return self.flush_pending() and self.write(token, n, True)
            self.pending[self.pending_length] = 32
            memcpy(self.pending + self.pending_length + 1, token, n)
            self.pending_length += 1 + n
            return True
        if self.pending_length and self.pending_length + 1 + n <= C_PENDING_CAPACITY:
            self.pending[self.pending_length] = 32
            memcpy(self.pending + self.pending_length + 1, token, n)
            length = self.pending_length + 1 + n
            phrases = &self.table.t
            e = find_or_insert(phrases, self.pending, <int>length, &inserted)
            if e >= 0:
                phrases.entries[e].count += 1
                self.n_joined += 1
                for i in range(length):
                    if self.pending[i] == 32:
                        self.pending[i] = 95  # '_'
                self.pending_length = 0
                return self.write(self.pending, <int>length, True)
        if not self.flush_pending():
            return False
        memcpy(self.pending, token, n)
        self.pending_length = n
        return True

    def output(self):
        """The text written since the last call (bytes)."""
        data = (<char *>self.buffer)[:self.buffer_length] if self.buffer_length else b""
        self.buffer_length = 0
        return data
