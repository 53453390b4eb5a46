"""The ``check`` report: SPEC §4 JSON, CSV rows and the markdown summary for CI.

JSON: ``{"passed": bool, "checks": [{"name", "account", "value", "limit", "passed", "headroom",
"underlying"?, "unit", "detail"?}], "breaches", "model", "scenario_sets", "limits"}`` — the SPEC
keys plus extras. ``account`` is null when the portfolio names no accounts; ``underlying`` is set
on greek limits (an underlying, or ``"total"``); ``value`` and ``headroom`` are null when a limit
could not be measured (margin to equity with equity ≤ 0), which counts as a breach.
"""

from __future__ import annotations

from typing import Any

from ..limits import CheckResult
from . import clean, limits_headline, markdown_table

CSV_KEYS = (
    "name",
    "account",
    "underlying",
    "value",
    "limit",
    "headroom",
    "passed",
    "unit",
    "detail",
)


def check_dict(result: CheckResult) -> dict[str, Any]:
    """The ``check`` JSON object of SPEC §4."""
    checks = []
    for check in result.checks:
        row: dict[str, Any] = {
            "name": check.name,
            "account": check.account,
            "value": check.value,
            "limit": check.limit,
            "passed": check.passed,
            "headroom": check.headroom,
        }
        if check.underlying is not None:
            row["underlying"] = check.underlying
        row["unit"] = check.unit
        if check.detail:
            row["detail"] = check.detail
        checks.append(row)
    return clean(
        {
            "passed": result.passed,
            "checks": checks,
            "breaches": len(result.breaches),
            "model": result.model,
            "scenario_sets": list(result.scenario_sets),
            "limits": result.limits_source,
        }
    )


def check_label(check: dict[str, Any]) -> str:
    """``max_delta[BTC]``, ``max_margin`` — the name a CI server shows for one check."""
    underlying = check.get("underlying")
    return f"{check['name']}[{underlying}]" if underlying else check["name"]


def format_value(value: float | None) -> str:
    """A number readable at any scale: 106,252 / 0.8123 / -0.0001523; — when unknown."""
    if value is None:
        return "—"
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def check_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per check, with the same columns for every row (``--format csv``)."""
    return [{key: check.get(key) for key in CSV_KEYS} for check in data["checks"]]


def check_markdown(data: dict[str, Any]) -> str:
    """A check result as GitHub-flavoured markdown (the ``GITHUB_STEP_SUMMARY`` text)."""
    headline = limits_headline(data["passed"], data["breaches"], len(data["checks"]))
    headline = f"✅ PASS: {headline}" if data["passed"] else f"❌ FAIL: {headline}"
    context = f"model `{data['model']}`, limits `{data['limits']}`"
    if data["scenario_sets"]:
        context += ", scenario sets " + ", ".join(f"`{s}`" for s in data["scenario_sets"])
    has_accounts = any(c["account"] is not None for c in data["checks"])
    headers = ["result", *(["account"] if has_accounts else []), "check", "value", "limit"]
    headers += ["headroom", "unit", "note"]
    rows = []
    for check in data["checks"]:
        row = ["✅ PASS" if check["passed"] else "❌ FAIL"]
        if has_accounts:
            row.append(check["account"])
        row += [
            check_label(check),
            format_value(check["value"]),
            format_value(check["limit"]),
            format_value(check["headroom"]),
            check["unit"],
            check.get("detail", ""),
        ]
        rows.append(row)
    return f"## pmargin check: {headline}\n\n{context}\n\n" + markdown_table(headers, rows)


def error_markdown(message: str) -> str:
    """The step summary of a check that could not run (bad input, exit 2)."""
    return f"## pmargin check: ❌ ERROR: the limits could not be checked\n\n```\n{message}\n```\n"
