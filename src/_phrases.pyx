# cython: language_level=3
"""The compiled side of phrase detection: counting pairs, scoring them, joining them.

Both passes over the text are Scanners (src/_text.pyx) whose per-token work is replaced,
so they cut tokens, replace invalid UTF-8 and skip over-long tokens exactly as training
does, and make no Python object per token.

- `PairCounter` counts every word that is not a connector word in the Scanner's word
  table, and every candidate phrase: a word, the connector words that follow it, and
  the next word that is not one (`bank of america`; with no connector words, just
  adjacent pairs). Adjacent pairs, nearly all candidates, go to a `PairTable` keyed by
  the two words' entries in the word table: one probe of one 16-byte slot per token,
  where a table keyed by the pair's text costs three scattered reads (slot, entry, key
  bytes). Candidates with connector words go to a WordTable keyed by their tokens joined
  by a space, which no token holds. Every table prunes its rarest entries when full
  (word2vec.c's ReduceVocab), so memory is bounded; when the word table prunes, the
  pairs are renumbered to its new entries, and pairs of dropped words go with them.
- `score_candidates` keeps the candidates whose score is above the threshold.
- `PhraseJoiner` rewrites the text, joining the tokens of every kept candidate with `_`,
  left to right: a word that has just ended a phrase does not start another one.
  Lines stay lines; the tokens of a line are written separated by one space.
"""

from libc.math cimport log
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
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


# ---------------------------------------------------------------------------------------
# PairTable: counts of (entry a, entry b) pairs, open addressing over 16-byte slots.

cdef struct PairSlotC:
    uint64_t key           # (a + 1) << 32 | (b + 1); 0: an empty slot
    int64_t count


cdef struct PairTableC:
    PairSlotC *slots
    Py_ssize_t n_slots     # a power of two, at least twice n_pairs
    Py_ssize_t n_pairs
    Py_ssize_t max_pairs
    int64_t prune_threshold
    int64_t n_prunes
    bint failed


cdef inline uint64_t pair_key(int32_t a, int32_t b) noexcept nogil:
    return ((<uint64_t>(a + 1)) << 32) | <uint64_t>(b + 1)


cdef inline Py_ssize_t pair_slot(uint64_t key, Py_ssize_t mask) noexcept nogil:
    # splitmix64's finaliser: every bit of both entries reaches the low bits used, so
    # linear probing finds short runs (a plain multiply left long clusters).
    key = (key ^ (key >> 30)) * 0xBF58476D1CE4E5B9ULL
    key = (key ^ (key >> 27)) * 0x94D049BB133111EBULL
    return <Py_ssize_t>(key ^ (key >> 31)) & mask


# Put every pair of `old` (n_old slots) with a count above `keep_above` into `t`'s fresh
# slots, its entries renumbered through `remap` (NULL: kept) and dropped when mapped to -1.
cdef bint refill(PairTableC *t, PairSlotC *old, Py_ssize_t n_old, int64_t keep_above,
                 const int32_t *remap) noexcept nogil:
    cdef Py_ssize_t i, s, mask = t.n_slots - 1
    cdef int32_t a, b
    cdef uint64_t key
    t.slots = <PairSlotC *>calloc(t.n_slots, sizeof(PairSlotC))
    if t.slots == NULL:
        return False
    t.n_pairs = 0
    for i in range(n_old):
        key = old[i].key
        if key == 0 or old[i].count <= keep_above:
            continue
        if remap != NULL:
            a = remap[<int32_t>(key >> 32) - 1]
            b = remap[<int32_t>(<uint32_t>key) - 1]
            if a < 0 or b < 0:
                continue
            key = pair_key(a, b)
        s = pair_slot(key, mask)
        while t.slots[s].key != 0:
            s = (s + 1) & mask
        t.slots[s].key = key
        t.slots[s].count = old[i].count
        t.n_pairs += 1
    return True


cdef bint rebuild_pairs(PairTableC *t, Py_ssize_t n_slots, int64_t keep_above,
                        const int32_t *remap) noexcept nogil:
    cdef PairSlotC *old = t.slots
    cdef Py_ssize_t n_old = t.n_slots
    t.n_slots = n_slots
    if not refill(t, old, n_old, keep_above, remap):
        t.slots = old
        t.n_slots = n_old
        return False
    free(old)
    return True


# ReduceVocab for pairs: drop those seen at most prune_threshold times, one more each
# round, until the table is within its bound.
cdef bint prune_pairs(PairTableC *t) noexcept nogil:
    while t.n_pairs > t.max_pairs:
        t.prune_threshold += 1
        t.n_prunes += 1
        if not rebuild_pairs(t, t.n_slots, t.prune_threshold, NULL):
            return False
    return True


