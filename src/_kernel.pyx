# cython: language_level=3
"""The compiled training kernel: skip-gram and CBOW, trained with negative sampling,
noise-contrastive estimation or hierarchical softmax, and skip-gram with the exact
softmax as the reference they approximate.

Hogwild contract (Niu et al. 2011). Several Python threads call `Trainer.train_job` at
once with the GIL released. They read and write the shared float32 arrays `w_in`,
`w_out`, (NCE with per-word normalisers) `gamma` and (NCE with a context bias)
`context_bias` without locks: two threads may update the same row at the same time and
one update can be partly lost. That race is deliberate; the updates are sparse, so
collisions are rare and SGD tolerates them. Nothing else is shared and written: each
thread has its own `Worker` (scratch buffers, RNG, and its share of a global NCE
normaliser), the lookup tables are read-only, and every count and loss of a job is
returned to the caller, who adds them up under the GIL.

The nogil functions below take only structs and raw pointers, allocate nothing and
have no error paths; all validation happens in `Trainer.__init__` and
`Trainer.train_job`, with the GIL held.

One block function serves every combination. A block is a set of input vectors (one
context row; all context rows of a centre word when skip-gram shares its targets; or
CBOW's mean of the context rows) against a set of labelled output rows (the real word
and k noise words, or the inner nodes on the real word's Huffman path). For each output
row in turn it scores every input, accumulates the input gradients, and then updates the
output row; the inputs are updated last. With one input this is exactly word2vec's
sequential update of a (word, context) pair.

Per example (input h, output row v, label y in {0, 1}), with s = sigma:
    logit z = <h, v>                          NS and HS
    logit z = <h, v> - gamma - log(k q(c))    NCE (Gutmann & Hyvarinen 2010)
    loss = -y log s(z) - (1 - y) log s(-z)
    d loss / d z = s(z) - y,  and  g = (y - s(z)) * alpha  is the step:
    v += g h,   h += g v (accumulated),   gamma -= g (d z / d gamma = -1)
With a context bias (--nce-context-bias) NCE's logit gains + b_c, and b_c += g.

The exact softmax (--loss softmax) is not a binary classifier and has its own block
function and sentence loop, which the other losses never enter. For input h and the
real word c, over every word c' of the vocabulary:
    z_c' = <h, v_c'>,   p_c' = exp(z_c') / sum over c'' of exp(z_c''),   loss = -log p_c
    g_c' = ([c' = c] - p_c') * alpha:   v_c' += g_c' h,   h += sum over c' of g_c' v_c'
"""

import numpy as np

cimport numpy as cnp
from kernel_defs cimport *
from libc.math cimport INFINITY, exp, log
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t

cnp.import_array()

ctypedef float[:, ::1] float2d_t
ctypedef float[::1] float1d_t
ctypedef const float[::1] const_float1d_t
ctypedef const int32_t[::1] const_int1d_t
ctypedef const int64_t[::1] const_long1d_t
ctypedef const uint32_t[::1] const_uint1d_t
ctypedef const uint8_t[::1] const_byte1d_t

ARCHITECTURES = {"skipgram": SKIP_GRAM, "cbow": CBOW}
LOSSES = {"ns": NEGATIVE_SAMPLING, "nce": NCE, "hs": HIERARCHICAL_SOFTMAX,
          "softmax": SOFTMAX}
GAMMA_MODES = {"fixed": GAMMA_FIXED, "global": GAMMA_GLOBAL, "per-word": GAMMA_PER_WORD}


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


# Classify one logit: set *prob to sigma(score) and return the example's loss,
# -log sigma(score) for label 1 or -log sigma(-score) for label 0. Inside the table range
# both come from the tables. Outside it sigma saturates to 0 or 1 -- the gradient there
# is below 3.4e-4 -- and the loss is computed exactly, so a diverging run reports a huge
# or NaN loss instead of a capped one. NaN scores fall through to the exact branch,
# which keeps the table index in range.
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
    # -log sigma(z) = log1p(exp(-z)); here |z| >= SIGMOID_RANGE, where log1p(e) = e to
    # within e^2 / 2 < 6e-8 of the value, so one exp is enough. NCE's logits fall here
    # often (the normaliser and the noise correction shift them by ~10 nats).
    z = score if label else -score
    if z > 0:
        return exp(-z)
    return -z + exp(z)


# Draw one noise word in O(1) with Walker's alias method: pick a slot uniformly, keep it
# with its threshold probability, otherwise take its alias. One 64-bit draw feeds both.
cdef inline int32_t draw_noise(const TablesC *t, int n_words, uint64_t *rng) noexcept nogil:
    cdef uint64_t r = rng_next(rng)
    cdef uint32_t slot = <uint32_t>(((r >> 32) * <uint64_t>n_words) >> 32)
    if <uint32_t>r < t.alias_threshold[slot]:
        return <int32_t>slot
    return t.alias_index[slot]


