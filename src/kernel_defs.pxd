# The C surface of the training kernel (src/_kernel.pyx): constants, the structs the nogil
# code sees, and a tiny inline RNG. Python never touches these directly;
# fastw2v/_kernel.pyi documents the Python-facing entry points defined in _kernel.pyx.

from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t

cdef extern from "vecops.h" nogil:
    float fw_dot(const float *a, const float *b, int n) noexcept
    void fw_dots(float **rows, int n, const float *v, float *scores, int d) noexcept
    void fw_dot_block(float **a, int na, float **b, int nb, float *scores, int d) noexcept
    void fw_axpy(float alpha, const float *x, float *y, int n) noexcept
    void fw_axpys(float **rows, int n, const float *coef, float *y, int d) noexcept
    void fw_combine(float **xs, int nk, const float *coef, float **ys, int nj,
                    int accumulate, int d) noexcept
    void fw_mean_rows(float **rows, int n, float *out, int d) noexcept
    void fw_axpy_rows(const float *x, int n, const float *coef, float *ys, int d) noexcept
    void fw_add_to_rows(const float *x, float **rows, int n, int d) noexcept
    void fw_zero(float *y, int n) noexcept
    void fw_prefetch_row(const float *row, int n) noexcept
    int fw_row_steps(const float *scores, const float *in_gamma, float offset, int n,
                     int label, const float *sigmoid, const float *log_sigmoid, int size,
                     float range, float alpha, float *steps, double *loss) noexcept

# The encoded corpus marks every sentence end with this id (word ids are >= 0).
cdef enum:
    SENTENCE_END = -1

# sigma(x) and log sigma(x) are read from tables over [-SIGMOID_RANGE, SIGMOID_RANGE];
# outside it sigma saturates to 0 or 1 (see classify in _kernel.pyx).
cdef enum:
    SIGMOID_RANGE = 8
    SIGMOID_TABLE_SIZE = 2048

# The values of these enums are part of the Python interface (fastw2v/_kernel.pyi).
cdef enum Architecture:
    SKIP_GRAM = 0
    CBOW = 1

cdef enum Loss:
    NEGATIVE_SAMPLING = 0
    NCE = 1
    HIERARCHICAL_SOFTMAX = 2
    SOFTMAX = 3           # the exact softmax over the whole vocabulary (skip-gram only)

cdef enum GammaMode:
    GAMMA_FIXED = 0      # NCE's normaliser stays at its initial value
    GAMMA_GLOBAL = 1     # one learned scalar; each thread accumulates its own change
    GAMMA_PER_WORD = 2   # one learned value per input word, updated Hogwild like a row


cdef struct ModelC:
    float *w_in       # input (word) vectors, word2vec's syn0: n_words x dim
    float *w_out      # output vectors: syn1neg (n_words rows) or, for HS, syn1 (inner nodes)
    float *gamma      # NCE per-word normalisers (n_words), or NULL
    float *context_bias  # NCE with a context bias: b_c per predicted word (n_words), or NULL
    int n_words
    int dim


cdef struct TablesC:
    const float *sigmoid             # SIGMOID_TABLE_SIZE entries, values at bin centres
    const float *log_sigmoid         # same bins, log sigma(x)
    const float *keep_probability    # per word: probability that subsampling keeps a token
    const uint32_t *alias_threshold  # per word: alias-method acceptance threshold * 2^32
    const int32_t *alias_index       # per word: the word taken when the threshold rejects
    const float *log_noise           # per word: log(k q(c)), NCE's noise correction
    const int64_t *path_offsets      # HS: word c's path is path_offsets[c] .. [c + 1]
    const int32_t *path_nodes        # HS: inner-node rows of w_out, root first
    const uint8_t *path_codes        # HS: the branch taken at each node (0 or 1)


cdef struct ParamsC:
    Architecture architecture
    Loss loss
    GammaMode gamma_mode
    bint noise_correction   # NCE: subtract log(k q(c)) from the logit
    bint context_bias       # NCE: add the predicted word's learned bias b_c to the logit
    # skip-gram: one set of targets per centre word, all contexts; CBOW: a draw of noise
    # shared by centre words 2w + 1 apart
    bint shared_negatives
    int window
    int negative
    int max_sentence        # capacity of the per-thread sentence buffer


cdef struct ScratchC:
    float *hidden      # CBOW: mean of the context vectors (dim)
    float *grads       # input-side gradients, one row of dim per input (max_inputs x dim)
    float **grad_rows  # grads's rows, as the pointer list fw_combine takes
    # steps: per input of one target (sequential path), or all pairs twice, target-major
    # then input-major (max_targets x max_inputs x 2)
    float *coef
    float **in_rows    # the input rows of the current block
    int32_t *in_words  # their word ids (-1 for CBOW's hidden mean)
    int32_t *targets   # output rows of the current block: word + noise, or an HS path
    uint8_t *labels    # 1 for the real word (HS: left branch), 0 for noise (right)
    int32_t *next_targets  # the next position's targets, drawn one step early so that
    uint8_t *next_labels   # their rows arrive in cache by the time they are used
    # CBOW, shared negatives: the last 2 * window + 1 draws of noise words, for the centre
    # words that reuse them
    int32_t *noise_ring
    float **out_rows   # the targets' rows, for the one-input path of train_block
    float **context_rows  # CBOW: the input rows of the current window (max_inputs)
    float *scores      # every (target, input) score of a block (max_targets x max_inputs)
    int32_t *sentence  # the current sentence after subsampling (max_sentence)
    uint64_t rng
    float *in_gamma    # NCE: each input's normaliser when the block began (max_inputs)
    float gamma        # GAMMA_GLOBAL: this thread's current value of the normaliser
    double gamma_delta  # GAMMA_GLOBAL: change made by this thread since the job began


cdef struct JobResultC:
    double loss        # summed over examples, in float64 so it cannot saturate
    long long n_examples  # skip-gram: (word, context) pairs; CBOW: centre words
    long long n_words     # in-vocabulary tokens read
    long long n_kept      # tokens left after subsampling


# xorshift64* (Vigna 2016): one multiply and three shifts, good enough statistically for
# sampling and far faster than a library RNG. State must never be zero.
cdef inline uint64_t rng_next(uint64_t *state) noexcept nogil:
    cdef uint64_t x = state[0]
    x ^= x >> 12
    x ^= x << 25
    x ^= x >> 27
    state[0] = x
    return x * <uint64_t>2685821657736338717ULL


# Uniform float in [0, 1) from the top 24 bits (exactly representable in float32).
cdef inline float rng_uniform(uint64_t *state) noexcept nogil:
    return <float>(rng_next(state) >> 40) * <float>(1.0 / 16777216.0)


# Uniform integer in [0, n) by Lemire's multiply-shift: no division, negligible bias for
# the small n used here.
cdef inline uint32_t rng_below(uint64_t *state, uint32_t n) noexcept nogil:
    return <uint32_t>(((rng_next(state) >> 32) * <uint64_t>n) >> 32)
