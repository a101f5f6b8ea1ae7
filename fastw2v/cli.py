"""The `fastw2v` command line: parse options, call the library, format the output.

Every user error ends in one line on stderr and a non-zero exit: 2 for a bad option or
argument (click's usage errors), 1 for a problem with the input or the environment
(a FastW2VError), 130 when interrupted. No traceback is shown for any of them.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import tempfile
import time

import click

from .config import (
    DEFAULT_ALPHA,
    DEFAULT_MODEL_PATH,
    GAMMA_MODES,
    LOSSES,
    SOFTMAX_MAX_WORDS,
    TrainConfig,
    available_cores,
)
from .errors import ConfigError, FastW2VError, OutputError
from .formats.detect import ALL_FORMATS, FORMAT_NAMES, format_for_path
from .formats.files import check_writable_path
from .formats.gensim import require_gensim
from .formats.native import DTYPES
from .queries.plot import LONE_WORD_NEIGHBOURS
from .text import synthetic
from .text.sources import CorpusFiles
from .training.checkpoint import DEFAULT_INTERVAL, CheckpointInterval
from .training.trainer import CHECKPOINT_EVERY_ALONE, TrainingInterrupted, check_starting_point
from .training.trainer import train as train_model

DEFAULTS = TrainConfig()


class OneLineErrors(click.Group):
    """A click group that reports every user error on a single line."""

    # click types main() with overloads on standalone_mode; this one always runs click
    # non-standalone and handles the errors itself, so it has a single signature.
    def main(self, args=None, prog_name=None, **extra):  # type: ignore[override]
        _stop_on_sigterm()
        if args is None:
            args = sys.argv[1:]
        if not args:
            # A bare `fastw2v` asks what the tool does: show the help, as --help does
            # (stdout, exit 0). Click 8.2+ would raise it as a usage error, which the
            # one-line error handling below would flatten into one unreadable line.
            args = ["--help"]
        try:
            return super().main(args=args, prog_name=prog_name, standalone_mode=False,
                                **extra)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            _fail(exc.format_message() + hint, exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.exceptions.Abort as exc:  # click's name for a KeyboardInterrupt
            _fail(_interrupted(exc.__cause__), 130, keep_spaces=True)
        except ConfigError as exc:  # worded with the options, not fastw2v.train's names
            _fail(exc.cli_message, 1)
        except FastW2VError as exc:
            _fail(str(exc), 1)
        except KeyboardInterrupt as exc:
            _fail(_interrupted(exc), 130, keep_spaces=True)


def _interrupted(exc) -> str:
    """The interruption message; it says how to resume when a checkpoint was written."""
    if isinstance(exc, TrainingInterrupted):
        command = exc.resume_command
        if command is None:  # not raised through `train` (which adds the command)
            command = f"fastw2v train {exc.corpus} --resume {exc.checkpoint}"
        return (f"interrupted; training state saved in {exc.checkpoint}; to finish the "
                f"run: {command}")
    return "interrupted"


def _stop_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl-C: training stops after its current job (well under a
    second), temporary files are removed and the previous output stays as it was."""
    import signal
    import threading

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def _fail(message: str, code: int, keep_spaces: bool = False) -> None:
    """Print the message on one line and exit. `keep_spaces` for a message that holds a
    command to copy: a quoted path in it may contain runs of spaces."""
    if not keep_spaces:
        message = " ".join(message.split())
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fastw2v")
def main() -> None:
    """Train word2vec vectors fast on one machine, and query them."""


def _same_file(a: str, b: str) -> bool:
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _check_dtype(dtype: str, fmt: str, option: str) -> None:
    """float16 storage exists only in the native format: refuse it for another early."""
    if dtype == "float16" and fmt != "native":
        raise click.UsageError(f"--dtype float16 is for .fw2v files; {option} would be "
                               f"written as {FORMAT_NAMES[fmt]}, which holds float32 only")


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
              help=f"Training threads  [default: all cores, here {available_cores()}]")
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
              help="Ray workers, each running --threads threads  [default: 2]")
@click.option("--sync-every", type=click.IntRange(min=1), default=None,
              help="Words each Ray worker trains between two synchronisations  "
                   "[default: 400,000]")
@click.option("--ray-max-worker-rate", type=click.FloatRange(min=0, min_open=True),
              default=None,
              help="The largest learning rate a Ray worker trains with: the workers train "
                   "at --alpha x workers up to it, and the driver multiplies the mean of "
                   "their changes by the rest of the factor (docs/distributed.md)  "
                   "[default: 0.1]")
@click.option("-q", "--quiet", is_flag=True, help="No progress line and no summary.")
@click.pass_context
def train(ctx, corpus, output, fmt, save_context, dtype, skipgram, quiet, save_vocab,
          read_vocab, tmp_dir, checkpoint, checkpoint_every, resume, init_from, grow_vocab,
          ray_address, ray_workers, sync_every, ray_max_worker_rate, **options):
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
                            ray_max_worker_rate=ray_max_worker_rate, **options)
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


