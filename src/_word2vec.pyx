# cython: language_level=3
"""The compiled readers and writers of word2vec's vector files (text and binary).

`fastw2v/formats/word2vec.py` opens the file, reads and checks the header, and hands
the rest of the file to `read_binary` or `read_text`, which stream it in blocks of
BLOCK_BYTES into a matrix allocated once for the rows the header announces (or fewer,
when the file is too short to hold them, so a lying header cannot ask for terabytes).
Peak memory is the matrix, the words, their hash table and one block: never the whole
file.

Every strictness of the reader documented in word2vec.py is kept here, with the same
messages: a problem is raised as FormatError when the row holding it is read, so the
error names the first damaged place in file order. Each row's sum of squares is taken
in double precision as it is stored; it both refuses a row whose length overflows
float32 and gives the norms that queries need, without a second pass over the matrix.

Text values are parsed by `parse_value`: a strict grammar check (an optional sign,
digits with at most one point, an optional exponent; or inf/nan, which are refused as
non-finite) and, when the digits fit Clinger's fast path for float32 (an integer of at
most 2^24 scaled by a power of ten of at most 10^10, both exact in float32, so one
IEEE operation rounds correctly), the value in two instructions; otherwise the C
library's correctly rounded `strtof` on the checked token.

The words are collected as a WordList (fastw2v/text/words.py) by `_Words`, which also
refuses a word listed twice when the row repeating it is read.
"""

import numpy as np

cimport numpy as cnp
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport INT32_MAX, int32_t, int64_t, uint8_t, uint64_t
from libc.stdio cimport snprintf
from libc.math cimport fabs, floor, log10, sqrt
from libc.stdlib cimport free, malloc, strtof
from libc.string cimport memchr, memcmp, memcpy, memmove, memset

from fastw2v._text cimport hash_bytes
from fastw2v.errors import FormatError
from fastw2v.text.words import WordList

cnp.import_array()

# How many bytes each read of the file asks for: large enough that the per-call cost
# vanishes, small enough to stay a rounding error beside any matrix worth streaming.
BLOCK_BYTES = 1 << 20

# More rows than any file can hold (a header's count is capped to this before use).
cdef Py_ssize_t ANY_FILE_ROWS = 1LL << 62

cdef double FLOAT32_MAX = 3.4028234663852886e38
cdef double FLOAT32_MAX_SQUARED = FLOAT32_MAX * FLOAT32_MAX

# ASCII white space as bytes.split() sees it: space, \t, \n, \v, \f, \r.
cdef uint8_t IS_SPACE[256]
IS_SPACE[:] = [0] * 256
for _c in (0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d):
    IS_SPACE[_c] = 1

# Exact powers of ten in float32 (5^10 < 2^24, so 10^10 is still exact).
cdef float POW10[11]
POW10[:] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]

# The bytes the parsers look for, by name.
cdef enum:
    CH_0 = 48
    CH_9 = 57
    CH_PLUS = 43
    CH_MINUS = 45
    CH_POINT = 46
    CH_E = 101
    CH_UPPER_E = 69
    CH_I = 105
    CH_UPPER_I = 73
    CH_N = 110
    CH_UPPER_N = 78
    CH_SPACE = 32
    CH_NEWLINE = 10

cdef enum:
    VALUE_OK = 0
    VALUE_NOT_A_NUMBER = 1
    FAST_MANTISSA_LIMIT = 1 << 24


