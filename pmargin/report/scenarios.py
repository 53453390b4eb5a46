"""The bundled scenario library as plain data (``pmargin scenarios list | show``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..montecarlo import PARAMETERS
from ..scenarios import DEFAULT_KEY
from . import clean, markdown_table
from .stress import SHOCK_KINDS, shocks_text

#: what ``scenarios show`` lists of a Monte Carlo set
MONTECARLO_PARAMETERS = (*PARAMETERS, "days")


def library_rows(sets: list[Any]) -> list[dict[str, Any]]:
    """One row per scenario set: name, kind, count, description."""
    return [
        {
            "name": s.name,
            "kind": getattr(s, "kind", ""),
            "count": s.count,
            "description": getattr(s, "description", ""),
        }
        for s in sets
    ]


def library_markdown(rows: list[dict[str, Any]]) -> str:
    """``scenarios list`` as a markdown table."""
    headers = ["name", "kind", "count", "description"]
    return markdown_table(headers, [[r[h] for h in headers] for r in rows])


def scenario_set_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """``scenarios show`` as CSV rows: one per scenario, a column per shock and underlying."""
    return [
        {"name": s["name"], "days": s["days"], "weight": s["weight"]}
        | {f"{k}_{u}": v for u, shock in s["shocks"].items() for k, v in shock.items()}
        for s in data.get("scenarios", [])
    ]


def scenario_set_dict(scenario_set: Any) -> dict[str, Any]:
    """A set's parameters and, where they are known without a market, its shocks."""
    data: dict[str, Any] = {
        "name": scenario_set.name,
        "kind": scenario_set.kind,
        "description": scenario_set.description,
        "source": getattr(scenario_set, "source", ""),
        "count": scenario_set.count,
    }
    if scenario_set.kind == "montecarlo":
        for key in MONTECARLO_PARAMETERS:
            data[key] = getattr(scenario_set, key)
        return clean(data)
    if scenario_set.kind == "historical":
        data["prices"] = scenario_set.prices
        data["horizon_days"] = scenario_set.horizon_days
        data["start"] = str(np.datetime_as_string(scenario_set.start_dates[0], unit="D"))
        data["end"] = str(np.datetime_as_string(scenario_set.end_dates[-1], unit="D"))
        data["proxies"] = dict(scenario_set.proxies)
    if scenario_set.grid is not None:
        grid = scenario_set.grid
        data["grid"] = {"spot": list(grid.spot), "vol": list(grid.vol), "vol_kind": grid.vol_kind}
    keys = sorted(scenario_set.named_underlyings)
    if any(DEFAULT_KEY in t for t in (scenario_set.spot, scenario_set.vol, scenario_set.vol_shift)):
        keys.append(DEFAULT_KEY)
    shocks = scenario_set.shocks(tuple(keys))
    data["underlyings"] = keys
    data["scenarios"] = [
        {
            "name": name,
            "days": float(shocks.days[i]),
            "weight": float(shocks.weight[i]),
            "shocks": {
                u: {k: float(getattr(shocks, k)[j, i]) for k in SHOCK_KINDS}
                for j, u in enumerate(keys)
            },
        }
        for i, name in enumerate(shocks.names)
    ]
    return clean(data)


def scenario_set_markdown(data: dict[str, Any]) -> str:
    parts = [f"# {data['name']} ({data['kind']}, {data['count']:,} scenarios)\n"]
    if data["description"]:
        parts.append(f"\n{data['description']}\n")
    if "scenarios" not in data:
        parts.append("\n" + markdown_table(["parameter", "value"], parameter_rows(data)))
        return "".join(parts)
    keys = data["underlyings"]
    headers = ["scenario", *[("other" if u == DEFAULT_KEY else u) for u in keys], "days"]
    rows = [
        [s["name"], *[shocks_text(s["shocks"][u]) for u in keys], s["days"]]
        for s in data["scenarios"]
    ]
    parts.append("\n" + markdown_table(headers, rows))
    return "".join(parts)


def parameter_rows(data: dict[str, Any]) -> list[list[Any]]:
    """(name, value) rows of a set's parameters (Monte Carlo, historical)."""
    keys = (*MONTECARLO_PARAMETERS, "prices", "start", "end")
    return [[k, data[k]] for k in keys if data.get(k) is not None]
