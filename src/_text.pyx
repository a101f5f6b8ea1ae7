# cython: language_level=3
"""The compiled text pipeline: tokenising, counting and encoding a corpus.

Reading the corpus was 40% of a CBOW run while it split text into Python strings and
counted them in a dict. Here the bytes go straight from the file's blocks into a C hash
table; no Python object is made per token. The pieces:

- `WordTable`: an open-addressing hash table from token bytes to (count, id). In counting
  mode it grows as words appear and, above `max_vocab` distinct words, prunes rare ones
  as word2vec.c's ReduceVocab does. In fixed mode it holds a given vocabulary and only
  looks words up.
- `Scanner`: cuts blocks of bytes into tokens at ASCII white space, carrying a token cut
  by a block's end into the next block, and turns each token into an id through a
  WordTable. It emits the ids with LINE_END after each line.
- `StreamEncoder`: turns an id stream with LINE_END marks into the stream the training
  kernel reads: unknown ids removed, SENTENCE_END after each line that kept a token and
  after every `max_sentence` tokens of a longer one.

Tokens are stored as valid UTF-8: invalid bytes are replaced by U+FFFD's encoding as the
token is read (with Python's rule of one replacement per maximal invalid subpart), so a
stored key is always the UTF-8 encoding of the Python string it stands for and two byte
strings that decode to the same word are one word.
"""

import numpy as np

cimport numpy as cnp
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, memmove, memset

cnp.import_array()

# Ids the Scanner and StreamEncoder put in streams besides word ids (which are >= 0).
LINE_END = -1       # in a Scanner's output: the end of a line
SENTENCE_END = -1   # in an encoded stream: the end of a sentence (the kernel's id)
# Tokens longer than this many bytes are skipped and counted, never truncated.
MAX_TOKEN_BYTES = 1000

# ASCII white space, as C's isspace in the "C" locale: space, \t, \n, \v, \f, \r.
cdef uint8_t IS_SPACE[256]
memset(IS_SPACE, 0, 256)
for _c in (0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d):
    IS_SPACE[_c] = 1


# Length of the valid UTF-8 sequence starting at s[0] (of n bytes left), or, when the
# bytes there are invalid, minus the length of the maximal invalid subpart: the lead byte
# plus the continuation bytes that could still have begun a valid sequence. Python's
# decoder replaces exactly such a subpart by one U+FFFD.
cdef inline int utf8_sequence(const uint8_t *s, int n) noexcept nogil:
    cdef uint8_t c = s[0]
    cdef int need, i
    cdef uint8_t lo = 0x80, hi = 0xBF
    if c < 0x80:
        return 1
    if 0xC2 <= c <= 0xDF:
        need = 1
    elif 0xE0 <= c <= 0xEF:
        need = 2
        if c == 0xE0:
            lo = 0xA0  # no overlong forms
        elif c == 0xED:
            hi = 0x9F  # no surrogates
    elif 0xF0 <= c <= 0xF4:
        need = 3
        if c == 0xF0:
            lo = 0x90
        elif c == 0xF4:
            hi = 0x8F  # nothing above U+10FFFF
    else:
        return -1
    for i in range(1, need + 1):
        if i >= n:
            return -i
        if i == 1:
            if s[1] < lo or s[1] > hi:
                return -1
        elif s[i] < 0x80 or s[i] > 0xBF:
            return -i
    return need + 1


# Copy token bytes to `out`, replacing each maximal invalid subpart by EF BF BD. Returns
# the output length; adds the number of invalid bytes to n_invalid.
cdef int sanitise_utf8(const uint8_t *s, int n, uint8_t *out,
                       int64_t *n_invalid) noexcept nogil:
    cdef int i = 0, o = 0, step
    while i < n:
        step = utf8_sequence(s + i, n - i)
        if step > 0:
            memcpy(out + o, s + i, step)
            o += step
            i += step
        else:
            out[o] = 0xEF
            out[o + 1] = 0xBF
            out[o + 2] = 0xBD
            o += 3
            i += -step
            n_invalid[0] += -step
    return o