cdef class _Blocks:
    """A window onto a file read block by block: bytes [start, end) of `buf` are read
    and not yet consumed; a NUL byte always follows them (strtof stops there)."""
    cdef object source
    cdef bytearray buf
    cdef unsigned char *data
    cdef Py_ssize_t start, end, capacity
    cdef bint eof

    def __init__(self, source, bytes head):
        self.source = source
        self.capacity = max(BLOCK_BYTES, len(head) + 1)
        self.buf = bytearray(self.capacity + 1)
        self.data = <unsigned char *>self.buf
        self.start = 0
        self.end = len(head)
        memcpy(self.data, <const char *>head, self.end)
        self.data[self.end] = 0
        self.eof = False

    cdef bint more(self) except -1:
        """Read more of the file after the unconsumed bytes (moved to the front, the
        buffer doubled if they fill it); False at the end of the file."""
        if self.eof:
            return False
        cdef Py_ssize_t kept = self.end - self.start
        cdef bytearray bigger
        if self.start > 0:
            memmove(self.data, self.data + self.start, kept)
            self.start, self.end = 0, kept
            # The NUL after the bytes moves with them, even if nothing more is read: the
            # last number of a file without a final line end is parsed up to it (strtof).
            self.data[self.end] = 0
        if self.end == self.capacity:
            # One row longer than the buffer (a huge word): room for it, and no more.
            self.capacity *= 2
            bigger = bytearray(self.capacity + 1)
            memcpy(<unsigned char *>bigger, self.data, kept)
            self.buf = bigger
            self.data = <unsigned char *>self.buf
        cdef Py_ssize_t got = self.source.readinto(
            memoryview(self.buf)[self.end:self.capacity])
        if not got:
            self.eof = True
            return False
        self.end += got
        self.data[self.end] = 0
        return True


cdef inline int parse_value(const unsigned char *p, const unsigned char *stop,
                            float *out) noexcept nogil:
    """Parse the number spelled by bytes [p, stop), followed by white space or NUL."""
    cdef const unsigned char *token = p
    cdef uint64_t mantissa = 0
    cdef int exponent = 0, written_exponent = 0, n_digits = 0
    cdef bint negative = False, exact = True, negative_exponent = False
    cdef char *parsed_end
    if p < stop and (p[0] == CH_PLUS or p[0] == CH_MINUS):
        negative = p[0] == CH_MINUS
        p += 1
    while p < stop and CH_0 <= p[0] <= CH_9:
        if mantissa < 100000000000000000ULL:
            mantissa = mantissa * 10 + (p[0] - CH_0)
        else:
            exact = False
        n_digits += 1
        p += 1
    if p < stop and p[0] == CH_POINT:
        p += 1
        while p < stop and CH_0 <= p[0] <= CH_9:
            if mantissa < 100000000000000000ULL:
                mantissa = mantissa * 10 + (p[0] - CH_0)
                exponent -= 1
            else:
                exact = False
            n_digits += 1
            p += 1
    if n_digits == 0:
        return parse_special(token, stop, out)
    if p < stop and (p[0] == CH_E or p[0] == CH_UPPER_E):
        p += 1
        if p < stop and (p[0] == CH_PLUS or p[0] == CH_MINUS):
            negative_exponent = p[0] == CH_MINUS
            p += 1
        if p == stop or not (CH_0 <= p[0] <= CH_9):
            return VALUE_NOT_A_NUMBER
        while p < stop and CH_0 <= p[0] <= CH_9:
            if written_exponent < 100000:
                written_exponent = written_exponent * 10 + (p[0] - CH_0)
            p += 1
        exponent += -written_exponent if negative_exponent else written_exponent
    if p != stop:
        return VALUE_NOT_A_NUMBER
    cdef float value
    if exact and mantissa <= FAST_MANTISSA_LIMIT and -10 <= exponent <= 10:
        value = <float>mantissa
        if exponent < 0:
            value = value / POW10[-exponent]
        else:
            value = value * POW10[exponent]
        out[0] = -value if negative else value
        return VALUE_OK
    out[0] = strtof(<const char *>token, &parsed_end)
    return VALUE_OK if <const unsigned char *>parsed_end == stop else VALUE_NOT_A_NUMBER


