"""The commands that make models: `train`, `demo` and `phrases`."""

from __future__ import annotations

import contextlib
import os
import shlex
import tempfile
import time

import click

from ..config import (
    DEFAULT_ALPHA,
    DEFAULT_MODEL_PATH,
    GAMMA_MODES,
    LOSSES,
    SOFTMAX_MAX_WORDS,
    TrainConfig,
    available_cores,
)
from ..distributed.reading import READ_MODES
from ..errors import ConfigError, OutputError
from ..formats.detect import ALL_FORMATS, format_for_path
from ..formats.files import check_writable_path
from ..formats.gensim import require_gensim
from ..formats.native import DTYPES
from ..text import synthetic
from ..text.sources import CorpusFiles
from ..training.checkpoint import DEFAULT_INTERVAL, CheckpointInterval
from ..training.trainer import CHECKPOINT_EVERY_ALONE, TrainingInterrupted, check_starting_point
from ..training.trainer import train as train_model
from .common import _check_dtype, _same_file, _warn, main

DEFAULTS = TrainConfig()


def _check_outputs(corpus: CorpusFiles, outputs: dict) -> None:
    """Refuse, before any work, outputs that cannot be written, would overwrite a corpus
    file, or would overwrite each other."""
    given = [(option, path) for option, path in outputs.items() if path is not None]
    for i, (option, path) in enumerate(given):
        if any(_same_file(path, file) for file in corpus.paths):
            raise OutputError(f"{option} {path} is the corpus itself; choose another path")
        for other, other_path in given[:i]:
            if _same_file(path, other_path):
                raise OutputError(f"{other} and {option} are the same file {path}; "
                                  f"choose two paths")
        check_writable_path(path, option)


class IntervalType(click.ParamType):
    """A checkpoint interval: 90s, 30m, 2h, or 2e (epochs)."""

    name = "INTERVAL"

    def convert(self, value, param, ctx):
        if isinstance(value, CheckpointInterval):
            return value
        try:
            return CheckpointInterval.parse(value)
        except ConfigError as exc:  # the message starts with the option; click adds it
            self.fail(exc.cli_message.removeprefix("--checkpoint-every "), param, ctx)


def _resume_command(ctx: click.Context, corpus: CorpusFiles, checkpoint: str) -> str:
    """The command that finishes the run `train` was interrupted in, from `checkpoint`.

    It repeats what the user asked to be written and how (outputs, format, -q, ...),
    since those are not in the checkpoint; the training settings are, so they are left
    out. Paths are absolute and every word shell-quoted, so that it can be pasted as it
    is in any folder: a relative -o would otherwise land in the folder it is run from.
    """
    params = ctx.params
    words = ["fastw2v", "train", *(os.path.abspath(path) for path in corpus.given),
             "-o", os.path.abspath(params["output"])]
    if params["fmt"] != "auto":
        words += ["--format", params["fmt"]]
    if params["dtype"] != "float32":
        words += ["--dtype", params["dtype"]]
    for option, name in (("--save-context", "save_context"), ("--save-vocab", "save_vocab"),
                         ("--tmp-dir", "tmp_dir")):
        if params[name] is not None:
            words += [option, os.path.abspath(params[name])]
    if params["checkpoint_every"] is not None:
        words += ["--checkpoint-every", _interval_text(params["checkpoint_every"])]
    if params["quiet"]:
        words.append("-q")
    if params["ray_address"] is not None:  # where to train is not a training setting
        words += ["--ray", params["ray_address"]]
    # Not --ray-read: a resumed run reads the corpus on the driver (see train()).
    # New checkpoints go back to the file resumed from, as they did to --checkpoint.
    words += ["--resume", os.path.abspath(checkpoint)]
    return " ".join(shlex.quote(word) for word in words)


def _interval_text(interval: CheckpointInterval) -> str:
    """The interval in the largest unit that states it exactly: 30m was typed, not 1800s."""
    seconds = interval.seconds
    if seconds is None:  # a number of epochs
        return str(interval)
    for unit, scale in (("h", 3600), ("m", 60)):
        if seconds % scale == 0:
            return f"{seconds / scale:g}{unit}"
    return str(interval)