cdef inline bint count_pair(PairTableC *t, int32_t a, int32_t b) noexcept nogil:
    cdef uint64_t key = pair_key(a, b)
    cdef Py_ssize_t mask = t.n_slots - 1
    cdef Py_ssize_t s = pair_slot(key, mask)
    while t.slots[s].key != key:
        if t.slots[s].key == 0:
            t.slots[s].key = key
            t.slots[s].count = 1
            t.n_pairs += 1
            if 2 * t.n_pairs > t.n_slots and not rebuild_pairs(t, 2 * t.n_slots, 0, NULL):
                return False
            if t.n_pairs > t.max_pairs:
                return prune_pairs(t)
            return True
        s = (s + 1) & mask
    t.slots[s].count += 1
    return True


cdef class PairTable:
    """Counts of adjacent word pairs, by their entries in a word table; at most
    `max_pairs` at a time, the rarest pruned beyond."""

    cdef PairTableC t

    def __cinit__(self, Py_ssize_t max_pairs):
        if max_pairs < 1:
            raise ValueError("max_pairs must be at least 1")
        self.t.max_pairs = max_pairs
        self.t.n_slots = 1 << 12
        self.t.slots = <PairSlotC *>calloc(self.t.n_slots, sizeof(PairSlotC))
        if self.t.slots == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.t.slots)

    def __len__(self):
        return self.t.n_pairs

    @property
    def n_prunes(self):
        return self.t.n_prunes

    @property
    def prune_threshold(self):
        """Pairs counted up to this many times were dropped at a pruning (0: none were)."""
        return self.t.prune_threshold

    @property
    def memory_bytes(self):
        return self.t.n_slots * sizeof(PairSlotC)


# ---------------------------------------------------------------------------------------
# Counting.

cdef class PairCounter(Scanner):
    """Counts words (in `table`) and candidate phrases as blocks are fed.

    `PairCounter(words, False, pairs, linked, connectors)`: a counting WordTable of
    words, a PairTable of adjacent pairs, a counting WordTable of candidates with
    connector words inside, and a fixed WordTable of connector words (possibly empty).
    """

    cdef PairTable pairs
    cdef WordTable linked
    cdef WordTable connectors
    cdef int32_t previous        # the entry of the word that starts a candidate, or -1
    cdef uint8_t *pending        # that word's bytes and the connector words after it
    cdef int pending_length
    cdef int n_between           # connector words in pending
    cdef int32_t *remap          # scratch for renumbering pairs after a word pruning

    def __init__(self, WordTable words, bint emit, PairTable pairs, WordTable linked,
                 WordTable connectors):
        self.pairs = pairs
        self.linked = linked
        self.connectors = connectors
        self.stream_valid = False  # nothing is emitted: counting only
        self.previous = -1
        self.pending = <uint8_t *>malloc(C_PENDING_CAPACITY)
        if self.pending == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.pending)

    cdef bint end_line(self) noexcept nogil:
        self.previous = -1
        return True

    # Prune the word table, then renumber the pairs (and `previous`) to its entries.
    cdef bint prune_words(self) noexcept nogil:
        cdef TableC *t = &self.table.t
        cdef Py_ssize_t e, n_old = t.n_entries
        cdef int32_t *remap = <int32_t *>malloc(n_old * sizeof(int32_t))
        if remap == NULL:
            return False
        for e in range(n_old):
            t.entries[e].id = <int32_t>e  # prune keeps each survivor's id: its old entry
            remap[e] = -1
        if not prune(t):
            free(remap)
            return False
        for e in range(t.n_entries):
            remap[t.entries[e].id] = <int32_t>e
            t.entries[e].id = <int32_t>e
        if self.previous >= 0:
            self.previous = remap[self.previous]
        if not rebuild_pairs(&self.pairs.t, self.pairs.t.n_slots, 0, remap):
            free(remap)
            return False
        free(remap)
        return True

    cdef bint take_token(self, const uint8_t *token, int n) noexcept nogil:
        cdef TableC *words = &self.table.t
        cdef TableC *linked
        cdef bint inserted
        cdef Py_ssize_t e, e_linked
        token = clean_token(self, token, &n)
        if token == NULL:
            return True
        if is_listed(self.connectors, token, n):
            if self.previous >= 0:
                if self.pending_length + 1 + n > C_PENDING_CAPACITY:
                    self.previous = -1
                else:
                    self.pending[self.pending_length] = 32  # ' '
                    memcpy(self.pending + self.pending_length + 1, token, n)
                    self.pending_length += 1 + n
                    self.n_between += 1
            return True
        e = find_or_insert(words, token, n, &inserted)
        if words.failed:
            return False
        words.entries[e].count += 1
        if self.previous >= 0:
            if self.n_between == 0:
                if not count_pair(&self.pairs.t, self.previous, <int32_t>e):
                    return False
            elif self.pending_length + 1 + n <= C_PENDING_CAPACITY:
                self.pending[self.pending_length] = 32
                memcpy(self.pending + self.pending_length + 1, token, n)
                linked = &self.linked.t
                e_linked = find_or_insert(linked, self.pending, self.pending_length + 1 + n,
                                          &inserted)
                if linked.failed:
                    return False
                linked.entries[e_linked].count += 1
                if linked.n_entries > linked.max_entries and not prune(linked):
                    return False
        # This word ends one candidate and starts the next.
        self.previous = <int32_t>e
        memcpy(self.pending, token, n)
        self.pending_length = n
        self.n_between = 0
        if words.n_entries > words.max_entries and not self.prune_words():
            return False
        return True


