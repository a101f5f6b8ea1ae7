"""Unit tests for the compiled kernel (src/_kernel.pyx) through its Python entry points.

The references below are float64 numpy re-implementations of the update derived in the
kernel's module docstring. Per example (input h, output row v, label y):
    z = <h, v>                              (NS, HS)
    z = <h, v> - gamma - log(k q(c))        (NCE)
    g = (y - sigma(z)) * alpha;  grad_h += g v (v before its update);  v += g h;
    gamma -= g (NCE, learned normaliser)
A block scores every input against one output row, then updates that row, target after
target; the inputs take their accumulated gradients last.

Each reference runs twice: once with the exact sigmoid (loose tolerance, derived from the
table's error bound) and once with the kernel's own table rule (tight tolerance, only
where no score lies so close to a bin edge that float32 rounding could pick the
neighbouring bin).
"""

import dataclasses
import math
from collections import namedtuple

import numpy as np
import pytest

from fastw2v import _kernel
from fastw2v.config import TrainConfig
from fastw2v.training.kernel import KernelSettings, build_tables
from fastw2v.state import ModelState
from fastw2v.text.vocab import Vocabulary

R = float(_kernel.TABLE_RANGE)
N_BINS = len(_kernel.SIGMOID_TABLE)
BIN = 2.0 * R / N_BINS
END = _kernel.SENTENCE_END_ID
# The worst-case error of the kernel's sigma inside the table range: half a bin times
# sigma' <= 1/4 (see test_sigmoid_table_error_bound). Outside the range sigma saturates
# to 0 or 1, which is off by at most sigma(-8) = 3.4e-4 < 1/1024.
SIGMA_ERR = BIN / 2 * 0.25
# The worst-case error of one example's loss inside the range: half a bin (|d loss/dz| <= 1).
LOSS_ERR = BIN / 2


# ---------------------------------------------------------------------------------------
# Building trainers
# ---------------------------------------------------------------------------------------

Setup = namedtuple("Setup", "trainer tables settings gamma")


def default_counts(n):
    return np.arange(n, 0, -1) * 10


def make_tables(counts, loss="ns", negative=3, keep=None):
    config = TrainConfig(loss=loss, negative=negative, sample=0)
    tables = build_tables(np.asarray(counts, dtype=np.int64), config)
    if keep is not None:
        tables = dataclasses.replace(tables,
                                     keep_probability=np.asarray(keep, dtype=np.float32))
    return tables


def build(w_in, w_out, gamma=None, *, counts=None, keep=None, tables=None,
          architecture="skipgram", loss="ns", gamma_mode="global", noise_correction=True,
          shared=False, window=5, negative=3, max_sentence=64):
    n = w_in.shape[0]
    if tables is None:
        counts = default_counts(n) if counts is None else counts
        tables = make_tables(counts, loss, negative, keep)
    if gamma is None:
        gamma = np.zeros(n if gamma_mode == "per-word" else 1, dtype=np.float32)
    settings = KernelSettings(architecture, loss, gamma_mode, noise_correction, shared,
                              window, negative, max_sentence)
    return Setup(_kernel.Trainer(w_in, w_out, gamma, tables, settings), tables, settings,
                 gamma)


def make_trainer(w_in, w_out, **kwargs):
    return build(w_in, w_out, **kwargs).trainer


def n_out_rows(n_words, loss):
    return max(1, n_words - 1) if loss == "hs" else n_words


def random_model(rng, n_words, dim, scale, loss="ns"):
    w_in = (rng.standard_normal((n_words, dim)) * scale).astype(np.float32)
    w_out = (rng.standard_normal((n_out_rows(n_words, loss), dim)) * scale).astype(np.float32)
    return w_in, w_out


@pytest.fixture(scope="module")
def trainer():
    w = np.zeros((4, 2), dtype=np.float32)
    return make_trainer(w, w.copy())


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
        prob = float(_kernel.SIGMOID_TABLE[idx])
        log_sig = _kernel.LOG_SIGMOID_TABLE
        loss = -float(log_sig[idx] if label else log_sig[N_BINS - 1 - idx])
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
                 rng_state=None):
        self.w_in = np.array(w_in, dtype=np.float64)
        self.w_out = np.array(w_out, dtype=np.float64)
        self.gamma = np.array(gamma, dtype=np.float64)  # the per-word array
        self.gamma_value = float(gamma_value)  # the scalar of global / fixed modes
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
                if nce:
                    z -= start_gamma[j] + offset
                self.scores.append(z)
                prob, example_loss = self.classify(z, label)
                loss += example_loss
                g = (label - prob) * alpha
                coefs.append(g)
                grads[j] += g * v
                if nce and per_word:
                    self.gamma[in_words[j]] -= g
                elif nce and self.s.gamma_mode == "global":
                    self.gamma_value -= g
                    self.delta -= g
            for g, h in zip(coefs, inputs):
                self.w_out[target] += g * h
        return loss, grads

    def pair(self, input_word, targets, labels, alpha):
        """train_pair with the kernel's targets (its noise came from its RNG)."""
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
            if self.s.architecture == "skipgram":
                sentence_loss, examples = self.sentence_sg(sentence, alpha)
            else:
                sentence_loss, examples = self.sentence_cbow(sentence, alpha)
            loss += sentence_loss
            n_examples += examples
        return loss, n_examples, n_words, n_kept, self.delta


# ---------------------------------------------------------------------------------------
# Module constants and tables
# ---------------------------------------------------------------------------------------

def test_module_constants_and_tables():
    assert _kernel.SENTENCE_END_ID == -1
    assert R > 0
    sig, log_sig = _kernel.sigmoid_tables()
    assert sig.dtype == np.float32 and log_sig.dtype == np.float32
    assert np.array_equal(sig, _kernel.SIGMOID_TABLE)
    assert np.array_equal(log_sig, _kernel.LOG_SIGMOID_TABLE)
    assert np.all(np.diff(sig) > 0) and np.all(np.diff(log_sig) > 0)
    # Symmetric bins: sigma(-x) = 1 - sigma(x) holds between mirrored bins.
    np.testing.assert_allclose(sig + sig[::-1], 1.0, atol=1e-6)


def test_name_tables_match_the_settings_names():
    assert set(_kernel.ARCHITECTURES) == {"skipgram", "cbow"}
    assert set(_kernel.LOSSES) == {"ns", "nce", "hs"}
    assert set(_kernel.GAMMA_MODES) == {"global", "per-word", "fixed"}


# ---------------------------------------------------------------------------------------
# classify: sigmoid and loss, inside and outside the table range
# ---------------------------------------------------------------------------------------

def _grid_inside():
    # About 80 points per bin, plus every bin edge; all strictly inside (-R, R).
    grid = np.linspace(-R, R, 160_001, dtype=np.float64)[1:-1]
    edges = -R + BIN * np.arange(1, N_BINS)
    return np.concatenate([grid, edges]).astype(np.float32)


def test_sigmoid_table_error_bound(trainer):
    # The table stores sigma at bin centres, so a score is at most half a bin
    # (BIN / 2 = 1/256) from the centre it reads; sigma' <= 1/4, so the error is at most
    # 1/256 * 1/4 = 1/1024 = 9.77e-4 <= 1e-3 (plus float32 rounding, ~6e-8).
    xs = _grid_inside()
    probs = np.array([trainer.classify(float(x), 1)[0] for x in xs])
    err = np.abs(probs - exact_sigmoid(xs))
    assert err.max() <= 1e-3, (err.max(), xs[err.argmax()])
    assert err.max() <= SIGMA_ERR + 1e-6
    # The tables are really read: the probability is constant inside each bin.
    b = np.float32(BIN)
    assert trainer.classify(float(0.1 * b), 1)[0] == trainer.classify(float(0.9 * b), 1)[0]


def test_table_loss_inside_range_within_table_tolerance(trainer):
    # d/dx [-log sigma(x)] = sigma(x) - 1, of magnitude <= 1, so reading the bin centre
    # costs at most half a bin: 1/256 = 3.9e-3. Label 0 reads the mirrored bin, same bound.
    xs = _grid_inside()[::7]
    tol = LOSS_ERR + 1e-5
    for label in (0, 1):
        losses = np.array([trainer.classify(float(x), label)[1] for x in xs])
        expected = np.array([exact_loss(x, label) for x in xs])
        err = np.abs(losses - expected)
        assert err.max() <= tol, (label, err.max(), xs[err.argmax()])


