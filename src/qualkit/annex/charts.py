"""Bar charts of frequency tables for Word annexes (PNG bytes, readable in grayscale, sized for print).

Each series gets a different grey *and* a hatch pattern, bars have black edges
and carry their value as a label, so a chart still reads on a black-and-white
printout or a photocopy. A group (a table row) draws only its non-empty bars,
centred on its label, so no bar drifts away from the label it belongs to; a
row with no bar at all carries a "0". The figure is drawn at the width it is
printed at, in the document's font family, with no text under 8 pt, at 300 dpi.

matplotlib is used through its object API with the Agg canvas: no pyplot, no
global backend switch, no display needed.
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

#: print sizes (points at the printed width) and resolution
LABEL_PT = 9.0  # category labels
TEXT_PT = 8.5  # value labels, legend, axis label
TICK_PT = 8.0  # axis numbers: the smallest text of a chart
DPI = 300

#: the document font -> fonts with the same metrics that may be installed instead
FONT_ALTERNATIVES = {
    "arial": ("Arial", "Liberation Sans", "Arimo", "Nimbus Sans", "Helvetica"),
    "helvetica": ("Helvetica", "Nimbus Sans", "Liberation Sans", "Arimo", "Arial"),
    "times new roman": ("Times New Roman", "Liberation Serif", "Tinos", "Nimbus Roman"),
    "calibri": ("Calibri", "Carlito"),
    "cambria": ("Cambria", "Caladea"),
    "courier new": ("Courier New", "Liberation Mono", "Cousine"),
}


@dataclass
class ChartData:
    """What one chart draws: categories (rows) x series (columns)."""

    categories: list[str]
    series: list[str]
    values: list[list[float | None]]  # values[series][category]
    unit: str = "count"  # "count" | "percent"
    title: str = ""
    x_label: str = ""
    decimals: int = 0  # of percentage labels

    def bars(self) -> list[list[tuple[int, float]]]:
        """Per category, the bars drawn: (series index, value) of every non-empty value, in series order."""
        out = []
        for c in range(len(self.categories)):
            out.append([(s, v) for s, vals in enumerate(self.values) if (v := vals[c]) is not None and v > 0])
        return out

    def value_text(self, v: float) -> str:
        return f"{v:.{self.decimals}f}%" if self.unit == "percent" else f"{int(v)}"

    def alt_text(self) -> str:
        """The chart's data in words, for the picture's alternative text (a publisher can redraw it)."""
        parts = []
        for cat, bars in zip(self.categories, self.bars()):
            if not bars:
                parts.append(f"{cat}: 0")
            elif len(self.series) == 1:
                parts.append(f"{cat}: {self.value_text(bars[0][1])}")
            else:
                parts.append(f"{cat}: " + ", ".join(f"{self.series[s]} {self.value_text(v)}" for s, v in bars))
        head = f"Bar chart{': ' + self.title if self.title else ''} ({self.x_label})."
        return head + " " + "; ".join(parts) + "."


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
    (percent when the table has several columns and every drawn column reaches
    the table's ``min_base``, else counts). The ``total_cases`` row is never
    drawn; ``no_response`` only when asked. *total*: draw the table's total
    column (default: only when the table has no ``by`` columns). *columns*:
    the by values to draw (default all). Percentages have the table's ``decimals``.
    """
    from ..tables.build import NO_RESPONSE, TOTAL, TOTAL_CASES, percent, print_label

    if values not in ("auto",) + VALUES:
        raise ValueError(f"unknown chart values '{values}'")
    cols = list(columns) if columns is not None else list(table.columns)
    if total is None:
        total = not table.columns
    if total:
        cols.append(TOTAL)
    if not cols:
        cols = [TOTAL]
    spec = table.spec
    big_enough = all(table.base[c] >= max(1, spec.min_base) for c in cols)
    unit = values if values != "auto" else ("percent" if len(cols) > 1 and big_enough else "count")
    frame = table.frame
    keep = [r for r in frame["row"] if r != TOTAL_CASES and (no_response or r != NO_RESPONSE)]
    labels = {r: print_label(lab) for r, lab in zip(frame["row"], frame["label"])}
    data: list[list[float | None]] = []
    for c in cols:
        row_values: list[float | None] = []
        for r in keep:
            n = table.count(r, c)
            row_values.append(percent(n, table.base[c], spec.decimals) if unit == "percent" else float(n))
        data.append(row_values)
    if unit == "percent":
        x_label = f"Per cent of {spec.unit} in each group" if len(cols) > 1 else f"Per cent of all {spec.unit}"
    else:
        x_label = f"Number of {spec.unit}"
    return ChartData(
        categories=[labels[r] for r in keep],
        series=[print_label(table.column_labels.get(c, c)) for c in cols],
        values=data,
        unit=unit,
        title=title,
        x_label=x_label,
        decimals=spec.decimals,
    )


def _wrap(text: str, width: int = 30) -> str:
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