cdef bint grow_entries(TableC *t) noexcept nogil:
    cdef Py_ssize_t cap = t.entry_capacity * 2 if t.entry_capacity else 1024
    cdef void *p = realloc(t.entries, cap * sizeof(EntryC))
    if p == NULL:
        return False
    t.entries = <EntryC *>p
    t.entry_capacity = cap
    return True


cdef bint rebuild_slots(TableC *t, Py_ssize_t n_slots) noexcept nogil:
    cdef int32_t *slots = <int32_t *>malloc(n_slots * sizeof(int32_t))
    cdef Py_ssize_t e, s, mask = n_slots - 1
    if slots == NULL:
        return False
    memset(slots, 0xFF, n_slots * sizeof(int32_t))  # every slot EMPTY_SLOT (-1)
    for e in range(t.n_entries):
        s = <Py_ssize_t>(t.entries[e].hash & <uint64_t>mask)
        while slots[s] != EMPTY_SLOT:
            s = (s + 1) & mask
        slots[s] = <int32_t>e
    free(t.slots)
    t.slots = slots
    t.n_slots = n_slots
    return True


# Most tokens are a few bytes long: a plain loop beats a call to memcmp.
cdef inline bint same_bytes(const uint8_t *a, const uint8_t *b, int n) noexcept nogil:
    cdef int i
    for i in range(n):
        if a[i] != b[i]:
            return False
    return True


# word2vec.c's ReduceVocab: drop every word seen at most `threshold` times, with the
# threshold one higher at each pruning, until the table is back within its bound. The
# surviving entries keep their order; the arena is compacted in place.
cdef bint prune(TableC *t) noexcept nogil:
    cdef Py_ssize_t e, kept
    cdef int64_t used
    while t.n_entries > t.max_entries:
        t.prune_threshold += 1
        t.n_prunes += 1
        kept = 0
        used = 0
        for e in range(t.n_entries):
            if t.entries[e].count <= t.prune_threshold:
                continue
            memmove(t.arena + used, t.arena + t.entries[e].key_offset,
                    t.entries[e].key_length)
            t.entries[kept] = t.entries[e]
            t.entries[kept].key_offset = used
            used += t.entries[e].key_length
            kept += 1
        t.n_entries = kept
        t.arena_used = used
    return rebuild_slots(t, t.n_slots)


# The entry of `key`, or -1. In counting mode a new key is inserted (count 0) unless the
# table is fixed; `*inserted` says whether that happened.
cdef Py_ssize_t find_or_insert(TableC *t, const uint8_t *key, int n, bint *inserted) noexcept nogil:
    cdef uint64_t h = hash_bytes(key, n)
    cdef Py_ssize_t mask = t.n_slots - 1
    cdef Py_ssize_t s = <Py_ssize_t>(h & <uint64_t>mask)
    cdef int32_t e
    cdef int64_t cap
    cdef void *p
    cdef EntryC *entry
    inserted[0] = False
    while True:
        e = t.slots[s]
        if e == EMPTY_SLOT:
            break
        entry = &t.entries[e]
        if (entry.hash == h and entry.key_length == n
                and same_bytes(t.arena + entry.key_offset, key, n)):
            return e
        s = (s + 1) & mask
    if t.fixed:
        return -1
    if t.n_entries == t.entry_capacity and not grow_entries(t):
        t.failed = True
        return -1
    if t.arena_used + n > t.arena_capacity:
        cap = t.arena_capacity * 2 if t.arena_capacity else 1 << 16
        while cap < t.arena_used + n:
            cap *= 2
        p = realloc(t.arena, cap)
        if p == NULL:
            t.failed = True
            return -1
        t.arena = <uint8_t *>p
        t.arena_capacity = cap
    e = <int32_t>t.n_entries
    memcpy(t.arena + t.arena_used, key, n)
    entry = &t.entries[e]
    entry.hash = h
    entry.count = 0
    entry.key_offset = t.arena_used
    entry.key_length = n
    entry.id = e
    t.arena_used += n
    t.n_entries += 1
    t.slots[s] = e
    inserted[0] = True
    if 2 * t.n_entries > t.n_slots and not rebuild_slots(t, 2 * t.n_slots):
        t.failed = True
    return e