# Fill targets / labels with the outputs that predict `word`; return how many.
# NS and NCE: the word itself (label 1) then k noise words (label 0). A noise word equal
# to the real one stays a noise example (word2vec.c skips it): the estimators analysed in
# docs/theory.md assume independent noise, and the difference is invisible in quality.
# All noise rows are prefetched as soon as they are drawn: they are random rows of a
# matrix much larger than the cache, and their fetches then overlap each other.
# HS: the inner nodes on the word's path, labelled 1 for a 0 branch, as in word2vec.c.
cdef inline int fill_targets(const ModelC *m, const TablesC *t, const ParamsC *p, ScratchC *s,
                             int32_t word, int32_t *targets, uint8_t *labels) noexcept nogil:
    cdef int64_t start
    cdef int n, d
    if p.loss == HIERARCHICAL_SOFTMAX:
        start = t.path_offsets[word]
        n = <int>(t.path_offsets[word + 1] - start)
        for d in range(n):
            targets[d] = t.path_nodes[start + d]
            labels[d] = 1 - t.path_codes[start + d]
        return n
    targets[0] = word
    labels[0] = 1
    for d in range(1, p.negative + 1):
        targets[d] = draw_noise(t, m.n_words, &s.rng)
        labels[d] = 0
        fw_prefetch_row(m.w_out + <Py_ssize_t>targets[d] * m.dim, m.dim)
    return p.negative + 1