# ---------------------------------------------------------------------------------------
# Querying and evaluating: similar, analogy, evaluate, info, plot, convert
# ---------------------------------------------------------------------------------------

QUERY_METHODS = ("3cosadd", "3cosmul")  # fastw2v.vectors.METHODS
DEFAULT_RESTRICT = 30_000  # fastw2v.evaluate.DEFAULT_RESTRICT


def _model_option(command):
    return click.option(
        "-m", "--model", default=DEFAULT_MODEL_PATH, show_default=True, metavar="PATH",
        help="Vector file: fastw2v native (.fw2v), word2vec binary or text (.txt, .vec), "
             "gensim (.kv, .model; needs gensim); the default is where 'fastw2v train' "
             "writes.")(command)


def _json_option(command):
    return click.option("--json", "as_json", is_flag=True,
                         help="Print JSON instead of a table.")(command)


def _restrict_option(command):
    return click.option("--restrict", type=click.IntRange(min=1), metavar="N",
                        help="Search only the N most frequent words.")(command)


def _index_options(command):
    command = click.option(
        "--exact", is_flag=True,
        help="Search every word (brute force) even if MODEL has an index.")(command)
    return click.option(
        "--index", "index_path", metavar="PATH",
        help="Use this index ('fastw2v index') instead of the one beside MODEL "
             "(MODEL.hnsw).")(command)


def _find_index(vectors, model: str, index_path, exact: bool, exact_because=None):
    """The approximate index to answer with, or None for brute force.

    MODEL.hnsw (or --index PATH) is used when it exists, unless --exact, --restrict or
    3CosMul call for brute force (`exact_because` names the one that does). An index
    that does not match the model as it is now is refused (IndexMismatchError), not
    passed over: its presence says the user wants fast answers, and silently searching
    a million words instead would hide that it needs rebuilding.
    """
    from .queries.index import AnnIndex, index_path_for

    named = index_path is not None
    path = index_path if named else index_path_for(model)
    if exact or not (named or os.path.exists(path)):
        return None
    if exact_because is not None:
        if named:
            raise click.UsageError(f"--index cannot answer {exact_because} (it needs every "
                                   f"word's score); leave out --index")
        click.echo(f"{exact_because}: searching every word (the index {path} is not used)",
                   err=True)
        return None
    index = AnnIndex.load(path, vectors, model)
    click.echo(f"using the HNSW index {path} (approximate; --exact for brute force)",
               err=True)
    return index


def _require_model(path: str) -> None:
    """Fail unless the model file exists, saying how to get one."""
    from .errors import FormatError

    if not os.path.lexists(path):
        hint = ("; 'fastw2v train CORPUS' writes it, or name a model with -m"
                if path == DEFAULT_MODEL_PATH else "")
        raise FormatError(f"{path}: no such model file{hint}")


def _load_vectors(path: str):
    """Load a vector file, or fail with a message saying how to get one."""
    from .queries.vectors import Vectors

    _require_model(path)
    return Vectors.load(path, warn=_warn)


def _display_width(text: str) -> int:
    import unicodedata

    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(headers, rows, align: str) -> str:
    """Columns separated by two spaces; `align` has one 'l' or 'r' per column; no header
    line when `headers` is None."""
    cells = [] if headers is None else [[str(h) for h in headers]]
    cells += [[str(c) for c in row] for row in rows]
    widths = [max(_display_width(row[i]) for row in cells) for i in range(len(align))]
    lines = []
    for row in cells:
        padded = []
        for text, width, side in zip(row, widths, align):
            pad = " " * (width - _display_width(text))
            padded.append(text + pad if side == "l" else pad + text)
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def _echo_json(data) -> None:
    import json

    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@main.command(short_help="The nearest words by cosine similarity.")
@click.argument("words", nargs=-1, metavar="WORD...")
@click.option("--minus", "negative", multiple=True, metavar="WORD",
              help="Subtract this word's vector (repeat for several).")
@click.option("-n", "--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many neighbours to show.")
@click.option("--batch", metavar="FILE",
              help="Answer every query of FILE (one a line: its words) at once; prints a "
                   "line per query: the query, a tab, then 'word cosine' pairs.")
