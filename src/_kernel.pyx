# cython: language_level=3
"""The compiled training kernel: skip-gram and CBOW with negative sampling.

Hogwild contract (Niu et al. 2011). Several Python threads call `Trainer.train_job` at
once with the GIL released. They read and write the two shared float32 matrices
`w_in` and `w_out` without locks: two threads may update the same row at the same
time and one update can be partly lost. That race is deliberate; the updates are
sparse, so collisions are rare and SGD tolerates them. Nothing else is shared and
written: each thread has its own `Worker` (scratch buffers and RNG state), the
lookup tables are read-only, and every count and loss of a job is returned to the
caller, who adds them up under the GIL.

The nogil functions below take only structs and raw pointers, allocate nothing and
have no error paths; all validation happens in `Trainer.__init__` and
`Trainer.train_job`, with the GIL held.
"""

import numpy as np

cimport numpy as cnp
from kernel_defs cimport *
from libc.math cimport exp, log1p
from libc.stdint cimport int32_t, uint32_t, uint64_t

cnp.import_array()

ctypedef float[:, ::1] float2d_t
ctypedef const float[::1] const_float1d_t
ctypedef const int32_t[::1] const_int1d_t
ctypedef const uint32_t[::1] const_uint1d_t


def sigmoid_tables():
    """Return (sigmoid, log_sigmoid) tables, float32, sampled at the bin centres.

    Bin i covers [-R + i*step, -R + (i+1)*step) with R = SIGMOID_RANGE and
    step = 2R / SIGMOID_TABLE_SIZE; taking the value at the centre halves the worst-case
    error compared with word2vec.c's left-edge table.
    """
    step = 2.0 * SIGMOID_RANGE / SIGMOID_TABLE_SIZE
    centres = -SIGMOID_RANGE + (np.arange(SIGMOID_TABLE_SIZE) + 0.5) * step
    sigmoid = 1.0 / (1.0 + np.exp(-centres))
    log_sigmoid = -np.logaddexp(0.0, -centres)
    return sigmoid.astype(np.float32), log_sigmoid.astype(np.float32)


SIGMOID_TABLE, LOG_SIGMOID_TABLE = sigmoid_tables()
SENTENCE_END_ID = SENTENCE_END
TABLE_RANGE = SIGMOID_RANGE


# Classify one (input, output) score: set *prob to sigma(score) and return the
# example's loss, -log sigma(score) for a real pair (label 1) or -log sigma(-score) for
# a noise pair (label 0). Inside the table range both come from the tables. Outside it
# sigma saturates to 0 or 1 -- the gradient there is below 3.4e-4 -- and the loss is
# computed exactly, so a diverging run reports a huge or NaN loss instead of a capped one.
# NaN scores fall through to the exact branch, which keeps the table index in range.
cdef inline double classify(const TablesC *t, float score, int label, float *prob) noexcept nogil:
    cdef int idx
    cdef double z
    if score > -SIGMOID_RANGE and score < SIGMOID_RANGE:
        idx = <int>((score + SIGMOID_RANGE) * (SIGMOID_TABLE_SIZE / (2.0 * SIGMOID_RANGE)))
        if idx >= SIGMOID_TABLE_SIZE:
            idx = SIGMOID_TABLE_SIZE - 1
        prob[0] = t.sigmoid[idx]
        if label:
            return -t.log_sigmoid[idx]
        return -t.log_sigmoid[SIGMOID_TABLE_SIZE - 1 - idx]
    prob[0] = 1.0 if score >= SIGMOID_RANGE else 0.0
    z = score if label else -score
    if z > 0:
        return log1p(exp(-z))
    return -z + log1p(exp(z))


# Draw one noise word in O(1) with Walker's alias method: pick a slot uniformly, keep it
# with its threshold probability, otherwise take its alias. One 64-bit draw feeds both.
cdef inline int32_t draw_noise(const TablesC *t, int n_words, uint64_t *rng) noexcept nogil:
    cdef uint64_t r = rng_next(rng)
    cdef uint32_t slot = <uint32_t>(((r >> 32) * <uint64_t>n_words) >> 32)
    if <uint32_t>r < t.alias_threshold[slot]:
        return <int32_t>slot
    return t.alias_index[slot]