def chart_font(family: str | None) -> str:
    """An installed font for the document's *family* (or one with the same metrics); else DejaVu Sans."""
    from matplotlib import font_manager

    wanted = FONT_ALTERNATIVES.get((family or "").strip().lower(), (family,) if family else ())
    candidates = wanted + FONT_ALTERNATIVES["arial"][1:]
    for rescan in (False, True):
        if rescan and not _add_system_fonts(candidates):
            break
        for name in candidates:
            try:
                font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
            except ValueError:
                continue
            return name
    return "DejaVu Sans"


def _add_system_fonts(names: Sequence[str]) -> bool:
    """Register installed fonts named like *names* that matplotlib's font cache does not know
    (fonts installed after the cache was built); True when one was added."""
    from matplotlib import font_manager

    keys = [n.replace(" ", "").lower() for n in names]
    known = {f.fname for f in font_manager.fontManager.ttflist}
    added = False
    for path in font_manager.findSystemFonts():
        flat = path.rsplit("/", 1)[-1].replace(" ", "").replace("-", "").lower()
        if path not in known and any(flat.startswith(k) for k in keys):
            try:
                font_manager.fontManager.addfont(path)
                added = True
            except (OSError, RuntimeError, ValueError):
                continue
    return added


#: vertical sizes in inches: one bar, the gap between groups, what the axis, legend and margins take
_BAR_IN, _GAP_IN = 0.17, 0.13
_AXIS_IN, _LEGEND_ROW_IN, _PAD_IN = 0.55, 0.22, 0.1


def _legend_columns(series: Sequence[str]) -> int:
    chars = sum(len(s) + 8 for s in series)
    return len(series) if chars <= 95 else (min(len(series), 2) if chars <= 150 else 1)


def chart_height_cm(data: ChartData) -> float:
    """The printed height of :func:`render_bar_chart`'s figure, from its number of bars and groups."""
    bars = data.bars()
    slots = sum(max(1, len(b)) for b in bars)
    lines = sum(max(0, _wrap(c).count("\n") - max(1, len(b)) + 1) for c, b in zip(data.categories, bars))
    legend = 0.0
    if len(data.series) > 1:
        legend = _LEGEND_ROW_IN * math.ceil(len(data.series) / _legend_columns(data.series)) + 0.1
    height = slots * _BAR_IN + len(bars) * _GAP_IN + lines * 0.14 + _AXIS_IN + legend + _PAD_IN
    return max(1.6, height) * 2.54


def render_bar_chart(data: ChartData, *, width_cm: float = 15.5, dpi: int = DPI, font: str | None = None) -> bytes:
    """A horizontal grouped bar chart as PNG bytes, drawn at *width_cm* (its printed width).

    Only non-empty bars are drawn; every bar carries its value; text is at least
    8 pt at that width; the PNG has *dpi* pixels per inch of printed size."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    family = chart_font(font)
    bars = data.bars()
    width_in, height_in = width_cm / 2.54, chart_height_cm(data) / 2.54
    fig = Figure(figsize=(width_in, height_in), dpi=dpi, layout="constrained")
    fig.get_layout_engine().set(w_pad=0.04, h_pad=0.04)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    vmax = max([v for b in bars for _s, v in b] + [0])
    top = vmax * 1.18 if vmax else 1
    if data.unit == "percent":
        top = min(max(top, 10), 118)
    # y positions in bar units from the top: each group takes its bars plus a gap
    gap = _GAP_IN / _BAR_IN
    y, centres = 0.0, []
    for b in bars:
        n = max(1, len(b))
        centres.append(y + n / 2)
        for k, (s, v) in enumerate(b):
            ax.barh(
                y + k + 0.5,
                v,
                height=0.9,
                color=GREYS[s % len(GREYS)],
                hatch=HATCHES[s % len(HATCHES)],
                edgecolor="black",
                linewidth=0.6,
            )
            ax.text(
                v + top * 0.01, y + k + 0.5, data.value_text(v), va="center", ha="left", family=family, size=TEXT_PT
            )
        if not b:
            ax.text(top * 0.01, y + 0.5, "0", va="center", ha="left", family=family, size=TEXT_PT)
        y += n + gap
    ax.set_ylim(y - gap / 2, -gap / 2)
    ax.set_yticks(centres)
    ax.set_yticklabels([_wrap(c) for c in data.categories], family=family, size=LABEL_PT)
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, top)
    if data.unit == "count" and vmax <= 20:
        ax.set_xticks(range(0, int(math.ceil(top)) + 1, max(1, int(math.ceil(top / 10)))))
    for label in ax.get_xticklabels():
        label.set_family(family)
        label.set_size(TICK_PT)
    ax.set_xlabel(data.x_label, family=family, size=TEXT_PT)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.xaxis.grid(True, color="0.8", linewidth=0.5)
    ax.set_axisbelow(True)
    if len(data.series) > 1:
        handles = [
            Patch(facecolor=GREYS[i % len(GREYS)], hatch=HATCHES[i % len(HATCHES)], edgecolor="black", linewidth=0.6)
            for i in range(len(data.series))
        ]
        fig.legend(
            handles,
            data.series,
            loc="outside upper center",
            ncol=_legend_columns(data.series),
            frameon=False,
            prop={"family": family, "size": TEXT_PT},
            handlelength=2.2,
            handleheight=1.1,
        )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white", metadata={"Software": None})
    return buf.getvalue()