@_model_option
@_restrict_option
@_index_options
@_json_option
@click.pass_context
def similar(ctx, words, negative, top, batch, model, restrict, exact, index_path, as_json):
    """The words nearest by cosine to the sum of the (unit) vectors of WORD... minus
    those of the --minus words; the query words themselves are left out."""
    if batch is not None:
        if words or negative:
            raise click.UsageError("give WORD... or --batch FILE, not both", ctx)
        _similar_batch(batch, top, model, restrict, exact, index_path, as_json)
        return
    if not words:
        raise click.UsageError("give a WORD (or --batch FILE)", ctx)
    vectors = _load_vectors(model)
    index = _find_index(vectors, model, index_path, exact, _restrict_reason(restrict))
    if index is not None:
        results = index.most_similar(list(words), list(negative), n=top)
    else:
        results = vectors.most_similar(list(words), list(negative), n=top,
                                       restrict=restrict)
    if as_json:
        _echo_json({"model": model, "positive": list(words), "negative": list(negative),
                    "neighbours": [{"rank": rank, "word": word, "cosine": score}
                                   for rank, (word, score) in enumerate(results, start=1)]})
        return
    rows = [(rank, word, f"{score:.4f}") for rank, (word, score) in enumerate(results, 1)]
    click.echo(_table(("rank", "word", "cosine"), rows, "rlr"))


def _restrict_reason(restrict):
    # The graph links every word; restricting it to the most frequent ones would
    # leave paths broken, and brute force over N words is fast when N is small.
    return None if restrict is None else "--restrict"


def _similar_batch(path, top, model, restrict, exact, index_path, as_json):
    from .queries.batch import QueryFileError, read_queries
    from .queries.vectors import UnknownWordError

    queries = read_queries(path)
    vectors = _load_vectors(model)
    for line_no, words in queries:  # an unknown word is named with its line
        try:
            vectors.find_all(words)
        except UnknownWordError as exc:
            raise QueryFileError(f"{path}: line {line_no:,}: {exc}") from None
    index = _find_index(vectors, model, index_path, exact, _restrict_reason(restrict))
    if index is not None:
        results = index.most_similar_batch([words for _, words in queries], n=top)
    else:
        results = vectors.most_similar_batch([words for _, words in queries], n=top,
                                             restrict=restrict)
    if as_json:
        _echo_json({"model": model, "queries": [
            {"line": line_no, "positive": words,
             "neighbours": [{"rank": rank, "word": word, "cosine": score}
                            for rank, (word, score) in enumerate(found, start=1)]}
            for (line_no, words), found in zip(queries, results)]})
        return
    lines = []
    for (_, words), found in zip(queries, results):
        pairs = "\t".join(f"{word} {score:.4f}" for word, score in found)
        lines.append(f"{' '.join(words)}\t{pairs}")
    click.echo("\n".join(lines))


@main.command(short_help="A is to B as C is to what?")
@click.argument("a")
@click.argument("b")
@click.argument("c")
@click.option("-n", "--top", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many answers to show.")
@click.option("--method", type=click.Choice(QUERY_METHODS), default="3cosadd",
              show_default=True,
              help="3cosadd: cosine with b - a + c; 3cosmul: Levy & Goldberg's product.")
@_model_option
@_restrict_option
@_index_options
@_json_option
def analogy(a, b, c, top, method, model, restrict, exact, index_path, as_json):
    """A is to B as C is to what? Shows the best answers other than A, B and C."""
    vectors = _load_vectors(model)
    # 3CosMul scores every word against A, B and C: a graph search gives no such scores.
    reason = "--method 3cosmul" if method == "3cosmul" else _restrict_reason(restrict)
    index = _find_index(vectors, model, index_path, exact, reason)
    if index is not None:
        results = index.analogy(a, b, c, n=top)
    else:
        results = vectors.analogy(a, b, c, n=top, method=method, restrict=restrict)
    if as_json:
        _echo_json({"model": model, "a": a, "b": b, "c": c, "method": method,
                    "answers": [{"rank": rank, "word": word, "score": score}
                                for rank, (word, score) in enumerate(results, start=1)]})
        return
    column = "cosine" if method == "3cosadd" else "score"
    rows = [(rank, word, f"{score:.4f}") for rank, (word, score) in enumerate(results, 1)]
    click.echo(_table(("rank", "word", column), rows, "rlr"))


@main.command("index", short_help="Build an approximate-neighbour index (HNSW) of a model.")
@_model_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str),
              metavar="PATH", help="Where to write the index  [default: MODEL.hnsw, where "
                                   "'similar' and 'analogy' look for it]")
# The defaults of fastw2v.queries.index (DEFAULT_M, ...; their reasons are there), not
# imported here so that other commands start without loading it.
@click.option("--m", "m", type=click.IntRange(min=2), default=32, show_default=True,
              help="HNSW links per word (twice as many on the bottom layer): more give "
                   "better recall, a larger index and a slower build.")
@click.option("--ef-construction", type=click.IntRange(min=1), default=200,
              show_default=True, help="Candidates considered while linking each word: "
                                      "better graph, slower build.")
@click.option("--ef-search", type=click.IntRange(min=1), default=2048, show_default=True,
              help="Candidates a query considers (stored with the index): higher is "
                   "closer to exact and slower.")
