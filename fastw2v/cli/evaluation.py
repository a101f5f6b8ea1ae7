"""The commands that judge and picture a model: `evaluate`, `plot` and `theory`."""

from __future__ import annotations

import os

import click

from ..formats.files import check_writable_path
from ..queries.plot import LONE_WORD_NEIGHBOURS
from .common import (
    DEFAULT_RESTRICT,
    QUERY_METHODS,
    _echo_json,
    _json_option,
    _load_vectors,
    _model_option,
    _restrict_option,
    _table,
    _warn,
    main,
)


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
    from ..queries.evaluate import evaluate_analogies, evaluate_similarity

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
    from ..queries.plot import draw_map, require_matplotlib

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
    from ..queries.theory import compare_estimators

    if output is not None:
        from ..queries.plot import require_matplotlib

        if not output.lower().endswith(".png"):
            raise click.BadParameter(f"{output}: use a .png name",
                                     param_hint="'-o' / '--output'")
        require_matplotlib("theory -o")
        check_writable_path(output, "--output")
    comparison = compare_estimators()
    if output is not None:
        from ..queries.theory_figure import draw_comparison

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
