"""Charts drawn on the server as inline SVG: no script (the CSP allows none) and no inline style
(the CSP allows none either); the template gives the shapes classes that ``core/static/app.css``
styles, and SVG presentation attributes do the rest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from core.services.outcomes import SurvivalPoint

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 12, 40


@dataclass(frozen=True)
class Tick:
    position: float
    value: float


@dataclass(frozen=True)
class StepChart:
    """A step curve in a ``WIDTH`` x ``HEIGHT`` view box, with its axes."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    path: str
    censored: tuple[tuple[float, float], ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    marker: float | None
    """Where day ``marker_day`` falls on the x axis (``None``: past the end of the curve)."""
    marker_day: int


def _day_ticks(last: int) -> list[int]:
    for step in (30, 60, 90, 180, 365, 730):
        if last / step <= 8:
            return list(range(0, last + 1, step))
    return list(range(0, last + 1, 1461))


def survival_chart(points: Sequence[SurvivalPoint], marker_day: int = 183) -> StepChart:
    """The Kaplan-Meier curve as an SVG path: survival (0..1) up, days since release across.

    Censored cases are marked where the curve is when they leave; ``marker_day`` (6 months by
    default) draws a vertical guide.
    """
    last = max((p.t for p in points), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: float) -> float:
        return round(LEFT + plot_w * day / last, 1)

    def y(share: float) -> float:
        return round(TOP + plot_h * (1 - share), 1)

    path = [f"M{x(0)},{y(1)}"]
    censored = []
    for point in points:
        path.append(f"H{x(point.t)}V{y(point.survival)}")
        if point.censored:
            censored.append((x(point.t), y(point.survival)))
    path.append(f"H{x(last)}")
    return StepChart(
        WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM,
        path="".join(path),
        censored=tuple(censored),
        x_ticks=tuple(Tick(x(d), d) for d in _day_ticks(last)),
        y_ticks=tuple(Tick(y(s / 4), s / 4) for s in range(5)),
        marker=x(marker_day) if marker_day <= last else None,
        marker_day=marker_day,
    )


@dataclass(frozen=True)
class Bar:
    """One rectangle of a bar chart: part ``series`` of the bar of ``category``."""

    x: float
    y: float
    width: float
    height: float
    value: Decimal
    category: str
    series: int
    """Which stacked series it belongs to (the CSS class ``s<series % 6>`` colours it)."""
    name: str


@dataclass(frozen=True)
class Label:
    position: float
    text: str


@dataclass(frozen=True)
class BarChart:
    """Bars (stacked when there are several series) in a ``WIDTH`` x ``BAR_HEIGHT`` view box."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    bars: tuple[Bar, ...]
    labels: tuple[Label, ...]
    """The categories under the bars."""
    y_ticks: tuple[Tick, ...]
    """Values are ``Decimal``, for the template's ``number``, ``money`` or ``percent`` filters."""
    names: tuple[str, ...]
    """The series' names, for the legend (empty names: no legend)."""


BAR_HEIGHT = 220


def _nice_scale(top: Decimal, whole: bool = False) -> tuple[Decimal, Decimal]:
    """``(axis maximum, tick step)``: a step of 1, 2 or 5 times a power of ten (at least 1 when
    ``whole``), at most 5 steps."""
    if top <= 0:
        return (Decimal(4), Decimal(1)) if whole else (Decimal(1), Decimal("0.25"))
    exponent = top.adjusted() - 1
    if whole:
        exponent = max(exponent, 0)
    while True:
        for mantissa in (1, 2, 5):
            step = Decimal(mantissa).scaleb(exponent)
            steps = (top / step).to_integral_value(rounding=ROUND_CEILING)
            if steps <= 5:
                return steps * step, step
        exponent += 1


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Sequence[int | Decimal | None]],
    names: Sequence[str] = (),
    maximum: Decimal | None = None,
    whole: bool = False,
) -> BarChart:
    """A bar per category, the values of ``series`` stacked in it (one series: plain bars).

    :param series: ``series[s][c]`` is series ``s``'s value for category ``c`` (``None`` or 0: no
        rectangle). Values are counts, ``Decimal`` money or shares; never floats.
    :param maximum: the top of the axis (``Decimal(1)`` for shares); default: a round number
        above the highest bar.
    :param whole: the values are counts: ticks at whole numbers only.
    """
    n = max(len(categories), 1)
    sums = [sum((Decimal(s[c] or 0) for s in series), Decimal(0)) for c in range(len(categories))]
    if maximum is not None:
        top, step = maximum, maximum / 4
    else:
        top, step = _nice_scale(max(sums, default=Decimal(0)), whole)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, BAR_HEIGHT - TOP - BOTTOM
    slot = plot_w / n
    width = round(slot * 0.7, 1)

    def y(value: Decimal) -> float:
        return round(TOP + plot_h * float(1 - min(value, top) / top), 1)

    bars = []
    for c, category in enumerate(categories):
        x = round(LEFT + slot * c + (slot - width) / 2, 1)
        base = Decimal(0)
        for s, values in enumerate(series):
            value = Decimal(values[c] or 0)
            if value <= 0:
                continue
            upper, lower = y(base + value), y(base)
            bars.append(Bar(x, upper, width, round(lower - upper, 1), value, category, s, names[s] if s < len(names) else ""))
            base += value
    ticks = []
    value = Decimal(0)
    while value <= top:
        ticks.append(Tick(y(value), value.normalize() if value else Decimal(0)))  # type: ignore[arg-type]
        value += step
    return BarChart(
        WIDTH, BAR_HEIGHT, LEFT, RIGHT, TOP, BOTTOM,
        bars=tuple(bars),
        labels=tuple(Label(round(LEFT + slot * (c + 0.5), 1), text) for c, text in enumerate(categories)),
        y_ticks=tuple(ticks),
        names=tuple(names),
    )