cdef int parse_special(const unsigned char *token, const unsigned char *stop,
                       float *out) noexcept nogil:
    """inf, infinity or nan (any case, optional sign): parsed so that the caller refuses
    them as non-finite rather than as "not a number", as the earlier reader did."""
    cdef char *parsed_end
    cdef const unsigned char *p = token
    if p < stop and (p[0] == CH_PLUS or p[0] == CH_MINUS):
        p += 1
    if p == stop or not (p[0] == CH_I or p[0] == CH_UPPER_I or p[0] == CH_N or p[0] == CH_UPPER_N):
        # no digits, and no inf/nan either
        return VALUE_NOT_A_NUMBER
    out[0] = strtof(<const char *>token, &parsed_end)
    if <const unsigned char *>parsed_end != stop or out[0] == out[0] and (
            -FLOAT32_MAX <= out[0] <= FLOAT32_MAX):
        return VALUE_NOT_A_NUMBER  # "nan(...)" forms, or a finite result: not ours
    return VALUE_OK


cdef inline bint finite_float(float value) noexcept nogil:
    return -FLOAT32_MAX <= value <= FLOAT32_MAX  # False for NaN too


cdef class _Words:
    """The words of a file as its rows are read, held as a WordList holds them: one
    UTF-8 buffer joined by "\\n" and the offsets of the words. An open-addressing table
    of row numbers, sized once for the rows the file can hold, finds a word listed twice
    as the row repeating it is read, so that error too names the first damaged place in
    file order. No string is made per word: a million words cost their bytes, 8 bytes
    of offset and 8 of table each, not 61 MiB of Python strings and a 32 MiB set."""
    cdef str path
    cdef bint by_line      # places are line numbers (text) or vector numbers (binary)
    cdef bytearray blob
    cdef Py_ssize_t used
    cdef cnp.ndarray bounds
    cdef int64_t *bound
    cdef Py_ssize_t n
    cdef int32_t *slots    # a row, or -1; at most half full
    cdef Py_ssize_t mask

    def __cinit__(self):
        self.slots = NULL

    def __init__(self, str path, bint by_line, Py_ssize_t max_rows):
        if max_rows >= INT32_MAX:
            raise FormatError(f"{path}: the file could hold {max_rows:,} words; fastw2v "
                              f"reads at most {INT32_MAX - 1:,}")
        self.path = path
        self.by_line = by_line
        self.blob = bytearray(1 << 16)
        self.used = 0
        self.bounds = np.empty(max_rows + 1, dtype=np.int64)
        self.bound = <int64_t *>cnp.PyArray_DATA(self.bounds)
        self.n = 0
        cdef Py_ssize_t n_slots = 16
        while n_slots < 2 * max_rows:
            n_slots *= 2
        self.slots = <int32_t *>malloc(n_slots * sizeof(int32_t))
        if self.slots == NULL:
            raise MemoryError()
        memset(self.slots, 0xFF, n_slots * sizeof(int32_t))  # every slot -1
        self.mask = n_slots - 1

    def __dealloc__(self):
        free(self.slots)

    cdef int add(self, const unsigned char *p, Py_ssize_t length, Py_ssize_t place,
                 const int64_t *places) except -1:
        """Add the next row's word (`place`: its line or vector number; `places`, for
        text, the line of every row so far). FormatError for invalid UTF-8 or a word
        listed before."""
        cdef Py_ssize_t k, s, row
        cdef bytearray bigger
        for k in range(length):
            if p[k] >= 0x80:  # not plain ASCII: let Python's decoder judge it
                try:
                    PyUnicode_DecodeUTF8(<const char *>p, length, NULL)
                except UnicodeDecodeError:
                    raise FormatError(f"{self.path}: {self._where(place)}: word is not "
                                      f"valid UTF-8") from None
                break
        s = <Py_ssize_t>(hash_bytes(p, length) & <uint64_t>self.mask)
        while self.slots[s] >= 0:
            row = self.slots[s]
            if (self._length(row) == length
                    and memcmp(<unsigned char *>self.blob + self.bound[row], p, length) == 0):
                word = PyUnicode_DecodeUTF8(<const char *>p, length, NULL)
                was = places[row] if self.by_line else row + 1
                raise FormatError(f"{self.path}: {self._where(place)}: word {word!r} is "
                                  f"listed twice (first at {self._where(was)}); a query "
                                  f"could only reach one of the two vectors")
            s = (s + 1) & self.mask
        self.slots[s] = <int32_t>self.n
        if self.used + length + 1 > len(self.blob):
            bigger = bytearray(2 * (self.used + length + 1))
            memcpy(<unsigned char *>bigger, <unsigned char *>self.blob, self.used)
            self.blob = bigger
        if self.n:
            (<unsigned char *>self.blob)[self.used] = CH_NEWLINE
            self.used += 1
        self.bound[self.n] = self.used
        memcpy(<unsigned char *>self.blob + self.used, p, length)
        self.used += length
        self.n += 1
        return 0

    cdef Py_ssize_t _length(self, Py_ssize_t row):
        cdef Py_ssize_t end = self.bound[row + 1] - 1 if row + 1 < self.n else self.used
        return end - self.bound[row]

    cdef str _where(self, Py_ssize_t place):
        return f"line {place:,}" if self.by_line else f"vector {place:,}"

    cdef str word(self, Py_ssize_t row):
        start = self.bound[row]
        return self.blob[start:start + self._length(row)].decode("utf-8")

    def word_list(self):
        """The words read, as a WordList (distinct: every repeat was refused). The table
        is freed and the buffer trimmed in place, not copied: this is the moment the
        whole matrix is resident, the read's peak."""
        free(self.slots)
        self.slots = NULL
        self.bound[self.n] = self.used + 1
        del self.blob[self.used:]
        return WordList(self.blob, self.bounds[:self.n + 1], True)