def index(model, output, m, ef_construction, ef_search):
    """Build an HNSW index of MODEL's unit vectors (needs faiss: pip install
    "fastw2v[index]"), so that 'similar' and 'analogy' answer in milliseconds on a large
    model, approximately. It records what it was built from; if MODEL changes, queries
    refuse it until it is rebuilt (or --exact is given)."""
    from .queries.index import AnnIndex, HnswSettings, index_path_for, require_faiss

    require_faiss()  # before loading a large model for nothing
    output = output or index_path_for(model)
    if _same_file(output, model):
        raise OutputError(f"--output {output} is the model itself; choose another path")
    check_writable_path(output, "--output")
    vectors = _load_vectors(model)
    built = AnnIndex.build(vectors, HnswSettings(m, ef_construction, ef_search))
    built.save(output)
    click.echo(f"indexed {len(vectors):,} words of dim {vectors.dim} in "
               f"{built.metadata['build_seconds']:.1f} s (M {m}, efConstruction "
               f"{ef_construction}, efSearch {ef_search}) | wrote {output}, "
               f"{_size(os.path.getsize(output))}", err=True)


def _percent(fraction) -> str:
    return "-" if fraction is None else f"{100 * fraction:.2f}%"


def _analogy_table(result) -> str:
    rows = [(s.name, f"{s.correct:,}", f"{s.answered:,}", f"{s.skipped:,}",
             _percent(s.accuracy)) for s in result.sections]
    totals = [t for t in (result.semantic, result.syntactic) if t is not None]
    rows += [(t.name, f"{t.correct:,}", f"{t.answered:,}", f"{t.skipped:,}",
              _percent(t.accuracy)) for t in totals + [result.overall]]
    method = {"3cosadd": "3CosAdd", "3cosmul": "3CosMul"}[result.method]
    title = (f"analogies: {result.path} ({method}, {result.restrict:,} most frequent words,"
             f" case-insensitive)")
    return title + "\n" + _table(("section", "correct", "answered", "skipped", "accuracy"),
                                 rows, "lrrrr")


@main.command(short_help="Analogy accuracy and similarity Spearman.")
@_model_option
@click.option("--analogies", "analogy_files", multiple=True, metavar="FILE",
              type=click.Path(exists=True, dir_okay=False, path_type=str),
              help="Analogy questions in the questions-words format (repeatable).")
@click.option("--similarity", "similarity_files", multiple=True, metavar="FILE",
              type=click.Path(exists=True, dir_okay=False, path_type=str),
              help="'word1 word2 score' lines, tab- or space-separated (repeatable).")
@click.option("--restrict", type=click.IntRange(min=1), default=DEFAULT_RESTRICT,
              show_default=True, metavar="N",
              help="Analogies use only the N most frequent words; questions with "
                   "others are skipped.")
@click.option("--method", type=click.Choice(QUERY_METHODS), default="3cosadd",
              show_default=True, help="How analogies are answered.")
@_json_option
def evaluate(model, analogy_files, similarity_files, restrict, method, as_json):
    """Analogy accuracy and word-similarity Spearman correlation of a model.

    Words match case-insensitively. A malformed line in an evaluation file stops the
    evaluation with its line number (it is not skipped).
    """
    from .queries.evaluate import evaluate_analogies, evaluate_similarity

    if not analogy_files and not similarity_files:
        raise click.UsageError("nothing to evaluate: give --analogies FILE and/or "
                               "--similarity FILE")
    vectors = _load_vectors(model)
    analogies = [evaluate_analogies(vectors, f, restrict, method) for f in analogy_files]
    similarities = [evaluate_similarity(vectors, f) for f in similarity_files]
    if as_json:
        _echo_json({"model": model, "words": len(vectors),
                    "analogies": [r.to_dict() for r in analogies],
                    "similarity": [r.to_dict() for r in similarities]})
        return
    blocks = [_analogy_table(result) for result in analogies]
    if similarities:
        rows = [(r.path, f"{r.pairs:,}", f"{r.used:,}", f"{r.skipped:,}",
                 "-" if r.spearman is None else f"{r.spearman:.4f}") for r in similarities]
        blocks.append("similarity (Spearman's rho of cosines against the scores)\n"
                      + _table(("file", "pairs", "used", "skipped", "spearman"), rows,
                               "lrrrr"))
    click.echo("\n\n".join(blocks))


def _size(n_bytes: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit} ({n_bytes:,} bytes)"
    return f"{n_bytes:,} bytes"


def _trained_with(settings: dict) -> str:
    """Training settings as the `train` options that give them, architecture first."""
    parts = []
    first = ["architecture"] if "architecture" in settings else []
    for name in first + sorted(set(settings) - set(first)):
        value = settings[name]
        if value is None:
            continue
        if name == "architecture" and value in ("skipgram", "cbow"):
            parts.append("--sg" if value == "skipgram" else "--cbow")
        elif isinstance(value, bool):
            parts.append(f"--{name.replace('_', '-')}" if value else "")
        else:
            parts.append(f"--{name.replace('_', '-')} {value:g}" if isinstance(value, float)
                         else f"--{name.replace('_', '-')} {value}")
    return " ".join(p for p in parts if p)