def test_table_rule_of_the_reference_matches_the_kernel(trainer):
    # The tight references below use table_classify; it must be the kernel's rule.
    xs = _grid_inside()[::13]
    xs = xs[np.array([edge_distance(float(x)) > 1e-5 for x in xs])]
    for label in (0, 1):
        for x in xs:
            prob, loss = trainer.classify(float(x), label)
            exp_prob, exp_loss = table_classify(float(x), label)
            assert prob == pytest.approx(exp_prob, abs=1e-7)
            assert loss == pytest.approx(exp_loss, rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("x", [R, R + 1e-3, 8.5, 9.0, 12.5, 20.0, 50.0, 100.0, 1e4, 1e30,
                               float("inf")])
def test_saturation_and_near_exact_loss_outside_range(trainer, x):
    prob_pos, loss_pos_1 = trainer.classify(x, 1)
    prob_neg, loss_neg_1 = trainer.classify(-x, 1)
    _, loss_pos_0 = trainer.classify(x, 0)
    _, loss_neg_0 = trainer.classify(-x, 0)
    assert prob_pos == 1.0
    assert prob_neg == 0.0
    x32 = float(np.float32(x))  # the shim takes a float32 score
    for score, label, loss in [(x32, 1, loss_pos_1), (-x32, 1, loss_neg_1),
                               (x32, 0, loss_pos_0), (-x32, 0, loss_neg_0)]:
        expected = exact_loss(score, label)
        if math.isinf(expected):
            assert loss == expected
        else:
            # Outside the table the kernel takes log1p(e) = e for e = exp(-|z|) <= e^-8:
            # an absolute error below e^2 / 2 < 6e-8, far under the table's own error.
            assert loss == pytest.approx(expected, rel=1e-12, abs=6e-8), (score, label)


def test_loss_outside_range_is_not_capped(trainer):
    # A diverging run must report a huge loss, not one capped at the table's edge.
    assert trainer.classify(-1000.0, 1)[1] == pytest.approx(1000.0, rel=1e-12)
    assert trainer.classify(1000.0, 0)[1] == pytest.approx(1000.0, rel=1e-12)
    assert trainer.classify(1000.0, 1)[1] < 1e-300
    assert trainer.classify(-1000.0, 0)[1] < 1e-300


@pytest.mark.parametrize("label", [0, 1])
def test_nan_score_gives_nan_loss_without_crashing(trainer, label):
    prob, loss = trainer.classify(float("nan"), label)
    assert math.isnan(loss)
    assert 0.0 <= prob <= 1.0


# ---------------------------------------------------------------------------------------
# The RNG mirror: the tests below predict the kernel's draws with it
# ---------------------------------------------------------------------------------------

def test_mirror_rng_reproduces_kernel_noise_draws():
    counts = np.array([500, 120, 60, 60, 7, 3, 1, 1, 0, 40])
    tables = make_tables(counts)
    w = np.zeros((len(counts), 2), dtype=np.float32)
    trainer = make_trainer(w, w.copy(), tables=tables)
    worker = trainer.new_worker(2024)
    mirror = MirrorRng(worker.rng_state)
    draws = trainer.draw_noise(worker, 5000)
    expected = [mirror.noise(tables) for _ in range(5000)]
    assert draws.tolist() == expected
    assert worker.rng_state == mirror.state


def test_worker_seeding():
    w = np.zeros((5, 3), dtype=np.float32)
    trainer = make_trainer(w, w.copy())
    states = [trainer.new_worker(seed).rng_state for seed in range(50)]
    assert all(s != 0 for s in states)  # xorshift's state must never be zero
    assert len(set(states)) == 50
    assert trainer.new_worker(7).rng_state == trainer.new_worker(7).rng_state
    # The seed alone determines the state, whatever the buffer sizes.
    assert _kernel.Worker(3, 10, 2, 2, 7).rng_state == trainer.new_worker(7).rng_state


def test_a_restored_rng_state_continues_the_same_stream():
    counts = np.array([50, 20, 9, 4, 1])
    tables = make_tables(counts)
    w = np.zeros((len(counts), 2), dtype=np.float32)
    trainer = make_trainer(w, w.copy(), tables=tables)
    worker = trainer.new_worker(11)
    trainer.draw_noise(worker, 100)  # move away from the seeded state
    saved = worker.rng_state
    expected = trainer.draw_noise(worker, 500)
    other = trainer.new_worker(99)
    other.rng_state = saved
    assert other.rng_state == saved
    assert trainer.draw_noise(other, 500).tolist() == expected.tolist()
    with pytest.raises(ValueError, match="zero"):
        other.rng_state = 0


# ---------------------------------------------------------------------------------------
# One update (train_pair) against the numpy reference, for every loss
# ---------------------------------------------------------------------------------------

PAIR_VARIANTS = {
    "ns": dict(loss="ns"),
    "nce-global": dict(loss="nce", gamma_mode="global"),
    "nce-per-word": dict(loss="nce", gamma_mode="per-word"),
    "nce-fixed": dict(loss="nce", gamma_mode="fixed"),
    "nce-uncorrected": dict(loss="nce", gamma_mode="global", noise_correction=False),
    "hs": dict(loss="hs"),
}
GAMMA_SENTINEL = 7.0  # in the gamma array of modes that must not read it


def _run_pair_cases(variant, scale, n_cases=60, n_words=20, dim=8, negative=3, alpha=0.25):
    """Run single updates on fresh random data; yield what each case needs to check."""
    options = PAIR_VARIANTS[variant]
    loss = options["loss"]
    per_word = options.get("gamma_mode") == "per-word"
    counts = np.array([400, 300, 200] + [20] * (n_words - 3))
    tables = make_tables(counts, loss, negative)
    for case in range(n_cases):
        rng = np.random.default_rng([case, int(scale * 10), len(variant)])
        w_in, w_out = random_model(rng, n_words, dim, scale, loss)
        if per_word:
            gamma = (rng.standard_normal(n_words) * 0.5).astype(np.float32)
        else:
            gamma = np.full(1, GAMMA_SENTINEL, dtype=np.float32)
        gamma_arg = float(np.float32(rng.standard_normal() * 0.5))
        old_in, old_out, old_gamma = w_in.copy(), w_out.copy(), gamma.copy()
        input_word = int(rng.integers(n_words))
        # Often a frequent word, so that noise words equal to it occur.
        word = int(rng.integers(3)) if case % 2 else int(rng.integers(n_words))
        setup = build(w_in, w_out, gamma, tables=tables, negative=negative, **options)
        seed = 77 + case
        worker = setup.trainer.new_worker(seed)
        twin = setup.trainer.new_worker(seed)
        result = setup.trainer.train_pair(worker, input_word, word, alpha, gamma_arg)
        kernel_loss, targets, labels, gamma_change = result
        yield dict(setup=setup, old_in=old_in, old_out=old_out, old_gamma=old_gamma,
                   w_in=w_in, w_out=w_out, gamma=gamma, gamma_arg=gamma_arg,
                   input_word=input_word, word=word, targets=targets, labels=labels,
                   loss=kernel_loss, gamma_change=gamma_change, worker=worker, twin=twin,
                   alpha=alpha, negative=negative)


@pytest.mark.parametrize("scale", [0.3, 1.0, 3.0])
@pytest.mark.parametrize("variant", list(PAIR_VARIANTS))
def test_single_update_matches_numpy_reference(variant, scale):
    options = PAIR_VARIANTS[variant]
    loss_name = options["loss"]
    gamma_mode = options.get("gamma_mode", "global")
    nce = loss_name == "nce"
    n_checked_tight = 0
    saw_duplicate = saw_repeat = saw_outside = saw_long_path = saw_gamma_move = False
    for c in _run_pair_cases(variant, scale):
        setup, targets, labels = c["setup"], c["targets"], c["labels"]
        tables, settings = setup.tables, setup.settings
        trainer, worker, twin = setup.trainer, c["worker"], c["twin"]
        word, input_word, alpha = c["word"], c["input_word"], c["alpha"]

        # Which outputs were trained, with which labels, and what the RNG gave.
        if loss_name == "hs":
            lo, hi = tables.path_offsets[word], tables.path_offsets[word + 1]
            assert targets == tables.path_nodes[lo:hi].tolist()
            assert labels == (1 - tables.path_codes[lo:hi].astype(int)).tolist()
            assert worker.rng_state == twin.rng_state  # HS draws nothing
            saw_long_path |= len(targets) >= 3
        else:
            # The real word then exactly `negative` noise words, in the order drawn;
            # a noise word equal to the real one stays, as a noise example.
            k = c["negative"]
            assert targets[0] == word and len(targets) == k + 1
            assert labels == [1] + [0] * k
            assert targets[1:] == trainer.draw_noise(twin, k).tolist()
            assert worker.rng_state == twin.rng_state
            noise = targets[1:]
            saw_duplicate |= word in noise
            saw_repeat |= len(set(noise)) < len(noise)

        # Rows not involved are untouched, bit for bit.
        for row in range(c["w_in"].shape[0]):
            if row != input_word:
                assert np.array_equal(c["w_in"][row], c["old_in"][row])
        for row in range(c["w_out"].shape[0]):
            if row not in targets:
                assert np.array_equal(c["w_out"][row], c["old_out"][row])
        # The gamma array is written only by per-word NCE, and only at the input word.
        if nce and gamma_mode == "per-word":
            others = np.arange(len(c["gamma"])) != input_word
            assert np.array_equal(c["gamma"][others], c["old_gamma"][others])
        else:
            assert np.array_equal(c["gamma"], c["old_gamma"])
        # Only the global normaliser reports a change.
        if not (nce and gamma_mode == "global"):
            assert c["gamma_change"] == 0.0

        n_pairs = len(targets)
        args = (c["old_in"], c["old_out"], c["old_gamma"], tables, settings)

        # 1) Exact sigmoid. Each g differs from the kernel's by <= alpha * SIGMA_ERR, so
        #    each update component differs by <= alpha * SIGMA_ERR * |row component|,
        #    summed over the examples (plus higher-order terms through repeated rows and
        #    through the normaliser, covered by the factor 2). Loss: <= LOSS_ERR per
        #    example. NCE's normaliser moves by -sum g: <= alpha * SIGMA_ERR per example.
        ref = Reference(*args, exact_classify, c["gamma_arg"])
        exp_loss = ref.pair(input_word, targets, labels, alpha)
        saw_outside |= any(abs(s) >= R for s in ref.scores)
        mag = max(np.abs(c["old_in"]).max(), np.abs(c["old_out"]).max()) * 1.5
        tol = 2 * alpha * SIGMA_ERR * mag * n_pairs + 1e-6
        np.testing.assert_allclose(c["w_in"], ref.w_in, rtol=0, atol=tol)
        np.testing.assert_allclose(c["w_out"], ref.w_out, rtol=0, atol=tol)
        assert abs(c["loss"] - exp_loss) <= n_pairs * LOSS_ERR + 1e-6
        gamma_tol = 2 * alpha * SIGMA_ERR * n_pairs + 1e-6
        if nce and gamma_mode == "global":
            assert abs(c["gamma_change"] - ref.delta) <= gamma_tol
        if nce and gamma_mode == "per-word":
            np.testing.assert_allclose(c["gamma"], ref.gamma, rtol=0, atol=gamma_tol)

        # 2) The kernel's own table rule: tight agreement (1e-4 of the update size). Only
        #    where no score lies within 1e-5 of a bin edge, since the kernel's float32
        #    score (~1e-6 off the float64 one here) could otherwise read the next bin.
        if min(edge_distance(s) for s in ref.scores) < 1e-5:
            continue
        n_checked_tight += 1
        ref = Reference(*args, table_classify, c["gamma_arg"])
        exp_loss = ref.pair(input_word, targets, labels, alpha)
        delta_in = ref.w_in - c["old_in"]
        delta_out = ref.w_out - c["old_out"]
        size = max(np.abs(delta_in).max(), np.abs(delta_out).max())
        atol = 1e-4 * size + 1e-7 * mag
        np.testing.assert_allclose(c["w_in"] - c["old_in"], delta_in, rtol=0, atol=atol)
        np.testing.assert_allclose(c["w_out"] - c["old_out"], delta_out, rtol=0, atol=atol)
        assert c["loss"] == pytest.approx(exp_loss, rel=1e-5, abs=1e-6)
        if nce and gamma_mode == "global":
            # gamma_change = -sum over the targets of g = (label - sigma(z)) * alpha.
            assert c["gamma_change"] == pytest.approx(ref.delta, rel=1e-5, abs=1e-7)
            saw_gamma_move |= abs(ref.delta) > 1e-3
        if nce and gamma_mode == "per-word":
            change = c["gamma"][input_word] - c["old_gamma"][input_word]
            exp_change = ref.gamma[input_word] - c["old_gamma"][input_word]
            assert change == pytest.approx(exp_change, rel=1e-4, abs=1e-6)
            saw_gamma_move |= abs(exp_change) > 1e-3

    assert n_checked_tight >= 40
    # The cases must cover the branches that matter.
    if loss_name == "hs":
        assert saw_long_path
    else:
        assert saw_duplicate, "no case drew a noise word equal to the real word"
        assert saw_repeat, "no case drew the same noise word twice"
    if scale == 3.0:
        assert saw_outside, "no score outside the table range"
    if nce and gamma_mode in ("global", "per-word"):
        assert saw_gamma_move, "the normaliser never moved"


def test_noise_word_equal_to_the_real_word_is_trained_as_noise():
    # The real word comes back as noise: both examples train the same output row, in
    # order -- first with label 1, then (seeing the row already updated) with label 0.
    counts = np.array([1000, 1, 1, 1])  # word 0 is almost every noise draw
    rng = np.random.default_rng(8)
    w_in, w_out = random_model(rng, 4, 5, 0.7)
    old_in, old_out = w_in.copy(), w_out.copy()
    setup = build(w_in, w_out, counts=counts, negative=2)
    worker = setup.trainer.new_worker(3)
    loss, targets, labels, _ = setup.trainer.train_pair(worker, 2, 0, 0.3)
    assert targets == [0, 0, 0] and labels == [1, 0, 0]
    h = old_in[2].astype(np.float64)
    v = old_out[0].astype(np.float64)
    grad = np.zeros_like(h)
    exp_loss = 0.0
    for label in (1, 0, 0):
        z = float(h @ v)
        prob, example_loss = exact_classify(z, label)
        exp_loss += example_loss
        g = (label - prob) * 0.3
        grad += g * v
        v = v + g * h
    tol = 2 * 0.3 * SIGMA_ERR * 3 * 1.5 * max(np.abs(old_in).max(), np.abs(old_out).max())
    np.testing.assert_allclose(w_out[0], v, atol=tol)
    np.testing.assert_allclose(w_in[2], h + grad, atol=tol)
    assert abs(loss - exp_loss) <= 3 * LOSS_ERR


def test_update_with_zero_negative_only_moves_target_pair():
    rng = np.random.default_rng(5)
    w_in, w_out = random_model(rng, 6, 4, 1.0)
    old_in, old_out = w_in.copy(), w_out.copy()
    setup = build(w_in, w_out, negative=0)
    worker = setup.trainer.new_worker(1)
    state = worker.rng_state
    loss, targets, labels, change = setup.trainer.train_pair(worker, 2, 4, 0.1)
    assert worker.rng_state == state  # no noise drawn
    assert (targets, labels, change) == ([4], [1], 0.0)
    ref = Reference(old_in, old_out, setup.gamma, setup.tables, setup.settings,
                    exact_classify)
    exp_loss = ref.pair(2, [4], [1], 0.1)
    mag = max(np.abs(old_in).max(), np.abs(old_out).max())
    np.testing.assert_allclose(w_in, ref.w_in, atol=2 * 0.1 * SIGMA_ERR * mag + 1e-6)
    np.testing.assert_allclose(w_out, ref.w_out, atol=2 * 0.1 * SIGMA_ERR * mag + 1e-6)
    assert abs(loss - exp_loss) < LOSS_ERR + 1e-6


@pytest.mark.parametrize("loss", ["ns", "nce", "hs"])
def test_train_pair_rejects_bad_ids(loss):
    w_in = np.zeros((5, 3), dtype=np.float32)
    w_out = np.zeros((n_out_rows(5, loss), 3), dtype=np.float32)
    trainer = make_trainer(w_in, w_out, loss=loss)
    worker = trainer.new_worker(0)
    for input_word, word in [(5, 0), (0, 5), (-1, 0), (0, -1)]:
        with pytest.raises(ValueError):
            trainer.train_pair(worker, input_word, word, 0.1)


@pytest.mark.parametrize("gamma_mode", ["global", "fixed", "per-word"])
def test_nce_logit_subtracts_the_given_gamma_and_log_noise(gamma_mode):
    # alpha = 0 trains nothing, so the loss shows the logits the kernel used:
    # z = <h, v> - gamma - log(k q(c)), gamma being the scalar passed in (global, fixed)
    # or the input word's entry of the gamma array (per-word).
    rng = np.random.default_rng(4)
    n, dim, k = 10, 6, 4
    w_in, w_out = random_model(rng, n, dim, 0.5)
    gamma = (rng.standard_normal(n) if gamma_mode == "per-word" else [GAMMA_SENTINEL])
    gamma = np.asarray(gamma, dtype=np.float32)
    setup = build(w_in, w_out, gamma.copy(), loss="nce", gamma_mode=gamma_mode, negative=k)
    log_noise = setup.tables.log_noise
    counts = default_counts(n)
    q = counts ** 0.75 / np.sum(counts ** 0.75)
    np.testing.assert_allclose(log_noise, np.log(k * q), rtol=1e-6)
    losses = []
    for gamma_arg in (-2.0, 0.0, 1.5):
        loss, targets, labels, change = setup.trainer.train_pair(
            setup.trainer.new_worker(3), 2, 5, 0.0, gamma_arg)
        assert change == 0.0
        used = float(gamma[2]) if gamma_mode == "per-word" else gamma_arg
        expected = sum(exact_loss(float(w_in[2].astype(np.float64) @ w_out[t]) - used
                                  - float(log_noise[t]), y)
                       for t, y in zip(targets, labels))
        assert abs(loss - expected) <= len(targets) * LOSS_ERR + 1e-5
        losses.append(loss)
    assert np.array_equal(setup.gamma, gamma)
    if gamma_mode == "per-word":
        assert losses[0] == losses[1] == losses[2]  # the scalar is ignored
    else:
        assert abs(losses[0] - losses[2]) > 1.0  # and it matters here


def test_ns_and_hs_ignore_the_gamma_argument():
    for loss in ("ns", "hs"):
        results = []
        for gamma_arg in (0.0, 3.0):
            w_in, w_out = random_model(np.random.default_rng(1), 8, 4, 0.5, loss)
            setup = build(w_in, w_out, loss=loss)
            out = setup.trainer.train_pair(setup.trainer.new_worker(5), 1, 3, 0.2, gamma_arg)
            results.append((out, w_in, w_out))
        (a, a_in, a_out), (b, b_in, b_out) = results
        assert a == b
        assert np.array_equal(a_in, b_in) and np.array_equal(a_out, b_out)


# ---------------------------------------------------------------------------------------
# NCE without noise correction and with gamma fixed at 0 is negative sampling, exactly
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("architecture, shared", [("skipgram", False), ("skipgram", True),
                                                  ("cbow", False)])
def test_uncorrected_nce_with_zero_fixed_gamma_is_bit_identical_to_ns(architecture, shared):
    rng = np.random.default_rng(21)
    n, dim = 30, 16
    w_in, w_out = random_model(rng, n, dim, 0.3)
    tokens = _random_stream(rng, n, n_sentences=12)
    runs = []
    for loss in ("ns", "nce"):
        a_in, a_out = w_in.copy(), w_out.copy()
        setup = build(a_in, a_out, loss=loss, gamma_mode="fixed", noise_correction=False,
                      architecture=architecture, shared=shared, window=3, negative=4)
        worker = setup.trainer.new_worker(99)
        results = [setup.trainer.train_job(worker, tokens, 0.1, 0.01, 0.0)]
        for input_word, word in [(0, 1), (3, 3), (7, 0), (12, 2)]:
            results.append(setup.trainer.train_pair(worker, input_word, word, 0.05, 0.0))
        runs.append((results, a_in, a_out, worker.rng_state))
    (ns, ns_in, ns_out, ns_state), (nce, nce_in, nce_out, nce_state) = runs
    assert ns == nce  # losses (bit for bit), counts, targets, labels
    assert ns_state == nce_state
    assert np.array_equal(ns_in, nce_in)
    assert np.array_equal(ns_out, nce_out)
    assert not np.array_equal(ns_in, w_in)  # something was trained


# ---------------------------------------------------------------------------------------
# Shared negatives: one block per centre word, all its contexts as inputs
# ---------------------------------------------------------------------------------------

def shared_block_reference(w_in, w_out, sentences, noise, alpha, classify):
    """Skip-gram with shared targets and window 1, written out for this test.

    `noise[s][i]` lists the noise words drawn for centre i of sentence s. For each
    centre: targets are the centre (label 1) then its noise words (label 0); for each
    target in order, every context input is scored against the current output row, the
    input gradients accumulate, then that output row moves by sum_j g_j h_j; the context
    rows take their gradients after the last target.
    """
    w_in = w_in.astype(np.float64)
    w_out = w_out.astype(np.float64)
    loss, scores = 0.0, []
    for sentence, sentence_noise in zip(sentences, noise):
        for i, centre in enumerate(sentence):
            contexts = [sentence[j] for j in (i - 1, i + 1) if 0 <= j < len(sentence)]
            inputs = [w_in[c].copy() for c in contexts]
            grads = [np.zeros_like(h) for h in inputs]
            for target, label in [(centre, 1)] + [(int(x), 0) for x in sentence_noise[i]]:
                v = w_out[target].copy()
                step = np.zeros_like(v)
                for j, h in enumerate(inputs):
                    z = float(h @ v)
                    scores.append(z)
                    prob, example_loss = classify(z, label)
                    loss += example_loss
                    g = (label - prob) * alpha
                    grads[j] += g * v
                    step += g * h
                w_out[target] = v + step
            for c, grad in zip(contexts, grads):
                w_in[c] += grad
    return w_in, w_out, loss, scores


# Word 4 is the centre of [4, 1, 4] twice: context rows repeat inside one block.
SHARED_SENTENCES = [[3, 7, 5], [4, 1, 4]]
SHARED_STREAM = np.array([3, 7, 5, END, 4, 1, 4, END], dtype=np.int32)


@pytest.mark.parametrize("negative", [0, 3])
def test_shared_negatives_block_matches_numpy_reference(negative):
    rng = np.random.default_rng(31)
    n, dim, alpha = 9, 6, 0.3
    w_in, w_out = random_model(rng, n, dim, 0.8)
    old_in, old_out = w_in.copy(), w_out.copy()
    # window = 1: the shrunk window is always 1; keep_probability is all ones, so
    # subsampling draws nothing.
    setup = build(w_in, w_out, shared=True, window=1, negative=negative)
    seed = 5
    worker = setup.trainer.new_worker(seed)
    twin = setup.trainer.new_worker(seed)
    loss, n_examples, n_words, n_kept, change = setup.trainer.train_job(
        worker, SHARED_STREAM, alpha, alpha)
    assert (n_examples, n_words, n_kept, change) == (4 + 4, 6, 6, 0.0)
    # The kernel's draws, per sentence: position 0's `negative` noise words, then per
    # position one draw for the window (rng_below and draw_noise each take one 64-bit
    # value, so a twin mirrors it with a discarded draw) followed by the next position's
    # noise words (they are drawn one position early; see targets_for_position).
    noise = []
    for sentence in SHARED_SENTENCES:
        noise.append([setup.trainer.draw_noise(twin, negative).tolist()])
        for i in range(len(sentence)):
            setup.trainer.draw_noise(twin, 1)
            if i + 1 < len(sentence):
                noise[-1].append(setup.trainer.draw_noise(twin, negative).tolist())
    assert worker.rng_state == twin.rng_state

    mag = max(np.abs(old_in).max(), np.abs(old_out).max()) * 2
    # Exact sigmoid: per example g is off by <= alpha * SIGMA_ERR; a row collects at most
    # all the job's (example, target) updates (here <= 8 * 4); factor 2 for higher order.
    n_updates = n_examples * (negative + 1)
    exp_in, exp_out, exp_loss, scores = shared_block_reference(
        old_in, old_out, SHARED_SENTENCES, noise, alpha, exact_classify)
    tol = 2 * alpha * SIGMA_ERR * mag * n_updates + 1e-6
    np.testing.assert_allclose(w_in, exp_in, rtol=0, atol=tol)
    np.testing.assert_allclose(w_out, exp_out, rtol=0, atol=tol)
    assert abs(loss - exp_loss) <= n_updates * LOSS_ERR
    # The kernel's table rule, tightly (this data keeps every score away from bin edges).
    assert min(edge_distance(s) for s in scores) > 1e-5
    exp_in, exp_out, exp_loss, _ = shared_block_reference(
        old_in, old_out, SHARED_SENTENCES, noise, alpha, table_classify)
    np.testing.assert_allclose(w_in, exp_in, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w_out, exp_out, rtol=1e-5, atol=1e-6)
    assert loss == pytest.approx(exp_loss, rel=1e-5)


def test_shared_negatives_differ_from_per_pair_updates():
    # Same data and seed, negative = 0 (no draws besides the windows): per-pair training
    # scores the second context of a centre against an output row the first has already
    # moved; the shared block scores both against the same row.
    rng = np.random.default_rng(32)
    w_in, w_out = random_model(rng, 9, 6, 0.8)
    results = {}
    for shared in (False, True):
        a_in, a_out = w_in.copy(), w_out.copy()
        trainer = make_trainer(a_in, a_out, shared=shared, window=1, negative=0)
        out = trainer.train_job(trainer.new_worker(5), SHARED_STREAM, 0.3, 0.3)
        results[shared] = (out, a_in, a_out)
    assert results[False][0][1:] == results[True][0][1:]  # same counts
    assert not np.array_equal(results[False][2], results[True][2])


def test_cbow_shared_noise_matches_reference_over_long_sentences():
    # window 1: centre words 3 positions apart share a draw of noise words, so sentences
    # of up to 12 words reuse draws often; the kernel must follow the reference exactly,
    # RNG consumption included (a reused draw takes nothing from the generator).
    counts = np.array([90, 70, 50, 40, 30, 20, 15, 10, 8, 5, 3, 1] * 3)
    n_checked, ref = _check_jobs_against_reference(
        "cbow", "ns", "global", True, counts, dim=6, window=1, negative=3, n_seeds=10,
        max_sentence=12, n_sentences=8)
    assert n_checked >= 4
    assert ref.n_reused_draws >= 5


def test_cbow_shared_noise_takes_fewer_draws_than_a_draw_per_position():
    # One 12-word sentence, window 1, 3 noise words: per position 12 draws of 3 words;
    # shared, positions 3-5 and 9-11 reuse the draws of 0-2 and 6-8: 6 draws of 3.
    tokens = np.array(list(range(12)) + [END], dtype=np.int32)
    states = {}
    for shared in (False, True):
        w = (np.random.default_rng(0).standard_normal((20, 8)) * 0.1).astype(np.float32)
        setup = build(w, w.copy(), architecture="cbow", shared=shared, window=1,
                      negative=3, max_sentence=12)
        worker = setup.trainer.new_worker(5)
        ref = Reference(w, w.copy(), [GAMMA_SENTINEL], setup.tables, setup.settings,
                        table_classify, rng_state=worker.rng_state)
        setup.trainer.train_job(worker, tokens, 0.0, 0.0)
        ref.train_job(tokens, 0.0, 0.0)
        assert worker.rng_state == ref.rng.state
        noise = [tuple(t for t, label in targets if label == 0)
                 for _, _, targets in ref.block_log]
        states[shared] = noise
    per_position, shared_draws = states[False], states[True]
    assert len(set(per_position)) == 12  # 12 independent draws (distinct here)
    assert shared_draws[3:6] == shared_draws[0:3] and shared_draws[9:12] == shared_draws[6:9]
    assert len(set(shared_draws)) == 6


def test_shared_negatives_count_one_example_per_pair():
    # window = 1: sentence of length L has 2 (L - 1) (centre, context) pairs.
    rng = np.random.default_rng(33)
    n = 40
    w_in, w_out = random_model(rng, n, 8, 0.1)
    lengths = rng.integers(1, 15, size=30)
    tokens = []
    for length in lengths:
        tokens += rng.integers(n, size=length).tolist() + [END]
    tokens = np.array(tokens, dtype=np.int32)
    trainer = make_trainer(w_in, w_out, shared=True, window=1, negative=5)
    loss, n_examples, n_words, n_kept, _ = trainer.train_job(
        trainer.new_worker(1), tokens, 0.025, 0.025)
    assert n_words == n_kept == lengths.sum()
    assert n_examples == sum(2 * (L - 1) for L in lengths if L >= 2)
    # Vectors ~0.1: every example costs about log 2, (1 + 5) examples per pair.
    assert loss == pytest.approx(n_examples * 6 * math.log(2), rel=0.05)


# ---------------------------------------------------------------------------------------
# Whole jobs against the reference, every combination (RNG predicted by the mirror)
# ---------------------------------------------------------------------------------------

JOB_COMBOS = [
    ("skipgram", "ns", "global", False),
    ("skipgram", "ns", "global", True),
    ("skipgram", "nce", "global", False),
    ("skipgram", "nce", "global", True),
    ("skipgram", "nce", "per-word", False),
    ("skipgram", "nce", "per-word", True),
    ("skipgram", "nce", "fixed", False),
    ("skipgram", "nce", "fixed", True),
    ("skipgram", "hs", "global", False),
    ("skipgram", "hs", "global", True),
    ("cbow", "ns", "global", False),
    ("cbow", "ns", "global", True),
    ("cbow", "nce", "global", False),
    ("cbow", "nce", "global", True),
    ("cbow", "nce", "fixed", False),
    ("cbow", "hs", "global", False),
]


def _random_stream(rng, n_words, n_sentences=4):
    tokens = []
    for s in range(n_sentences):
        length = int(rng.integers(0, 10))
        # Small ids repeat, so a window often holds the same word twice.
        tokens += rng.integers(0, n_words // 2 if s % 2 else n_words, size=length).tolist()
        tokens.append(END)
    tokens += rng.integers(0, n_words, size=3).tolist()  # no final sentence end
    return np.array(tokens, dtype=np.int32)


def _check_jobs_against_reference(architecture, loss, gamma_mode, shared, counts, dim,
                                  window, negative, n_seeds=8, stream_words=None,
                                  max_sentence=6, n_sentences=4):
    """Train random jobs with the kernel and the float64 reference; compare everything.
    Returns (seeds whose rows were compared, the reference of the last seed)."""
    n = len(counts)
    keep = np.ones(n, dtype=np.float32)
    keep[[0, 1, 4]] = [0.4, 0.7, 0.0]  # subsampling draws, and a word always dropped
    tables = make_tables(counts, loss, negative, keep)
    n_checked = 0
    ref = None
    for seed in range(n_seeds):
        rng = np.random.default_rng([seed, len(architecture), len(loss), len(gamma_mode)])
        w_in, w_out = random_model(rng, n, dim, 0.5, loss)
        per_word = gamma_mode == "per-word"
        gamma = (rng.standard_normal(n) * 0.3 if per_word else [GAMMA_SENTINEL])
        gamma = np.asarray(gamma, dtype=np.float32)
        gamma_arg = float(np.float32(rng.standard_normal() * 0.3))
        old = (w_in.copy(), w_out.copy(), gamma.copy())
        setup = build(w_in, w_out, gamma, tables=tables, architecture=architecture,
                      loss=loss, gamma_mode=gamma_mode, shared=shared, window=window,
                      negative=negative, max_sentence=max_sentence)  # long ones split
        tokens = _random_stream(rng, stream_words or n, n_sentences)
        worker = setup.trainer.new_worker(seed)
        ref = Reference(*old, tables, setup.settings, table_classify, gamma_arg,
                        rng_state=worker.rng_state)
        result = setup.trainer.train_job(worker, tokens, 0.2, 0.05, gamma_arg)
        expected = ref.train_job(tokens, 0.2, 0.05)
        # Counts and the RNG's consumption are exact, whatever the rounding.
        assert result[1:4] == expected[1:4]
        assert worker.rng_state == ref.rng.state
        if not ref.scores or min(edge_distance(s) for s in ref.scores) < 3e-6:
            continue  # a float32 score could read the neighbouring bin
        n_checked += 1
        assert result[0] == pytest.approx(expected[0], rel=1e-5)
        # float32 rounding over a job moves the rows by ~2e-7 here.
        np.testing.assert_allclose(w_in, ref.w_in, rtol=1e-5, atol=3e-6)
        np.testing.assert_allclose(w_out, ref.w_out, rtol=1e-5, atol=3e-6)
        if loss == "nce" and per_word:
            np.testing.assert_allclose(gamma, ref.gamma, rtol=1e-5, atol=3e-6)
        else:
            assert np.array_equal(gamma, old[2])
        if loss == "nce" and gamma_mode == "global":
            assert result[4] == pytest.approx(expected[4], rel=1e-4, abs=1e-6)
        else:
            assert result[4] == 0.0
    return n_checked, ref


@pytest.mark.parametrize("architecture, loss, gamma_mode, shared", JOB_COMBOS)
def test_train_job_matches_reference(architecture, loss, gamma_mode, shared):
    counts = np.array([90, 70, 50, 40, 30, 20, 15, 10, 8, 5, 3, 1])
    n_checked, _ = _check_jobs_against_reference(architecture, loss, gamma_mode, shared,
                                                 counts, dim=5, window=3, negative=2)
    assert n_checked >= 4


@pytest.mark.parametrize("architecture, loss, shared", [
    ("skipgram", "ns", True), ("skipgram", "nce", True), ("cbow", "ns", False)])
def test_wide_blocks_match_reference(architecture, loss, shared):
    # Windows of up to 10 inputs against 8 targets, in a vocabulary large and flat
    # enough that most blocks have distinct targets and take the all-pairs products
    # (fw_dot_block, fw_combine): every 4-source pass, 2-destination pass and their
    # remainders, on rows of 13 floats (not a multiple of a vector's 8 lanes).
    # A seed's rows are compared only when no score falls within 3e-6 of a sigmoid-table
    # bin edge; wide blocks make many scores, so some seeds are passed over.
    counts = np.arange(400, 100, -1)
    n_checked, ref = _check_jobs_against_reference(
        architecture, loss, "global", shared, counts, dim=13, window=5, negative=7,
        n_seeds=16, stream_words=60, max_sentence=12, n_sentences=8)
    assert n_checked >= 3
    distinct = [len({t for t, _ in targets}) == len(targets)
                for _, _, targets in ref.block_log]
    assert sum(distinct) >= 0.7 * len(distinct)
    assert max(len(inputs) for _, inputs, _ in ref.block_log) >= 6


# ---------------------------------------------------------------------------------------
# Hierarchical softmax
# ---------------------------------------------------------------------------------------

def _leaf_probabilities(tables, u, w_out):
    """p(c | u) for every leaf c: the product over its path of sigma(+-<u, v_n>)."""
    n_words = len(tables.path_offsets) - 1
    probs = np.empty(n_words)
    for word in range(n_words):
        lo, hi = tables.path_offsets[word], tables.path_offsets[word + 1]
        z = w_out[tables.path_nodes[lo:hi]] @ u
        # Label 1 - code: a 0 branch has probability sigma(z), a 1 branch sigma(-z).
        sign = 1.0 - 2.0 * tables.path_codes[lo:hi]
        probs[word] = np.prod(exact_sigmoid(sign * z))
    return probs


@pytest.mark.parametrize("n_words", [1, 2, 3, 17, 200])
def test_hs_leaf_probabilities_sum_to_one(n_words):
    rng = np.random.default_rng(n_words)
    counts = rng.integers(1, 1000, size=n_words)
    tables = make_tables(counts, "hs")
    for scale in (0.1, 1.0, 3.0):
        w_in = rng.standard_normal((n_words, 16)) * scale
        w_out = rng.standard_normal((n_out_rows(n_words, "hs"), 16)) * scale
        for word in range(min(n_words, 5)):
            probs = _leaf_probabilities(tables, w_in[word], w_out)
            assert np.all(probs >= 0)
            assert abs(probs.sum() - 1.0) <= 1e-9


def test_hs_kernel_loss_is_minus_log_leaf_probability():
    # With alpha = 0 nothing moves and train_pair's loss is -log p(word | input) as the
    # kernel computes it; exp(-loss) over all words must sum to 1 up to the table error
    # (LOSS_ERR per node on the path, at most max_depth nodes).
    rng = np.random.default_rng(3)
    n, dim = 40, 8
    counts = rng.integers(1, 500, size=n)
    w_in, w_out = random_model(rng, n, dim, 0.4, "hs")
    old_in, old_out = w_in.copy(), w_out.copy()
    setup = build(w_in, w_out, counts=counts, loss="hs")
    depth = int(np.diff(setup.tables.path_offsets).max())
    worker = setup.trainer.new_worker(0)
    for input_word in (0, 7, 39):
        losses = np.array([setup.trainer.train_pair(worker, input_word, word, 0.0)[0]
                           for word in range(n)])
        probs = _leaf_probabilities(setup.tables, old_in[input_word].astype(np.float64),
                                    old_out.astype(np.float64))
        np.testing.assert_allclose(losses, -np.log(probs), rtol=0,
                                   atol=depth * LOSS_ERR + 1e-6)
        assert abs(np.exp(-losses).sum() - 1.0) <= math.expm1(depth * LOSS_ERR) + 1e-6
    np.testing.assert_array_equal(w_in, old_in)
    np.testing.assert_array_equal(w_out, old_out)


def test_hs_single_word_vocabulary_trains_nothing():
    w_in = np.ones((1, 3), dtype=np.float32)
    w_out = np.ones((1, 3), dtype=np.float32)
    trainer = make_trainer(w_in, w_out, counts=[5], loss="hs", window=2)
    assert trainer.train_pair(trainer.new_worker(0), 0, 0, 0.1) == (0.0, [], [], 0.0)
    result = trainer.train_job(trainer.new_worker(0), np.array([0, 0, 0, END], np.int32),
                               0.1, 0.1)
    assert result[0] == 0.0 and result[2:4] == (3, 3)
    assert np.all(w_in == 1) and np.all(w_out == 1)


# ---------------------------------------------------------------------------------------
# Trainer and Worker validation
# ---------------------------------------------------------------------------------------

def _valid_arguments(n=20, dim=8, loss="ns", gamma_mode="global"):
    counts = np.arange(n, 0, -1) + 5
    w_in = np.zeros((n, dim), dtype=np.float32)
    w_out = np.zeros((n_out_rows(n, loss), dim), dtype=np.float32)
    gamma = np.zeros(n if gamma_mode == "per-word" else 1, dtype=np.float32)
    tables = make_tables(counts, loss, 5)
    settings = KernelSettings("skipgram", loss, gamma_mode, True, False, 5, 5, 100)
    return dict(w_in=w_in, w_out=w_out, gamma=gamma, tables=tables, settings=settings)


def _construct(a):
    return _kernel.Trainer(a["w_in"], a["w_out"], a["gamma"], a["tables"], a["settings"])


@pytest.mark.parametrize("loss, gamma_mode", [("ns", "global"), ("nce", "global"),
                                              ("nce", "per-word"), ("nce", "fixed"),
                                              ("hs", "global")])
def test_trainer_accepts_matching_shapes(loss, gamma_mode):
    _construct(_valid_arguments(loss=loss, gamma_mode=gamma_mode))


def _replace_table(a, **changes):
    a["tables"] = dataclasses.replace(a["tables"], **changes)


def _replace_settings(a, **changes):
    a["settings"] = dataclasses.replace(a["settings"], **changes)


BAD_CASES = {
    "out_rows": ("ns", lambda a: a.update(w_out=np.zeros((19, 8), np.float32))),
    "out_dim": ("ns", lambda a: a.update(w_out=np.zeros((20, 9), np.float32))),
    "keep": ("ns", lambda a: _replace_table(a, keep_probability=np.ones(21, np.float32))),
    "threshold": ("ns", lambda a: _replace_table(
        a, noise_threshold=a["tables"].noise_threshold[:-1].copy())),
    "alias": ("ns", lambda a: _replace_table(a, noise_alias=np.zeros(19, np.int32))),
    "alias_values": ("ns", lambda a: _replace_table(
        a, noise_alias=np.where(np.arange(20) == 3, 20, a["tables"].noise_alias)
        .astype(np.int32))),
    "alias_negative": ("ns", lambda a: _replace_table(
        a, noise_alias=np.full(20, -1, np.int32))),
    "log_noise": ("nce", lambda a: _replace_table(a, log_noise=np.zeros(19, np.float32))),
    "empty": ("ns", lambda a: a.update(w_in=np.zeros((0, 8), np.float32),
                                       w_out=np.zeros((0, 8), np.float32))),
    "no_dim": ("ns", lambda a: a.update(w_in=np.zeros((20, 0), np.float32),
                                        w_out=np.zeros((20, 0), np.float32))),
    "window": ("ns", lambda a: _replace_settings(a, window=0)),
    "negative": ("ns", lambda a: _replace_settings(a, negative=-1)),
    "max_sentence": ("ns", lambda a: _replace_settings(a, max_sentence=0)),
    "gamma_empty": ("nce", lambda a: a.update(gamma=np.zeros(0, np.float32))),
    "gamma_per_word_length": ("nce", lambda a: (
        _replace_settings(a, gamma_mode="per-word"), a.update(gamma=np.zeros(19, np.float32)))),
    "hs_out_rows": ("hs", lambda a: a.update(w_out=np.zeros((18, 8), np.float32))),
    "hs_offsets_length": ("hs", lambda a: _replace_table(
        a, path_offsets=a["tables"].path_offsets[:-1].copy())),
    "hs_offsets_start": ("hs", lambda a: _replace_table(
        a, path_offsets=a["tables"].path_offsets + 1)),
    "hs_offsets_decrease": ("hs", lambda a: _replace_table(
        a, path_offsets=np.where(np.arange(21) == 5, 0, a["tables"].path_offsets))),
    "hs_offsets_end": ("hs", lambda a: _replace_table(
        a, path_nodes=np.append(a["tables"].path_nodes, 0).astype(np.int32),
        path_codes=np.append(a["tables"].path_codes, 0).astype(np.uint8))),
    "hs_codes_length": ("hs", lambda a: _replace_table(
        a, path_codes=a["tables"].path_codes[:-1].copy())),
    "hs_nodes_range": ("hs", lambda a: _replace_table(
        a, path_nodes=np.where(np.arange(len(a["tables"].path_nodes)) == 4, 19,
                               a["tables"].path_nodes).astype(np.int32))),
    "hs_nodes_negative": ("hs", lambda a: _replace_table(
        a, path_nodes=np.where(np.arange(len(a["tables"].path_nodes)) == 4, -1,
                               a["tables"].path_nodes).astype(np.int32))),
    "hs_codes_values": ("hs", lambda a: _replace_table(
        a, path_codes=np.where(np.arange(len(a["tables"].path_codes)) == 2, 2,
                               a["tables"].path_codes).astype(np.uint8))),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_trainer_rejects_mismatched_shapes_and_bad_parameters(case):
    loss, breaker = BAD_CASES[case]
    a = _valid_arguments(loss=loss)
    _construct(dict(a))  # valid before the change
    breaker(a)
    with pytest.raises(ValueError):
        _construct(a)


@pytest.mark.parametrize("field, value", [("architecture", "sg"), ("loss", "softmax"),
                                          ("gamma_mode", "learned")])
def test_trainer_rejects_unknown_names(field, value):
    a = _valid_arguments()
    _replace_settings(a, **{field: value})
    with pytest.raises((KeyError, ValueError)):
        _construct(a)


def test_trainer_accepts_every_configuration_that_training_accepts():
    # training.py builds the kernel's arrays and tables from a TrainConfig that
    # resolved() accepted, and hands them to the Trainer. Every such config must give a
    # working Trainer (--nce-gamma is an NCE option: with --loss ns or hs it only has to
    # be harmless).
    counts = np.array([50, 30, 20, 10, 5])
    failures = []
    for architecture in ("skipgram", "cbow"):
        for loss in ("ns", "nce", "hs"):
            for gamma_mode in ("global", "per-word", "fixed"):
                config = TrainConfig(architecture=architecture, loss=loss,
                                     nce_gamma=gamma_mode, dim=4, threads=1)
                try:
                    config = config.resolved()
                except Exception:
                    continue  # rejected up front, with a message for the user
                words = [str(i) for i in range(len(counts))]
                initial = ModelState.initial(Vocabulary(words, counts), config)
                w_in, w_out, gamma = initial.w_in, initial.w_out, initial.gamma
                try:
                    trainer = _kernel.Trainer(w_in, w_out, gamma, build_tables(counts, config),
                                              KernelSettings.from_config(config))
                    trainer.train_job(trainer.new_worker(1),
                                      np.array([0, 1, 2, 3, 4, END], np.int32), 0.025, 0.0)
                except ValueError as exc:
                    failures.append(f"{architecture}/{loss}/--nce-gamma {gamma_mode}: {exc}")
    assert not failures, ("configurations TrainConfig.resolved() accepts but the kernel "
                          "rejects:\n" + "\n".join(failures))


def test_per_word_gamma_with_cbow_never_touches_memory_outside_gamma():
    # CBOW's single input is the window's mean, whose word id is -1; per-word NCE would
    # index gamma[-1]. The Trainer must refuse this combination (TrainConfig does, but
    # the kernel's own validation is what guards its nogil code). Here gamma is a view
    # one element into a larger buffer, so an out-of-bounds access shows in storage[0].
    n, dim = 6, 4
    rng = np.random.default_rng(0)
    w_in, w_out = random_model(rng, n, dim, 0.5)
    storage = np.full(n + 1, 5.0, dtype=np.float32)
    gamma = storage[1:]
    tables = make_tables(default_counts(n), "nce", 2)
    settings = KernelSettings("cbow", "nce", "per-word", True, False, 2, 2, 64)
    try:
        trainer = _kernel.Trainer(w_in, w_out, gamma, tables, settings)
    except ValueError:
        return  # refused up front: fine
    trainer.train_job(trainer.new_worker(0), np.array([0, 1, 2, 3, 4, 5, END], np.int32),
                      0.1, 0.1)
    assert storage[0] == 5.0, (
        f"CBOW with per-word NCE wrote gamma[-1] (the float before the gamma array): "
        f"it became {storage[0]}; Trainer.__init__ should reject this combination")


def test_new_worker_buffer_sizes():
    for loss in ("ns", "hs"):
        a = _valid_arguments(loss=loss)
        trainer = _construct(a)
        worker = trainer.new_worker(0)
        assert (worker.dim, worker.max_sentence, worker.max_inputs) == (8, 100, 10)
        if loss == "hs":
            assert worker.max_targets == int(np.diff(a["tables"].path_offsets).max())
        else:
            assert worker.max_targets == 6


def test_worker_rejects_non_positive_sizes():
    for sizes in [(0, 4, 2, 2), (3, 0, 2, 2), (3, 4, 0, 2), (3, 4, 2, 0)]:
        with pytest.raises(ValueError):
            _kernel.Worker(*sizes, 1)


# ---------------------------------------------------------------------------------------
# train_job
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [20, 21, 2**31 - 1, -2, -(2**31)])
def test_train_job_rejects_out_of_range_ids_before_touching_the_model(bad):
    rng = np.random.default_rng(0)
    w_in, w_out = random_model(rng, 20, 8, 1.0)
    old_in, old_out = w_in.copy(), w_out.copy()
    trainer = make_trainer(w_in, w_out)
    worker = trainer.new_worker(0)
    state = worker.rng_state
    tokens = np.array([0, 1, 2, 3, bad, 4, END], dtype=np.int32)
    with pytest.raises(ValueError, match="out of range"):
        trainer.train_job(worker, tokens, 0.025, 0.0)
    assert np.array_equal(w_in, old_in) and np.array_equal(w_out, old_out)
    assert worker.rng_state == state


def test_train_job_and_train_pair_reject_mismatched_workers():
    w = np.zeros((20, 8), dtype=np.float32)
    trainer = make_trainer(w, w.copy(), window=5, negative=3, max_sentence=64)
    tokens = np.array([0, 1, END], dtype=np.int32)
    # dim, max_sentence, max_inputs (2 * window), max_targets (negative + 1)
    assert trainer.train_job(_kernel.Worker(8, 64, 10, 4, 0), tokens, 0.025, 0.0)[1] == 2
    assert trainer.train_job(_kernel.Worker(8, 100, 12, 9, 0), tokens, 0.025, 0.0)[1] == 2
    for sizes in [(7, 64, 10, 4), (8, 32, 10, 4), (8, 64, 9, 4), (8, 64, 10, 3)]:
        worker = _kernel.Worker(*sizes, 0)
        with pytest.raises(ValueError):
            trainer.train_job(worker, tokens, 0.025, 0.0)
        with pytest.raises(ValueError):
            trainer.train_pair(worker, 0, 1, 0.025)


# Three sentences of 3, 2 and 1 tokens (6 words); word 5 is alone in its sentence.
STREAM = np.array([0, 1, 2, END, 3, 4, END, 5, END], dtype=np.int32)


@pytest.mark.parametrize("architecture, expected_examples", [("skipgram", 4 + 2),
                                                             ("cbow", 3 + 2)])
@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("loss", ["ns", "hs"])
def test_tiny_train_job_counts(architecture, expected_examples, shared, loss):
    rng = np.random.default_rng(3)
    w_in, w_out = random_model(rng, 20, 8, 0.1, loss)
    old_in = w_in.copy()
    setup = build(w_in, w_out, architecture=architecture, loss=loss, shared=shared,
                  window=1, negative=3)
    loss_sum, n_examples, n_words, n_kept, change = setup.trainer.train_job(
        setup.trainer.new_worker(11), STREAM, 0.025, 0.02)
    assert n_words == int(np.sum(STREAM != END)) == 6
    assert n_kept == n_words  # keep_probability is all ones
    # window=1 makes every reach 1: skip-gram has 2 (L - 1) pairs per sentence of
    # length L >= 2, CBOW one example per centre word; one-word sentences train nothing.
    assert n_examples == expected_examples
    assert change == 0.0
    # With vectors ~0.1 every score is within ~0.1 of 0, so each (output row, label)
    # example costs log 2 to within 5 %. NS: every example has the real word and exactly
    # 3 noise words (duplicates of the real word are trained, not skipped). HS: the
    # centre word's path length.
    if loss == "ns":
        n_outputs = 4 * n_examples
    else:
        depth = np.diff(setup.tables.path_offsets)
        sentences = [[0, 1, 2], [3, 4]]
        n_outputs = 0
        for sentence in sentences:
            for i, centre in enumerate(sentence):
                n_context = (i > 0) + (i < len(sentence) - 1)
                n_outputs += depth[centre] * (n_context if architecture == "skipgram" else 1)
    assert loss_sum == pytest.approx(n_outputs * math.log(2), rel=0.05)
    # Input rows of words that were in a sentence of length >= 2 moved; the lone word 5
    # and the words absent from the stream did not.
    moved = np.any(w_in != old_in, axis=1)
    assert moved[:5].all()
    assert not moved[5:].any()


def test_train_job_without_sentence_end_and_empty_job():
    w = (np.random.default_rng(0).standard_normal((20, 8)) * 0.1).astype(np.float32)
    trainer = make_trainer(w, w.copy(), window=1)
    worker = trainer.new_worker(0)
    result = trainer.train_job(worker, np.array([0, 1, 2], dtype=np.int32), 0.025, 0.0)
    assert result[1:] == (4, 3, 3, 0.0)
    state = worker.rng_state
    assert trainer.train_job(worker, np.zeros(0, dtype=np.int32), 0.025, 0.0) == \
        (0.0, 0, 0, 0, 0.0)
    # Only sentence ends: nothing to train.
    assert trainer.train_job(worker, np.array([END, END], dtype=np.int32), 0.025, 0.0) == \
        (0.0, 0, 0, 0, 0.0)
    assert worker.rng_state == state


def test_train_job_subsampling_with_zero_keep_probability():
    # keep_probability 0 drops every token of that word (a uniform draw in [0, 1) is
    # never below 0), so the counts are deterministic.
    w = (np.random.default_rng(0).standard_normal((20, 8)) * 0.1).astype(np.float32)
    keep = np.ones(20, dtype=np.float32)
    keep[1] = 0.0
    trainer = make_trainer(w, w.copy(), keep=keep, window=1)
    loss, n_examples, n_words, n_kept, _ = trainer.train_job(
        trainer.new_worker(4), STREAM, 0.025, 0.0)
    assert n_words == 6
    assert n_kept == 5
    # Sentences after subsampling: [0, 2], [3, 4], [5] -> 2 + 2 skip-gram pairs.
    assert n_examples == 4
    keep[:] = 0.0
    trainer = make_trainer(w, w.copy(), keep=keep, window=1)
    assert trainer.train_job(trainer.new_worker(4), STREAM, 0.025, 0.0) == \
        (0.0, 0, 6, 0, 0.0)


@pytest.mark.parametrize("architecture, expected", [("skipgram", 6 + 6 + 2),
                                                    ("cbow", 4 + 4 + 2)])
def test_train_job_splits_sentences_longer_than_the_buffer(architecture, expected):
    # max_sentence = 4: a 10-token run without sentence end is trained as 4 + 4 + 2.
    w = (np.random.default_rng(0).standard_normal((20, 8)) * 0.1).astype(np.float32)
    trainer = make_trainer(w, w.copy(), architecture=architecture, window=1,
                           max_sentence=4)
    tokens = np.array(list(range(10)) + [END], dtype=np.int32)
    loss, n_examples, n_words, n_kept, _ = trainer.train_job(
        trainer.new_worker(0), tokens, 0.025, 0.0)
    assert (n_words, n_kept) == (10, 10)
    assert n_examples == expected


def test_global_gamma_changes_add_up_across_jobs():
    # The caller keeps the global normaliser: each job starts from the value passed in
    # and reports its own change. Splitting a stream into two jobs and carrying gamma
    # over gives the same result as the reference doing it in one pass per job.
    rng = np.random.default_rng(44)
    n = 15
    w_in, w_out = random_model(rng, n, 6, 0.4)
    setup = build(w_in, w_out, loss="nce", gamma_mode="global", window=2, negative=3)
    worker = setup.trainer.new_worker(2)
    tokens = _random_stream(rng, n, n_sentences=6)
    ref = Reference(w_in, w_out, setup.gamma, setup.tables, setup.settings,
                    table_classify, 0.5, rng_state=worker.rng_state)
    gamma = 0.5
    for half in (tokens[:20], tokens[20:]):
        change = setup.trainer.train_job(worker, half, 0.1, 0.1, gamma)[4]
        ref.delta = 0.0
        ref.train_job(half, 0.1, 0.1)
        assert change == pytest.approx(ref.delta, rel=1e-4, abs=1e-6)
        gamma += change
    assert gamma == pytest.approx(ref.gamma_value, rel=1e-4, abs=1e-6)
    assert gamma != 0.5