cdef class WordTable:
    """A hash table from token bytes to counts and ids.

    `WordTable(max_vocab)` counts: every new token is inserted, and when more than
    `max_vocab` distinct tokens are held the rare ones are pruned (word2vec.c's
    ReduceVocab), so memory stays bounded; entry ids are insertion positions and change
    at a pruning. `WordTable.fixed(words)` holds a given vocabulary, word i with id i,
    and inserts nothing.
    """

    def __cinit__(self):
        memset(&self.t, 0, sizeof(TableC))

    def __init__(self, Py_ssize_t max_vocab=2**31 - 2):
        if max_vocab < 1:
            raise ValueError("max_vocab must be at least 1")
        self.t.max_entries = min(max_vocab, 2**31 - 2)
        if not rebuild_slots(&self.t, 1024):
            raise MemoryError()

    @staticmethod
    def fixed(words):
        """A fixed table of `words` (str), word i with id i. Repeated words are an error."""
        cdef WordTable table = WordTable()
        cdef bytes key
        cdef bint inserted
        cdef Py_ssize_t e
        for word in words:
            key = word.encode("utf-8")
            e = find_or_insert(&table.t, key, len(key), &inserted)
            if table.t.failed:
                raise MemoryError()
            if not inserted:
                raise ValueError(f"word {word!r} is listed twice")
            table.t.entries[e].count = 0
        table.t.fixed = True
        return table

    def __dealloc__(self):
        free(self.t.entries)
        free(self.t.slots)
        free(self.t.arena)

    def __len__(self):
        return self.t.n_entries

    @property
    def n_prunes(self):
        return self.t.n_prunes

    @property
    def prune_threshold(self):
        """Words counted up to this many times were dropped at a pruning (0: none was)."""
        return self.t.prune_threshold

    @property
    def memory_bytes(self):
        """Bytes the table has allocated (entries, slots and key arena)."""
        return (self.t.entry_capacity * sizeof(EntryC) + self.t.n_slots * sizeof(int32_t)
                + self.t.arena_capacity)

    def counts(self):
        """The count of each entry, in entry order (int64)."""
        out = np.empty(self.t.n_entries, dtype=np.int64)
        cdef int64_t[::1] view = out
        cdef Py_ssize_t e
        for e in range(self.t.n_entries):
            view[e] = self.t.entries[e].count
        return out

    def words(self, entries=None):
        """The words (str) of the given entries, or of all, in that order."""
        cdef Py_ssize_t e
        if entries is None:
            entries = range(self.t.n_entries)
        out = []
        for e in entries:
            if not 0 <= e < self.t.n_entries:
                raise IndexError(f"entry {e} out of range")
            out.append((<char *>self.t.arena)[self.t.entries[e].key_offset:
                       self.t.entries[e].key_offset + self.t.entries[e].key_length]
                       .decode("utf-8"))
        return out

    def entries_of(self, words):
        """The entry of each word (str), or -1 for a word the table does not hold."""
        cdef bytes key
        cdef bint inserted
        cdef bint was_fixed = self.t.fixed
        out = np.empty(len(words), dtype=np.int64)
        self.t.fixed = True  # look up only
        try:
            for i, word in enumerate(words):
                key = word.encode("utf-8")
                out[i] = find_or_insert(&self.t, key, len(key), &inserted)
        finally:
            self.t.fixed = was_fixed
        return out

    def count_words(self, tokens):
        """Count str tokens as the Scanner would count them (for tests and small inputs)."""
        cdef bytes key
        cdef bint inserted
        cdef Py_ssize_t e
        for token in tokens:
            key = token.encode("utf-8")
            e = find_or_insert(&self.t, key, len(key), &inserted)
            if self.t.failed:
                raise MemoryError()
            if e >= 0:
                self.t.entries[e].count += 1
                if self.t.n_entries > self.t.max_entries and not prune(&self.t):
                    raise MemoryError()


