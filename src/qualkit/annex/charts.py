"""Bar charts of frequency tables for Word annexes (PNG bytes, readable in grayscale).

Each series gets a different grey *and* a hatch pattern, bars have black edges
and carry their value as a label, so a chart still reads on a black-and-white
printout or a photocopy. matplotlib is used through its object API with the
Agg canvas: no pyplot, no global backend switch, no display needed.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Sequence

#: fill greys (0 = black, 1 = white) and hatches, one pair per series
GREYS = ("0.25", "0.62", "0.88", "1.0", "0.45", "0.75")
HATCHES = ("", "///", "...", "xx", "\\\\\\", "++")

VALUES = ("count", "percent")


@dataclass
class ChartData:
    """What one chart draws: categories (rows) x series (columns)."""

    categories: list[str]
    series: list[str]
    values: list[list[float | None]]  # values[series][category]
    unit: str = "count"  # "count" | "percent"
    title: str = ""
    x_label: str = ""


def chart_data(
    table,
    *,
    values: str = "auto",
    no_response: bool = False,
    total: bool | None = None,
    columns: Sequence[str] | None = None,
    title: str = "",
) -> ChartData:
    """Rows and columns of a :class:`qualkit.tables.FrequencyTable` to chart.

    *values*: "count", "percent" (share of the column's total cases) or "auto"
    (percent when the table has several columns, else counts). The
    ``total_cases`` row is never drawn; ``no_response`` only when asked.
    *total*: draw the table's total column (default: only when the table has no
    ``by`` columns). *columns*: the by values to draw (default all).
    """
    from ..tables.build import NO_RESPONSE, TOTAL, TOTAL_CASES, percent

    if values not in ("auto",) + VALUES:
        raise ValueError(f"unknown chart values '{values}'")
    cols = list(columns) if columns is not None else list(table.columns)
    if total is None:
        total = not table.columns
    if total:
        cols.append(TOTAL)
    if not cols:
        cols = [TOTAL]
    unit = values if values != "auto" else ("percent" if len(cols) > 1 else "count")
    frame = table.frame
    keep = [r for r in frame["row"] if r != TOTAL_CASES and (no_response or r != NO_RESPONSE)]
    labels = {r: str(lab) for r, lab in zip(frame["row"], frame["label"])}
    data: list[list[float | None]] = []
    for c in cols:
        row_values: list[float | None] = []
        for r in keep:
            n = table.count(r, c)
            row_values.append(percent(n, table.base[c]) if unit == "percent" else float(n))
        data.append(row_values)
    x_label = "Per cent of the column's " + table.spec.unit if unit == "percent" else f"Number of {table.spec.unit}"
    return ChartData(
        categories=[labels[r] for r in keep],
        series=[table.column_labels.get(c, c) for c in cols],
        values=data,
        unit=unit,
        title=title,
        x_label=x_label,
    )


def _wrap(text: str, width: int = 34) -> str:
    words, lines, line = str(text).split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    if line:
        lines.append(line)
    return "\n".join(lines[:3]) + ("…" if len(lines) > 3 else "")


def render_bar_chart(data: ChartData, *, width_cm: float = 16.0, dpi: int = 200) -> bytes:
    """A horizontal grouped bar chart as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n_cat, n_ser = len(data.categories), len(data.series)
    bar_h = 0.8 / max(n_ser, 1)
    height_in = max(2.0, 0.6 + n_cat * (0.10 + 0.12 * n_ser))
    fig = Figure(figsize=(width_cm / 2.54, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    font = {"family": "DejaVu Sans", "size": 8}
    vmax = max([v for s in data.values for v in s if v is not None] + [0])
    for i, (name, vals) in enumerate(zip(data.series, data.values)):
        ys = [c + (i - (n_ser - 1) / 2) * bar_h for c in range(n_cat)]
        xs = [0 if v is None else v for v in vals]
        bars = ax.barh(
            ys,
            xs,
            height=bar_h * 0.92,
            color=GREYS[i % len(GREYS)],
            hatch=HATCHES[i % len(HATCHES)],
            edgecolor="black",
            linewidth=0.6,
            label=name,
        )
        for bar, v in zip(bars, vals):
            if v is None or (v == 0 and n_ser > 1):  # zero bars of grouped charts stay unlabelled (less clutter)
                continue
            text = f"{v:.1f}%" if data.unit == "percent" else f"{int(v)}"
            ax.text(
                bar.get_width() + vmax * 0.01 + 0.05,
                bar.get_y() + bar.get_height() / 2,
                text,
                va="center",
                ha="left",
                fontdict={**font, "size": 7},
            )
    ax.set_yticks(range(n_cat))
    ax.set_yticklabels([_wrap(c) for c in data.categories], fontdict=font)
    ax.invert_yaxis()
    top = vmax * 1.15 if vmax else 1
    if data.unit == "percent":
        top = min(max(top, 10), 115)
    ax.set_xlim(0, top)
    if data.unit == "count" and vmax <= 20:
        ax.set_xticks(range(0, int(math.ceil(top)) + 1, max(1, int(math.ceil(top / 10)))))
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel(data.x_label, fontdict=font)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.xaxis.grid(True, color="0.8", linewidth=0.5)
    ax.set_axisbelow(True)
    if n_ser > 1:
        chars = sum(len(s) + 8 for s in data.series)
        ncol = n_ser if chars <= 95 else max(1, min(n_ser, 2) if chars <= 150 else 1)
        ax.legend(
            loc="lower center",
            bbox_to_anchor=(0.5, 1.01),
            ncol=ncol,
            frameon=False,
            prop={"family": "DejaVu Sans", "size": 7.5},
            handlelength=2.2,
            handleheight=1.1,
        )
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(
        buf, format="png", dpi=dpi, facecolor="white", bbox_inches="tight", pad_inches=0.08, metadata={"Software": None}
    )
    return buf.getvalue()