# One negative-sampling step for the input vector `hidden` against output row `target`
# and `negative` noise rows. Updates the output rows in place and accumulates the input
# gradient into `grad` (the caller applies it). Returns the summed loss.
#   loss = -log s(h.v_t) - sum_noise log s(-h.v_n),   s = sigmoid
#   d loss / d v_x = -(label - s(h.v_x)) h,   d loss / d h = -sum_x (label - s(h.v_x)) v_x
cdef inline double negative_sampling_step(const ModelC *m, const TablesC *t, const ParamsC *p,
                                          ScratchC *s, const float *hidden, int32_t target,
                                          float alpha) noexcept nogil:
    cdef double loss = 0.0
    cdef int d, label
    cdef int32_t out_word
    cdef float score, prob, g
    cdef float *out_row
    cdef int dim = m.dim
    for d in range(p.negative + 1):
        if d == 0:
            out_word = target
            label = 1
        else:
            out_word = draw_noise(t, m.n_words, &s.rng)
            if out_word == target:
                continue
            label = 0
        out_row = m.w_out + <Py_ssize_t>out_word * dim
        score = fw_dot(hidden, out_row, dim)
        loss += classify(t, score, label, &prob)
        g = (label - prob) * alpha
        fw_axpy(g, out_row, s.grad, dim)
        fw_axpy(g, hidden, out_row, dim)
    return loss


cdef void train_sentence_sg(const ModelC *m, const TablesC *t, const ParamsC *p, ScratchC *s,
                            int length, float alpha, JobResultC *result) noexcept nogil:
    cdef int i, j, lo, hi, reach
    cdef int dim = m.dim
    cdef float *in_row
    for i in range(length):
        # word2vec's shrunk window: reach drawn uniformly from 1..window per position.
        reach = p.window - <int>rng_below(&s.rng, p.window)
        lo = i - reach if i >= reach else 0
        hi = i + reach + 1 if i + reach + 1 <= length else length
        for j in range(lo, hi):
            if j == i:
                continue
            # As in word2vec.c, the context word's input vector predicts the centre word;
            # over a symmetric window this visits the same pairs as the other direction.
            in_row = m.w_in + <Py_ssize_t>s.sentence[j] * dim
            fw_zero(s.grad, dim)
            result.loss += negative_sampling_step(m, t, p, s, in_row, s.sentence[i], alpha)
            fw_axpy(1.0, s.grad, in_row, dim)
            result.n_examples += 1


cdef void train_sentence_cbow(const ModelC *m, const TablesC *t, const ParamsC *p, ScratchC *s,
                              int length, float alpha, JobResultC *result) noexcept nogil:
    cdef int i, j, lo, hi, reach, n_context
    cdef int dim = m.dim
    for i in range(length):
        reach = p.window - <int>rng_below(&s.rng, p.window)
        lo = i - reach if i >= reach else 0
        hi = i + reach + 1 if i + reach + 1 <= length else length
        n_context = hi - lo - 1
        if n_context <= 0:
            continue
        fw_zero(s.hidden, dim)
        for j in range(lo, hi):
            if j != i:
                fw_axpy(1.0, m.w_in + <Py_ssize_t>s.sentence[j] * dim, s.hidden, dim)
        fw_scale(1.0 / n_context, s.hidden, dim)
        fw_zero(s.grad, dim)
        result.loss += negative_sampling_step(m, t, p, s, s.hidden, s.sentence[i], alpha)
        # As word2vec.c does, each context row receives the full hidden-layer gradient
        # (not divided by n_context); the default CBOW alpha of 0.05 is tuned for this.
        for j in range(lo, hi):
            if j != i:
                fw_axpy(1.0, s.grad, m.w_in + <Py_ssize_t>s.sentence[j] * dim, dim)
        result.n_examples += 1


