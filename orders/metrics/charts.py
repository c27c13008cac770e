"""Small server-rendered SVG charts for the metrics page: trend lines, a funnel and
horizontal bars. Markup only, styled by classes in static/css/metrics.css (no inline
styles, no script), every label escaped."""

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
ROW = 28
LABEL_WIDTH = 190


def _number(value) -> str:
    """A coordinate with at most one decimal place."""
    return f"{float(value):.1f}".rstrip("0").rstrip(".")


def _svg(height: int, title: str, body: list[str]) -> SafeString:
    # Every text interpolated into the markup below is escaped where it is built.
    return mark_safe(  # noqa: S308
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def bars(title: str, rows: list[tuple[str, Decimal | int | None]], *, unit: str = "") -> str:
    """Horizontal bars, one per (label, value); a missing value draws no bar."""
    if not rows:
        return ""
    largest = max((Decimal(v) for _, v in rows if v is not None), default=Decimal(0))
    span = WIDTH - LABEL_WIDTH - 80
    body = []
    for index, (label, value) in enumerate(rows):
        y = index * ROW + 4
        length = 0 if not largest or value is None else span * Decimal(value) / largest
        body.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{y + 15}" '
            f'text-anchor="end">{escape(label)}</text>'
            f'<rect class="chart-bar" x="{LABEL_WIDTH}" y="{y}" width="{_number(length)}" '
            f'height="{ROW - 8}"><title>{escape(label)}: {escape(value)}{escape(unit)}</title>'
            f"</rect>"
            f'<text class="chart-value" x="{_number(LABEL_WIDTH + length + 6)}" '
            f'y="{y + 15}">{"—" if value is None else escape(value)}{escape(unit)}</text>'
        )
    return _svg(len(rows) * ROW + 8, title, body)


def funnel(title: str, rows: list[tuple[str, int]]) -> str:
    """Centred bars narrowing with each stage, widths relative to the first stage."""
    if not rows:
        return ""
    first = rows[0][1] or 0
    body = []
    for index, (label, count) in enumerate(rows):
        y = index * (ROW + 4) + 4
        width = (WIDTH - 40) * count / first if first else 0
        x = (WIDTH - width) / 2
        body.append(
            f'<rect class="chart-funnel" x="{_number(x)}" y="{y}" width="{_number(width)}" '
            f'height="{ROW}"><title>{escape(label)}: {count}</title></rect>'
            f'<text class="chart-funnel-label" x="{WIDTH // 2}" y="{y + 19}" '
            f'text-anchor="middle">{escape(label)}: {count}</text>'
        )
    return _svg(len(rows) * (ROW + 4) + 8, title, body)


def lines(title: str, labels: list[str], series: list[tuple[str, list]]) -> str:
    """One polyline per (name, values) over the x `labels`; a None value breaks the line.
    Each series gets the class chart-line-<position> and a legend entry."""
    if not labels or not series:
        return ""
    height, top, bottom, left, right = 240, 28, 34, 48, 36
    values = [Decimal(v) for _, points in series for v in points if v is not None]
    ceiling = max(values, default=Decimal(0))
    ceiling = ceiling if ceiling > 0 else Decimal(1)
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    step = plot_w / max(len(labels) - 1, 1)

    def point(index: int, value) -> str:
        x = left + step * index
        y = top + plot_h - plot_h * float(Decimal(value) / ceiling)
        return f"{_number(x)},{_number(y)}"

    body = [
        f'<line class="chart-axis" x1="{left}" y1="{top + plot_h}" x2="{WIDTH - right}" '
        f'y2="{top + plot_h}"/>',
        f'<line class="chart-axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>',
        f'<text class="chart-label" x="{left - 6}" y="{top + 4}" text-anchor="end">'
        f"{escape(_number(ceiling))}</text>",
        f'<text class="chart-label" x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    for index, label in enumerate(labels):
        body.append(
            f'<text class="chart-label" x="{_number(left + step * index)}" '
            f'y="{height - 12}" text-anchor="middle">{escape(label)}</text>'
        )
    for position, (name, points) in enumerate(series, start=1):
        segment: list[str] = []
        runs = []
        for index, value in enumerate(points):
            if value is None:
                if segment:
                    runs.append(segment)
                segment = []
                continue
            segment.append(point(index, value))
        if segment:
            runs.append(segment)
        for run in runs:
            body.append(
                f'<polyline class="chart-line chart-line-{position}" points="{" ".join(run)}"/>'
            )
            body.extend(
                f'<circle class="chart-dot chart-line-{position}" cx="{p.split(",")[0]}" '
                f'cy="{p.split(",")[1]}" r="3"/>'
                for p in run
            )
        legend_x = left + (position - 1) * 200
        body.append(
            f'<rect class="chart-key chart-line-{position}" x="{legend_x}" y="6" width="14" '
            f'height="4"/><text class="chart-label" x="{legend_x + 20}" y="12">'
            f"{escape(name)}</text>"
        )
    return _svg(height, title, body)
