"""The figures, their floor references and huedb's targets; table rendering."""

from __future__ import annotations

from dataclasses import dataclass, replace

TARGET_ENGINE = "huedb"
#: huedb on PostgreSQL, judged against raw pgvector (issue 15's targets)
POSTGRES_TARGET_ENGINE = "huedb-postgres"
TARGET_N = 50_000
#: the floor each engine is divided by (every other engine: "floor", raw hnswlib)
FLOOR_OF = {"huedb-postgres": "pgvector-floor"}
FLOORS = ("floor", "pgvector-floor")


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
    # The first run of each filter: nothing read for it is in memory yet (the p50s repeat it).
    Figure("filtered_10pct_first_ms", "filtered 10% first query (ms)", "query_p50_ms"),
    Figure("filtered_1pct_first_ms", "filtered 1% first query (ms)", "query_p50_ms"),
    Figure("get_and_first_ms", "get $and first call (ms)", "query_p50_ms"),
    Figure("contains_p50_ms", "get $contains limit 10 p50 (ms)"),
    Figure("contains_many_p50_ms", "get $contains 7.7% ids p50 (ms)"),
    Figure("reopen_first_query_ms", "reopen + first query (ms)", "reopen_first_query_ms", max_ratio=2.0),
    Figure("disk_mb", "disk (MB)", "disk_mb"),
    Figure("peak_rss_mb", "peak RSS (MB)", "peak_rss_mb", max_ratio=1.3),
    Figure("ingest_peak_rss_mb", "peak RSS after ingest (MB)", "ingest_peak_rss_mb"),
    Figure("ingest_over_index_mb", "ingest peak over RSS before + index (MB)"),
    Figure("ingest_over_index_batches", "ingest peak over RSS before + index (batches)"),
    Figure("embed_docs_per_s", "default EF (docs/s)"),
]
FIGURE_KEYS = [f.key for f in FIGURES]
#: figures whose huedb / Chroma ratio the notes print (issue 17's targets are set against Chroma)
VS_CHROMA = ("contains_many_p50_ms", "reopen_first_query_ms", "disk_mb", "embed_docs_per_s")
#: (max_ratio, min_value) per figure with a target
_POSTGRES_TARGETS: dict[str, tuple[float | None, float | None]] = {
    "ingest_s": (1.5, None),
    "query_p50_ms": (1.5, None),
    "recall_at_10": (None, 0.95),
    "filtered_10pct_recall": (None, 1.0),
    "filtered_1pct_recall": (None, 1.0),
}
POSTGRES_FIGURES = [
    replace(f, max_ratio=limits[0], min_value=limits[1])
    for f, limits in ((f, _POSTGRES_TARGETS.get(f.key, (None, None))) for f in FIGURES)
]


def figures_for(engine: str) -> list[Figure]:
    """The figures with the targets ``engine`` is judged by (none for engines without targets)."""
    if engine == POSTGRES_TARGET_ENGINE:
        return POSTGRES_FIGURES
    if engine == TARGET_ENGINE:
        return FIGURES
    return [replace(f, max_ratio=None, min_value=None) for f in FIGURES]


def floor_of(engine: str, engines: dict) -> str:
    wanted = FLOOR_OF.get(engine, "floor")
    return wanted if wanted in engines else "floor"


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


def targets(engines: dict[str, dict], engine: str = TARGET_ENGINE) -> dict[str, dict]:
    """Target verdicts for ``engine`` (huedb, or huedb-postgres), by figure key (only figures with a target)."""
    own = engines.get(engine, {}).get("figures", {})
    floor = engines.get(floor_of(engine, engines), {}).get("figures", {})
    out = {}
    for fig in figures_for(engine):
        if fig.max_ratio is None and fig.min_value is None:
            continue
        value = own.get(fig.key)
        out[fig.key] = {
            "target": fig.target_text(),
            "value": value,
            "ratio": ratio(fig, value, floor),
            "met": evaluate(fig, value, floor) if engine in engines else None,
        }
    return out


def table_rows(engines: dict[str, dict]) -> list[list[str]]:
    """Header + one row per figure: the floors, then each engine's value and its ratio to its
    floor, with the target and verdict after the columns of an engine that has targets."""
    floors = [f for f in FLOORS if f in engines]
    others = [e for e in engines if e not in FLOORS]
    judged = (TARGET_ENGINE, POSTGRES_TARGET_ENGINE)
    header = ["figure"] + floors
    for e in others:
        header += [e, f"{e} x {floor_of(e, engines)}"]
        if e in judged:
            header += ["target", "met"]
    rows = [header]
    for i, fig in enumerate(FIGURES):
        row = [fig.label] + [_fmt(engines[f].get("figures", {}).get(fig.key)) for f in floors]
        for e in others:
            floor = engines.get(floor_of(e, engines), {}).get("figures", {})
            v = engines[e].get("figures", {}).get(fig.key)
            r = ratio(fig, v, floor)
            row += [_fmt(v), f"{r:.2f}x" if r is not None else ""]
            if e in judged:
                own = figures_for(e)[i]
                met = evaluate(own, v, floor)
                row += [
                    own.target_text(),
                    "" if not own.target_text() else "n/a" if met is None else "met" if met else "MISSED",
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
            if name not in FLOORS:
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