# Train on a run of encoded tokens: sentences separated by SENTENCE_END. alpha moves
# linearly from alpha_start to alpha_end across the job, updated per sentence.
cdef JobResultC train_tokens(const ModelC *m, const TablesC *t, const ParamsC *p, ScratchC *s,
                             const int32_t *tokens, Py_ssize_t n_tokens,
                             double alpha_start, double alpha_end) noexcept nogil:
    cdef JobResultC result
    cdef Py_ssize_t pos = 0, sentence_start
    cdef int length
    cdef int32_t word
    cdef float keep, alpha
    result.loss = 0.0
    result.n_examples = 0
    result.n_words = 0
    result.n_kept = 0
    while pos < n_tokens:
        sentence_start = pos
        length = 0
        # The encoder puts a SENTENCE_END at least every max_sentence tokens, so the
        # capacity check below never splits a sentence on corpus input.
        while pos < n_tokens and tokens[pos] != SENTENCE_END and length < p.max_sentence:
            word = tokens[pos]
            pos += 1
            result.n_words += 1
            keep = t.keep_probability[word]
            if keep < 1.0 and rng_uniform(&s.rng) >= keep:
                continue
            s.sentence[length] = word
            length += 1
        if pos < n_tokens and tokens[pos] == SENTENCE_END:
            pos += 1
        result.n_kept += length
        if length < 2:
            continue
        alpha = <float>(alpha_start + (alpha_end - alpha_start) * sentence_start / n_tokens)
        if p.architecture == SKIP_GRAM:
            train_sentence_sg(m, t, p, s, length, alpha, &result)
        else:
            train_sentence_cbow(m, t, p, s, length, alpha, &result)
    return result


cdef class Worker:
    """One training thread's private state: scratch buffers and its RNG."""

    cdef ScratchC scratch
    cdef object _hidden, _grad, _sentence

    def __init__(self, int dim, int max_sentence, unsigned long long seed):
        self._hidden = np.zeros(dim, dtype=np.float32)
        self._grad = np.zeros(dim, dtype=np.float32)
        self._sentence = np.zeros(max_sentence, dtype=np.int32)
        cdef float[::1] hidden = self._hidden
        cdef float[::1] grad = self._grad
        cdef int32_t[::1] sentence = self._sentence
        self.scratch.hidden = &hidden[0]
        self.scratch.grad = &grad[0]
        self.scratch.sentence = &sentence[0]
        # splitmix64 of the seed, so that seeds 0, 1, 2... give unrelated, non-zero states.
        cdef uint64_t z = <uint64_t>seed + <uint64_t>0x9E3779B97F4A7C15ULL
        z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9ULL
        z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EBULL
        z = z ^ (z >> 31)
        self.scratch.rng = z if z != 0 else 1

    @property
    def rng_state(self):
        return self.scratch.rng

    @property
    def max_sentence(self):
        return self._sentence.shape[0]

    @property
    def dim(self):
        return self._hidden.shape[0]