def _summary(model, seconds: float) -> str:
    """What training did, for the line after it: the vocabulary, the words trained,
    time, speed and the last epoch's loss. A resumed run says where it took up, since
    its time and speed cover only the part it trained."""
    stats = model.stats
    epochs = f"{model.config.epochs} epoch{'s' * (model.config.epochs != 1)}"
    grown = f" ({stats.n_new_words:,} new)" if stats.n_new_words else ""
    parts = [f"vocabulary {len(model.words):,} words{grown}"]
    if stats.resumed_epoch is None:
        parts += [f"{stats.n_words_trained:,} words trained in {epochs}", f"{seconds:.1f} s",
                  f"{stats.words_per_second:,.0f} words/s"]
    else:
        # The whole run's words (every epoch trains every in-vocabulary token), whether
        # the trainer counts the whole run or the resumed part in n_words_trained.
        total = stats.n_words * model.config.epochs
        parts += [f"{total:,} words trained in {epochs} ({stats.resumed_share:.0%} before "
                  f"resuming in epoch {stats.resumed_epoch})",
                  f"resumed part: {seconds:.1f} s, {stats.words_per_second:,.0f} words/s"]
    parts.append(f"loss {model.loss_history[-1]:.4f}")
    return " | ".join(parts)


def _given_options(ctx: click.Context, options: dict) -> dict:
    """The training options typed on the command line (not left at their defaults)."""
    from click.core import ParameterSource

    return {name: value for name, value in options.items()
            if ctx.get_parameter_source(name) is not ParameterSource.DEFAULT}


@main.command()
@click.argument("corpus", nargs=-1, required=True,
                type=click.Path(dir_okay=True, path_type=str))
@click.option("-o", "--output", default=DEFAULT_MODEL_PATH, show_default=True,
              help="Where to write the word vectors.")
@click.option("--format", "fmt", type=click.Choice(("auto",) + ALL_FORMATS), default="auto",
              show_default=True,
              help="Output format; auto: native for .fw2v, word2vec text for .txt/.vec, "
                   "word2vec binary otherwise.")
@click.option("--save-context", type=click.Path(dir_okay=False, path_type=str),
              help="Also write the context (output) vectors to this path.")
@click.option("--dtype", type=click.Choice(DTYPES), default="float32", show_default=True,
              help="How a .fw2v file stores the vectors; float16: half the size.")
@click.option("--sg/--cbow", "skipgram", default=True, show_default=True,
              help="Skip-gram or CBOW (mean of the context vectors).")
@click.option("--dim", "--size", type=click.IntRange(min=1), default=DEFAULTS.dim,
              show_default=True, help="Dimension of the vectors.")
@click.option("--window", type=click.IntRange(min=1), default=DEFAULTS.window,
              show_default=True, help="Largest distance between a word and its context.")
@click.option("--negative", type=click.IntRange(min=1), default=DEFAULTS.negative,
              show_default=True, help="Noise words per real pair (negative sampling k).")
@click.option("--sample", type=click.FloatRange(min=0), default=DEFAULTS.sample,
              show_default=True, help="Subsampling threshold for frequent words; 0 disables.")
@click.option("--ns-exponent", type=click.FloatRange(min=0), default=DEFAULTS.ns_exponent,
              show_default=True, help="Noise distribution: unigram counts to this power.")
@click.option("--loss", type=click.Choice(LOSSES), default=DEFAULTS.loss, show_default=True,
              help=f"Negative sampling (shifted PMI), noise-contrastive estimation "
                   f"(normalised p(c|w)), hierarchical softmax, or the exact softmax "
                   f"(skip-gram, at most {SOFTMAX_MAX_WORDS:,} words); see docs/theory.md.")
@click.option("--shared-negatives/--per-pair-negatives", default=DEFAULTS.shared_negatives,
              show_default=True,
              help="Skip-gram: train all context words of a word against one shared set "
                   "of noise words (HogBatch; faster), or draw noise for every pair. "
                   "CBOW: centre words 2*window+1 apart (no common context word) share "
                   "one draw of noise words, or each centre word draws its own.")
@click.option("--nce-gamma", type=click.Choice(GAMMA_MODES), default=DEFAULTS.nce_gamma,
              show_default=True,
              help="NCE normaliser: one learned value, one per word, or fixed.")
@click.option("--nce-gamma-init", type=float, default=DEFAULTS.nce_gamma_init,
              show_default=True, help="NCE normaliser's starting value.")
