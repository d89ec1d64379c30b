"""`digest bench`: every performance figure the issues ask for, beside its target and baseline.

Each area owns a `digest/bench_<area>.py` with `run(quick: bool) -> list[dict]`; a figure is
`{"name", "value", "unit", "target", "baseline", "ok"}`.
"""

from __future__ import annotations

import importlib
import json
import logging
import platform
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

AREAS = ["sources", "ranking", "render", "pipeline", "web"]
log = logging.getLogger(__name__)


def figure(
    name: str, value: float, unit: str, target: str, baseline: float | None, ok: bool
) -> dict[str, Any]:
    """One figure in the shape every area reports and `print_table` prints."""
    return {
        "name": name,
        "value": float(value),
        "unit": unit,
        "target": target,
        "baseline": None if baseline is None else float(baseline),
        "ok": bool(ok),
    }


def run_all(areas: list[str], quick: bool) -> list[dict[str, Any]]:
    """Run each area's bench in turn; a failing area is reported, the others go on."""
    figures: list[dict[str, Any]] = []
    for area in areas:
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"digest.bench_{area}")
            found = module.run(quick=quick)
        except Exception as exc:  # a bench is a report: one broken area must not hide the rest
            log.exception("bench %s failed", area)
            found = [_failed(area, exc)]
        for figure in found:
            figure.setdefault("area", area)
        figures.extend(found)
        log.info("bench %s took %.1f s", area, time.perf_counter() - start)
    return figures


def _failed(area: str, exc: Exception) -> dict[str, Any]:
    return {
        "name": f"{area}: bench failed ({exc})",
        "value": float("nan"),
        "unit": "",
        "target": "",
        "baseline": None,
        "ok": False,
    }


def print_table(figures: list[dict[str, Any]], console: Console | None = None) -> None:
    """One row per figure: value, target, naive baseline, verdict."""
    table = Table(title=f"digest bench on {platform.node()} ({platform.processor() or 'cpu'})")
    for column in ("area", "figure", "value", "target", "baseline", "ok"):
        table.add_column(column)
    for f in figures:
        baseline = "" if f.get("baseline") is None else _number(f["baseline"], f["unit"])
        table.add_row(
            f["area"],
            f["name"],
            _number(f["value"], f["unit"]),
            str(f["target"]),
            baseline,
            "yes" if f["ok"] else "NO",
        )
    (console or Console()).print(table)


def _number(value: float, unit: str) -> str:
    return f"{value:,.3g} {unit}".strip() if value < 1000 else f"{value:,.0f} {unit}".strip()


def write_json(figures: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": platform.node(),
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "figures": figures,
    }
    path.write_text(json.dumps(payload, indent=2, default=str))
