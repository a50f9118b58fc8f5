"""The report's page pieces: syllable cards, table cells and option markup for the template.

Kept apart from the page's assembly (:mod:`ethogram.viz.report`): these small functions turn the
syllable tables into what ``templates/report.html.j2`` shows: one card per syllable (its facts,
its most likely next syllables in their colours, its trajectory and movies), table rows
formatted per column, and command-line options set in ``<code>`` that does not break.
"""

from __future__ import annotations

import numpy as np

from ._common import syllable_colors


def hex_color(c) -> str:
    return "#%02x%02x%02x" % tuple(int(round(255 * v)) for v in c[:3])


def syllable_cards(results, tables, order, plots_done, movies, trajectories_ok, movie_notes=None):
    summ = tables["summary"]
    trans = tables["transitions"].to_numpy()
    colors = syllable_colors(int(results.num_states))
    cards = []
    for k in order:
        row = summ.loc[k]
        nxt = []
        if np.isfinite(trans[k]).any():
            p = np.nan_to_num(trans[k], nan=0.0)
            for j in np.argsort(-p, kind="stable")[:3]:
                if p[j] > 0:
                    lum = 0.299 * colors[j][0] + 0.587 * colors[j][1] + 0.114 * colors[j][2]
                    nxt.append(
                        {
                            "syllable": int(j),
                            "p": f"{100 * p[j]:.0f}%",
                            "color": hex_color(colors[j]),
                            "text": "#111" if lum > 0.6 else "#fff",
                        }
                    )
        facts = [
            ("instances", f"{int(row['instances'])}"),
            ("frequency", f"{100 * float(row['frequency']):.1f}%"),
        ]
        if np.isfinite(row.get("median_duration_s", np.nan)):
            facts.append(("median duration", f"{float(row['median_duration_s']):.2f} s"))
        else:
            facts.append(("median duration", f"{float(row['median_duration_frames']):.0f} frames"))
        if "mean_speed_mm_s" in row and np.isfinite(row["mean_speed_mm_s"]):
            facts.append(("mean speed", f"{float(row['mean_speed_mm_s']):.1f} mm/s"))
        elif "mean_speed_px_s" in row and np.isfinite(row["mean_speed_px_s"]):
            facts.append(("mean speed", f"{float(row['mean_speed_px_s']):.0f} px/s"))
        traj = f"plots/trajectory_{k}.png"
        cards.append(
            {
                "k": int(k),
                "color": hex_color(colors[k]),
                "facts": facts,
                "next": nxt,
                "trajectory": traj if traj in plots_done else None,
                "no_trajectory": trajectories_ok and traj not in plots_done,
                "movies": movies["by_syllable"].get(int(k), []),
                "no_movie": (movie_notes or {}).get(int(k)),
            }
        )
    return cards


def options_markup(text: str):
    """``text`` escaped, each command-line option (``--target-duration S``) in a ``<code>`` that
    does not break at its hyphens."""
    import re

    from markupsafe import Markup, escape

    return Markup(
        re.sub(r"(--[a-z][\w-]*(?: S)?)", r'<code class="opt">\1</code>', str(escape(text)))
    )


def _cell(v, integer: bool) -> str:
    if integer:
        return f"{int(v):,}"
    v = float(v)
    if not np.isfinite(v):
        return ""
    a = abs(v)
    if a == 0 or 1e-3 <= a < 1e6:
        return f"{v:,.4g}" if a < 1e3 else f"{v:,.1f}"
    return f"{v:.3g}"


def table_rows(df, order):
    """Rows of ``df`` for ``order``, formatted per column (integers whole, floats to 4 digits)."""
    ints = [np.issubdtype(df[c].dtype, np.integer) for c in df.columns]
    return [[_cell(v, i) for v, i in zip(df.loc[k].tolist(), ints)] for k in order]