@click.option("--nce-noise-correction/--no-nce-noise-correction",
              default=DEFAULTS.nce_noise_correction, show_default=True,
              help="NCE: subtract log(k q(c)) from the logit (off + fixed gamma 0 = NS).")
@click.option("--nce-context-bias", is_flag=True, default=DEFAULTS.nce_context_bias,
              help="NCE: learn a bias per context word, to carry log p(c) so that the "
                   "vectors need not.")
@click.option("--force-softmax", is_flag=True, default=DEFAULTS.force_softmax,
              help=f"--loss softmax: train even above {SOFTMAX_MAX_WORDS:,} words (slow: "
                   f"each pair costs a dot product with every word).")
@click.option("--alpha", type=click.FloatRange(min=0, min_open=True), default=None,
              help=f"Starting learning rate  [default: {DEFAULT_ALPHA['skipgram']} for "
                   f"skip-gram, {DEFAULT_ALPHA['cbow']} for CBOW]")
@click.option("--min-alpha", type=click.FloatRange(min=0), default=DEFAULTS.min_alpha,
              show_default=True, help="Learning rate reached at the end of the last epoch.")
@click.option("--epochs", "--iter", type=click.IntRange(min=1), default=DEFAULTS.epochs,
              show_default=True, help="Passes over the corpus.")
@click.option("--min-count", type=click.IntRange(min=1), default=DEFAULTS.min_count,
              show_default=True, help="Ignore words that occur fewer times than this.")
@click.option("--max-vocab", type=click.IntRange(min=1), default=DEFAULTS.max_vocab,
              show_default=True,
              help="Most distinct words held while counting; the rarest are pruned beyond it.")
@click.option("--threads", "--workers", type=click.IntRange(min=1), default=None,
              help=f"Training threads (on Ray: each worker's)  [default: all cores, here "
                   f"{available_cores()}; on Ray, the cluster's CPUs / --ray-workers]")
@click.option("--seed", type=click.IntRange(min=0), default=DEFAULTS.seed, show_default=True,
              help="Random seed; with --threads 1 the result is bit-identical across runs.")
@click.option("--save-vocab", type=click.Path(dir_okay=False, path_type=str),
              help="Write the vocabulary ('word count' per line) to this path.")
@click.option("--read-vocab", type=click.Path(dir_okay=False, path_type=str),
              help="Take the vocabulary from this file instead of counting the corpus.")
@click.option("--tmp-dir", type=click.Path(file_okay=False, exists=True, path_type=str),
              help="Folder for the temporary encoded corpus  [default: the system's]")
@click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=str),
              metavar="PATH",
              help="Write the whole training state to this file every --checkpoint-every "
                   "and when interrupted (Ctrl-C, SIGTERM), to continue with --resume "
                   "PATH. Deleted once the vectors are saved.")
@click.option("--checkpoint-every", type=IntervalType(), default=None,
              help=f"How often to write --checkpoint: a time (90s, 30m, 2h) or a number "
                   f"of epochs (1e, 2e)  [default: {DEFAULT_INTERVAL}]")
@click.option("--resume", type=click.Path(dir_okay=False, path_type=str), metavar="PATH",
              help="Continue the run saved in this checkpoint, on the same CORPUS and with "
                   "its settings (only --threads may change); new checkpoints go to the "
                   "same file unless --checkpoint names another.")
@click.option("--init-from", type=click.Path(dir_okay=False, path_type=str),
              metavar="MODEL",
              help="Train this .fw2v model (written by 'fastw2v train') further on CORPUS. "
                   "Its vocabulary stays fixed: other words are counted, reported and left "
                   "out. Its settings are the defaults; --dim, --loss and --nce-gamma "
                   "cannot change.")
@click.option("--grow-vocab", is_flag=True,
              help="With --init-from: words of CORPUS that reach --min-count join the "
                   "vocabulary (new rows as a fresh run starts them; counts of both texts "
                   "for the noise and subsampling tables). Not for --loss hs.")
@click.option("--ray", "ray_address", metavar="ADDRESS",
              help="Train on a Ray cluster: local (start Ray here for the run), auto (the "
                   "cluster this machine belongs to) or HOST:PORT of a head node. Needs "
                   "pip install \"fastw2v[ray]\"; see docs/distributed.md.")
@click.option("--ray-workers", type=click.IntRange(min=1), default=None,
              help="Ray workers, each running --threads threads and reserving that many "
                   "CPUs  [default: 2]")
