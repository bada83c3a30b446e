"""Geometry for the server-rendered SVG charts; the markup lives in templates."""

from __future__ import annotations

from datetime import date

# Distinguishable in light and dark mode; PATs take them in list order.
PALETTE = [
    "#3b82f6",
    "#f59e0b",
    "#10b981",
    "#ef4444",
    "#8b5cf6",
    "#14b8a6",
    "#ec4899",
    "#84cc16",
]


def nice_step(value: float) -> int:
    """The smallest round tick step at or above value (1, 2, 5, 10, 20, 25, 50 …)."""
    magnitude = 1
    while True:
        factors = (1, 2, 5) if magnitude < 10 else (1, 2, 2.5, 5)
        for factor in factors:
            if magnitude * factor >= value:
                return int(magnitude * factor)
        magnitude *= 10


def axis(peak: int, ticks: int = 5) -> tuple[int, int]:
    """(step, maximum) for a y axis that fits `peak` in about `ticks` round steps."""
    step = nice_step(max(peak, 1) / ticks)
    return step, step * max(1, -(-max(peak, 1) // step))


def sparkline(values: list[int], width: int = 120, height: int = 28) -> dict:
    """Bars for a small per-day chart (one bar per day)."""
    top = max(values, default=0) or 1
    slot = width / max(len(values), 1)
    bars = []
    for i, value in enumerate(values):
        h = 0 if value == 0 else max(1.5, value / top * (height - 2))
        bars.append(
            {
                "x": round(i * slot, 2),
                "y": round(height - h, 2),
                "w": round(max(slot - 1, 1), 2),
                "h": round(h, 2),
                "value": value,
            }
        )
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "total": sum(values),
        "max": max(values, default=0),
    }


def stacked_bars(
    days: list[date],
    series: list[tuple[str, list[int]]],
    width: int = 720,
    height: int = 240,
) -> dict:
    """A stacked bar chart of per-day counts, with axes, ticks and a legend."""
    left, right, top, bottom = 40, 8, 10, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for _, values in series) for i in range(len(days))]
    step, y_max = axis(max(totals, default=0))
    slot = plot_w / max(len(days), 1)
    bars = []
    for s_index, (name, values) in enumerate(series):
        color = PALETTE[s_index % len(PALETTE)]
        for i, value in enumerate(values):
            if not value:
                continue
            below = sum(series[j][1][i] for j in range(s_index))
            y = top + plot_h - (below + value) / y_max * plot_h
            bars.append(
                {
                    "x": round(left + i * slot, 2),
                    "y": round(y, 2),
                    "w": round(max(slot - 1, 1), 2),
                    "h": round(value / y_max * plot_h, 2),
                    "color": color,
                    "title": f"{days[i].isoformat()} · {name}: {value}",
                }
            )
    ticks = [
        {"y": round(top + plot_h - value / y_max * plot_h, 2), "label": str(value)}
        for value in range(0, y_max + 1, step)
    ]
    step = max(1, len(days) // 6)
    labels = [
        {"x": round(left + i * slot + slot / 2, 2), "label": days[i].strftime("%b %d")}
        for i in range(0, len(days), step)
    ]
    legend = [
        {"color": PALETTE[i % len(PALETTE)], "name": name}
        for i, (name, _) in enumerate(series)
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "top": top,
        "plot_w": plot_w,
        "plot_h": plot_h,
        "bottom_y": top + plot_h,
        "bars": bars,
        "ticks": ticks,
        "labels": labels,
        "legend": legend,
        "total": sum(totals),
    }
