"""The commands that ask a model about words: `similar`, `analogy`, `similarity`,
`odd-one-out`, `score`, `classes`, and `index`, which makes their approximate index."""

from __future__ import annotations

import os
import shlex
import time

import click

from ..config import DEFAULT_MODEL_PATH
from ..errors import OutputError
from ..formats.files import check_writable_path
from .common import (
    QUERY_METHODS,
    _echo_json,
    _json_option,
    _load_vectors,
    _model_option,
    _require_model,
    _restrict_option,
    _same_file,
    _size,
    _table,
    _warn,
    main,
)


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
    from ..queries.index import AnnIndex, index_path_for

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
    from ..queries.batch import QueryFileError, read_queries
    from ..queries.vectors import UnknownWordError

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
    from ..queries.index import AnnIndex, HnswSettings, index_path_for, require_faiss

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
    from ..queries.estimates import Estimator

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

    from ..queries.classes import word_classes

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
