"""An independent statement of the kernel's maths, for the tests in tests/unit/kernel.

The references here are float64 numpy re-implementations of the update derived in the
kernel's module docstring. Per example (input h, output row v, label y):
    z = <h, v>                              (NS, HS)
    z = <h, v> - gamma - log(k q(c))        (NCE)
    g = (y - sigma(z)) * alpha;  grad_h += g v (v before its update);  v += g h;
    gamma -= g (NCE, learned normaliser)
    z += b_c before the normaliser, and b_c += g (NCE with a context bias)
A block scores every input against one output row, then updates that row, target after
target; the inputs take their accumulated gradients last.

The exact softmax, per input h (one after the other) and real word c, over all words c':
    p = softmax(W_out h);  g = (onehot(c) - p) * alpha;  grad_h = g W_out (before the
    update);  W_out += outer(g, h);  h += grad_h;  loss = -log p_c

Each reference runs twice: once with the exact sigmoid (loose tolerance, derived from the
table's error bound) and once with the kernel's own table rule (tight tolerance, only
where no score lies so close to a bin edge that float32 rounding could pick the
neighbouring bin).

Nothing here depends on which build of the kernel is under test: every build must agree
with these references.
"""

import numpy as np

from fastw2v import _kernel as baseline

# The sigmoid tables and constants the kernel's table rule uses. Every build compiles the
# same source, so these are read once, from the baseline build; test_sigmoid checks that
# each build holds exactly these, which makes table_classify the rule of every build.
SIGMOID_TABLE = baseline.SIGMOID_TABLE
LOG_SIGMOID_TABLE = baseline.LOG_SIGMOID_TABLE
R = float(baseline.TABLE_RANGE)
N_BINS = len(SIGMOID_TABLE)
BIN = 2.0 * R / N_BINS
END = baseline.SENTENCE_END_ID
# The worst-case error of the kernel's sigma inside the table range: half a bin times
# sigma' <= 1/4 (see test_sigmoid_table_error_bound). Outside the range sigma saturates
# to 0 or 1, which is off by at most sigma(-8) = 3.4e-4 < 1/1024.
SIGMA_ERR = BIN / 2 * 0.25
# The worst-case error of one example's loss inside the range: half a bin (|d loss/dz| <= 1).
LOSS_ERR = BIN / 2


# ---------------------------------------------------------------------------------------
# Sigmoid: exact, and the kernel's table rule
# ---------------------------------------------------------------------------------------

def exact_sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


def exact_loss(x, label):
    """-log sigma(x) for label 1, -log sigma(-x) for label 0, in float64."""
    x = np.float64(x)
    return float(np.logaddexp(0.0, -x) if label else np.logaddexp(0.0, x))


def exact_classify(score, label):
    return float(exact_sigmoid(score)), exact_loss(score, label)


def table_classify(score, label):
    """The kernel's lookup rule, from its own tables (see classify in _kernel.pyx)."""
    if -R < score < R:
        idx = min(int((score + R) * (N_BINS / (2.0 * R))), N_BINS - 1)
        prob = float(SIGMOID_TABLE[idx])
        loss = -float(LOG_SIGMOID_TABLE[idx] if label else
                      LOG_SIGMOID_TABLE[N_BINS - 1 - idx])
        return prob, loss
    return (1.0 if score >= R else 0.0), exact_loss(score, label)


def edge_distance(score):
    """Distance from a score to the nearest bin edge of the table (or to +-R)."""
    if not -R < score < R:
        return abs(abs(score) - R)
    pos = (score + R) / BIN
    return abs(pos - round(pos)) * BIN


# ---------------------------------------------------------------------------------------
# A Python mirror of the kernel's RNG (xorshift64*, kernel_defs.pxd) and of its draws
# ---------------------------------------------------------------------------------------

MASK64 = (1 << 64) - 1


class MirrorRng:
    """Reproduces the kernel's random stream from a Worker's rng_state."""

    def __init__(self, state):
        self.state = int(state)

    def next(self):
        x = self.state
        x ^= x >> 12
        x ^= (x << 25) & MASK64
        x ^= x >> 27
        self.state = x
        return (x * 2685821657736338717) & MASK64

    def below(self, n):
        return ((self.next() >> 32) * n) >> 32

    def uniform(self):
        return (self.next() >> 40) / 16777216.0

    def noise(self, tables):
        r = self.next()
        n = len(tables.noise_threshold)
        slot = ((r >> 32) * n) >> 32
        if (r & 0xFFFFFFFF) < int(tables.noise_threshold[slot]):
            return slot
        return int(tables.noise_alias[slot])


# ---------------------------------------------------------------------------------------
# The float64 reference trainer
# ---------------------------------------------------------------------------------------

