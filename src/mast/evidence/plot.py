"""`mast evidence plot`: each task's score over time against the indicator lines.

One subplot per threshold that reads evidence: every (task, metric) its indicators read, as
the model's recorded values over time (markers) and the running best (a step line: what the
engine reads), and every line an indicator draws (`score("t", "m") >= 0.6`) as a horizontal
rule labelled with its level. matplotlib is an optional extra (`mast[plot]`); it is imported
only here, with the Agg backend (no display needed). The format follows the file's suffix
(.svg, .png, .pdf).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mast.errors import InvalidInput, MastError
from mast.evidence.show import EvidenceView

LEVEL_STYLE = {"warning": ("#d4a017", ":"), "not_ruled_out": ("#e67e22", "--"), "crossed": ("#c0392b", "-")}
SUFFIXES = (".svg", ".png", ".pdf")


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise MastError("plotting needs matplotlib: pip install 'mast[plot]'") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_evidence(view: EvidenceView, output: str | Path) -> Path:
    """Draw `view` into `output`; returns the path written."""
    output = Path(output)
    if output.suffix.lower() not in SUFFIXES:
        raise InvalidInput(f"-o {output}: expected a file ending in {', '.join(SUFFIXES)}")
    panels = [t for t in view.thresholds if any(i.scores for i in t.indicators)]
    if not view.evals:
        raise InvalidInput(f"model {view.model!r} has no eval records up to {view.as_of:%Y-%m-%d}: nothing to plot")
    plt = _pyplot()
    plt.rcParams["svg.hashsalt"] = "mast"  # the same evidence gives the same file
    plt.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, selectable
    rows = max(1, len(panels))
    fig, axes = plt.subplots(rows, 1, figsize=(9, 2.8 * rows + 0.6), squeeze=False, sharex=True)
    for ax, threshold in zip((a for [a] in axes), panels):
        pairs = sorted({(b.task, b.metric) for i in threshold.indicators for b in i.scores})
        for task, metric in pairs:
            points = [(r.at, float(r.metrics[metric])) for r in view.evals if r.task == task and metric in r.metrics]
            if not points:
                continue
            times, values = zip(*points)
            [marks] = ax.plot(times, values, "o", markersize=4, alpha=0.6, label=f"{task} · {metric}")
            running, best = [], float("-inf")
            for v in values:
                best = max(best, v)
                running.append(best)
            # the running best is what the engine reads; drawn on to the moment of the view
            ax.step([*times, view.as_of], [*running, running[-1]], where="post", color=marks.get_color(),
                    linewidth=1.4)
        for indicator in threshold.indicators:
            color, style = LEVEL_STYLE.get(indicator.level, ("grey", "-."))
            for line in indicator.lines:
                ax.axhline(line.value, color=color, linestyle=style, linewidth=1)
                ax.annotate(f"{indicator.level}: {line.task}·{line.metric} {line.op} {line.value:g}",
                            xy=(1, line.value), xycoords=("axes fraction", "data"), xytext=(-4, 2),
                            textcoords="offset points", ha="right", va="bottom", fontsize=7, color=color)
        low, high = ax.get_ylim()
        ax.set_ylim(low, high + 0.08 * (high - low))  # room for the labels of the top line
        status = threshold.status + (f" ({threshold.basis})" if threshold.basis else "")
        ax.set_title(f"{threshold.id} — {status}", loc="left", fontsize=10)
        ax.set_ylabel("score")
        ax.grid(True, alpha=0.25)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="upper left")
    if not panels:
        axes[0][0].text(0.5, 0.5, "no threshold reads scores", ha="center", va="center", transform=axes[0][0].transAxes)
    fig.suptitle(f"{view.model}: evidence against {view.framework[0]} {view.framework[1]}", fontsize=11)
    fig.autofmt_xdate()
    fig.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"Date": None} if output.suffix.lower() == ".svg" else None
    fig.savefig(output, metadata=metadata)
    plt.close(fig)
    return output
