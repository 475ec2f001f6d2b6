"""The page's two charts as inline SVG, drawn on the server from the JSON the stats routes
answer (``/api/stats/finished``, ``/api/stats/durations``), so the first render shows them
without script; the page's script redraws them from the same JSON, element for element
(the same classes and ``data-series``), when it refreshes them.

Colours come from classes in the page's own style sheet: the SVG carries no ``style``
attribute (the page's Content-Security-Policy allows no inline style).
"""

from __future__ import annotations

from html import escape
from typing import Any

#: Final states, bottom of a stacked bar first (the page's legend shows them in this order).
STACK = ("succeeded", "failed", "cancelled", "skipped")
WIDTH = 560
#: The vendor names' column, and the gap on the right.
LABEL, RIGHT = 110, 12
#: One vendor's band in the hourly chart, the gap between bands, the hour axis below them.
BAND, GAP, AXIS = 34, 8, 18
#: One vendor's row in the durations chart, and the room kept for its figures.
ROW, FIGURES = 24, 240


def seconds_text(seconds: float) -> str:
    """A duration as the page writes it (the script rounds the same way)."""
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _n(value: float) -> str:
    """A coordinate, to a tenth of a pixel."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _empty(hours: int) -> str:
    return (
        f'<text class="empty" x="{LABEL}" y="20">No unit of work finished in the last '
        f"{hours} h.</text>"
    )


def finished_svg(data: dict[str, Any]) -> str:
    """Units of work finished per hour: one band per vendor, a bar per hour stacked by final
    state, every band on one scale."""
    hours = int(data["hours"])
    starts: list[str] = data["hour_starts"]
    by_vendor: dict[str, dict[str, list[int]]] = {}
    for series in data["series"]:
        by_vendor.setdefault(series["vendor"], {})[series["state"]] = series["counts"]
    vendors = sorted(by_vendor)
    height = max(1, len(vendors)) * (BAND + GAP) + AXIS
    top = max(
        [sum(states.get(s, [0] * hours)[i] for s in STACK) for states in by_vendor.values()
         for i in range(hours)] or [0]
    )  # fmt: skip
    slot = (WIDTH - LABEL - RIGHT) / hours
    parts = []
    for row, vendor in enumerate(vendors):
        y0 = row * (BAND + GAP)
        parts.append(
            f'<g class="band" data-vendor="{escape(vendor)}">'
            f'<text class="label" x="0" y="{_n(y0 + BAND / 2 + 4)}">{escape(vendor)}</text>'
            f'<line class="base" x1="{LABEL}" x2="{WIDTH - RIGHT}" y1="{y0 + BAND}" '
            f'y2="{y0 + BAND}"></line>'
        )
        for hour in range(hours):
            below = 0.0
            for state in STACK:
                n = by_vendor[vendor].get(state, [0] * hours)[hour]
                if not n:
                    continue
                tall = (BAND - 2) * n / top
                below += tall
                title = f"{vendor} · {state} · {starts[hour][11:16]} UTC: {n}"
                parts.append(
                    f'<rect class="bar s-{state}" data-series="{escape(vendor)}|{state}" '
                    f'data-hour="{starts[hour]}" data-count="{n}" '
                    f'x="{_n(LABEL + hour * slot + slot * 0.1)}" '
                    f'y="{_n(y0 + BAND - below)}" width="{_n(slot * 0.8)}" '
                    f'height="{_n(tall)}"><title>{escape(title)}</title></rect>'
                )
        parts.append("</g>")
    axis_y = height - 4
    for hour in range(0, hours, max(1, hours // 8)):
        parts.append(
            f'<text class="tick" x="{_n(LABEL + hour * slot)}" y="{axis_y}">'
            f"{starts[hour][11:13]}h</text>"
        )
    body = "".join(parts) if vendors else _empty(hours)
    return (
        f'<svg id="chart-finished" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" data-top="{top}" '
        f'aria-label="Units of work finished per hour, by vendor and final state">{body}</svg>'
    )


def durations_svg(data: dict[str, Any]) -> str:
    """Duration p50 and p95 per vendor: the p95 bar, the p50 bar over it, the figures."""
    vendors: list[dict[str, Any]] = data["vendors"]
    height = max(1, len(vendors)) * ROW + 4
    longest = max([float(v["p95"]) for v in vendors] or [0.0]) or 1.0
    scale = (WIDTH - LABEL - FIGURES) / longest
    parts = []
    for row, spread in enumerate(vendors):
        vendor = escape(str(spread["vendor"]))
        y = row * ROW + 4
        parts.append(
            f'<g class="spread" data-vendor="{vendor}">'
            f'<text class="label" x="0" y="{y + 12}">{vendor}</text>'
        )
        for key in ("p95", "p50"):
            value = float(spread[key])
            parts.append(
                f'<rect class="bar {key}" data-series="{vendor}|{key}" data-seconds="{value}" '
                f'x="{LABEL}" y="{y}" width="{_n(max(1.0, value * scale))}" height="16">'
                f"<title>{vendor} · {key}: {seconds_text(value)}</title></rect>"
            )
        figures = (
            f"p50 {seconds_text(float(spread['p50']))} · p95 "
            f"{seconds_text(float(spread['p95']))} · {spread['count']} finished"
        )
        parts.append(
            f'<text class="fig-text" x="{_n(LABEL + float(spread["p95"]) * scale + 6)}" '
            f'y="{y + 12}">{figures}</text></g>'
        )
    body = "".join(parts) if vendors else _empty(int(data["hours"]))
    return (
        f'<svg id="chart-durations" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" '
        f'aria-label="Duration p50 and p95 per vendor">{body}</svg>'
    )


def coverage(data: dict[str, Any]) -> str:
    """What a chart's caption adds when the window held more than one read takes."""
    if data.get("exact", True):
        return ""
    since = str(data.get("complete_from") or "")[11:16]
    return f" Complete from {since} UTC: the window holds more than one read takes."