@main.command(short_help="What a vector file holds.")
@_model_option
@click.argument("named", required=False, metavar="[MODEL]")
@_json_option
@click.pass_context
def info(ctx, model, named, as_json):
    """What a vector file holds: words, dimension, format, and how it was trained if the
    file records it (native files do). 'info MODEL' is short for 'info -m MODEL'."""
    if named is not None:
        # The positional form came first and is the natural one for a command about a
        # file; -m is what every other command takes. Either will do, not both.
        if (ctx.get_parameter_source("model") is not click.core.ParameterSource.DEFAULT
                and model != named):
            raise click.UsageError(f"two models given ({model} with -m, and {named}); "
                                   f"name one", ctx)
        model = named
    vectors = _load_vectors(model)
    n_bytes = os.path.getsize(model)
    meta = vectors.metadata
    counts = vectors.counts
    if as_json:
        _echo_json({"path": model, "bytes": n_bytes, "format": vectors.format,
                    "words": len(vectors), "dim": vectors.dim, "dtype": vectors.dtype_name,
                    "tokens": None if counts is None else int(counts.sum()),
                    "metadata": meta})
        return
    rows = [("file", f"{model}, {_size(n_bytes)}"), ("format", vectors.format_name),
            ("words", f"{len(vectors):,}"), ("dimension", f"{vectors.dim:,}"),
            ("stored as", vectors.dtype_name)]
    if len(vectors):
        rows.append(("first words", " ".join(vectors.words[:5])))
    if counts is not None:
        tokens = f"{int(counts.sum()):,} tokens of these words in the corpus"
        rows.append(("word counts", tokens))
    if "writer" in meta:
        rows.append(("written by", meta["writer"]))
    if isinstance(meta.get("training"), dict):
        rows.append(("trained with", _trained_with(meta["training"])))
        if meta.get("matrix") == "context":
            rows.append(("matrix", "context vectors (the output matrix)"))
    elif vectors.format == "gensim":
        rows.append(("trained with", "not read (fastw2v takes only the words, vectors and "
                                     "counts of a gensim file)"))
    elif vectors.format != "native":
        rows.append(("trained with", "not recorded (word2vec formats hold only words and vectors)"))
    run = meta.get("distributed")
    if isinstance(run, dict):  # trained on a Ray cluster (fastw2v/distributed/engine.py)
        rows.append(("distributed", f"{run.get('engine')}: {run.get('workers')} workers x "
                                    f"{run.get('threads_per_worker')} threads, synchronised "
                                    f"every {run.get('sync_every', 0):,} words per worker "
                                    f"({run.get('rounds')} rounds): {run.get('sync_rule')}; "
                                    f"{run.get('bytes_to_driver_per_word')} bytes per "
                                    f"trained word to the driver, "
                                    f"{run.get('bytes_from_driver_per_word')} back"))
    if meta.get("loss_history"):
        rows.append(("loss by epoch", " ".join(f"{x:.4f}" for x in meta["loss_history"])))
    click.echo(_table(None, rows, "ll"))


PLOT_FORMATS = ("png", "svg", "pdf")


@main.command(short_help="Draw words on a 2-D map (PCA).")
@click.argument("words", nargs=-1, required=True, metavar="WORD...")
@click.option("-o", "--output", default="map.png", show_default=True,
              type=click.Path(dir_okay=False, path_type=str),
              help="Where to write the picture (.png, .svg or .pdf).")
@click.option("-k", "--neighbours", "--neighbors", type=click.IntRange(min=0), default=None,
              help=f"Also show each word's K nearest neighbours  [default: "
                   f"{LONE_WORD_NEIGHBOURS} for a word given alone, else 0]")
@_model_option
@_restrict_option
def plot(words, output, neighbours, model, restrict):
    """Draw the given words (and their neighbours) on a 2-D map: the first two
    principal components of their unit vectors. Needs matplotlib
    (pip install 'fastw2v[plot]')."""
    from .queries.plot import draw_map, require_matplotlib

    suffix = os.path.splitext(output)[1].lower().lstrip(".")
    if suffix not in PLOT_FORMATS:
        raise click.BadParameter(f"{output}: use a .png, .svg or .pdf name",
                                 param_hint="'-o' / '--output'")
    require_matplotlib()
    check_writable_path(output, "--output")
    vectors = _load_vectors(model)
    n_points, unknown = draw_map(vectors, list(words), output, suffix, neighbours, restrict,
                                 title=os.path.basename(model))
    for word, close in unknown.items():
        hint = f" (closest: {', '.join(close)})" if close else ""
        _warn(f"{word!r} is not in the vocabulary; left out{hint}")
    click.echo(f"saved {output}: {n_points:,} word{'s' * (n_points != 1)}", err=True)


