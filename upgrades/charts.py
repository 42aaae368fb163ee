"""Small server-rendered SVG charts (no JavaScript, no CDN): versions in use over time on the
rollout page, installs and active installations on the vendor's analytics page.

Pure: it takes numbers and labels and returns markup, so it is tested without a database.
Colours are SVG presentation attributes (not `style=`), which the Content-Security-Policy allows.
The legend is the page's own HTML (it wraps on a phone); `series_colours` gives its colours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#0052cc", "#00875a", "#ff991f", "#6554c0", "#de350b", "#00b8d9", "#6b778c", "#172b4d")
WIDTH, HEIGHT = 600, 220
LEFT, RIGHT, TOP, BOTTOM = 50, 14, 14, 30


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]
    colour: str = ""


def series_colours(series: Sequence[Series]) -> list[dict[str, str]]:
    """The legend's rows: each series' label and the colour it is drawn in."""
    return [{"label": s.label, "colour": _colour(s, i)} for i, s in enumerate(series)]


def _colour(series: Series, index: int) -> str:
    return series.colour or PALETTE[index % len(PALETTE)]


def _nice_max(value: int) -> int:
    """The top of the y axis: the smallest of 1, 2, 5 x 10^n at or above the largest value."""
    if value <= 1:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _fmt(number: float) -> str:
    return f"{number:.1f}".rstrip("0").rstrip(".")


def chart_svg(*, labels: Sequence[str], series: Sequence[Series], title: str, stacked: bool = False) -> SafeString:
    """A line chart (or, `stacked`, a stacked area chart) of one value per label per series.

    `labels` are the x axis (days); the first, middle and last are written under the axis.
    The SVG scales to its container's width (viewBox), so it never widens a phone's page.
    """
    n = len(labels)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    tops = [0] * n
    layers: list[tuple[Series, list[int], list[int]]] = []
    for s in series:
        values = [max(0, int(v)) for v in s.values]
        base = list(tops) if stacked else [0] * n
        top = [b + v for b, v in zip(base, values, strict=True)] if stacked else values
        if stacked:
            tops = top
        layers.append((s, base, top))
    y_max = _nice_max(max([max(top, default=0) for _s, _b, top in layers], default=0))

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: int) -> float:
        return TOP + plot_h - plot_h * v / y_max

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}"'
        ' xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in (0, y_max // 2 if y_max >= 2 else None, y_max):
        if tick is None:
            continue
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_fmt(y(tick))}" y2="{_fmt(y(tick))}" stroke="#dfe1e6"/>'
            f'<text x="{LEFT - 6}" y="{_fmt(y(tick) + 4)}" text-anchor="end" font-size="15" fill="#5e6c84">{tick}</text>'
        )
    for i in sorted({0, (n - 1) // 2, n - 1}) if n else ():
        anchor = "start" if i == 0 else "end" if i == n - 1 else "middle"
        parts.append(
            f'<text x="{_fmt(x(i))}" y="{HEIGHT - 8}" text-anchor="{anchor}" font-size="15" fill="#5e6c84">'
            f"{escape(labels[i])}</text>"
        )
    for index, (s, base, top) in enumerate(layers):
        colour = _colour(s, index)
        if n == 0:
            continue
        line = " ".join(f"{_fmt(x(i))},{_fmt(y(top[i]))}" for i in range(n))
        if stacked:
            under = " ".join(f"{_fmt(x(i))},{_fmt(y(base[i]))}" for i in reversed(range(n)))
            parts.append(
                f'<polygon points="{line} {under}" fill="{colour}" fill-opacity="0.75" stroke="{colour}">'
                f"<title>{escape(s.label)}</title></polygon>"
            )
        else:
            parts.append(
                f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2">'
                f"<title>{escape(s.label)}</title></polyline>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # safe: every text in it went through escape()


def bar_svg(*, parts: Sequence[tuple[str, float, str]], label: str) -> SafeString:
    """A horizontal bar split into parts (label, percent, colour), as wide as its container."""
    rects, left = [], 0.0
    for part_label, percent, colour in parts:
        if percent <= 0:
            continue
        rects.append(
            f'<rect x="{_fmt(left)}" y="0" width="{_fmt(percent)}" height="4" fill="{colour}">'
            f"<title>{escape(part_label)}: {_fmt(percent)}%</title></rect>"
        )
        left += percent
    return mark_safe(  # safe: every text in it went through escape()
        f'<svg class="bar" viewBox="0 0 100 4" preserveAspectRatio="none" role="img" aria-label="{escape(label)}"'
        f' xmlns="http://www.w3.org/2000/svg"><rect width="100" height="4" fill="#ebecf0"/>{"".join(rects)}</svg>'
    )


def swatch_svg(colour: str) -> SafeString:
    """The little square before a legend's label."""
    return mark_safe(  # safe: a colour from our own palette
        f'<svg class="swatch" viewBox="0 0 10 10" aria-hidden="true" xmlns="http://www.w3.org/2000/svg">'
        f'<rect width="10" height="10" rx="2" fill="{escape(colour)}"/></svg>'
    )


def dated_chart(
    *, dates: Sequence[date], series: Sequence[Series], title: str, stacked: bool = False, caption: str = ""
) -> dict[str, object]:
    """What templates/upgrades/_chart.html shows: the SVG over days, its legend and a caption."""
    labels = [f"{d:%d %b}" for d in dates]
    return {
        "svg": chart_svg(labels=labels, series=series, title=title, stacked=stacked),
        "legend": series_colours(series),
        "caption": caption,
    }
