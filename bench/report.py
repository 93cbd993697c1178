"""The figures, their floor references and huedb's targets; table rendering."""

from __future__ import annotations

from dataclasses import dataclass

TARGET_ENGINE = "huedb"
TARGET_N = 50_000


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    ref: str | None = None  # floor figure the "x floor" ratio divides by
    max_ratio: float | None = None  # target: value / floor[ref] <= max_ratio
    min_value: float | None = None  # target: value >= min_value

    def target_text(self) -> str:
        if self.max_ratio is not None:
            return f"<= {self.max_ratio:g}x"
        if self.min_value is not None:
            return f">= {self.min_value:g}"
        return ""


FIGURES: list[Figure] = [
    Figure("ingest_s", "ingest (s)", "ingest_s", max_ratio=2.2),
    Figure("query_p50_ms", "query p50 (ms)", "query_p50_ms", max_ratio=3.0),
    Figure("query_p95_ms", "query p95 (ms)", "query_p95_ms"),
    Figure("recall_at_10", "recall@10", min_value=0.98),
    Figure("filtered_10pct_p50_ms", "filtered 10% p50 (ms)", "query_p50_ms", max_ratio=20.0),
    Figure("filtered_10pct_recall", "filtered 10% recall", min_value=1.0),
    Figure("filtered_1pct_p50_ms", "filtered 1% p50 (ms)", "query_p50_ms", max_ratio=20.0),
    Figure("filtered_1pct_recall", "filtered 1% recall", min_value=1.0),
    Figure("get_and_p50_ms", "get $and p50 (ms)", "query_p50_ms", max_ratio=20.0),
    Figure("contains_p50_ms", "get $contains limit 10 p50 (ms)"),
    Figure("contains_many_p50_ms", "get $contains 7.7% ids p50 (ms)"),
    Figure("reopen_first_query_ms", "reopen + first query (ms)", "reopen_first_query_ms", max_ratio=2.0),
    Figure("disk_mb", "disk (MB)", "disk_mb"),
    Figure("peak_rss_mb", "peak RSS (MB)", "peak_rss_mb", max_ratio=1.3),
    Figure("embed_docs_per_s", "default EF (docs/s)"),
]
FIGURE_KEYS = [f.key for f in FIGURES]
#: figures whose huedb / Chroma ratio the notes print (issue 17's targets are set against Chroma)
VS_CHROMA = ("contains_many_p50_ms", "reopen_first_query_ms", "disk_mb", "embed_docs_per_s")


def _fmt(v: float | None) -> str:
    if v is None:
        return "n/a"
    if v == 0 or abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def ratio(fig: Figure, value: float | None, floor: dict) -> float | None:
    ref = floor.get(fig.ref) if fig.ref else None
    if value is None or not ref:
        return None
    return value / ref


def evaluate(fig: Figure, value: float | None, floor: dict) -> bool | None:
    """True/False when `fig` has a target and it can be judged, else None."""
    if fig.max_ratio is not None:
        r = ratio(fig, value, floor)
        return None if r is None else r <= fig.max_ratio
    if fig.min_value is not None:
        return None if value is None else value >= fig.min_value - 1e-12
    return None


def targets(engines: dict[str, dict]) -> dict[str, dict]:
    """Target verdicts for huedb, by figure key (only figures with a target)."""
    own = engines.get(TARGET_ENGINE, {}).get("figures", {})
    floor = engines.get("floor", {}).get("figures", {})
    out = {}
    for fig in FIGURES:
        if fig.max_ratio is None and fig.min_value is None:
            continue
        value = own.get(fig.key)
        out[fig.key] = {
            "target": fig.target_text(),
            "value": value,
            "ratio": ratio(fig, value, floor),
            "met": evaluate(fig, value, floor) if TARGET_ENGINE in engines else None,
        }
    return out


def table_rows(engines: dict[str, dict]) -> list[list[str]]:
    """Header + one row per figure: floor, then each engine's value and ratio,
    with huedb's target and verdict after huedb's columns."""
    floor = engines.get("floor", {}).get("figures", {})
    others = [e for e in engines if e != "floor"]
    header = ["figure"] + (["floor"] if "floor" in engines else [])
    for e in others:
        header += [e, f"{e} x floor"]
        if e == TARGET_ENGINE:
            header += ["target", "met"]
    rows = [header]
    for fig in FIGURES:
        row = [fig.label]
        if "floor" in engines:
            row.append(_fmt(floor.get(fig.key)))
        for e in others:
            v = engines[e].get("figures", {}).get(fig.key)
            r = ratio(fig, v, floor)
            row += [_fmt(v), f"{r:.2f}x" if r is not None else ""]
            if e == TARGET_ENGINE:
                met = evaluate(fig, v, floor)
                row += [
                    fig.target_text(),
                    "" if not fig.target_text() else "n/a" if met is None else "met" if met else "MISSED",
                ]
        rows.append(row)
    return rows


def render_text(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def line(r: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))

    return "\n".join([line(rows[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in rows[1:]])


def render_markdown(rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join(["---"] + ["---:"] * (len(rows[0]) - 1)) + "|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows[1:]]
    return "\n".join(out)


def notes(result: dict) -> list[str]:
    """Human lines for a run: versions, n/a reasons, failed checks, errors."""
    lines = []
    for name, eng in result["engines"].items():
        lines.append(f"{name}: {eng.get('version') or '?'} (python {eng.get('python_version', '?')})")
        for fig, why in eng.get("notes", {}).items():
            if name != "floor":
                lines.append(f"  {fig} n/a: {why}")
        for check, c in eng.get("checks", {}).items():
            if c["got"] != c["expected"]:
                lines.append(f"  CHECK FAILED {check}: expected {c['expected']}, got {c['got']}")
        if eng.get("error"):
            tail = "\n    ".join(eng["error"].splitlines()[-6:])  # full text is in the JSON
            lines.append(f"  FAILED in phase {eng.get('phase')}:\n    {tail}")
    own = result["engines"].get(TARGET_ENGINE, {}).get("figures", {})
    chroma = result["engines"].get("chroma", {}).get("figures", {})
    for key in VS_CHROMA:
        if own.get(key) and chroma.get(key):
            label = next(f.label for f in FIGURES if f.key == key)
            lines.append(f"{TARGET_ENGINE} / chroma, {label}: {own[key] / chroma[key]:.2f}x")
    p = result["params"]
    if p["n"] != TARGET_N:
        lines.append(f"targets are defined at N={TARGET_N:,}; at N={p['n']:,} the verdicts are only indicative")
    return lines
