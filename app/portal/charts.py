"""Tiny server-rendered SVG charts (no JavaScript library, no CDN): bars and grouped bars."""
from __future__ import annotations

from markupsafe import Markup, escape

PALETTE = ["#1f5fbf", "#1c7c3a", "#9a5b00", "#7a3db8", "#b3261e", "#00707a"]
W, H, PAD_L, PAD_B, PAD_T = 640, 200, 36, 28, 10


def _axis(top: float, unit: str) -> str:
    parts = []
    for frac in (0, 0.5, 1):
        y = PAD_T + (H - PAD_T - PAD_B) * (1 - frac)
        value = top * frac
        label = f"{value:.0f}" if top >= 4 else f"{value:.1f}"
        parts.append(f'<line x1="{PAD_L}" x2="{W}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d9dee8"/>'
                     f'<text x="{PAD_L - 4}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="11" fill="#5a6478">{label}{unit}</text>')
    return "".join(parts)


def grouped_bars(title: str, labels: list[str], series: dict[str, list[float]],
                 unit: str = "") -> Markup:
    """One group per label, one bar per series; a legend below; role=img with a title."""
    if not series:
        return Markup(f'<p class="muted">{escape(title)}: nothing yet.</p>')
    top = max([max(v) for v in series.values()] + [1])
    n, k = len(labels), len(series)
    group_w = (W - PAD_L) / max(n, 1)
    bar_w = max(2.0, (group_w - 4) / k)
    plot_h = H - PAD_T - PAD_B
    out = [f'<svg class="chart" viewBox="0 0 {W} {H + 18 * ((k + 2) // 3)}" role="img" '
           f'aria-label="{escape(title)}"><title>{escape(title)}</title>', _axis(top, unit)]
    for s, (name, values) in enumerate(series.items()):
        color = PALETTE[s % len(PALETTE)]
        for i, v in enumerate(values):
            h = plot_h * v / top
            x = PAD_L + i * group_w + 2 + s * bar_w
            out.append(f'<rect x="{x:.1f}" y="{PAD_T + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                       f'height="{h:.1f}" fill="{color}"><title>{escape(name)} '
                       f'{escape(labels[i])}: {v:g}{escape(unit)}</title></rect>')
        lx, ly = PAD_L + (s % 3) * 200, H + 4 + 18 * (s // 3)
        out.append(f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{color}"/>'
                   f'<text x="{lx + 14}" y="{ly + 9}" font-size="11" fill="#1d2433">'
                   f'{escape(name[:28])}</text>')
    step = max(1, n // 7)
    for i in range(0, n, step):
        x = PAD_L + i * group_w + group_w / 2
        out.append(f'<text x="{x:.1f}" y="{H - PAD_B + 14}" text-anchor="middle" '
                   f'font-size="11" fill="#5a6478">{escape(labels[i])}</text>')
    out.append("</svg>")
    return Markup("".join(out))