@click.option("--sync-every", type=click.IntRange(min=1), default=None,
              help="Words each Ray worker trains between two synchronisations  "
                   "[default: 1,600,000 / workers, at least 400,000; for CBOW "
                   "1,000,000 / workers, at least 250,000]")
@click.option("--ray-max-worker-rate", type=click.FloatRange(min=0, min_open=True),
              default=None,
              help="The largest learning rate a Ray worker trains with: the workers train "
                   "at --alpha x workers up to it, and the driver multiplies the mean of "
                   "their changes by the rest of the factor, up to 2 (3 for CBOW), over two rounds "
                   "(beyond, the workers' rate passes the limit; docs/distributed.md)  "
                   "[default: 0.0667]")
@click.option("--ray-read", type=click.Choice(READ_MODES), default=None,
              help="Where the corpus is read on Ray: workers (each counts and encodes its "
                   "share of the files, which every node must be able to open: a shared "
                   "file system), driver (this machine encodes it and ships each worker "
                   "its ids), or auto (workers when every node opens every file, else "
                   "driver, saying why)  [default: auto]")
@click.option("-q", "--quiet", is_flag=True, help="No progress line and no summary.")
@click.pass_context
def train(ctx, corpus, output, fmt, save_context, dtype, skipgram, quiet, save_vocab,
          read_vocab, tmp_dir, checkpoint, checkpoint_every, resume, init_from, grow_vocab,
          ray_address, ray_workers, sync_every, ray_max_worker_rate, ray_read, **options):
    """Learn word vectors from CORPUS... (UTF-8 text, one sentence per line; .gz, .bz2
    and .xz are read directly): one or more files or folders (a folder's files, sorted
    by name), read in order as one text."""
    check_starting_point(read_vocab, resume, init_from)
    _check_dtype(dtype, format_for_path(output, fmt), "--output")
    if format_for_path(output, fmt) == "gensim":  # before training, not after
        require_gensim(f"writing {output} (a gensim file)")
    if checkpoint_every is not None and checkpoint is None and resume is None:
        raise click.UsageError(CHECKPOINT_EVERY_ALONE, ctx)
    outputs = {"--output": output, "--save-context": save_context,
               "--save-vocab": save_vocab}
    if checkpoint is not None:
        outputs["--checkpoint"] = checkpoint
    elif resume is not None:  # a resumed run writes its checkpoints back to that file
        checkpoint = outputs["--resume"] = resume
    corpus = CorpusFiles.of(corpus)
    _check_outputs(corpus, outputs)
    options["architecture"] = "skipgram" if skipgram else "cbow"
    if resume is not None or init_from is not None:
        # Settings come from the checkpoint or the model: pass on only those typed here,
        # so that a default is not mistaken for a change.
        options = _given_options(ctx, options)
        if ctx.get_parameter_source("skipgram") is click.core.ParameterSource.DEFAULT:
            del options["architecture"]
    started = time.perf_counter()
    try:
        model = train_model(corpus, progress=not quiet, read_vocab=read_vocab,
                            save_vocab=save_vocab, tmp_dir=tmp_dir, warn=_warn,
                            checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                            resume=resume, init_from=init_from, grow_vocab=grow_vocab,
                            ray=ray_address, ray_workers=ray_workers, sync_every=sync_every,
                            ray_max_worker_rate=ray_max_worker_rate, ray_read=ray_read,
                            **options)
    except TrainingInterrupted as exc:
        exc.resume_command = _resume_command(ctx, corpus, exc.checkpoint)
        raise
    model.save(output, fmt, context_path=save_context, dtype=dtype)
    if checkpoint is not None:
        # The vectors are safely written: the checkpoint of a finished run has no use
        # left (--init-from continues from the saved model) and may be gigabytes.
        with contextlib.suppress(FileNotFoundError):
            os.remove(checkpoint)
    if not quiet:
        click.echo(f"{_summary(model, time.perf_counter() - started)} | saved {output}",
                   err=True)


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str),
              help="Also save the demo's vectors here.")
@click.option("--sentences", type=click.IntRange(min=100), default=20_000, show_default=True,
              help="Size of the synthetic corpus.")
@click.option("--threads", "--workers", type=click.IntRange(min=1), default=None,
              help="Training threads  [default: all cores]")