cdef class Scanner:
    """Cuts byte blocks into tokens and emits their ids, with LINE_END after each line.

    Feed the file's blocks in order with `feed`; the last call has `final=True`. A token
    cut by a block's end is carried into the next block. In counting mode (a counting
    WordTable) each token's entry is counted and its entry id emitted, as long as no
    pruning has happened (`stream_valid`; after a pruning the entry ids of earlier
    tokens mean nothing, and only counting goes on). In fixed mode each token's id is
    emitted, or nothing for an unknown token (`n_unknown` counts them).
    """

    # Attributes: see _text.pxd.

    # Subclasses (src/_phrases.pyx) take more arguments; Cython passes them all here.
    def __cinit__(self, WordTable table, bint emit=True, *args, **kwargs):
        self.table = table
        self.stream_valid = emit
        self.line = 1
        self.last_emitted = C_LINE_END  # leading blank lines emit nothing
        self.out_capacity = 1 << 16
        self.out = <int32_t *>malloc(self.out_capacity * sizeof(int32_t))
        if self.out == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.out)

    cdef bint emit(self, int32_t value) noexcept nogil:
        cdef void *p
        if self.out_length == self.out_capacity:
            p = realloc(self.out, 2 * self.out_capacity * sizeof(int32_t))
            if p == NULL:
                return False
            self.out = <int32_t *>p
            self.out_capacity *= 2
        self.out[self.out_length] = value
        self.out_length += 1
        self.last_emitted = value
        return True

    cdef bint end_line(self) noexcept nogil:
        if self.stream_valid and self.last_emitted != C_LINE_END:
            return self.emit(C_LINE_END)
        return True

    # One whole token. False only when memory ran out.
    cdef bint take_token(self, const uint8_t *token, int n) noexcept nogil:
        cdef int i
        cdef uint8_t high = 0
        cdef bint inserted
        cdef Py_ssize_t e
        cdef TableC *t = &self.table.t
        if n > C_MAX_TOKEN:
            self.n_long_tokens += 1
            return True
        for i in range(n):
            high |= token[i]
        if high & 0x80:
            n = sanitise_utf8(token, n, self.key, &self.n_invalid_bytes)
            token = self.key
        self.n_tokens += 1
        e = find_or_insert(t, token, n, &inserted)
        if t.failed:
            return False
        if e < 0:
            self.n_unknown += 1
            return True
        t.entries[e].count += 1
        if self.stream_valid and not self.emit(t.entries[e].id):
            return False
        if t.n_entries > t.max_entries:
            self.stream_valid = False
            if not prune(t):
                t.failed = True
                return False
        return True

    # Scan data[0:n]. Returns 0, or 1 for a NUL byte (nul_line set), or 2 for no memory.
    cdef int scan(self, const uint8_t *data, Py_ssize_t n, bint final) noexcept nogil:
        cdef Py_ssize_t pos = 0, start
        cdef uint8_t c
        # Finish a token that the previous block cut.
        if self.carry_length or self.skipping:
            while pos < n and not IS_SPACE[data[pos]]:
                if data[pos] == 0:
                    self.nul_line = self.line
                    return 1
                pos += 1
            if not self.skipping:
                if self.carry_length + pos > C_MAX_TOKEN:
                    self.n_long_tokens += 1
                    self.skipping = True
                    self.carry_length = 0
                else:
                    memcpy(self.carry + self.carry_length, data, pos)
                    self.carry_length += <int>pos
            if pos < n or final:
                if self.carry_length:
                    if not self.take_token(self.carry, self.carry_length):
                        return 2
                self.carry_length = 0
                self.skipping = False
        while pos < n:
            c = data[pos]
            if IS_SPACE[c]:
                if c == 10:  # '\n'
                    self.line += 1
                    if not self.end_line():
                        return 2
                pos += 1
                continue
            start = pos
            while pos < n and not IS_SPACE[data[pos]]:
                if data[pos] == 0:
                    self.nul_line = self.line
                    return 1
                pos += 1
            if pos == n and not final:
                # The block cut this token: keep it (or note that it is too long).
                if pos - start > C_MAX_TOKEN:
                    self.n_long_tokens += 1
                    self.skipping = True
                else:
                    memcpy(self.carry, data + start, pos - start)
                    self.carry_length = <int>(pos - start)
                return 0
            if not self.take_token(data + start, <int>(pos - start)):
                return 2
        if final and not self.end_line():
            return 2
        return 0

    def feed(self, const uint8_t[::1] block, bint final=False):
        """Scan one block; return the ids emitted so far by this call (int32).

        Raises ValueError("NUL") with `nul_line` set when the block holds a NUL byte.
        """
        cdef int status = 0
        self.out_length = 0
        if block.shape[0] or final:
            with nogil:
                status = self.scan(&block[0] if block.shape[0] else NULL, block.shape[0],
                                   final)
        if status == 1:
            raise ValueError("NUL")
        if status == 2:
            raise MemoryError()
        out = np.empty(self.out_length, dtype=np.int32)
        if self.out_length:
            memcpy(cnp.PyArray_DATA(out), self.out, self.out_length * sizeof(int32_t))
        return out