@main.command(short_help="Convert between vector file formats.")
@click.argument("source", metavar="IN")
@click.argument("target", metavar="OUT")
@click.option("--from", "from_fmt", type=click.Choice(("auto",) + ALL_FORMATS),
              default="auto", show_default=True,
              help="Format of IN; auto: detected from its content and name (gensim: a "
                   "pickle named .kv or .model).")
@click.option("--to", "to_fmt", type=click.Choice(("auto",) + ALL_FORMATS + ("projector",)),
              default="auto", show_default=True,
              help="Format of OUT; auto: native for .fw2v, text for .txt/.vec, gensim for "
                   ".kv/.model, else binary. projector: OUT is a folder for the TensorFlow "
                   "Embedding Projector (vectors.tsv and metadata.tsv).")
@click.option("--dtype", type=click.Choice(("auto",) + DTYPES), default="auto",
              show_default=True,
              help="How a .fw2v OUT stores the vectors; auto: as IN does (word2vec files: "
                   "float32); float16: half the size.")
@click.option("--limit", type=click.IntRange(min=1), metavar="N",
              help="Keep only the N most frequent words (the first N of IN).")
def convert(source, target, from_fmt, to_fmt, dtype, limit):
    """Convert vectors between fastw2v's native format (.fw2v), word2vec's binary and
    text formats and gensim's files (.kv, .model; what fastw2v writes is a KeyedVectors:
    load it with KeyedVectors.load), or write them for the TensorFlow Embedding
    Projector (--to projector). IN and OUT may name the same file. gensim's files are
    Python pickles, which can run code when loaded: read only those from a source you
    trust."""
    from .errors import FormatError
    from .formats.detect import FORMAT_NAMES
    from .queries.vectors import Vectors

    if not os.path.lexists(source):
        raise FormatError(f"{source}: no such file")
    if to_fmt == "projector":
        if dtype == "float16":
            raise click.UsageError("--dtype float16 is for .fw2v files; --to projector "
                                   "writes text")
        from .formats.projector import check_projector_folder

        check_projector_folder(target, "OUT")
    else:
        written_fmt = format_for_path(target, to_fmt)
        _check_dtype(dtype, written_fmt, "OUT")
        if os.path.isdir(target):
            raise OutputError(f"OUT {target}: is a folder; --to projector writes a folder, "
                              f"every other format a file")
        check_writable_path(target, "OUT")
        if written_fmt == "gensim":  # before reading IN, which may take a while
            require_gensim(f"writing {target} (a gensim file)")
    vectors = Vectors.load(source, from_fmt, warn=_warn)
    total = len(vectors)
    if limit is not None:
        vectors = vectors.most_frequent(limit)
    kept = f"{len(vectors):,} words" + (f" (the first of {total:,})" if len(vectors) < total
                                         else "")
    if to_fmt == "projector":
        _write_projector(vectors, source, target, kept, limit)
        return
    written = vectors.save(target, to_fmt, dtype=None if dtype == "auto" else dtype)
    click.echo(f"converted {source} ({vectors.format_name}) to {target} "
               f"({FORMAT_NAMES[written]}): {kept}, dim {vectors.dim:,}"
               f"{_conversion_losses(vectors, written)}", err=True)


def _conversion_losses(vectors, written: str) -> str:
    """What the format written leaves out of what `vectors` hold, for convert's report."""
    if written == "native":
        return ""
    lost = [] if written == "gensim" or vectors.counts is None else ["word counts"]
    if vectors.metadata.get("training"):
        lost.append("training settings")
    if not lost:
        return ""
    where = "gensim's KeyedVectors" if written == "gensim" else "word2vec formats"
    return f"; {' and '.join(lost)} are not kept in {where}"


def _write_projector(vectors, source: str, folder: str, kept: str, limit) -> None:
    from .formats.projector import BROWSER_POINTS, METADATA_FILE, VECTORS_FILE

    vectors.save_projector(folder)
    click.echo(f"converted {source} ({vectors.format_name}) for the Embedding Projector: "
               f"{os.path.join(folder, VECTORS_FILE)} and {os.path.join(folder, METADATA_FILE)}"
               f", {kept}, dim {vectors.dim:,}; load them at https://projector.tensorflow.org "
               f"(Load, then choose the two files)", err=True)
    if limit is None and len(vectors) > BROWSER_POINTS:
        click.echo(f"note: {len(vectors):,} points are more than a browser shows smoothly "
                   f"(about {BROWSER_POINTS:,}); --limit N writes only the N most frequent "
                   f"words", err=True)


