"""Diagram till den årliga analysen: accessible SVG drawn on the server from a section's table
(no script, no library), the same markup in the browser and in the PDF.

Each chart is ``role="img"`` with a ``<title>`` and a ``<desc>`` (named by
``aria-labelledby``) that says what it shows and where its numbers are — the section's table,
shown beside it. Meaning never rests on colour alone: heat-map cells carry their percentage as
text and a pattern for the lower bands; trend lines differ in marker shape and dash and are
labelled at their ends; stacked bars differ in pattern and are named in a legend with the same
swatches. Colours are dark enough against white (3:1 for lines and marks, text 4.5:1 or more).
Presentation attributes only (no ``style``), so the pages' Content-Security-Policy holds.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from checklists.answers.base import fmt_percent
from workflows.analysis.sections import Table

INK = "#1b2430"
MUTED = "#4d5a67"
FONT = 'font-family="DejaVu Sans, system-ui, sans-serif"'


def percent(cell) -> str:
    """A ratio cell as "75 %" (empty when there is nothing to divide by)."""
    return fmt_percent(cell["n"] / cell["d"]) if cell else "–"


def _share(cell) -> float | None:
    return cell["n"] / cell["d"] if cell else None


def _attr(text: str) -> str:
    return escape(str(text), {'"': "&quot;"})


def _open(key: str, width: int, height: int, title: str, desc: str) -> list[str]:
    ident = f"chart-{key}"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" {FONT}>',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(desc)}</desc>',
    ]


def _patterns(key: str) -> str:
    """Fill patterns (ids scoped by chart): diagonal hatch, dots, cross-hatch, vertical and
    horizontal lines, each drawn in dark ink on a light ground."""
    p = f"p-{key}"
    return (
        "<defs>"
        f'<pattern id="{p}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f6b8b0"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{INK}" stroke-width="1.2"/></pattern>'
        f'<pattern id="{p}-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<rect width="6" height="6" fill="#fde7a9"/>'
        f'<circle cx="3" cy="3" r="1" fill="{INK}"/></pattern>'
        f'<pattern id="{p}-cross" width="7" height="7" patternUnits="userSpaceOnUse">'
        '<rect width="7" height="7" fill="#cfe2f3"/>'
        f'<path d="M0,0 L7,7 M7,0 L0,7" stroke="{INK}" stroke-width="0.8"/></pattern>'
        f'<pattern id="{p}-vert" width="5" height="5" patternUnits="userSpaceOnUse">'
        '<rect width="5" height="5" fill="#d9ead3"/>'
        f'<line x1="2.5" y1="0" x2="2.5" y2="5" stroke="{INK}" stroke-width="1"/></pattern>'
        f'<pattern id="{p}-horiz" width="5" height="5" patternUnits="userSpaceOnUse">'
        '<rect width="5" height="5" fill="#ead1dc"/>'
        f'<line x1="0" y1="2.5" x2="5" y2="2.5" stroke="{INK}" stroke-width="1"/></pattern>'
        "</defs>"
    )


# --- heat map ----------------------------------------------------------------------------------

# (lowest share, fill, pattern or None, legend text)
BANDS = [
    (1.0, "#9fd3a8", None, "100 %"),
    (0.75, "#d4edc9", None, "75–99 %"),
    (0.5, None, "dots", "50–74 %, prickar"),
    (0.0, None, "hatch", "under 50 %, streckat"),
]


def _band(share: float | None, key: str) -> str:
    if share is None:
        return "#ffffff"
    for low, fill, pattern, _label in BANDS:
        if share >= low:
            return fill or f"url(#p-{key}-{pattern})"
    return "#ffffff"


def heat_map(table: Table) -> str:
    """Enheter × områden: each cell's fill by band (with a pattern below 75 %) and its
    percentage written in it; the county's row last."""
    key = table.key
    areas = [c["label"] for c in table.columns[1:]]
    rows = table.rows + table.totals
    longest = max((len(str(row[0])) for row in rows), default=10)
    label_w, cell_w, cell_h, top = 7 * longest + 20, 112, 24, 92
    width = label_w + cell_w * max(len(areas), 1) + 10
    height = top + cell_h * len(rows) + 12
    county = table.totals[0] if table.totals else None
    summary = (
        "; ".join(f"{a} {percent(c)}" for a, c in zip(areas, county[1:], strict=True))
        if county
        else "inga bedömda krav"
    )
    desc = (
        f"Andel uppfyllda krav per enhet och område, {len(table.rows)} enheter. "
        f"Länet: {summary}. Varje ruta visar sin procentsats; siffrorna finns i tabellen "
        "under diagrammet."
    )
    parts = _open(key, width, height, table.title, desc)
    parts.append(_patterns(key))
    # Legend
    x = 10
    parts.append(f'<text x="10" y="16" font-size="12" fill="{INK}">Andel uppfyllda:</text>')
    x = 120
    for low, _fill, _pattern, text in BANDS:
        parts.append(
            f'<rect x="{x}" y="5" width="16" height="14" fill="{_band(low, key)}" '
            f'stroke="{MUTED}" stroke-width="0.8"/>'
            f'<text x="{x + 21}" y="16" font-size="12" fill="{INK}">{escape(text)}</text>'
        )
        x += 30 + 7 * len(text)
    # Column heads: area titles, wrapped over two lines
    for n, area in enumerate(areas):
        cx = label_w + cell_w * n + cell_w / 2
        words, lines, line = area.split(), [], ""
        for word in words:
            if line and len(line) + len(word) > 15:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        lines.append(line)
        for i, text in enumerate(lines[-3:]):
            y = top - 8 - 14 * (len(lines[-3:]) - 1 - i)
            parts.append(
                f'<text x="{cx:.0f}" y="{y}" font-size="11.5" text-anchor="middle" '
                f'fill="{INK}">{escape(text)}</text>'
            )
    for r, row in enumerate(rows):
        y = top + cell_h * r
        weight = ' font-weight="700"' if county is not None and row is county else ""
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" font-size="12" text-anchor="end" '
            f'fill="{INK}"{weight}>{escape(str(row[0]))}</text>'
        )
        for n, cell in enumerate(row[1:]):
            x = label_w + cell_w * n
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{_band(_share(cell), key)}" stroke="{MUTED}" stroke-width="0.6"/>'
            )
            if cell:
                parts.append(
                    f'<rect x="{x + cell_w / 2 - 24:.0f}" y="{y + 4}" width="48" height="15" '
                    'rx="3" fill="#ffffff" opacity="0.9"/>'
                )
            parts.append(
                f'<text x="{x + cell_w / 2 - 1:.0f}" y="{y + 16}" font-size="12" '
                f'text-anchor="middle" fill="{INK}"{weight}>{escape(percent(cell))}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


# --- trends ------------------------------------------------------------------------------------

SERIES = [
    ("#0b5394", "circle", ""),
    ("#a61c00", "square", "6 3"),
    ("#38761d", "triangle", "2 3"),
    ("#7f3f98", "diamond", "8 3 2 3"),
    ("#7f6000", "circle-open", "4 2"),
    ("#134f5c", "square-open", ""),
]


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape.startswith("circle"):
        fill = "#ffffff" if shape.endswith("open") else colour
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{fill}" stroke="{colour}" '
            'stroke-width="2"/>'
        )
    if shape.startswith("square"):
        fill = "#ffffff" if shape.endswith("open") else colour
        return (
            f'<rect x="{x - 4.5:.1f}" y="{y - 4.5:.1f}" width="9" height="9" fill="{fill}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
    if shape == "triangle":
        return (
            f'<path d="M{x:.1f},{y - 5.5:.1f} L{x + 5.5:.1f},{y + 4.5:.1f} '
            f'L{x - 5.5:.1f},{y + 4.5:.1f} z" fill="{colour}"/>'
        )
    return (
        f'<path d="M{x:.1f},{y - 6:.1f} L{x + 6:.1f},{y:.1f} L{x:.1f},{y + 6:.1f} '
        f'L{x - 6:.1f},{y:.1f} z" fill="{colour}"/>'
    )


def trend(table: Table) -> str:
    """Andel uppfyllda per område och år: one line per area, 0–100 %, each with its own marker
    and dash, and its name and latest value written at its end."""
    key = table.key
    years = [c["label"] for c in table.columns[1:]]
    left, top, plot_w, plot_h, label_w = 52, 20, max(140 * (len(years) - 1), 360), 240, 280
    width, height = left + plot_w + label_w, top + plot_h + 46
    latest = "; ".join(f"{row[0]} {percent(row[-1])}" for row in table.rows) or "inga bedömda krav"
    desc = (
        f"Linjediagram: andel uppfyllda krav per område för åren {', '.join(years)}. "
        f"{years[-1] if years else ''}: {latest}. Siffrorna finns i tabellen under diagrammet."
    )
    parts = _open(key, width, height, table.title, desc)

    def x_of(n: int) -> float:
        return left + (plot_w * n / (len(years) - 1) if len(years) > 1 else plot_w / 2)

    def y_of(share: float) -> float:
        return top + plot_h * (1 - share)

    for tick in range(0, 101, 25):
        y = y_of(tick / 100)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            f'stroke="#c9d1d9" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="{INK}">{tick} %</text>'
        )
    for n, year in enumerate(years):
        parts.append(
            f'<text x="{x_of(n):.1f}" y="{top + plot_h + 20}" font-size="12" '
            f'text-anchor="middle" fill="{INK}">{escape(year)}</text>'
        )
    ends = []
    for s, row in enumerate(table.rows):
        colour, shape, dash = SERIES[s % len(SERIES)]
        points = [(x_of(n), y_of(_share(c))) for n, c in enumerate(row[1:]) if c]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" '
                f'stroke-width="2.2"{dash_attr}/>'
            )
        for x, y in points:
            parts.append(_marker(shape, x, y, colour))
        if points:
            last = next(c for c in reversed(row[1:]) if c)
            ends.append([points[-1][1], f"{row[0]} {percent(last)}", colour, shape])
    # End labels, kept at least 15 px apart
    ends.sort(key=lambda e: e[0])
    for i in range(1, len(ends)):
        ends[i][0] = max(ends[i][0], ends[i - 1][0] + 15)
    for y, text, colour, shape in ends:
        lx = left + plot_w + 16
        parts.append(_marker(shape, lx, y, colour))
        parts.append(
            f'<text x="{lx + 10}" y="{y + 4:.1f}" font-size="12" fill="{INK}">{escape(text)}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="{INK}"/>'
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        f'stroke="{INK}"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


# --- plans by status over time -----------------------------------------------------------------

STACK = ["#9fc5e8", "cross", "#6aa84f", "dots", "vert", "hatch", "horiz"]


def _stack_fill(n: int, key: str) -> str:
    fill = STACK[n % len(STACK)]
    return fill if fill.startswith("#") else f"url(#p-{key}-{fill})"


def plans_over_time(table: Table) -> str:
    """Åtgärdsplaner per läge vid varje månads slut: stacked bars, each state its own pattern
    or colour (named in the legend with the same swatch), the month's total above the bar."""
    key = table.key
    groups = [c["label"] for c in table.columns[1:-1]]
    months = [row[0] for row in table.rows]
    highest = max([row[-1] for row in table.rows] + [1])
    left, top, bar_w, gap, plot_h = 44, 20, 34, 14, 200
    plot_w = max(len(months), 1) * (bar_w + gap)
    legend_x = left + plot_w + 24
    width = legend_x + 230
    height = max(top + plot_h + 40, top + 22 * len(groups) + 10)
    last = table.rows[-1] if table.rows else None
    if last:
        now = ", ".join(
            f"{label.lower()} {n}" for label, n in zip(groups, last[1:-1], strict=True) if n
        )
        summary = f"Vid {last[0]}: {last[-1]} planer ({now or 'inga'})."
    else:
        summary = "Inga planer."
    desc = (
        f"Staplat stapeldiagram: antal åtgärdsplaner i varje läge vid varje månads slut. "
        f"{summary} Siffrorna finns i tabellen under diagrammet."
    )
    parts = _open(key, width, height, table.title, desc)
    parts.append(_patterns(key))

    def h_of(n: int) -> float:
        return plot_h * n / highest

    step = max(1, highest // 4)
    for tick in range(0, highest + 1, step):
        y = top + plot_h - h_of(tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            'stroke="#c9d1d9" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="{INK}">{tick}</text>'
        )
    for m, row in enumerate(table.rows):
        x = left + gap / 2 + m * (bar_w + gap)
        y = top + plot_h
        for n, value in enumerate(row[1:-1]):
            if not value:
                continue
            h = h_of(value)
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w}" height="{h:.1f}" '
                f'fill="{_stack_fill(n, key)}" stroke="{INK}" stroke-width="0.7"/>'
            )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" font-size="11" '
            f'text-anchor="middle" fill="{INK}">{row[-1]}</text>'
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" font-size="11" '
            f'text-anchor="middle" fill="{INK}">{escape(str(row[0]).split()[0])}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        f'stroke="{INK}"/>'
    )
    for n, label in enumerate(groups):
        y = top + 22 * n
        parts.append(
            f'<rect x="{legend_x}" y="{y}" width="16" height="14" fill="{_stack_fill(n, key)}" '
            f'stroke="{INK}" stroke-width="0.7"/>'
            f'<text x="{legend_x + 22}" y="{y + 11}" font-size="12" fill="{INK}">'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


CHARTS = {"heatmap": heat_map, "trend": trend, "plans_over_time": plans_over_time}


def chart(table: Table) -> str | None:
    """The table's chart as SVG markup (escaped from the table's own values), or None."""
    draw = CHARTS.get(table.chart or "")
    if draw is None or not table.rows:
        return None
    return draw(table)
