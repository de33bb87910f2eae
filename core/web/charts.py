"""Charts drawn on the server as inline SVG: no script (the CSP allows none) and no inline style
(the CSP allows none either); the template gives the shapes classes that ``core/static/app.css``
styles, and SVG presentation attributes do the rest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
