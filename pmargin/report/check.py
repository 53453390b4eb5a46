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
from . import limits_headline, markdown_table
from .records import Field, Records

#: a check's JSON object (SPEC §4 keys first); ``underlying`` and ``detail`` only where they apply
CHECK_LAYOUT = (
    Field("name", "name"),
    Field("account", "account", nullable=True),
    Field("value", "value", nullable=True),
    Field("limit", "limit"),
    Field("passed", "passed"),
    Field("headroom", "headroom", nullable=True),
    Field("underlying", "underlying", optional=True),
    Field("unit", "unit"),
    Field("detail", "detail", optional=True),
)


def check_dict(result: CheckResult) -> dict[str, Any]:
    """The ``check`` JSON object of SPEC §4; ``checks`` are Records (one object per check)."""
    checks = result.checks.copy()
    checks["detail"] = checks["detail"].where(checks["detail"] != "", None)
    return {
        "passed": result.passed,
        "checks": Records(checks, CHECK_LAYOUT),
        "breaches": len(result.breaches),
        "model": result.model,
        "scenario_sets": list(result.scenario_sets),
        "limits": result.limits_source,
    }


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


def check_rows(data: dict[str, Any]) -> Records:
    """One flat row per check, with the same columns for every row (``--format csv``)."""
    return data["checks"]


def check_markdown(data: dict[str, Any]) -> str:
    """A check result as GitHub-flavoured markdown (the ``GITHUB_STEP_SUMMARY`` text)."""
    checks = data["checks"].rows()
    total = len(checks)
    headline = limits_headline(data["passed"], data["breaches"], total)
    headline = f"✅ PASS: {headline}" if data["passed"] else f"❌ FAIL: {headline}"
    context = f"model `{data['model']}`, limits `{data['limits']}`"
    if data["scenario_sets"]:
        context += ", scenario sets " + ", ".join(f"`{s}`" for s in data["scenario_sets"])
    has_accounts = any(c["account"] is not None for c in checks)
    headers = ["result", *(["account"] if has_accounts else []), "check", "value", "limit"]
    headers += ["headroom", "unit", "note"]
    rows = []
    for check in checks:
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
