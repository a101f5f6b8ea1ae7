"""The commands about vector files: `info` and `convert`."""

from __future__ import annotations

import os

import click

from ..errors import OutputError
from ..formats.detect import ALL_FORMATS, format_for_path
from ..formats.files import check_writable_path
from ..formats.gensim import require_gensim
from ..formats.native import DTYPES
from .common import (
    _check_dtype,
    _echo_json,
    _json_option,
    _load_vectors,
    _model_option,
    _size,
    _table,
    _warn,
    main,
)


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
        # Runs from before the workers could read record no reading: the driver read.
        read_on = f"corpus read on the {run.get('corpus_read_on', 'driver')}"
        rows.append(("distributed", f"{run.get('engine')}: {run.get('workers')} workers x "
                                    f"{run.get('threads_per_worker')} threads, {read_on}, "
                                    f"synchronised "
                                    f"every {run.get('sync_every', 0):,} words per worker "
                                    f"({run.get('rounds')} rounds): {run.get('sync_rule')}; "
                                    f"{run.get('bytes_to_driver_per_word')} bytes per "
                                    f"trained word to the driver, "
                                    f"{run.get('bytes_from_driver_per_word')} back"))
    if meta.get("loss_history"):
        rows.append(("loss by epoch", " ".join(f"{x:.4f}" for x in meta["loss_history"])))
    click.echo(_table(None, rows, "ll"))


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
    from ..errors import FormatError
    from ..formats.detect import FORMAT_NAMES
    from ..queries.vectors import Vectors

    if not os.path.lexists(source):
        raise FormatError(f"{source}: no such file")
    if to_fmt == "projector":
        if dtype == "float16":
            raise click.UsageError("--dtype float16 is for .fw2v files; --to projector "
                                   "writes text")
        from ..formats.projector import check_projector_folder

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
    from ..formats.projector import BROWSER_POINTS, METADATA_FILE, VECTORS_FILE

    vectors.save_projector(folder)
    click.echo(f"converted {source} ({vectors.format_name}) for the Embedding Projector: "
               f"{os.path.join(folder, VECTORS_FILE)} and {os.path.join(folder, METADATA_FILE)}"
               f", {kept}, dim {vectors.dim:,}; load them at https://projector.tensorflow.org "
               f"(Load, then choose the two files)", err=True)
    if limit is None and len(vectors) > BROWSER_POINTS:
        click.echo(f"note: {len(vectors):,} points are more than a browser shows smoothly "
                   f"(about {BROWSER_POINTS:,}); --limit N writes only the N most frequent "
                   f"words", err=True)