# ---------------------------------------------------------------------------------------
# Scoring.

# The count of the word key[0:n] in a counting table, 0 when it is not there.
cdef inline int64_t count_of(TableC *t, const uint8_t *key, int n) noexcept nogil:
    cdef bint inserted, was_fixed = t.fixed
    cdef Py_ssize_t e
    t.fixed = True  # look up only
    e = find_or_insert(t, key, n, &inserted)
    t.fixed = was_fixed
    return t.entries[e].count if e >= 0 else 0


# The score of a candidate, or NaN when a count is below min_count.
cdef inline double score_of(int scorer, int64_t n_ab, int64_t n_a, int64_t n_b,
                            int64_t min_count, double big_n) noexcept nogil:
    cdef double p_ab
    if n_ab < min_count or n_a < min_count or n_b < min_count:
        return 0.0 / 0.0
    if scorer == C_WORD2VEC:
        return (<double>(n_ab - min_count)) / (<double>n_a * <double>n_b) * big_n
    p_ab = n_ab / big_n
    if p_ab >= 1.0:
        return 0.0 / 0.0
    return log(p_ab / ((n_a / big_n) * (n_b / big_n))) / -log(p_ab)


def score_candidates(WordTable words, PairTable pairs, WordTable linked, int scorer,
                     double threshold, int64_t min_count, int64_t total_words):
    """The candidates that make phrases: those that, and whose two end words, occur at
    least `min_count` times and whose score is greater than `threshold`.

    Scores, with N = total_words: SCORER_WORD2VEC: (n_ab - min_count) / (n_a n_b) * N
    (word2vec.c's word2phrase); SCORER_NPMI: ln(p_ab / (p_a p_b)) / -ln(p_ab), each
    p = count / N (Bouma 2009). Returns (first word entries, second word entries,
    counts, scores) of the adjacent pairs, then (entries of `linked`, counts, scores)
    of the candidates with connector words.
    """
    cdef PairTableC *pt = &pairs.t
    cdef TableC *wt = &words.t
    cdef TableC *lt = &linked.t
    cdef Py_ssize_t i, first, last, n_kept = 0, n_linked = 0
    cdef int64_t n_ab
    cdef int32_t a, b
    cdef const uint8_t *key
    cdef int length
    cdef double score, big_n = <double>total_words
    firsts = np.empty(pt.n_pairs, dtype=np.int64)
    seconds = np.empty(pt.n_pairs, dtype=np.int64)
    counts = np.empty(pt.n_pairs, dtype=np.int64)
    scores = np.empty(pt.n_pairs, dtype=np.float64)
    linked_entries = np.empty(lt.n_entries, dtype=np.int64)
    linked_counts = np.empty(lt.n_entries, dtype=np.int64)
    linked_scores = np.empty(lt.n_entries, dtype=np.float64)
    cdef int64_t[::1] first_view = firsts, second_view = seconds, count_view = counts
    cdef double[::1] score_view = scores
    cdef int64_t[::1] le_view = linked_entries, lc_view = linked_counts
    cdef double[::1] ls_view = linked_scores
    if total_words > 0:
        with nogil:
            for i in range(pt.n_slots):
                if pt.slots[i].key == 0:
                    continue
                a = <int32_t>(pt.slots[i].key >> 32) - 1
                b = <int32_t>(<uint32_t>pt.slots[i].key) - 1
                n_ab = pt.slots[i].count
                score = score_of(scorer, n_ab, wt.entries[a].count, wt.entries[b].count,
                                 min_count, big_n)
                if score > threshold:  # false for NaN
                    first_view[n_kept] = a
                    second_view[n_kept] = b
                    count_view[n_kept] = n_ab
                    score_view[n_kept] = score
                    n_kept += 1
            for i in range(lt.n_entries):
                n_ab = lt.entries[i].count
                if n_ab < min_count:
                    continue
                key = lt.arena + lt.entries[i].key_offset
                length = lt.entries[i].key_length
                first = 0
                while key[first] != 32:
                    first += 1
                last = length - 1
                while key[last] != 32:
                    last -= 1
                score = score_of(scorer, n_ab, count_of(wt, key, <int>first),
                                 count_of(wt, key + last + 1, <int>(length - last - 1)),
                                 min_count, big_n)
                if score > threshold:
                    le_view[n_linked] = i
                    lc_view[n_linked] = n_ab
                    ls_view[n_linked] = score
                    n_linked += 1
    return ((firsts[:n_kept], seconds[:n_kept], counts[:n_kept], scores[:n_kept]),
            (linked_entries[:n_linked], linked_counts[:n_linked], linked_scores[:n_linked]))


# ---------------------------------------------------------------------------------------
# Joining.

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
