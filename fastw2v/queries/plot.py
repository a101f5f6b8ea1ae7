"""A 2-D map of word vectors for people to look at. Needs matplotlib (the `plot` extra).

The map is the first two principal components of the words' unit vectors (the
directions along which those words differ most), so it shows how the given words
relate to one another, not where they lie in the whole vocabulary; the title says how
much of their variance the two components hold.
"""

from __future__ import annotations

import warnings
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..errors import FastW2VError
from ..formats.files import atomic_write
from .vectors import Vectors

INSTALL_HINT = "pip install 'fastw2v[plot]' (or: pip install matplotlib)"


def require_matplotlib(command: str = "plot") -> None:
    """Fail with installation advice unless matplotlib can be imported; the message
    names the `command` that needs it."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise FastW2VError(f"{command} needs matplotlib, which is not installed: "
                           f"{INSTALL_HINT}") from None


def pca_2d(matrix: np.ndarray) -> Tuple[np.ndarray, float]:
    """Coordinates of the rows on their first two principal components, and the share
    of the rows' variance those two components hold (1.0 for fewer than 3 rows).

    Each component's sign is fixed so that its largest coordinate is positive, so the
    same words always give the same picture.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    centred = matrix - matrix.mean(axis=0)
    coords = np.zeros((len(matrix), 2))
    if len(matrix) < 2:
        return coords, 1.0
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    k = min(2, len(s))
    coords[:, :k] = u[:, :k] * s[:k]
    for j in range(2):
        if coords[np.argmax(np.abs(coords[:, j])), j] < 0:
            coords[:, j] = -coords[:, j]
    total = float(np.sum(s ** 2))
    return coords, float(np.sum(s[:k] ** 2)) / total if total > 0 else 1.0


def spread_labels(corners: np.ndarray, widths: np.ndarray, height: float,
                  iterations: int = 400) -> np.ndarray:
    """Move label boxes (lower-left `corners`, in axes fractions) apart until none
    overlap or `iterations` is spent; deterministic. Overlapping pairs are pushed apart
    mostly vertically, by half their overlap each, and boxes stay inside the axes."""
    corners = np.array(corners, dtype=np.float64)
    n = len(corners)
    order = np.arange(n)
    for _ in range(iterations):
        centres = corners + np.column_stack([widths / 2, np.full(n, height / 2)])
        dx = centres[:, None, 0] - centres[None, :, 0]
        dy = centres[:, None, 1] - centres[None, :, 1]
        overlap_x = (widths[:, None] + widths[None, :]) / 2 - np.abs(dx)
        overlap_y = height - np.abs(dy)
        clash = (overlap_x > 0) & (overlap_y > 0)
        np.fill_diagonal(clash, False)
        if not clash.any():
            break
        # tied centres: the later label goes up
        sign_y = np.where(dy != 0, np.sign(dy), np.sign(order[:, None] - order[None, :]))
        push_y = np.where(clash, sign_y * overlap_y / 2, 0.0).sum(axis=1)
        push_x = np.where(clash, np.sign(dx) * overlap_x / 8, 0.0).sum(axis=1)
        corners += np.column_stack([push_x, push_y]) * 0.5
        corners[:, 0] = np.clip(corners[:, 0], 0.0, 1.0 - widths)
        corners[:, 1] = np.clip(corners[:, 1], 0.0, 1.0 - height)
    return corners


# Neighbours drawn around a word given alone (when no count is asked for): one point on
# a map says nothing, its neighbourhood does. As many as `fastw2v similar` lists.
LONE_WORD_NEIGHBOURS = 10