def demo(output, sentences, threads):
    """Train on a built-in synthetic corpus and show that the planted structure is found.

    The corpus has six topics (fruit, animals, tools, ...) whose nouns come in singular
    and plural forms; see fastw2v/text/synthetic.py.
    """
    if output is not None:
        check_writable_path(output, "--output")
    with tempfile.TemporaryDirectory(prefix="fastw2v-demo-") as folder:
        corpus = os.path.join(folder, "synthetic.txt")
        planted = synthetic.write_corpus(corpus, n_sentences=sentences)
        click.echo(f"synthetic corpus: {sentences:,} sentences in {corpus}", err=True)
        model = train_model(corpus, progress=True, threads=threads, warn=_warn)
    if output is not None:
        model.save(output)
    click.echo(_summary(model, model.stats.seconds["train"]) + "\n")
    click.echo("nearest neighbours (* = same planted topic):")
    for word in ("apple", "dog", "hammer", "guitar"):
        neighbours = model.most_similar(word, n=5)
        shown = ", ".join(f"{w}{'*' if planted.same_topic(word, w) else ''} {s:.2f}"
                          for w, s in neighbours)
        click.echo(f"  {word:8s} {shown}")
    click.echo("\nanalogies (a : b :: c : ?):")
    for a, b, c in (("apple", "apples", "dog"), ("cars", "car", "violins")):
        answer, score = model.most_similar([b, c], [a], n=1)[0]
        click.echo(f"  {a} : {b} :: {c} : {answer}  ({score:.2f})")


@main.command(short_help="Join collocations (new york -> new_york) in a corpus.")
@click.argument("corpus", nargs=-1, required=True, type=click.Path(path_type=str),
                metavar="CORPUS...")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=str),
              help="The phrased text (.gz, .bz2, .xz: compressed). Several CORPUS files are "
                   "counted as one corpus and written one after the other.")
@click.option("--scorer", type=click.Choice(("word2vec", "npmi")), default="word2vec",
              show_default=True, help="word2vec: (n_ab - min_count) / (n_a n_b) * N; npmi: "
                                      "normalised PMI in [-1, 1].")
@click.option("--threshold", type=float, multiple=True, metavar="T",
              help="Join pairs scoring above T (default 100 for word2vec, 0.5 for npmi); "
                   "give it once per pass for per-pass thresholds.")
@click.option("--min-count", type=click.IntRange(min=1), default=5, show_default=True,
              help="Both words and the pair must occur at least this often.")
@click.option("--passes", type=click.IntRange(min=1), default=None,
              help="Detection passes, each over the previous one's output (longer phrases "
                   "form). Default: one per --threshold.")
@click.option("--connector-words", default="none", show_default=True,
              metavar="english|none|FILE",
              help="Words that may sit inside a phrase (bank_of_america) without ending it.")
@click.option("--max-vocab", type=click.IntRange(min=1), default=10_000_000,
              show_default=True, help="Most distinct words held while counting.")
@click.option("--max-pairs", type=click.IntRange(min=1), default=20_000_000,
              show_default=True, help="Most distinct pairs held while counting; the rarest "
                                      "are pruned beyond (with a warning).")
@click.option("--save-phrases", type=click.Path(dir_okay=False, path_type=str),
              help="Write the phrase table: phrase, count, score per line.")
@click.option("--read-phrases", type=click.Path(dir_okay=False, path_type=str),
              help="Join the phrases of a saved table instead of counting.")
@click.option("--tmp-dir", type=click.Path(file_okay=False, exists=True, path_type=str),
              help="Where the output of passes before the last is kept.")
@click.option("-q", "--quiet", is_flag=True, help="No summary.")
def phrases(corpus, output, threshold, quiet, **options):
    """Find collocations in CORPUS from word and pair counts and write the text with each
    detected pair joined by '_' (new york -> new_york)."""
    from ..text.phrases import phrases as find_phrases

    result = find_phrases(list(corpus), output, threshold=list(threshold) or None,
                          warn=_warn, **options)
    if not quiet:
        found = ", ".join(f"pass {n}: {len(one.keys):,} phrases, {one.n_joined:,} joined"
                          for n, one in enumerate(result.table.passes, 1))
        click.echo(f"{result.n_tokens:,} tokens | {found} | {result.seconds:.1f} s | "
                   f"wrote {output}", err=True)
