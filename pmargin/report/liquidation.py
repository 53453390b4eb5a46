"""The ``liquidate`` report: SPEC §8 JSON, CSV rows (the steps) and markdown.

``liquidation_dict`` is what ``pmargin liquidate --format json`` prints::

    {"model", "target", "buffer", "mode",
     "accounts": [{"account",
       "before": {"equity", "initial_margin", "maintenance_margin", "status"},
       "steps": [{"step", "action", "instrument", "quantity", "price", "fee", "equity_after",
                  "initial_margin_after", "maintenance_margin_after"}],
       "after": {...as before...}, "restored", "deposit_to_restore",
       "positions_after": [{"instrument", "quantity", "mark_price"}],
       "liquidation_prices": {"BTC": {"down", "up", "distance_down", "distance_up"}},
       "full_close_out", "deficit", "fees", "collateral_after": {"USD": ..., "BTC": ...},
       "note"}]}

The keys after ``liquidation_prices`` add to SPEC §8: whether the plan closed everything out,
how far equity stays below the target after it (0 when restored), the fees paid, the cash and
coin balances after, and the plan in a sentence. ``action`` is ``cancel_orders`` (instrument,
quantity and price null), ``close`` or ``hedge``; ``quantity`` is the signed trade; ``price`` is
USD per coin; ``mark_price`` in ``positions_after`` is in the portfolio file's units (coin for
inverse options), null where the file gave none. Money is USD. The command adds ``run``
(:func:`pmargin.report.run_dict`) as every command's JSON does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..liquidation import AccountLiquidation, AccountState, LiquidationResult
from . import clean, markdown_table, status_words

STEP_KEYS = (
    "step",
    "action",
    "instrument",
    "quantity",
    "price",
    "fee",
    "equity_after",
    "initial_margin_after",
    "maintenance_margin_after",
)
STATE_KEYS = ("equity", "initial_margin", "maintenance_margin", "status")


def liquidation_dict(result: LiquidationResult) -> dict[str, Any]:
    """The ``liquidate`` JSON object of SPEC §8 for ``result``."""
    return clean(
        {
            "model": result.model,
            "target": result.target,
            "buffer": result.buffer,
            "mode": result.mode,
            "accounts": [_account_dict(a, result) for a in result.accounts],
        }
    )


def _state(state: AccountState) -> dict[str, Any]:
    return {
        "equity": state.equity,
        "initial_margin": state.initial_margin,
        "maintenance_margin": state.maintenance_margin,
        "status": state.status,
    }


def _account_dict(account: AccountLiquidation, result: LiquidationResult) -> dict[str, Any]:
    positions = account.positions_after
    marks = positions["mark_price"].to_numpy(np.float64)
    data = {
        "account": account.account,
        "before": _state(account.before),
        "steps": [{key: getattr(step, key) for key in STEP_KEYS} for step in account.steps],
        "after": _state(account.after),
        "restored": account.restored,
        "deposit_to_restore": account.deposit_to_restore,
        "positions_after": [
            {"instrument": str(i), "quantity": float(q), "mark_price": None if np.isnan(m) else m}
            for i, q, m in zip(positions["instrument"], positions["quantity"], marks)
        ],
        "liquidation_prices": {u: p.as_dict() for u, p in account.liquidation_prices.items()},
        "full_close_out": account.full_close_out,
        "deficit": account.deficit,
        "fees": account.fees,
        "collateral_after": dict(account.collateral_after),
    }
    data["note"] = note(account, result.target, result.buffer)
    return data


def usd(value: float) -> str:
    return f"{value:,.0f} USD"


def note(account: AccountLiquidation, target: str, buffer: float) -> str:
    """The plan of one account in a sentence or two."""
    goal = f"{1 + buffer:g} × {target} margin" if buffer else f"{target} margin"

    def covered(state: AccountState) -> str:
        margin = state.maintenance_margin if target == "maintenance" else state.initial_margin
        return f"equity {usd(state.equity)} covers the {goal} ({usd((1 + buffer) * margin)})"

    if not account.steps:
        return f"Nothing to do: {covered(account.before)}."
    if not account.restored:
        return (
            "Nothing short of a full close-out restores the account, and not even that does: "
            f"after it equity is {usd(account.deficit)} short of the {goal}. A deposit of "
            f"{usd(account.deposit_to_restore)} would have restored it without trading."
        )
    if account.full_close_out:
        stalled = account.stalled_shortfall
        where = "" if stalled is None else f" (partial liquidation stops {usd(stalled)} short)"
        return (
            f"Nothing short of a full close-out restores the account{where}; after it "
            f"{covered(account.after)}."
        )
    trades = sum(step.action != "cancel_orders" for step in account.steps)
    parts = ["cancelling the open orders"] if trades < len(account.steps) else []
    if account.fraction is not None:
        parts.append(f"closing {account.fraction:.2%} of every position and coin balance")
    elif trades:
        parts.append(f"{trades} trade{'s' if trades != 1 else ''}")
    return (
        f"Restored by {' and '.join(parts)} (fees {usd(account.fees)}): {covered(account.after)}."
    )


def liquidation_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """CSV rows: every step of every account (``account`` first)."""
    return [{"account": a["account"], **step} for a in data["accounts"] for step in a["steps"]]


def account_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """A row per account: the state before and after (dotted keys), whether the plan restored
    it, how many steps, the fees, the deposit that restores it without trading."""
    return [
        {
            "account": a["account"],
            **{f"before.{key}": a["before"][key] for key in STATE_KEYS},
            **{f"after.{key}": a["after"][key] for key in STATE_KEYS},
            "restored": a["restored"],
            "full_close_out": a["full_close_out"],
            "steps": len(a["steps"]),
            "fees": a["fees"],
            "deficit": a["deficit"],
            "deposit_to_restore": a["deposit_to_restore"],
        }
        for a in data["accounts"]
    ]


def liquidation_summary(data: dict[str, Any]) -> dict[str, Any]:
    """The plan's terms and, over the accounts, how many were below the target, how many the
    plans restored, the steps, the fees and the deposits that restore them without trading."""
    accounts = data["accounts"]
    return {
        "model": data["model"],
        "target": data["target"],
        "buffer": data["buffer"],
        "mode": data["mode"],
        "accounts": len(accounts),
        "liquidated": sum(bool(a["steps"]) for a in accounts),
        "restored": sum(bool(a["restored"]) for a in accounts),
        "steps": sum(len(a["steps"]) for a in accounts),
        "fees": float(sum(a["fees"] for a in accounts)),
        "deposit_to_restore": float(sum(a["deposit_to_restore"] for a in accounts)),
    }


def step_cells(step: dict[str, Any]) -> list[Any]:
    """A step as table cells: step, action, instrument, trade, price, fee, equity, IM, MM."""
    return [
        step["step"],
        step["action"],
        step["instrument"] or "all open orders",
        "" if step["quantity"] is None else step["quantity"],
        "" if step["price"] is None else step["price"],
        step["fee"],
        step["equity_after"],
        step["initial_margin_after"],
        step["maintenance_margin_after"],
    ]


STEP_HEADERS = [
    "step",
    "action",
    "instrument",
    "trade",
    "price",
    "fee",
    "equity after",
    "initial margin after",
    "maintenance margin after",
]


def price_cells(underlying: str, prices: dict[str, Any]) -> list[str]:
    """``[underlying, down, distance down, up, distance up]`` as text ("—" where none)."""

    def price(value):
        return "—" if value is None else f"{value:,.2f}"

    def distance(value):
        return "—" if value is None else f"{value:+.1%}"

    return [
        underlying,
        price(prices["down"]),
        distance(prices["distance_down"]),
        price(prices["up"]),
        distance(prices["distance_up"]),
    ]


PRICE_HEADERS = ["underlying", "down", "distance", "up", "distance"]


def liquidation_markdown(data: dict[str, Any]) -> str:
    buffer = f", buffer {data['buffer']:.1%}" if data["buffer"] else ""
    parts = [
        f"## pmargin liquidate — model {data['model']}, target {data['target']}{buffer}, "
        f"{data['mode']}\n"
    ]
    for account in data["accounts"]:
        parts.append(f"\n### Account {account['account'] or '(none)'}\n\n")
        rows = [
            [label.replace("_", " "), account["before"][label], account["after"][label]]
            for label in STATE_KEYS[:-1]
        ]
        rows.append(["status", *(status_words(account[k]["status"]) for k in ("before", "after"))])
        parts.append(markdown_table(["", "before", "after"], rows))
        parts.append(f"\n{account['note']}\n")
        if account["steps"]:
            cells = [step_cells(s) for s in account["steps"]]
            parts.append("\n" + markdown_table(STEP_HEADERS, cells))
        if account["deposit_to_restore"]:
            parts.append(
                f"\nDeposit to restore without trading: {usd(account['deposit_to_restore'])}.\n"
            )
        if account["liquidation_prices"]:
            cells = [price_cells(u, p) for u, p in account["liquidation_prices"].items()]
            parts.append("\nLiquidation prices\n\n" + markdown_table(PRICE_HEADERS, cells))
    return "".join(parts)