cdef class Trainer:
    """Holds raw pointers into the model matrices and tables for the nogil code.

    Keeps references to every array it points into, so none can be freed while it
    lives. The arrays must not be resized or replaced while training runs.
    """

    cdef ModelC model
    cdef TablesC tables
    cdef ParamsC params
    cdef object _keep_alive

    def __init__(self, float2d_t w_in, float2d_t w_out,
                 const_float1d_t keep_probability,
                 const_uint1d_t alias_threshold, const_int1d_t alias_index,
                 bint cbow, int window, int negative, int max_sentence):
        cdef Py_ssize_t n_words = w_in.shape[0]
        if n_words < 1 or w_in.shape[1] < 1:
            raise ValueError("the model needs at least one word and one dimension")
        if w_out.shape[0] != n_words or w_out.shape[1] != w_in.shape[1]:
            raise ValueError("w_in and w_out must have the same shape")
        if (keep_probability.shape[0] != n_words or alias_threshold.shape[0] != n_words
                or alias_index.shape[0] != n_words):
            raise ValueError("every per-word table needs one entry per word")
        if window < 1 or negative < 0 or max_sentence < 1:
            raise ValueError("window and max_sentence must be >= 1, negative >= 0")
        if n_words > 2**31 - 1:
            raise ValueError("at most 2^31 - 1 words")
        if np.any(np.asarray(alias_index) < 0) or np.any(np.asarray(alias_index) >= n_words):
            raise ValueError("alias_index holds ids outside the vocabulary")
        cdef const float[::1] sig = SIGMOID_TABLE
        cdef const float[::1] log_sig = LOG_SIGMOID_TABLE
        self._keep_alive = (w_in, w_out, keep_probability, alias_threshold, alias_index)
        self.model.w_in = &w_in[0, 0]
        self.model.w_out = &w_out[0, 0]
        self.model.n_words = <int>n_words
        self.model.dim = <int>w_in.shape[1]
        self.tables.sigmoid = &sig[0]
        self.tables.log_sigmoid = &log_sig[0]
        self.tables.keep_probability = &keep_probability[0]
        self.tables.alias_threshold = &alias_threshold[0]
        self.tables.alias_index = &alias_index[0]
        self.params.architecture = CBOW if cbow else SKIP_GRAM
        self.params.window = window
        self.params.negative = negative
        self.params.max_sentence = max_sentence

    def train_job(self, Worker worker, const_int1d_t tokens, double alpha_start,
                  double alpha_end):
        """Train on one job of encoded tokens, with the GIL released.

        Parameters
        ----------
        worker : Worker
            The calling thread's own scratch state; never shared between threads.
        tokens : int32 array
            Word ids, with SENTENCE_END_ID (-1) after each sentence.
        alpha_start, alpha_end : float
            Learning rate at the first and after the last token of the job.

        Returns
        -------
        (loss, n_examples, n_words, n_kept) : (float, int, int, int)
            Summed loss over the job's examples, the number of examples, the number of
            word tokens read, and how many survived subsampling.
        """
        cdef Py_ssize_t n = tokens.shape[0]
        cdef Py_ssize_t i
        cdef JobResultC result
        if worker.dim != self.model.dim or worker.max_sentence < self.params.max_sentence:
            raise ValueError("worker buffers do not match this trainer")
        for i in range(n):
            if tokens[i] >= self.model.n_words or tokens[i] < SENTENCE_END:
                raise ValueError(f"token id {tokens[i]} at position {i} is out of range")
        if n == 0:
            return 0.0, 0, 0, 0
        with nogil:
            result = train_tokens(&self.model, &self.tables, &self.params, &worker.scratch,
                                  &tokens[0], n, alpha_start, alpha_end)
        return result.loss, result.n_examples, result.n_words, result.n_kept

    def negative_sampling_update(self, Worker worker, int32_t input_word, int32_t target,
                                 float alpha):
        """Test shim: one skip-gram negative-sampling update of one (input, target) pair.

        Draws the noise words from the worker's RNG exactly as training does. Returns the
        pair's loss. Used to check the kernel against a numpy reference of the gradient.
        """
        if not (0 <= input_word < self.model.n_words and 0 <= target < self.model.n_words):
            raise ValueError("word id out of range")
        cdef float *in_row = self.model.w_in + <Py_ssize_t>input_word * self.model.dim
        cdef double loss
        with nogil:
            fw_zero(worker.scratch.grad, self.model.dim)
            loss = negative_sampling_step(&self.model, &self.tables, &self.params,
                                          &worker.scratch, in_row, target, alpha)
            fw_axpy(1.0, worker.scratch.grad, in_row, self.model.dim)
        return loss

    def draw_noise(self, Worker worker, Py_ssize_t n):
        """Test shim: n draws from the noise distribution, as the kernel makes them."""
        out = np.empty(n, dtype=np.int32)
        cdef int32_t[::1] view = out
        cdef Py_ssize_t i
        with nogil:
            for i in range(n):
                view[i] = draw_noise(&self.tables, self.model.n_words, &worker.scratch.rng)
        return out

    def classify(self, float score, int label):
        """Test shim: (sigma(score) as the kernel computes it, the example's loss)."""
        cdef float prob
        cdef double loss = classify(&self.tables, score, label, &prob)
        return prob, loss