@main.command(short_help="What the model estimates for (word, context) pairs.")
@click.argument("word")
@click.argument("contexts", nargs=-1, required=True, metavar="CONTEXT...")
@click.option("-m", "--model", "model_path", default=DEFAULT_MODEL_PATH, show_default=True,
              metavar="PATH", help="A .fw2v model written by 'fastw2v train' (it keeps the "
                                   "output matrix the estimates need).")
@_json_option
@click.pass_context
def score(ctx, word, contexts, model_path, as_json):
    """For each CONTEXT, what the model estimates: log p(CONTEXT | WORD) for an NCE or
    hierarchical-softmax model, or the shifted PMI estimate <u_WORD, v_CONTEXT> + log k
    for a negative-sampling model (see docs/theory.md)."""
    from .queries.estimates import Estimator

    if (ctx.get_parameter_source("model_path") is click.core.ParameterSource.DEFAULT
            and len(contexts) >= 2 and os.path.isfile(word)):
        # Scripts written for 'score MODEL WORD CONTEXT...' keep working, with a nudge:
        # a file of that name where a word was expected is no word being asked about.
        _warn(f"taking {word} as the model, as the old form 'score MODEL WORD "
              f"CONTEXT...' did; write 'fastw2v score -m {shlex.quote(word)} "
              f"WORD CONTEXT...'")
        model_path, word, contexts = word, contexts[0], contexts[1:]
    _require_model(model_path)
    estimator = Estimator.from_file(model_path)
    values = estimator.scores(word, list(contexts))
    label = "pmi_estimate" if estimator.kind == "pmi" else "log_prob"
    if as_json:
        _echo_json({"model": model_path, "loss": estimator.loss, "word": word,
                    "measure": label,
                    "scores": [{"context": c, label: float(v)}
                               for c, v in zip(contexts, values)]})
        return
    heading = ("PMI estimate (<u,v> + log k)" if estimator.kind == "pmi"
               else f"log p(context | {word})")
    rows = [(c, f"{v:.4f}") for c, v in zip(contexts, values)]
    click.echo(f"{estimator.loss} model; {heading}")
    click.echo(_table(("context", label), rows, "lr"))


# ---------------------------------------------------------------------------------------
# Two words or groups compared, and the odd one out: similarity, odd-one-out
# ---------------------------------------------------------------------------------------

# Tokens never hold ASCII white space (the corpus reader splits at it), so an argument
# holding some is a list of words: 'similarity "king woman" queen'.
_ASCII_SPACE = " \t\n\r\v\f"


def _word_list(argument: str, name: str) -> list:
    words = argument.translate({ord(ch): " " for ch in _ASCII_SPACE}).split(" ")
    words = [word for word in words if word]
    if not words:
        raise click.BadParameter("holds no word", param_hint=name)
    return words


@main.command(short_help="Cosine similarity of two words or word lists.")
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
@_model_option
@_json_option
def similarity(first, second, model, as_json):
    """The cosine similarity of A and B. Each is a word, or several words in one quoted
    argument ("king woman"), which stand for the sum of their unit vectors, as in
    'fastw2v similar'."""
    words1, words2 = _word_list(first, "A"), _word_list(second, "B")
    vectors = _load_vectors(model)
    cosine = vectors.similarity(words1, words2)
    if as_json:
        _echo_json({"model": model, "a": words1, "b": words2, "cosine": cosine})
        return
    click.echo(f"{cosine:.4f}")


@main.command("odd-one-out", short_help="The word that does not belong with the others.")
@click.argument("words", nargs=-1, required=True, metavar="W1 W2 W3...")
@_model_option
@_json_option
def odd_one_out(words, model, as_json):
    """Which of the words least belongs with the others (gensim's doesnt_match): the one
    whose unit vector has the lowest cosine with the mean of all their unit vectors.
    Lists every word with that cosine, the odd one first."""
    if len(words) < 3:
        raise click.UsageError(f"give at least three words ({len(words)} given): of two, "
                               f"neither is odder than the other")
    vectors = _load_vectors(model)
    ranked = sorted(vectors.centrality(list(words)), key=lambda item: item[1])
    if as_json:
        _echo_json({"model": model, "words": list(words), "odd_one_out": ranked[0][0],
                    "cosine_to_mean": [{"word": w, "cosine": c} for w, c in ranked]})
        return
    rows = [(word, f"{cosine:.4f}") for word, cosine in ranked]
    click.echo(_table(("word", "cosine to the mean"), rows, "lr"))


# ---------------------------------------------------------------------------------------
# Word classes: k-means on the unit vectors (fastw2v/queries/classes.py)
# ---------------------------------------------------------------------------------------

@main.command(short_help="Cluster the words into K classes (k-means by cosine).")
@click.option("-k", "--classes", "k", type=click.IntRange(min=2), required=True,
              help="How many classes (at least 2, at most the number of words).")
@click.option("-o", "--output", default="classes.txt", show_default=True,
              type=click.Path(dir_okay=False, path_type=str),
              help="Where to write 'word class' per line.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True,
              help="Random seed of the k-means++ start; the same seed gives the same classes.")