def choose_words(vectors: Vectors, words: List[str], neighbours: Optional[int],
                 restrict: Optional[int]
                 ) -> Tuple[List[str], List[int], Dict[str, List[str]], int]:
    """The words to draw, the group (index of the query word) of each, the unknown
    query words with their suggestions, and the neighbours drawn per word (`neighbours`,
    or when None: LONE_WORD_NEIGHBOURS if one given word is known, else 0). Fails if no
    query word is known."""
    known: List[str] = []
    unknown: Dict[str, List[str]] = {}
    for word in dict.fromkeys(words):
        if word in vectors:
            known.append(word)
        else:
            unknown[word] = vectors.suggest(word)
    if not known:
        parts = [f"{w!r}" + (f" (closest: {', '.join(c)})" if c else "")
                 for w, c in unknown.items()]
        raise FastW2VError("nothing to plot: no given word is in the vocabulary of "
                           f"{len(vectors):,} words: {'; '.join(parts)}")
    if neighbours is None:
        neighbours = LONE_WORD_NEIGHBOURS if len(known) == 1 else 0
    shown = list(known)
    groups = list(range(len(known)))
    for group, word in enumerate(known):
        if neighbours:
            for neighbour, _ in vectors.most_similar(word, n=neighbours, restrict=restrict):
                if neighbour not in shown:
                    shown.append(neighbour)
                    groups.append(group)
    return shown, groups, unknown, neighbours


def draw_map(vectors: Vectors, words: List[str], output: str, fmt: str = "png",
             neighbours: Optional[int] = None, restrict: Optional[int] = None,
             title: str = "") -> Tuple[int, Dict[str, List[str]]]:
    """Draw the map into `output` (atomically); returns the number of words drawn and
    the unknown words (left out) with suggested spellings. `neighbours` per given word;
    None draws them only around a word given alone (see choose_words)."""
    require_matplotlib()
    from matplotlib.figure import Figure

    shown, groups, unknown, neighbours = choose_words(vectors, words, neighbours, restrict)
    n_queries = len(set(groups))  # the given words come first in `shown`
    coords, explained = pca_2d(np.stack([vectors.unit_vector(w) for w in shown]))

    fig = Figure(figsize=(10, 8), layout="constrained")
    ax = fig.subplots()
    colours = [f"C{g % 10}" for g in groups]
    is_query = np.arange(len(shown)) < n_queries
    ax.scatter(coords[~is_query, 0], coords[~is_query, 1], s=22, alpha=0.55,
               c=[c for c, q in zip(colours, is_query) if not q])
    ax.scatter(coords[is_query, 0], coords[is_query, 1], s=70, edgecolors="black",
               linewidths=0.8, c=[c for c, q in zip(colours, is_query) if q], zorder=3)
    low, high = coords.min(axis=0), coords.max(axis=0)
    span = np.where(high - low > 0, high - low, 1.0)
    low, high = low - 0.06 * span, high + np.array([0.22, 0.08]) * span
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])

    # Place the labels in axes fractions (0..1), spread apart where they would overlap,
    # with a thin line back to the point when a label had to move away from it.
    anchors = (coords - low) / (high - low)
    char_width = np.where(is_query, 0.0105, 0.0085)  # of the axes' width, at 11 / 9 pt
    widths = np.array([len(w) for w in shown]) * char_width + 0.004
    placed = spread_labels(anchors + 0.006, widths, height=0.026)
    for anchor, spot, word, colour, query in zip(anchors, placed, shown, colours, is_query):
        moved = np.hypot(*(spot - anchor - 0.006)) > 0.01
        ax.annotate(word, anchor, xycoords="axes fraction", xytext=spot,
                    textcoords="axes fraction", fontsize=11 if query else 9,
                    fontweight="bold" if query else "normal",
                    color="black" if query else colour, zorder=4,
                    arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.5, "alpha": 0.6,
                                "shrinkA": 0, "shrinkB": 3} if moved else None)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("first principal component")
    ax.set_ylabel("second principal component")
    what = f"{len(shown):,} words" + (f" ({n_queries:,} given, with up to {neighbours:,} "
                                      f"neighbours each)" if neighbours else "")
    heading = f"{title}: " if title else ""
    ax.set_title(f"{heading}{what}\nPCA of their unit vectors; the two axes hold "
                 f"{explained:.0%} of their variance", fontsize=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. a glyph missing from the font
        with atomic_write(output, "wb") as out:
            fig.savefig(out, format=fmt, dpi=150)
    return len(shown), unknown
