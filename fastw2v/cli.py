"""The `fastw2v` command line: parse options, call the library, format the output.

Every user error ends in one line on stderr and a non-zero exit: 2 for a bad option or
argument (click's usage errors), 1 for a problem with the input or the environment
(a FastW2VError), 130 when interrupted. No traceback is shown for any of them.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import click

from . import synthetic
from .config import DEFAULT_ALPHA, DEFAULT_MODEL_PATH, TrainConfig, available_cores
from .errors import FastW2VError, OutputError
from .io import FORMATS, check_writable_path
from .training import train as train_model

DEFAULTS = TrainConfig()


class OneLineErrors(click.Group):
    """A click group that reports every user error on a single line."""

    def main(self, args=None, prog_name=None, **extra):
        try:
            return super().main(args=args, prog_name=prog_name, standalone_mode=False,
                                **extra)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            _fail(exc.format_message() + hint, exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.exceptions.Abort:
            _fail("aborted", 1)
        except FastW2VError as exc:
            _fail(str(exc), 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)


def _fail(message: str, code: int) -> None:
    click.echo(f"Error: {' '.join(message.split())}", err=True)
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


def _check_outputs(corpus: str, outputs: dict) -> None:
    """Refuse, before any work, outputs that cannot be written or would overwrite the corpus."""
    for option, path in outputs.items():
        if path is None:
            continue
        if _same_file(path, corpus):
            raise OutputError(f"{option} {path} is the corpus itself; choose another path")
        check_writable_path(path, option)


@main.command()
@click.argument("corpus", type=click.Path(dir_okay=True, path_type=str))
@click.option("-o", "--output", default=DEFAULT_MODEL_PATH, show_default=True,
              help="Where to write the word vectors.")
@click.option("--format", "fmt", type=click.Choice(("auto",) + FORMATS), default="auto",
              show_default=True,
              help="Vector file format; auto: text for .txt/.vec, binary otherwise.")
@click.option("--save-context", type=click.Path(dir_okay=False, path_type=str),
              help="Also write the context (output) vectors to this path.")
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
@click.option("-q", "--quiet", is_flag=True, help="No progress line and no summary.")
def train(corpus, output, fmt, save_context, skipgram, quiet, save_vocab, read_vocab,
          tmp_dir, **options):
    """Learn word vectors from CORPUS (UTF-8 text, one sentence per line; .gz, .bz2 and
    .xz are read directly)."""
    _check_outputs(corpus, {"--output": output, "--save-context": save_context,
                            "--save-vocab": save_vocab})
    options["architecture"] = "skipgram" if skipgram else "cbow"
    started = time.perf_counter()
    model = train_model(corpus, progress=not quiet, read_vocab=read_vocab,
                        save_vocab=save_vocab, tmp_dir=tmp_dir, warn=_warn, **options)
    model.save(output, fmt, context_path=save_context)
    if not quiet:
        stats = model.stats
        click.echo(
            f"vocabulary {len(model.words):,} words | {stats.n_words_trained:,} words "
            f"trained in {model.config.epochs} epochs | {time.perf_counter() - started:.1f} s"
            f" | {stats.words_per_second:,.0f} words/s | loss {model.loss_history[-1]:.4f}"
            f" | saved {output}",
            err=True,
        )


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
    and plural forms; see fastw2v/synthetic.py.
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
    click.echo(f"trained {len(model.words)} words in {model.stats.seconds['train']:.1f} s, "
               f"{model.stats.words_per_second:,.0f} words/s\n")
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