# Position n's targets into next_targets / next_labels. CBOW with shared negatives draws
# noise words for the first 2 * window + 1 positions of each run of twice that many and
# gives the next 2 * window + 1 the same words again, position n the draw of position
# n - (2 * window + 1). The two centre words' windows never share a context word, so an
# input row meets a fresh draw at every position it is trained at, as with a draw per
# position, while the noise rows fetched for the first centre word are still in cache
# for the second: at dim 300 fetching those rows is most of CBOW's time
# (benchmarks/RESULTS.md).
cdef inline void position_targets(const ModelC *m, const TablesC *t, const ParamsC *p,
                                  ScratchC *s, int n) noexcept nogil:
    cdef int d
    cdef int period = 2 * p.window + 1
    cdef int32_t *saved
    if p.architecture != CBOW or not p.shared_negatives:
        fill_targets(m, t, p, s, s.sentence[n], s.next_targets, s.next_labels)
        return
    saved = s.noise_ring + (n % period) * p.negative
    if (n // period) % 2 == 0:
        fill_targets(m, t, p, s, s.sentence[n], s.next_targets, s.next_labels)
        for d in range(p.negative):
            saved[d] = s.next_targets[d + 1]
    else:
        s.next_targets[0] = s.sentence[n]
        s.next_labels[0] = 1
        for d in range(p.negative):
            s.next_targets[d + 1] = saved[d]
            s.next_labels[d + 1] = 0


# One centre word's targets for the sentence loops, drawn one position ahead. A block's
# noise rows are random rows of a matrix larger than the cache; drawn and prefetched
# just before use (as word2vec.c does) their fetches stall the block, drawn a position
# early they arrive while the current position trains. The RNG order is therefore: the
# targets of position 0 when the sentence starts, then at each position i its window
# draw followed by the targets of position i + 1. HS draws nothing and is not pipelined.
cdef inline int targets_for_position(const ModelC *m, const TablesC *t, const ParamsC *p,
                                     ScratchC *s, int i, int length) noexcept nogil:
    if p.loss == HIERARCHICAL_SOFTMAX:
        return fill_targets(m, t, p, s, s.sentence[i], s.targets, s.labels)
    s.targets, s.next_targets = s.next_targets, s.targets
    s.labels, s.next_labels = s.next_labels, s.labels
    if i + 1 < length:
        position_targets(m, t, p, s, i + 1)
    return p.negative + 1


# Start a sentence's pipeline: draw position 0's targets (see targets_for_position).
cdef inline void start_target_pipeline(const ModelC *m, const TablesC *t, const ParamsC *p,
                                       ScratchC *s) noexcept nogil:
    if p.loss != HIERARCHICAL_SOFTMAX:
        position_targets(m, t, p, s, 0)


# The inputs change only at the end of a block, and with distinct output rows no output
# row's update can change another target's score: all scores can then be taken first,
# together, and the result is the sequential update's. A repeated noise word is rare but
# possible; train_block then takes the sequential path.
cdef inline bint targets_distinct(const ScratchC *s, int n_targets) noexcept nogil:
    cdef int a, b
    for a in range(1, n_targets):
        for b in range(a):
            if s.targets[a] == s.targets[b]:
                return False
    return True


# NCE reads the normaliser as it was when the block began (s.in_gamma, filled by
# nce_gamma_at_block_start) and writes every step straight away. Reading the value that
# the previous example just wrote would chain all of a block's examples one after the
# other through memory; with the block-start value they overlap, and a block is a few
# dozen examples, so the normaliser lags by at most that many tiny steps.
cdef inline void nce_gamma_at_block_start(const ModelC *m, const ParamsC *p, ScratchC *s,
                                          int n_in) noexcept nogil:
    cdef int j
    for j in range(n_in):
        if p.gamma_mode == GAMMA_PER_WORD:
            s.in_gamma[j] = m.gamma[s.in_words[j]]
        else:
            s.in_gamma[j] = s.gamma


# The context bias, unlike the normaliser, is read and written example by example: it
# belongs to the target, whose examples in a block follow one another anyway.
# NCE's noise correction for a target: log(k q(c)), or 0 when it is turned off.
cdef inline float nce_offset(const TablesC *t, const ParamsC *p, int32_t target) noexcept nogil:
    return t.log_noise[target] if p.noise_correction else 0.0


cdef inline double nce_logit(const ModelC *m, const TablesC *t, const ParamsC *p,
                             const ScratchC *s, float score, int j,
                             int32_t target) noexcept nogil:
    cdef float offset = nce_offset(t, p, target)
    if p.context_bias:
        score = score + m.context_bias[target]
    return score - (s.in_gamma[j] + offset)


cdef inline void nce_gamma_step(const ModelC *m, const ParamsC *p, ScratchC *s,
                                int32_t input_word, int32_t target, float g) noexcept nogil:
    if p.context_bias:
        m.context_bias[target] += g
    if p.gamma_mode == GAMMA_PER_WORD:
        m.gamma[input_word] -= g
    elif p.gamma_mode == GAMMA_GLOBAL:
        s.gamma -= g
        s.gamma_delta -= g


# The block with distinct targets (see targets_distinct), as three small matrix products:
# all scores at once, then every input's gradient from the output rows as they were,
# then every output row's update from the inputs as they were, then the inputs'. Each
# row is loaded a few times per block instead of once per (input, target) pair.
cdef double train_block_all_pairs(const ModelC *m, const TablesC *t, const ParamsC *p,
                                  ScratchC *s, int n_in, int n_targets,
                                  float alpha) noexcept nogil:
    cdef int dim = m.dim
    cdef int j, k, label
    cdef float score, prob, g
    cdef double loss = 0.0
    cdef bint nce = p.loss == NCE
    # Steps, once target-major (for the output rows' updates) and once input-major (for
    # the inputs' gradients), so that both products read contiguous coefficients.
    cdef float *step_by_target = s.coef
    cdef float *step_by_input = s.coef + n_in * n_targets
    if nce:
        nce_gamma_at_block_start(m, p, s, n_in)
    for k in range(n_targets):
        s.out_rows[k] = m.w_out + <Py_ssize_t>s.targets[k] * dim
    fw_dot_block(s.out_rows, n_targets, s.in_rows, n_in, s.scores, dim)
    for k in range(n_targets):
        label = s.labels[k]
        # The whole row at once (vecops.h's fw_row_steps), except NCE with a context
        # bias, whose bias is read example by example, rows of one example (CBOW's,
        # and per-pair sampling's: a vector pass over one lane costs more than
        # classify), and rows the build leaves to classify (a NaN; in the baseline
        # build, NCE and scores outside the tables).
        if n_in > 1 and not (nce and p.context_bias) and fw_row_steps(
                s.scores + k * n_in, s.in_gamma if nce else NULL,
                nce_offset(t, p, s.targets[k]) if nce else 0.0, n_in,
                label, t.sigmoid, t.log_sigmoid, SIGMOID_TABLE_SIZE, SIGMOID_RANGE, alpha,
                step_by_target + k * n_in, &loss):
            for j in range(n_in):
                g = step_by_target[k * n_in + j]
                step_by_input[j * n_targets + k] = g
                if nce:
                    nce_gamma_step(m, p, s, s.in_words[j], s.targets[k], g)
            continue
        for j in range(n_in):
            score = s.scores[k * n_in + j]
            if nce:
                score = nce_logit(m, t, p, s, score, j, s.targets[k])
            loss += classify(t, score, label, &prob)
            g = (label - prob) * alpha
            step_by_target[k * n_in + j] = g
            step_by_input[j * n_targets + k] = g
            if nce:
                nce_gamma_step(m, p, s, s.in_words[j], s.targets[k], g)
    fw_combine(s.out_rows, n_targets, step_by_input, s.grad_rows, n_in, False, dim)
    fw_combine(s.in_rows, n_in, step_by_target, s.out_rows, n_targets, True, dim)
    for j in range(n_in):
        # CBOW's input is a scratch mean (word -1): its caller spreads the gradient.
        if s.in_words[j] >= 0:
            fw_axpy(1.0, s.grads + j * dim, s.in_rows[j], dim)
    return loss


# Train the inputs s.in_rows[0 .. n_in) against the outputs s.targets[0 .. n_targets).
# Returns the summed loss of the n_in * n_targets examples. This is the sequential
# definition, target by target; train_block_all_pairs gives the same result faster when
# no target repeats, which is nearly always.
cdef double train_block(const ModelC *m, const TablesC *t, const ParamsC *p, ScratchC *s,
                        int n_in, int n_targets, float alpha) noexcept nogil:
    cdef int dim = m.dim
    cdef int j, k, label
    cdef int32_t target
    cdef float score, prob, g
    cdef float *out_row
    cdef double loss = 0.0
    cdef bint nce = p.loss == NCE
    if targets_distinct(s, n_targets):
        return train_block_all_pairs(m, t, p, s, n_in, n_targets, alpha)
    if nce:
        nce_gamma_at_block_start(m, p, s, n_in)
    for j in range(n_in):
        fw_zero(s.grads + j * dim, dim)
    for k in range(n_targets):
        target = s.targets[k]
        label = s.labels[k]
        out_row = m.w_out + <Py_ssize_t>target * dim
        fw_dots(s.in_rows, n_in, out_row, s.coef, dim)
        for j in range(n_in):
            score = s.coef[j]
            if nce:
                score = nce_logit(m, t, p, s, score, j, target)
            loss += classify(t, score, label, &prob)
            g = (label - prob) * alpha
            s.coef[j] = g
            if nce:
                nce_gamma_step(m, p, s, s.in_words[j], target, g)
        # Input gradients with the output row as it was, then the output row's update.
        fw_axpy_rows(out_row, n_in, s.coef, s.grads, dim)
        fw_axpys(s.in_rows, n_in, s.coef, out_row, dim)
    for j in range(n_in):
        if s.in_words[j] >= 0:  # CBOW's scratch mean: its caller spreads the gradient
            fw_axpy(1.0, s.grads + j * dim, s.in_rows[j], dim)
    return loss


# The exact softmax's update of the inputs s.in_rows[0 .. n_in), one after the other,
# each predicting `word` against every row of w_out (see the module docstring). The
# probabilities go to s.coef (the worker holds n_words of it), the input's gradient to
# its row of s.grads, taken from each output row before that row's update. Returns the
# summed loss, -log p(word | input) per input.
cdef double softmax_block(const ModelC *m, ScratchC *s, int n_in, int32_t word,
                          float alpha) noexcept nogil:
    cdef int dim = m.dim
    cdef int n = m.n_words
    cdef int j, c
    cdef float *h
    cdef float *grad
    cdef float *row
    cdef float *prob = s.coef
    cdef float top, real, g
    cdef double total
    cdef double loss = 0.0
    for j in range(n_in):
        h = s.in_rows[j]
        grad = s.grads + j * dim
        fw_zero(grad, dim)
        top = -INFINITY
        for c in range(n):
            prob[c] = fw_dot(h, m.w_out + <Py_ssize_t>c * dim, dim)
            if prob[c] > top:
                top = prob[c]
        real = prob[word]
        total = 0.0
        for c in range(n):
            prob[c] = <float>exp(prob[c] - top)
            total += prob[c]
        loss += -(real - top - log(total))
        for c in range(n):
            g = ((c == word) - <float>(prob[c] / total)) * alpha
            row = m.w_out + <Py_ssize_t>c * dim
            fw_axpy(g, row, grad, dim)
            fw_axpy(g, h, row, dim)
        if s.in_words[j] >= 0:
            fw_axpy(1.0, grad, h, dim)
    return loss


# Skip-gram with the exact softmax: each context word's input row predicts the centre
# word, pair by pair (there is no noise to share). The RNG gives the window only.
cdef void train_sentence_softmax(const ModelC *m, const ParamsC *p, ScratchC *s, int length,
                                 float alpha, JobResultC *result) noexcept nogil:
    cdef int i, j, lo, hi, reach
    for i in range(length):
        reach = p.window - <int>rng_below(&s.rng, p.window)
        lo = i - reach if i >= reach else 0
        hi = i + reach + 1 if i + reach + 1 <= length else length
        for j in range(lo, hi):
            if j == i:
                continue
            s.in_rows[0] = m.w_in + <Py_ssize_t>s.sentence[j] * m.dim
            s.in_words[0] = s.sentence[j]
            result.loss += softmax_block(m, s, 1, s.sentence[i], alpha)
            result.n_examples += 1


# The next centre's output row and the input row about to enter the window are likely
# cache misses: ask for them one position ahead (see fill_targets for the noise rows).
cdef inline void prefetch_ahead(const ModelC *m, const ParamsC *p, const ScratchC *s, int i,
                                int length) noexcept nogil:
    if i + 1 < length and p.loss != HIERARCHICAL_SOFTMAX:
        fw_prefetch_row(m.w_out + <Py_ssize_t>s.sentence[i + 1] * m.dim, m.dim)
    if i + p.window + 1 < length:
        fw_prefetch_row(m.w_in + <Py_ssize_t>s.sentence[i + p.window + 1] * m.dim, m.dim)


cdef void train_sentence_sg(const ModelC *m, const TablesC *t, const ParamsC *p, ScratchC *s,
                            int length, float alpha, JobResultC *result) noexcept nogil:
    cdef int i, j, lo, hi, reach, n_in, n_targets
    cdef int dim = m.dim
    if p.shared_negatives:
        start_target_pipeline(m, t, p, s)
    for i in range(length):
        prefetch_ahead(m, p, s, i, length)
        # word2vec's shrunk window: reach drawn uniformly from 1..window per position.
        reach = p.window - <int>rng_below(&s.rng, p.window)
        lo = i - reach if i >= reach else 0
        hi = i + reach + 1 if i + reach + 1 <= length else length
        # As in word2vec.c, each context word's input vector predicts the centre word;
        # over a symmetric window this visits the same pairs as the other direction.
        if p.shared_negatives:
            # Every position of a sentence of 2 or more words has a context word.
            n_targets = targets_for_position(m, t, p, s, i, length)
            n_in = 0
            for j in range(lo, hi):
                if j != i:
                    s.in_rows[n_in] = m.w_in + <Py_ssize_t>s.sentence[j] * dim
                    s.in_words[n_in] = s.sentence[j]
                    n_in += 1
            result.loss += train_block(m, t, p, s, n_in, n_targets, alpha)
            result.n_examples += n_in
        else:
            for j in range(lo, hi):
                if j == i:
                    continue
                s.in_rows[0] = m.w_in + <Py_ssize_t>s.sentence[j] * dim
                s.in_words[0] = s.sentence[j]
                n_targets = fill_targets(m, t, p, s, s.sentence[i], s.targets, s.labels)
                result.loss += train_block(m, t, p, s, 1, n_targets, alpha)
                result.n_examples += 1


cdef void train_sentence_cbow(const ModelC *m, const TablesC *t, const ParamsC *p, ScratchC *s,
                              int length, float alpha, JobResultC *result) noexcept nogil:
    cdef int i, j, lo, hi, reach, n_context, n_targets
    cdef int dim = m.dim
    start_target_pipeline(m, t, p, s)
    for i in range(length):
        prefetch_ahead(m, p, s, i, length)
        reach = p.window - <int>rng_below(&s.rng, p.window)
        lo = i - reach if i >= reach else 0
        hi = i + reach + 1 if i + reach + 1 <= length else length
        # Every position of a sentence of 2 or more words has a context word.
        n_targets = targets_for_position(m, t, p, s, i, length)
        n_context = 0
        for j in range(lo, hi):
            if j != i:
                s.context_rows[n_context] = m.w_in + <Py_ssize_t>s.sentence[j] * dim
                n_context += 1
        fw_mean_rows(s.context_rows, n_context, s.hidden, dim)
        s.in_rows[0] = s.hidden
        s.in_words[0] = -1
        result.loss += train_block(m, t, p, s, 1, n_targets, alpha)
        # As word2vec.c does, each context row receives the full hidden-layer gradient
        # (not divided by n_context); the default CBOW alpha of 0.05 is tuned for this.
        fw_add_to_rows(s.grads, s.context_rows, n_context, dim)
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
        if p.loss == SOFTMAX:
            train_sentence_softmax(m, p, s, length, alpha, &result)
        elif p.architecture == SKIP_GRAM:
            train_sentence_sg(m, t, p, s, length, alpha, &result)
        else:
            train_sentence_cbow(m, t, p, s, length, alpha, &result)
    return result


CACHE_LINE = 64


def _private_zeros(Py_ssize_t count, dtype):
    """A zeroed array of `count` items that starts on a cache line and owns the whole of
    its last line: no other array shares a line with it. A thread writes its scratch
    buffers on every block; two threads' small buffers side by side in one line would
    make the line move between their cores at every write (false sharing), a cost that
    grows with the thread count."""
    itemsize = np.dtype(dtype).itemsize
    lines = -(-count * itemsize // CACHE_LINE)
    raw = np.zeros((lines + 1) * CACHE_LINE, dtype=np.uint8)
    start = -raw.ctypes.data % CACHE_LINE
    return raw[start:start + lines * CACHE_LINE].view(dtype)[:count]


cdef class Worker:
    """One training thread's private state: scratch buffers and its RNG.

    Create it with `Trainer.new_worker`, which sizes the buffers for that trainer.
    """

    # The scratch struct, whose RNG state and pointers the thread reads and writes all
    # the time, sits between two cache lines of padding, so that no other Worker's
    # fields share its lines (see _private_zeros).
    cdef char _padding_before[64]
    cdef ScratchC scratch
    cdef char _padding_after[64]
    cdef readonly int dim, max_sentence, max_inputs, max_targets
    cdef object _buffers

    def __init__(self, int dim, int max_sentence, int max_inputs, int max_targets,
                 unsigned long long seed):
        if min(dim, max_sentence, max_inputs, max_targets) < 1:
            raise ValueError("worker buffer sizes must be positive")
        self.dim, self.max_sentence = dim, max_sentence
        self.max_inputs, self.max_targets = max_inputs, max_targets
        hidden = _private_zeros(dim, np.float32)
        grads = _private_zeros(max_inputs * dim, np.float32)
        coef = _private_zeros(2 * max_inputs * max_targets, np.float32)
        in_rows = _private_zeros(max_inputs, np.uintp)
        in_words = _private_zeros(max_inputs, np.int32)
        targets = _private_zeros(max_targets, np.int32)
        labels = _private_zeros(max_targets, np.uint8)
        next_targets = _private_zeros(max_targets, np.int32)
        next_labels = _private_zeros(max_targets, np.uint8)
        sentence = _private_zeros(max_sentence, np.int32)
        out_rows = _private_zeros(max_targets, np.uintp)
        scores = _private_zeros(max_inputs * max_targets, np.float32)
        context_rows = _private_zeros(max_inputs, np.uintp)
        in_gamma = _private_zeros(max_inputs, np.float32)
        # CBOW's noise draws kept for reuse (see position_targets): 2 * window + 1 draws
        # of at most max_targets - 1 words; max_inputs is 2 * window.
        noise_ring = _private_zeros((max_inputs + 1) * max_targets, np.int32)
        # Row j of grads starts 4 * dim * j bytes in (float32).
        grad_rows = np.array([grads.ctypes.data + 4 * dim * j for j in range(max_inputs)],
                             dtype=np.uintp)
        self._buffers = (hidden, grads, coef, in_rows, in_words, targets, labels, sentence,
                         out_rows, scores, context_rows, in_gamma, next_targets,
                         next_labels, grad_rows, noise_ring)
        cdef float[::1] hidden_v = hidden, grads_v = grads, coef_v = coef
        cdef size_t[::1] in_rows_v = in_rows, grad_rows_v = grad_rows
        cdef int32_t[::1] in_words_v = in_words, targets_v = targets, sentence_v = sentence
        cdef int32_t[::1] next_targets_v = next_targets, noise_ring_v = noise_ring
        cdef uint8_t[::1] next_labels_v = next_labels
        cdef size_t[::1] out_rows_v = out_rows, context_rows_v = context_rows
        cdef float[::1] scores_v = scores, in_gamma_v = in_gamma
        cdef uint8_t[::1] labels_v = labels
        self.scratch.hidden = &hidden_v[0]
        self.scratch.grads = &grads_v[0]
        self.scratch.grad_rows = <float **>&grad_rows_v[0]
        self.scratch.coef = &coef_v[0]
        self.scratch.in_rows = <float **>&in_rows_v[0]
        self.scratch.in_words = &in_words_v[0]
        self.scratch.targets = &targets_v[0]
        self.scratch.labels = &labels_v[0]
        self.scratch.next_targets = &next_targets_v[0]
        self.scratch.next_labels = &next_labels_v[0]
        self.scratch.noise_ring = &noise_ring_v[0]
        self.scratch.sentence = &sentence_v[0]
        self.scratch.out_rows = <float **>&out_rows_v[0]
        self.scratch.scores = &scores_v[0]
        self.scratch.context_rows = <float **>&context_rows_v[0]
        self.scratch.in_gamma = &in_gamma_v[0]
        self.scratch.gamma = 0.0
        self.scratch.gamma_delta = 0.0
        # splitmix64 of the seed, so that seeds 0, 1, 2... give unrelated, non-zero states.
        cdef uint64_t z = <uint64_t>seed + <uint64_t>0x9E3779B97F4A7C15ULL
        z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9ULL
        z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EBULL
        z = z ^ (z >> 31)
        self.scratch.rng = z if z != 0 else 1

    @property
    def rng_state(self):
        return self.scratch.rng

    @rng_state.setter
    def rng_state(self, unsigned long long state):
        # Restoring a checkpoint sets the generator to where it stood, so a resumed run
        # draws exactly what the uninterrupted one would have. Zero is xorshift's fixed
        # point (it would only ever yield zeros), so no real state is zero.
        if state == 0:
            raise ValueError("an RNG state must not be zero")
        self.scratch.rng = state


cdef class Trainer:
    """Holds raw pointers into the model arrays and tables for the nogil code.

    Keeps references to every array it points into, so none can be freed while it
    lives. The arrays must not be resized or replaced while training runs.

    Parameters
    ----------
    w_in : float32 (n_words, dim), written in place
    w_out : float32 (n_words, dim), or (n_words - 1, dim) inner nodes for HS; in place
    gamma : float32 (n_words,), NCE per-word normalisers, written in place (any length
        for other modes)
    tables : object with the attributes keep_probability (float32), noise_threshold
        (uint32), noise_alias (int32), log_noise (float32), one per word; path_offsets
        (int64, n_words + 1; at least one entry for other losses, which never read it),
        path_nodes (int32), path_codes (uint8) for HS
    settings : object with the attributes architecture, loss and gamma_mode (names, see
        ARCHITECTURES, LOSSES, GAMMA_MODES), window, negative, max_sentence (int),
        shared_negatives, noise_correction and context_bias (bool)
    context_bias : float32 (n_words,), NCE's learned bias per predicted word, written in
        place; needed when settings.context_bias is set, else ignored
    """

    cdef ModelC model
    cdef TablesC tables
    cdef ParamsC params
    cdef int max_targets
    cdef object _keep_alive

    def __init__(self, float2d_t w_in, float2d_t w_out, float1d_t gamma, tables, settings,
                 float1d_t context_bias=None):
        cdef const_float1d_t keep = tables.keep_probability
        cdef const_uint1d_t threshold = tables.noise_threshold
        cdef const_int1d_t alias = tables.noise_alias
        cdef const_float1d_t log_noise = tables.log_noise
        cdef const_long1d_t path_offsets = tables.path_offsets
        cdef const_int1d_t path_nodes = tables.path_nodes
        cdef const_byte1d_t path_codes = tables.path_codes
        cdef const float[::1] sig = SIGMOID_TABLE
        cdef const float[::1] log_sig = LOG_SIGMOID_TABLE
        cdef Py_ssize_t n_words = w_in.shape[0]
        cdef Py_ssize_t dim = w_in.shape[1]
        loss = LOSSES[settings.loss]
        if n_words < 1 or dim < 1:
            raise ValueError("the model needs at least one word and one dimension")
        if n_words > 2**31 - 1:
            raise ValueError("at most 2^31 - 1 words")
        # What the loops index, checked here so that no array is read out of bounds (the
        # model's shapes themselves are fastw2v/state.py's rule): negative sampling and
        # NCE reach w_out by word id; hierarchical softmax by inner node, which the
        # path_nodes check below bounds by w_out's rows.
        n_out = w_out.shape[0]
        if n_out < 1 or w_out.shape[1] != dim:
            raise ValueError(f"w_out must have {dim} columns and at least one row")
        if loss != HIERARCHICAL_SOFTMAX and n_out < n_words:
            raise ValueError(f"w_out needs a row for each of the {n_words} word ids")
        for name, table in (("keep_probability", keep), ("noise_threshold", threshold),
                            ("noise_alias", alias), ("log_noise", log_noise)):
            if table.shape[0] != n_words:
                raise ValueError(f"{name} needs one entry per word")
        if np.any(np.asarray(alias) < 0) or np.any(np.asarray(alias) >= n_words):
            raise ValueError("noise_alias holds ids outside the vocabulary")
        max_path = 1
        if loss == HIERARCHICAL_SOFTMAX:
            offsets = np.asarray(path_offsets)
            if (offsets.shape[0] != n_words + 1 or offsets[0] != 0
                    or np.any(np.diff(offsets) < 0) or offsets[n_words] != path_nodes.shape[0]
                    or path_codes.shape[0] != path_nodes.shape[0]):
                raise ValueError("path_offsets, path_nodes and path_codes do not agree")
            nodes = np.asarray(path_nodes)
            if nodes.size and (nodes.min() < 0 or nodes.max() >= n_out):
                raise ValueError("path_nodes holds rows outside w_out")
            if np.any(np.asarray(path_codes) > 1):
                raise ValueError("path_codes must be 0 or 1")
            max_path = max(1, int(np.diff(offsets).max()))
        # A per-word gamma is indexed by input word id.
        per_word = loss == NCE and GAMMA_MODES[settings.gamma_mode] == GAMMA_PER_WORD
        if per_word and gamma.shape[0] < n_words:
            raise ValueError("per-word gamma needs an entry for each word id")
        if per_word and ARCHITECTURES[settings.architecture] == CBOW:
            raise ValueError("per-word gamma needs skip-gram: CBOW's input is not one word")
        if gamma.shape[0] < 1:
            raise ValueError("gamma needs at least one entry")
        if settings.window < 1 or settings.negative < 0 or settings.max_sentence < 1:
            raise ValueError("window and max_sentence must be >= 1, negative >= 0")
        if loss == SOFTMAX and ARCHITECTURES[settings.architecture] == CBOW:
            raise ValueError("the exact softmax is implemented for skip-gram only")
        use_bias = loss == NCE and bool(settings.context_bias)
        if use_bias and (context_bias is None or context_bias.shape[0] < n_words):
            raise ValueError("a context bias needs an entry for each word id")
        self._keep_alive = (w_in, w_out, gamma, tables, context_bias)
        self.model.w_in = &w_in[0, 0]
        self.model.w_out = &w_out[0, 0]
        self.model.gamma = &gamma[0]
        self.model.context_bias = &context_bias[0] if use_bias else NULL
        self.model.n_words = <int>n_words
        self.model.dim = <int>dim
        self.tables.sigmoid = &sig[0]
        self.tables.log_sigmoid = &log_sig[0]
        self.tables.keep_probability = &keep[0]
        self.tables.alias_threshold = &threshold[0]
        self.tables.alias_index = &alias[0]
        self.tables.log_noise = &log_noise[0]
        self.tables.path_offsets = &path_offsets[0]
        self.tables.path_nodes = &path_nodes[0] if path_nodes.shape[0] else NULL
        self.tables.path_codes = &path_codes[0] if path_codes.shape[0] else NULL
        self.params.architecture = ARCHITECTURES[settings.architecture]
        self.params.loss = loss
        self.params.gamma_mode = GAMMA_MODES[settings.gamma_mode]
        self.params.noise_correction = settings.noise_correction
        self.params.context_bias = use_bias
        self.params.shared_negatives = settings.shared_negatives
        self.params.window = settings.window
        self.params.negative = settings.negative
        self.params.max_sentence = settings.max_sentence
        if loss == HIERARCHICAL_SOFTMAX:
            self.max_targets = max_path
        elif loss == SOFTMAX:
            self.max_targets = <int>n_words  # the coefficients hold every word's probability
        else:
            self.max_targets = settings.negative + 1

    def new_worker(self, unsigned long long seed):
        """A Worker with buffers sized for this trainer, its RNG seeded from `seed`."""
        return Worker(self.model.dim, self.params.max_sentence, 2 * self.params.window,
                      self.max_targets, seed)

    cdef check_worker(self, Worker worker):
        if (worker.dim != self.model.dim or worker.max_sentence < self.params.max_sentence
                or worker.max_inputs < 2 * self.params.window
                or worker.max_targets < self.max_targets):
            raise ValueError("worker buffers do not match this trainer; use new_worker")

    def train_job(self, Worker worker, const_int1d_t tokens, double alpha_start,
                  double alpha_end, float gamma=0.0):
        """Train on one job of encoded tokens, with the GIL released.

        Parameters
        ----------
        worker : Worker
            The calling thread's own scratch state; never shared between threads.
        tokens : int32 array
            Word ids, with SENTENCE_END_ID (-1) after each sentence.
        alpha_start, alpha_end : float
            Learning rate at the first and after the last token of the job.
        gamma : float
            The global NCE normaliser at the start of the job (other modes ignore it).

        Returns
        -------
        (loss, n_examples, n_words, n_kept, gamma_change)
            Summed loss over the job's examples, the number of examples, the number of
            word tokens read, how many survived subsampling, and (global NCE normaliser)
            the change this job made to gamma, which the caller adds to the global value.
        """
        cdef Py_ssize_t n = tokens.shape[0]
        cdef Py_ssize_t i
        cdef JobResultC result
        self.check_worker(worker)
        for i in range(n):
            if tokens[i] >= self.model.n_words or tokens[i] < SENTENCE_END:
                raise ValueError(f"token id {tokens[i]} at position {i} is out of range")
        if n == 0:
            return 0.0, 0, 0, 0, 0.0
        worker.scratch.gamma = gamma
        worker.scratch.gamma_delta = 0.0
        with nogil:
            result = train_tokens(&self.model, &self.tables, &self.params, &worker.scratch,
                                  &tokens[0], n, alpha_start, alpha_end)
        return (result.loss, result.n_examples, result.n_words, result.n_kept,
                worker.scratch.gamma_delta)

    def train_pair(self, Worker worker, int32_t input_word, int32_t word, float alpha,
                   float gamma=0.0):
        """Test shim: one update of the pair (input_word's vector predicts `word`).

        Draws noise from the worker's RNG exactly as training does (fill_targets), then
        runs one block with one input. Returns (loss, targets, labels, gamma_change). The
        exact softmax draws nothing; its targets are [word], labels [1].
        """
        if not (0 <= input_word < self.model.n_words and 0 <= word < self.model.n_words):
            raise ValueError("word id out of range")
        self.check_worker(worker)
        cdef int n_targets
        cdef double loss
        worker.scratch.gamma = gamma
        worker.scratch.gamma_delta = 0.0
        worker.scratch.in_rows[0] = self.model.w_in + <Py_ssize_t>input_word * self.model.dim
        worker.scratch.in_words[0] = input_word
        if self.params.loss == SOFTMAX:
            with nogil:
                loss = softmax_block(&self.model, &worker.scratch, 1, word, alpha)
            return loss, [word], [1], 0.0
        with nogil:
            n_targets = fill_targets(&self.model, &self.tables, &self.params, &worker.scratch,
                                     word, worker.scratch.targets, worker.scratch.labels)
            loss = train_block(&self.model, &self.tables, &self.params, &worker.scratch, 1,
                               n_targets, alpha)
        targets = [worker.scratch.targets[i] for i in range(n_targets)]
        labels = [worker.scratch.labels[i] for i in range(n_targets)]
        return loss, targets, labels, worker.scratch.gamma_delta

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