cdef extern from *:
    """
    /* A row's sum of squares in double precision. The pragma (honoured under
     * -fopenmp-simd, see setup.py) lets the compiler split the sum into vector lanes:
     * a single running sum waits out the add's latency at every value, which made this
     * loop the binary reader's largest cost after the copy itself. */
    static double fw_sum_of_squares(const float *row, int dim)
    {
        double sum = 0.0;
    #pragma omp simd reduction(+:sum)
        for (int k = 0; k < dim; k++) {
            sum += (double)row[k] * (double)row[k];
        }
        return sum;
    }
    """
    double sum_of_squares "fw_sum_of_squares"(const float *row, int dim) noexcept nogil


def rows_fitting(Py_ssize_t n_words, Py_ssize_t body_bytes, Py_ssize_t min_row_bytes):
    """The rows to allocate for a header announcing `n_words`: no more than a body of
    `body_bytes` can hold at `min_row_bytes` a row (a lying header then fails on the
    first missing row, before any allocation of its size)."""
    return max(0, min(n_words, body_bytes // min_row_bytes))


def read_binary(source, bytes head, str path, n_words, int dim,
                Py_ssize_t body_bytes):
    """Read the `n_words` rows of a binary file after its header.

    `head` holds the bytes already read after the header line, `source` the rest (an
    object with readinto), `body_bytes` the size of both together. Returns the words,
    the float32 matrix and the float32 norms; a damaged file raises FormatError.
    """
    cdef Py_ssize_t row_bytes = 4 * <Py_ssize_t>dim
    # The header's count may exceed any size (it is damage then: no file holds so many).
    cdef Py_ssize_t n_target = min(n_words, ANY_FILE_ROWS)
    # A word of one byte, a space and the values: the smallest possible row.
    cdef Py_ssize_t n_rows = rows_fitting(n_target, body_bytes, row_bytes + 2)
    cdef cnp.ndarray matrix = np.empty((n_rows, dim), dtype=np.float32)
    cdef cnp.ndarray norms = np.empty(n_rows, dtype=np.float32)
    cdef float *rows = <float *>cnp.PyArray_DATA(matrix)
    cdef float *norm_out = <float *>cnp.PyArray_DATA(norms)
    cdef _Words words = _Words(path, False, n_rows)
    cdef _Blocks blocks = _Blocks(source, head)
    cdef Py_ssize_t i, k, space, word_start
    cdef int newline_after_rows = -1  # unknown until the second row
    cdef bint ends_line
    cdef unsigned char *data
    cdef const void *found
    cdef float *row
    cdef double squares
    for i in range(n_target):
        if i >= n_rows:  # the rest of the body is too short to hold this row
            raise FormatError(f"{path}: vector {i + 1:,} of {n_words:,}: file ends early "
                              f"(truncated, or the header overstates the word count)")
        if i > 0:
            while blocks.start == blocks.end and blocks.more():
                pass
            ends_line = blocks.start < blocks.end and (
                blocks.data[blocks.start] == 10 or blocks.data[blocks.start] == 13)
            if newline_after_rows < 0:
                newline_after_rows = ends_line
            elif newline_after_rows and not ends_line:
                raise FormatError(
                    f"{path}: vector {i:,} of {n_words:,}: no line end after its {dim:,} "
                    f"values as after the first vector (is the header's dimension {dim:,} "
                    f"right?)")
        while True:  # \n, \r after the previous vector
            while blocks.start < blocks.end and (blocks.data[blocks.start] == 10
                                                 or blocks.data[blocks.start] == 13):
                blocks.start += 1
            if blocks.start < blocks.end or not blocks.more():
                break
        # The word, a space, and the values, all in the buffer.
        while True:
            data = blocks.data
            word_start = blocks.start
            space = -1
            found = memchr(data + word_start, CH_SPACE, blocks.end - word_start)
            if found != NULL:
                space = <unsigned char *>found - data
            if space >= 0 and space + 1 + row_bytes <= blocks.end:
                break
            if not blocks.more():
                raise FormatError(f"{path}: vector {i + 1:,} of {n_words:,}: file ends early "
                                  f"(truncated, or the header overstates the word count)")
        if space == word_start:
            raise FormatError(f"{path}: vector {i + 1:,} of {n_words:,}: no word before the "
                              f"values (is the header's dimension {dim:,} right?)")
        for k in range(word_start, space):
            if data[k] == 0 or IS_SPACE[data[k]]:
                raw = bytes(data[word_start:space])
                raise FormatError(f"{path}: vector {i + 1:,} of {n_words:,}: word "
                                  f"{raw[:40]!r} holds white space or a NUL byte (is the "
                                  f"header's dimension {dim:,} right?)")
        words.add(data + word_start, space - word_start, i + 1, NULL)
        row = rows + i * <Py_ssize_t>dim
        memcpy(row, data + space + 1, row_bytes)
        blocks.start = space + 1 + row_bytes
        squares = sum_of_squares(row, dim)
        if not squares <= FLOAT32_MAX_SQUARED:  # NaN fails too
            raise FormatError(f"{path}: vector {i + 1:,} ({words.word(i)!r}) "
                              f"{_row_problem(row, dim)}")
        norm_out[i] = <float>sqrt(squares)
    while True:  # after the last row: only white space
        for k in range(blocks.start, blocks.end):
            if not IS_SPACE[blocks.data[k]]:
                raise FormatError(
                    f"{path}: data after the {n_words:,} vectors the header announces (the "
                    f"header understates the word count, or its dimension {dim:,} is wrong)")
        blocks.start = blocks.end
        if not blocks.more():
            break
    return words.word_list(), matrix, norms


cdef str _row_problem(const float *row, int dim):
    cdef int k
    for k in range(dim):
        if not finite_float(row[k]):
            return "holds a NaN or infinite value"
    return "is too long: its length overflows float32"


def read_text(source, bytes head, str path, n_words, int dim,
              Py_ssize_t body_bytes):
    """Read the `n_words` rows of a text file after its header (arguments as for
    read_binary). Returns the words, the matrix and the norms."""
    # A word and dim values of one byte each, separated by spaces, and a line end: the
    # shortest row (the last may lack its line end, hence the + 1).
    cdef Py_ssize_t n_target = min(n_words, ANY_FILE_ROWS)
    cdef Py_ssize_t n_rows = rows_fitting(n_target, body_bytes + 1, 2 * <Py_ssize_t>dim + 2)
    cdef cnp.ndarray matrix = np.empty((n_rows, dim), dtype=np.float32)
    cdef cnp.ndarray norms = np.empty(n_rows, dtype=np.float32)
    cdef cnp.ndarray line_numbers = np.empty(n_rows, dtype=np.int64)
    cdef float *rows = <float *>cnp.PyArray_DATA(matrix)
    cdef float *norm_out = <float *>cnp.PyArray_DATA(norms)
    cdef int64_t *line_out = <int64_t *>cnp.PyArray_DATA(line_numbers)
    cdef _Words words = _Words(path, True, n_rows)
    cdef _Blocks blocks = _Blocks(source, head)
    cdef Py_ssize_t row_index = 0, line_no = 1, n_fields, line_end, p, token_end, k
    cdef Py_ssize_t word_start, word_end
    cdef const void *found
    cdef bint last_line
    cdef unsigned char *data
    cdef float *row
    cdef double squares
    cdef int status
    while True:
        # One whole line in the buffer: up to its \n, or the rest of the file.
        while True:
            data = blocks.data
            found = memchr(data + blocks.start, CH_NEWLINE, blocks.end - blocks.start)
            if found != NULL:
                line_end = <unsigned char *>found - data
                last_line = False
                break
            if not blocks.more():
                line_end = blocks.end
                last_line = True
                break
        if last_line and blocks.start == blocks.end:
            break  # the file ended with a line end
        line_no += 1
        p = blocks.start
        while p < line_end and IS_SPACE[data[p]]:
            p += 1
        if p == line_end:  # a blank line
            blocks.start = line_end + 1 if not last_line else line_end
            if last_line:
                break
            continue
        if row_index == n_target:
            _refuse_extra_rows(blocks, path, n_words, line_no, line_end, last_line)
        # The word.
        token_end = p
        while token_end < line_end and not IS_SPACE[data[token_end]]:
            token_end += 1
        word_start, word_end = p, token_end
        # Count the fields before parsing: a wrong count is the clearer message.
        n_fields = 1
        k = token_end
        while True:
            while k < line_end and IS_SPACE[data[k]]:
                k += 1
            if k == line_end:
                break
            n_fields += 1
            while k < line_end and not IS_SPACE[data[k]]:
                k += 1
        if n_fields != dim + 1:
            raise FormatError(f"{path}: line {line_no:,}: expected a word and {dim:,} values, "
                              f"got {n_fields - 1:,} values")
        if memchr(data + word_start, 0, word_end - word_start) != NULL:
            raise FormatError(f"{path}: line {line_no:,}: the word holds a NUL byte (is this "
                              f"a binary file?)")
        if row_index >= n_rows:  # cannot happen: the body is too short for this row
            raise FormatError(f"{path}: header announces {n_words:,} words, the file is "
                              f"too short to hold them")
        words.add(data + word_start, word_end - word_start, line_no, line_out)
        row = rows + row_index * <Py_ssize_t>dim
        p = word_end
        with nogil:
            status = _parse_row(data, p, line_end, dim, row)
        if status == VALUE_NOT_A_NUMBER:
            raise FormatError(f"{path}: line {line_no:,}: a value is not a number")
        if status == 2:
            raise FormatError(f"{path}: line {line_no:,}: a value is NaN, infinite or too "
                              f"large for float32")
        if last_line and not IS_SPACE[data[line_end - 1]]:
            raise FormatError(f"{path}: line {line_no:,}: the file ends inside this row, "
                              f"without a line end (truncated? a complete file ends every "
                              f"row with a line end)")
        squares = sum_of_squares(row, dim)
        if not squares <= FLOAT32_MAX_SQUARED:
            raise FormatError(f"{path}: line {line_no:,}: the vector "
                              f"{_row_problem(row, dim)}")
        norm_out[row_index] = <float>sqrt(squares)
        line_out[row_index] = line_no
        row_index += 1
        if last_line:
            break
        blocks.start = line_end + 1
    if row_index != n_target:
        raise FormatError(f"{path}: header announces {n_words:,} words, file has "
                          f"{row_index:,}")
    return words.word_list(), matrix, norms


cdef int _parse_row(const unsigned char *data, Py_ssize_t p, Py_ssize_t line_end, int dim,
                    float *row) noexcept nogil:
    """Parse the `dim` values after position p (the field count is already checked):
    0, VALUE_NOT_A_NUMBER, or 2 for a value that is not finite in float32."""
    cdef Py_ssize_t token_end
    cdef int k
    cdef float value
    for k in range(dim):
        while IS_SPACE[data[p]]:
            p += 1
        token_end = p
        while token_end < line_end and not IS_SPACE[data[token_end]]:
            token_end += 1
        if parse_value(data + p, data + token_end, &value) != VALUE_OK:
            return VALUE_NOT_A_NUMBER
        if not finite_float(value):
            return 2
        row[k] = value
        p = token_end
    return 0


cdef void _refuse_extra_rows(_Blocks blocks, str path, n_words,
                             Py_ssize_t line_no, Py_ssize_t line_end,
                             bint last_line) except *:
    """A row beyond the header's count: count the rest, as the message gives the total."""
    cdef Py_ssize_t extra = 1, k
    cdef bint blank = True
    cdef unsigned char c
    blocks.start = line_end
    while True:
        for k in range(blocks.start, blocks.end):
            c = blocks.data[k]
            if c == 10:
                if not blank:
                    extra += 1
                blank = True
            elif not IS_SPACE[c]:
                blank = False
        blocks.start = blocks.end
        if not blocks.more():
            break
    if not blank:
        extra += 1
    if last_line:
        extra = 1
    raise FormatError(f"{path}: line {line_no:,}: header announces {n_words:,} words, "
                      f"file has {n_words + extra:,}")


# -- writers ------------------------------------------------------------------------------

def write_binary(out, const unsigned char[::1] blob, const int64_t[::1] bounds,
                 const float[:, ::1] vectors):
    """Write the rows of a binary file (word, space, little-endian float32 values, \\n)
    to `out`, in blocks of about BLOCK_BYTES; the caller writes the header. The words
    are a WordList's buffer and bounds (word i is blob[bounds[i]:bounds[i + 1] - 1])."""
    cdef Py_ssize_t row_bytes = 4 * vectors.shape[1], i
    cdef Py_ssize_t capacity = BLOCK_BYTES, used = 0, need, length
    cdef bytearray buf = bytearray(capacity)
    cdef unsigned char *data = <unsigned char *>buf
    cdef const unsigned char *word
    for i in range(vectors.shape[0]):
        word = &blob[0] + bounds[i]
        length = bounds[i + 1] - 1 - bounds[i]
        need = length + row_bytes + 2
        if used + need > capacity:
            out.write(memoryview(buf)[:used])
            used = 0
            if need > capacity:
                capacity = need
                buf = bytearray(capacity)
                data = <unsigned char *>buf
        memcpy(data + used, word, length)
        used += length
        data[used] = CH_SPACE
        memcpy(data + used + 1, &vectors[i, 0], row_bytes)
        used += 1 + row_bytes
        data[used] = CH_NEWLINE
        used += 1
    out.write(memoryview(buf)[:used])


# Powers of ten as doubles, 10^0 to 10^50: exact up to 10^22, within an ulp or two above.
cdef double DOUBLE_POW10[51]
DOUBLE_POW10[:] = [10.0 ** _k for _k in range(51)]


cdef inline double scale10(double value, int k) noexcept nogil:
    return value * DOUBLE_POW10[k] if k >= 0 else value / DOUBLE_POW10[-k]


cdef int format_g6(char *out, float number) noexcept nogil:
    """Write `number` as printf's "%.6g" does (Python's too); return the length.

    The six significant digits come from one scaling in double precision, whose error
    (below 1e-9 of a unit of the last digit) can only change the rounding when the
    scaled value is within that distance of a half: then, and for zeros and
    non-finite values, snprintf decides. That happens about once in a million values;
    snprintf alone took a microsecond a value.
    """
    cdef double value = number, scaled, fraction
    cdef int exponent, k, _, n = 0, point, last
    cdef long digits
    cdef char text[8]
    if value == 0 or not finite_float(number):
        return snprintf(out, 16, "%.6g", value)
    if value < 0:
        out[0] = CH_MINUS
        n = 1
        value = -value
    exponent = <int>floor(log10(value))
    scaled = scale10(value, 5 - exponent)
    if scaled >= 999999.5:  # log10 landed low, or rounding carries into a 7th digit
        exponent += 1
        scaled = scale10(value, 5 - exponent)
    elif scaled < 99999.5:
        exponent -= 1
        scaled = scale10(value, 5 - exponent)
    fraction = scaled - floor(scaled)
    if fabs(fraction - 0.5) < 1e-6 or not 99999.5 <= scaled < 999999.5:
        return n + snprintf(out + n, 16, "%.6g", value)
    digits = <long>floor(scaled + 0.5)
    for k in range(5, -1, -1):
        text[k] = <char>(48 + digits % 10)
        digits //= 10
    last = 5
    if -4 <= exponent < 6:  # fixed notation: the point after digit exponent + 1
        point = exponent + 1
        while last >= point and last > 0 and text[last] == 48:
            last -= 1
        if point <= 0:
            out[n] = 48
            out[n + 1] = CH_POINT
            n += 2
            for _ in range(-point):
                out[n] = 48
                n += 1
            for k in range(last + 1):
                out[n] = text[k]
                n += 1
        else:
            for k in range(min(point, 6)):
                out[n] = text[k]
                n += 1
            if last >= point:
                out[n] = CH_POINT
                n += 1
                for k in range(point, last + 1):
                    out[n] = text[k]
                    n += 1
        return n
    while last > 0 and text[last] == 48:
        last -= 1
    out[n] = text[0]
    n += 1
    if last > 0:
        out[n] = CH_POINT
        n += 1
        for k in range(1, last + 1):
            out[n] = text[k]
            n += 1
    return n + snprintf(out + n, 8, "e%+03d", exponent)


def format_values(const float[::1] values):
    """The values as write_text writes them, one str each (for the tests)."""
    cdef char text[32]
    cdef Py_ssize_t i
    cdef int n
    result = []
    for i in range(values.shape[0]):
        n = format_g6(text, values[i])
        result.append(text[:n].decode("ascii"))
    return result


def write_text(out, const unsigned char[::1] blob, const int64_t[::1] bounds,
               const float[:, ::1] vectors):
    """Write the rows of a text file: the word, then each value as C's and Python's
    "%.6g" print it (6 significant digits), separated by spaces, and \\n. The words as
    for write_binary."""
    cdef Py_ssize_t dim = vectors.shape[1], i, k, need
    # "-1.23457e-38" is 12 characters; 16 a value leaves room for any %.6g output.
    cdef Py_ssize_t capacity = BLOCK_BYTES, used = 0
    cdef bytearray buf = bytearray(capacity)
    cdef char *data = <char *>buf
    cdef const unsigned char *word
    cdef Py_ssize_t length
    for i in range(vectors.shape[0]):
        word = &blob[0] + bounds[i]
        length = bounds[i + 1] - 1 - bounds[i]
        need = length + 16 * dim + 2
        if used + need > capacity:
            out.write(memoryview(buf)[:used])
            used = 0
            if need > capacity:
                capacity = need
                buf = bytearray(capacity)
                data = <char *>buf
        memcpy(data + used, word, length)
        used += length
        with nogil:
            for k in range(dim):
                data[used] = CH_SPACE
                used += 1 + format_g6(data + used + 1, vectors[i, k])
        data[used] = CH_NEWLINE
        used += 1
    out.write(memoryview(buf)[:used])