class Reference:
    """Float64 re-implementation of train_block, fill_targets and the sentence loops."""

    def __init__(self, w_in, w_out, gamma, tables, settings, classify, gamma_value=0.0,
                 rng_state=None, context_bias=None):
        self.w_in = np.array(w_in, dtype=np.float64)
        self.w_out = np.array(w_out, dtype=np.float64)
        self.gamma = np.array(gamma, dtype=np.float64)  # the per-word array
        self.gamma_value = float(gamma_value)  # the scalar of global / fixed modes
        self.use_bias = settings.loss == "nce" and getattr(settings, "context_bias", False)
        self.bias = None if context_bias is None else np.array(context_bias, dtype=np.float64)
        self.delta = 0.0
        self.tables = tables
        self.s = settings
        self.classify = classify
        self.rng = MirrorRng(rng_state) if rng_state is not None else None
        self.scores = []
        self.block_log = []  # (centre or None, input words, [(target, label)])
        self.n_reused_draws = 0  # CBOW, shared negatives: positions given an earlier draw

    # fill_targets -----------------------------------------------------------------
    def targets_for(self, word):
        t = self.tables
        if self.s.loss == "hs":
            lo, hi = int(t.path_offsets[word]), int(t.path_offsets[word + 1])
            return [(int(n), 1 - int(c)) for n, c in zip(t.path_nodes[lo:hi],
                                                         t.path_codes[lo:hi])]
        return [(word, 1)] + [(self.rng.noise(t), 0) for _ in range(self.s.negative)]

    # train_block ------------------------------------------------------------------
    def block(self, inputs, in_words, targets, alpha):
        """Train input vectors (copies) against targets; return (loss, input grads)."""
        nce = self.s.loss == "nce"
        per_word = self.s.gamma_mode == "per-word"
        grads = [np.zeros(self.w_out.shape[1]) for _ in inputs]
        loss = 0.0
        # The kernel reads each input's normaliser as it was when the block began and
        # writes every step at once (see nce_gamma_at_block_start in _kernel.pyx).
        start_gamma = [self.gamma[w] if per_word else self.gamma_value for w in in_words]
        for target, label in targets:
            v = self.w_out[target].copy()
            corrected = nce and self.s.noise_correction
            offset = float(self.tables.log_noise[target]) if corrected else 0.0
            coefs = []
            for j, h in enumerate(inputs):
                z = float(h @ v)
                if nce and self.use_bias:
                    z += self.bias[target]
                if nce:
                    z -= start_gamma[j] + offset
                self.scores.append(z)
                prob, example_loss = self.classify(z, label)
                loss += example_loss
                g = (label - prob) * alpha
                coefs.append(g)
                grads[j] += g * v
                if nce and self.use_bias:
                    self.bias[target] += g
                if nce and per_word:
                    self.gamma[in_words[j]] -= g
                elif nce and self.s.gamma_mode == "global":
                    self.gamma_value -= g
                    self.delta -= g
            for g, h in zip(coefs, inputs):
                self.w_out[target] += g * h
        return loss, grads

    # softmax_block --------------------------------------------------------------------
    def softmax_pair(self, input_word, word, alpha):
        """The exact softmax's update of one pair: input_word's vector predicts `word`.
        Computed in float64 from the definition (log-sum-exp), not from the kernel's
        steps."""
        h = self.w_in[input_word].copy()
        z = self.w_out @ h
        self.scores.append(z)
        log_p = z - np.logaddexp.reduce(z)
        g = -np.exp(log_p) * alpha
        g[word] += alpha
        grad = g @ self.w_out
        self.w_out += np.outer(g, h)
        self.w_in[input_word] += grad
        return float(-log_p[word])

    def sentence_softmax(self, sentence, alpha):
        loss, n_examples = 0.0, 0
        length = len(sentence)
        for i in range(length):
            reach = self.s.window - self.rng.below(self.s.window)
            lo, hi = max(0, i - reach), min(length, i + reach + 1)
            for j in range(lo, hi):
                if j != i:
                    loss += self.softmax_pair(sentence[j], sentence[i], alpha)
                    n_examples += 1
        return loss, n_examples

    def pair(self, input_word, targets, labels, alpha):
        """train_pair with the kernel's targets (its noise came from its RNG)."""
        if self.s.loss == "softmax":
            assert list(targets) == [int(targets[0])] and list(labels) == [1]
            return self.softmax_pair(input_word, int(targets[0]), alpha)
        loss, grads = self.block([self.w_in[input_word].copy()], [input_word],
                                 list(zip(targets, labels)), alpha)
        self.w_in[input_word] += grads[0]
        return loss

    # targets_for_position ---------------------------------------------------------
    def start_pipeline(self, sentence):
        """NS and NCE draw each position's targets one position early: position 0's
        when the sentence starts, then position i + 1's right after position i's window
        draw. HS draws nothing and takes each position's path when it comes."""
        self.saved_noise = {}
        self.pending = None if self.s.loss == "hs" else self.drawn_targets(sentence, 0)

    def drawn_targets(self, sentence, n):
        """Position n's targets. CBOW with shared negatives: positions n and n + period
        (period = 2 window + 1) share one draw of noise words, for every n whose
        n // period is even."""
        period = 2 * self.s.window + 1
        if self.s.architecture != "cbow" or not self.s.shared_negatives:
            return self.targets_for(sentence[n])
        if (n // period) % 2 == 0:
            targets = self.targets_for(sentence[n])
            self.saved_noise[n + period] = targets[1:]
            return targets
        self.n_reused_draws += 1
        return [(sentence[n], 1)] + self.saved_noise.pop(n)

    def position_targets(self, sentence, i):
        if self.s.loss == "hs":
            return self.targets_for(sentence[i])
        targets = self.pending
        if i + 1 < len(sentence):
            self.pending = self.drawn_targets(sentence, i + 1)
        return targets

    # train_sentence_sg / train_sentence_cbow -----------------------------------------
    def sentence_sg(self, sentence, alpha):
        loss, n_examples = 0.0, 0
        length = len(sentence)
        if self.s.shared_negatives:
            self.start_pipeline(sentence)
        for i in range(length):
            reach = self.s.window - self.rng.below(self.s.window)
            lo, hi = max(0, i - reach), min(length, i + reach + 1)
            contexts = [sentence[j] for j in range(lo, hi) if j != i]
            if self.s.shared_negatives:
                targets = self.position_targets(sentence, i)
                assert contexts  # a sentence of 2 or more words
                self.block_log.append((sentence[i], contexts, targets))
                block_loss, grads = self.block([self.w_in[c].copy() for c in contexts],
                                               contexts, targets, alpha)
                for c, grad in zip(contexts, grads):
                    self.w_in[c] += grad
                loss += block_loss
                n_examples += len(contexts)
            else:
                for c in contexts:
                    targets = self.targets_for(sentence[i])
                    self.block_log.append((sentence[i], [c], targets))
                    block_loss, grads = self.block([self.w_in[c].copy()], [c], targets, alpha)
                    self.w_in[c] += grads[0]
                    loss += block_loss
                    n_examples += 1
        return loss, n_examples

    def sentence_cbow(self, sentence, alpha):
        loss, n_examples = 0.0, 0
        length = len(sentence)
        self.start_pipeline(sentence)
        for i in range(length):
            reach = self.s.window - self.rng.below(self.s.window)
            lo, hi = max(0, i - reach), min(length, i + reach + 1)
            contexts = [sentence[j] for j in range(lo, hi) if j != i]
            targets = self.position_targets(sentence, i)
            assert contexts  # a sentence of 2 or more words
            hidden = sum(self.w_in[c] for c in contexts) / len(contexts)
            self.block_log.append((sentence[i], contexts, targets))
            block_loss, grads = self.block([hidden], [-1], targets, alpha)
            for c in contexts:
                self.w_in[c] += grads[0]
            loss += block_loss
            n_examples += 1
        return loss, n_examples

    # train_tokens -----------------------------------------------------------------
    def train_job(self, tokens, alpha_start, alpha_end):
        tokens = [int(t) for t in tokens]
        n = len(tokens)
        keep = self.tables.keep_probability
        loss, n_examples, n_words, n_kept = 0.0, 0, 0, 0
        pos = 0
        while pos < n:
            start = pos
            sentence = []
            while pos < n and tokens[pos] != END and len(sentence) < self.s.max_sentence:
                word = tokens[pos]
                pos += 1
                n_words += 1
                p = float(keep[word])
                if p < 1.0 and self.rng.uniform() >= p:
                    continue
                sentence.append(word)
            if pos < n and tokens[pos] == END:
                pos += 1
            n_kept += len(sentence)
            if len(sentence) < 2:
                continue
            alpha = float(np.float32(alpha_start + (alpha_end - alpha_start) * start / n))
            if self.s.loss == "softmax":
                sentence_loss, examples = self.sentence_softmax(sentence, alpha)
            elif self.s.architecture == "skipgram":
                sentence_loss, examples = self.sentence_sg(sentence, alpha)
            else:
                sentence_loss, examples = self.sentence_cbow(sentence, alpha)
            loss += sentence_loss
            n_examples += examples
        return loss, n_examples, n_words, n_kept, self.delta
