"""The picture of `fastw2v theory`: each estimator's estimate against the truth, and
NCE's error as k grows. Needs matplotlib (the `plot` extra), like fastw2v/queries/plot.py.

Four panels, one per estimator (NS, NCE, HS, the exact softmax), each a scatter of the
estimate against the truth over the judged pairs with the line of perfect agreement and
its figures (r, mean absolute error, the range of the summed probabilities); and beside
them the k sweep: NCE's mean absolute error at each k against the softmax's.
"""

from __future__ import annotations

from typing import List

from ..formats.files import atomic_write
from .theory import DEFAULT_K, Comparison, Fit, nce_name

PANELS = ("ns", nce_name(DEFAULT_K), "hs", "softmax")
TITLES = {"ns": f"negative sampling (k={DEFAULT_K})", nce_name(DEFAULT_K):
          f"NCE (k={DEFAULT_K})", "hs": "hierarchical softmax", "softmax": "exact softmax"}
AXIS_LABELS = {"pmi": ("PMI(w, c)", "<u_w, v_c> + log k"),
               "log_prob": ("log p(c | w)", "log p-hat(c | w)")}


def panel_text(fit: Fit) -> str:
    """The figures printed in a panel."""
    lines = [f"r = {fit.pearson:.4f}", f"MAE = {fit.mae:.3f} nats"]
    if fit.sum_min is not None:
        lines.append(f"sum p-hat in [{fit.sum_min:.3f}, {fit.sum_max:.3f}]")
    else:
        lines.append("(not a distribution)")
    return "\n".join(lines)


def draw_comparison(comparison: Comparison, path: str):
    """Draw the figure and write it to `path` (PNG) atomically; return the figure.
    Its axes are the four panels, in PANELS order, then the k sweep."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(13, 7.2), dpi=80)
    grid = figure.add_gridspec(2, 3, width_ratios=(1, 1, 1.05), wspace=0.3, hspace=0.35)
    spots = [(0, 0), (0, 1), (1, 0), (1, 1)]
    for name, (row, column) in zip(PANELS, spots):
        fit = comparison.fits[name]
        axes = figure.add_subplot(grid[row, column])
        axes.scatter(fit.truth, fit.estimate, s=6, alpha=0.6, color="tab:blue")
        low = float(min(fit.truth.min(), fit.estimate.min()))
        high = float(max(fit.truth.max(), fit.estimate.max()))
        axes.plot([low, high], [low, high], color="grey", linewidth=0.8)
        x_label, y_label = AXIS_LABELS[fit.measure]
        axes.set(title=TITLES[name], xlabel=x_label, ylabel=y_label)
        axes.text(0.04, 0.96, panel_text(fit), transform=axes.transAxes, va="top",
                  fontsize=9, family="monospace",
                  bbox=dict(facecolor="white", alpha=0.8, edgecolor="none"))
    sweep = figure.add_subplot(grid[:, 2])
    fits: List[Fit] = comparison.k_sweep()
    ks = [fit.negative for fit in fits]
    sweep.plot(ks, [fit.mae for fit in fits], marker="o", label="NCE")
    softmax = comparison.fits["softmax"]
    sweep.axhline(softmax.mae, color="black", linestyle="--", label="exact softmax")
    if "nce + bias" in comparison.fits:
        biased = comparison.fits["nce + bias"]
        sweep.plot([biased.negative], [biased.mae], marker="s", linestyle="none",
                   color="tab:red", label="NCE + context bias")
    sweep.set_xscale("log")
    sweep.set_xticks(ks)
    sweep.set_xticklabels([str(k) for k in ks])
    sweep.set(title="NCE's error as k grows", xlabel="noise words per pair k",
              ylabel="mean absolute error of log p-hat (nats)")
    sweep.set_ylim(bottom=0)
    sweep.legend(fontsize=9)
    figure.suptitle(f"What each estimator learns: a Markov language of "
                    f"{comparison.n_words:,} words, {comparison.n_tokens:,} tokens")
    with atomic_write(path, "wb") as out:
        figure.savefig(out, format="png")
    plt.close(figure)
    return figure