cdef class StreamEncoder:
    """Turns Scanner output into the kernel's id stream, chunk by chunk.

    `encode(ids, id_map)` maps each id through `id_map` (entry id -> word id, negative
    for a word left out of the vocabulary; None when the ids already are word ids),
    drops the unknown ones, and puts SENTENCE_END after each line that kept a token and
    after every `max_sentence` kept tokens of a line. `finish()` closes the last
    sentence. Sentences carry across chunks.
    """

    cdef readonly int max_sentence
    cdef readonly int64_t n_words, n_skipped, n_sentences
    cdef int sentence_length

    def __init__(self, int max_sentence):
        if max_sentence < 1:
            raise ValueError("max_sentence must be at least 1")
        self.max_sentence = max_sentence

    def encode(self, const int32_t[::1] ids, id_map=None):
        cdef const int32_t[::1] mapping
        cdef Py_ssize_t n = ids.shape[0], n_map = 0, i, o = 0
        cdef int32_t x
        cdef const int32_t *map_ptr = NULL
        if id_map is not None:
            mapping = id_map
            n_map = mapping.shape[0]
            if n_map:
                map_ptr = &mapping[0]
        # At most one SENTENCE_END per input id plus one per max_sentence kept tokens.
        out = np.empty(n + n // self.max_sentence + 1, dtype=np.int32)
        cdef int32_t[::1] dest = out
        cdef bint bad = False
        with nogil:
            for i in range(n):
                x = ids[i]
                if x == C_LINE_END:
                    if self.sentence_length:
                        dest[o] = C_SENTENCE_END
                        o += 1
                        self.n_sentences += 1
                        self.sentence_length = 0
                    continue
                if map_ptr != NULL:
                    if x < 0 or x >= n_map:
                        bad = True
                        break
                    x = map_ptr[x]
                if x < 0:
                    self.n_skipped += 1
                    continue
                dest[o] = x
                o += 1
                self.n_words += 1
                self.sentence_length += 1
                if self.sentence_length == self.max_sentence:
                    dest[o] = C_SENTENCE_END
                    o += 1
                    self.n_sentences += 1
                    self.sentence_length = 0
        if bad:
            raise ValueError(f"id {x} is outside the id map of {n_map} entries")
        return out[:o]

    def finish(self):
        """The stream's tail: a SENTENCE_END if a sentence is still open."""
        if self.sentence_length:
            self.sentence_length = 0
            self.n_sentences += 1
            return np.array([SENTENCE_END], dtype=np.int32)
        return np.zeros(0, dtype=np.int32)
