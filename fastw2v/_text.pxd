# The C surface of src/_text.pyx, shared with src/_phrases.pyx: the hash table's structs
# and functions, and the Scanner whose `take_token` and `end_line` a subclass replaces
# to do other work per token with the same tokenising rules.

from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t

cdef enum:
    C_LINE_END = -1
    C_SENTENCE_END = -1
    C_MAX_TOKEN = 1000
    # A token with invalid bytes grows by at most 2 bytes per byte (1 byte -> EF BF BD).
    C_KEY_CAPACITY = 3 * 1000 + 8
    EMPTY_SLOT = -1


# One word's entry: 32 bytes, so that a lookup touches one cache line besides its slot
# and its key bytes.
cdef struct EntryC:
    uint64_t hash
    int64_t count
    int64_t key_offset     # into the arena
    int32_t key_length
    int32_t id             # fixed mode: the word's id; counting mode: the entry's index


cdef struct TableC:
    EntryC *entries        # in insertion order
    Py_ssize_t n_entries
    Py_ssize_t entry_capacity
    # Open addressing with linear probing; each slot holds an entry index or EMPTY_SLOT.
    int32_t *slots
    Py_ssize_t n_slots     # a power of two, at least twice n_entries
    uint8_t *arena
    int64_t arena_used
    int64_t arena_capacity
    # Counting mode: ReduceVocab pruning.
    Py_ssize_t max_entries
    int64_t prune_threshold
    int64_t n_prunes
    bint fixed
    bint failed            # an allocation failed; the Python side raises MemoryError


cdef inline uint64_t hash_bytes(const uint8_t *key, Py_ssize_t n) noexcept nogil:
    # FNV-1a, then a final avalanche so that the low bits used for the slot mix well.
    # Shared with the word2vec readers (src/_word2vec.pyx), which hash words too.
    cdef uint64_t h = 14695981039346656037ULL
    cdef Py_ssize_t i
    for i in range(n):
        h = (h ^ key[i]) * 1099511628211ULL
    h ^= h >> 32
    h *= 0xD6E8FEB86659FD93ULL
    h ^= h >> 32
    return h


cdef int sanitise_utf8(const uint8_t *s, int n, uint8_t *out,
                       int64_t *n_invalid) noexcept nogil
cdef bint prune(TableC *t) noexcept nogil
cdef Py_ssize_t find_or_insert(TableC *t, const uint8_t *key, int n,
                               bint *inserted) noexcept nogil


cdef class WordTable:
    cdef TableC t


cdef class Scanner:
    cdef WordTable table
    cdef uint8_t carry[C_MAX_TOKEN + 1]
    cdef int carry_length
    cdef bint skipping           # inside an over-long token
    cdef uint8_t key[C_KEY_CAPACITY]
    cdef int32_t *out
    cdef Py_ssize_t out_length, out_capacity
    cdef int32_t last_emitted    # across blocks, so that a line end is never doubled
    cdef readonly bint stream_valid
    cdef readonly int64_t n_tokens, n_unknown, n_long_tokens, n_invalid_bytes, line
    cdef readonly int64_t nul_line   # the line of a NUL byte (0: none seen)

    cdef bint emit(self, int32_t value) noexcept nogil
    cdef bint end_line(self) noexcept nogil
    cdef bint take_token(self, const uint8_t *token, int n) noexcept nogil
    cdef int scan(self, const uint8_t *data, Py_ssize_t n, bint final) noexcept nogil