# The defaults of fastw2v.queries.classes (DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE),
# not imported here so that other commands start without loading it.
@click.option("--max-iter", "max_iterations", type=click.IntRange(min=1), default=100,
              show_default=True, help="Stop after this many rounds if words still move.")
@click.option("--tol", "tolerance", type=click.FloatRange(0, 1), default=0.01,
              show_default=True,
              help="Converged when at most this share of the words changed class in a "
                   "round (0: none).")
@_model_option
@_json_option
def classes(k, output, seed, max_iterations, tolerance, model, as_json):
    """Cluster the words into K classes by k-means on their unit vectors (cosine), as
    word2vec's -classes does, from a k-means++ start, until at most --tol of the words
    change class in a round (or --max-iter rounds); write 'word class' per line, in
    vocabulary order. Class 0 holds the most frequent word."""
    import numpy as np

    from .queries.classes import word_classes

    check_writable_path(output, "--output")
    vectors = _load_vectors(model)
    started = time.perf_counter()
    result = word_classes(vectors, k, seed=seed, max_iterations=max_iterations,
                          tolerance=tolerance)
    seconds = time.perf_counter() - started
    result.save(output)
    sizes = result.sizes()
    if as_json:
        _echo_json({"model": model, "output": output, "words": len(vectors), "k": k,
                    "seed": seed, "tolerance": tolerance, "iterations": result.iterations,
                    "converged": result.converged, "changed_last": result.n_changed,
                    "mean_cosine": result.mean_cosine, "seconds": seconds,
                    "sizes": sizes.tolist()})
        return
    moved = (f"{result.n_changed:,} word{'s' * (result.n_changed != 1)} changed class in "
             f"the last round")
    state = (f"converged ({moved})" if result.converged else
             f"stopped by --max-iter ({moved}, more than --tol {tolerance:g} allows)")
    rows = [("words", f"{len(vectors):,}"), ("classes", f"{k:,}"),
            ("iterations", f"{result.iterations:,}, {state}"),
            ("mean cosine to centroid", f"{result.mean_cosine:.4f}"),
            ("class sizes", f"{int(sizes.min()):,} to {int(sizes.max()):,}, median "
                            f"{float(np.median(sizes)):g}"),
            ("time", f"{seconds:.2f} s"), ("written to", output)]
    click.echo(_table(None, rows, "ll"))

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
    from .text.phrases import phrases as find_phrases

    result = find_phrases(list(corpus), output, threshold=list(threshold) or None,
                          warn=_warn, **options)
    if not quiet:
        found = ", ".join(f"pass {n}: {len(one.keys):,} phrases, {one.n_joined:,} joined"
                          for n, one in enumerate(result.table.passes, 1))
        click.echo(f"{result.n_tokens:,} tokens | {found} | {result.seconds:.1f} s | "
                   f"wrote {output}", err=True)


# ---------------------------------------------------------------------------------------
# theory: what each estimator learns, on a language whose truth is known
# ---------------------------------------------------------------------------------------

@main.command(short_help="What each estimator learns, on a language with a known truth.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str),
              help="Also draw the figure to this .png file (needs matplotlib).")
@_json_option
def theory(output, as_json):
    """Train negative sampling, NCE (k = 1, 5, 25; and k = 5 with a context bias),
    hierarchical softmax and the exact softmax on a 50-word Markov language whose true
    p(c|w) is known, and print how well each estimates its target: PMI for negative
    sampling, log p(c|w) for the others (see docs/theory.md). About 70 seconds of CPU
    time, split over the cores."""
    from .queries.theory import compare_estimators

    if output is not None:
        from .queries.plot import require_matplotlib

        if not output.lower().endswith(".png"):
            raise click.BadParameter(f"{output}: use a .png name",
                                     param_hint="'-o' / '--output'")
        require_matplotlib("theory -o")
        check_writable_path(output, "--output")
    comparison = compare_estimators()
    if output is not None:
        from .queries.theory_figure import draw_comparison

        draw_comparison(comparison, output)
    figures = [fit.figures() for fit in comparison.fits.values()]
    if as_json:
        _echo_json({"words": comparison.n_words, "tokens": comparison.n_tokens,
                    "estimators": figures})
    else:
        rows = [(f["name"], "PMI" if f["measure"] == "pmi" else "log p(c|w)",
                 f"{f['pearson']:.4f}", f"{f['mae']:.3f}",
                 "-" if f["sum_min"] is None else f"{f['sum_min']:.3f}-{f['sum_max']:.3f}",
                 f"{f['seconds']:.1f}") for f in figures]
        click.echo(_table(("estimator", "target", "r", "MAE (nats)", "sum of p-hat",
                           "seconds"), rows, "llrrrr"))
    if output is not None:
        click.echo(f"saved {output}", err=True)
