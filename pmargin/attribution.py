"""``explain_margin``: each position's contribution to the portfolio margin (Euler allocation).

Every bundled model's initial margin is positively homogeneous in the positions (double every
position and the margin doubles), so by Euler's theorem it is the sum over positions of
quantity × ∂margin/∂quantity. The models compute that allocation themselves
(``allocation(book)``, see :mod:`pmargin.margin.base`), exactly, part by part:

* a largest loss over scenarios (deribit, span's scan risk, tims): in each underlying with a
  loss, the position's own counted loss (× the scenario's weight) in that underlying's worst
  scenario — the underlyings' contributions add up to their largest losses;
* expected shortfall (var): the position's mean loss over the tail scenarios of the book's P&L
  (the k worst, whose mean loss is the ES);
* parts that are not scenario losses are allocated explicitly: span's inter-commodity credit is
  split over the underlying's positions by their signed share of its composite delta (the
  credit is formed from deltas), span's short option minimum and tims' per-contract minimum —
  where they bind instead of the scenario loss — go to the contracts they are charged on, and
  standard margin's per-instrument formula is split over each instrument's positions by their
  signed quantity.

So the contributions add up to the margin (to rounding). A position that hedges the rest has a
negative contribution. Beside each, its isolated margin (the model on the position alone) and
the diversification benefit = isolated margin − contribution. Open orders are allocated as the
margin counts them (filled, or zero where the book margins higher without them); coin
collateral is a position like any other. With several accounts each is allocated on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .book import Book, bind
from .errors import InputError, Problem
from .margin import MarginModel
from .market import Market
from .portfolio import Portfolio
from .portfolio_margin import margined_book

#: columns of :attr:`Attribution.positions`
POSITION_COLUMNS = (
    "id",
    "account",
    "instrument",
    "underlying",
    "quantity",
    "contribution",
    "isolated_margin",
    "diversification_benefit",
)


@dataclass(frozen=True)
class Attribution:
    """Margin of a portfolio (or one account) and each position's contribution to it, USD.

    ``positions`` has :data:`POSITION_COLUMNS`, largest contribution first; ``basis`` says per
    underlying what was allocated (``{account: {underlying: text}}`` across accounts).
    """

    model: str
    portfolio_margin: float
    positions: pd.DataFrame
    basis: dict
    account: str | None = None
    accounts: list[Attribution] | None = None

    @property
    def isolated_margin(self) -> float:
        return float(self.positions["isolated_margin"].sum())


def explain_margin(portfolio: Portfolio, market: Market, model: MarginModel) -> Attribution:
    """Euler allocation of ``portfolio``'s initial margin under ``model`` to its positions.

    With several accounts each account is allocated on its own (accounts never net) and the
    portfolio's margin is the sum of theirs.
    """
    if not hasattr(model, "allocation"):
        raise InputError(
            Problem(
                f"--model {model.name}",
                f"the {model.method} method has no margin attribution",
                "Use one of the bundled models (deribit, span, tims, var, standard).",
            )
        )
    book = bind(portfolio, market)
    accounts = portfolio.accounts
    if len(accounts) <= 1:
        return allocate(book, model)
    rows = book.positions["account"].to_numpy(str)
    parts = [allocate(book.with_only(rows == a), model, account=a) for a in accounts]
    positions = pd.concat([p.positions for p in parts], ignore_index=True)
    return Attribution(
        model=model.name,
        portfolio_margin=float(sum(p.portfolio_margin for p in parts)),
        positions=_sorted(positions),
        basis={p.account: p.basis for p in parts},
        accounts=parts,
    )


def allocate(book: Book, model: MarginModel, *, account: str | None = None) -> Attribution:
    """Allocation of one book's margin (one account, or a book with no accounts) to its rows;
    with ``account``, only that account's rows are listed."""
    chosen, requirement = margined_book(model, book)
    allocation = model.allocation(chosen)
    positions = book.positions
    keep = np.ones(len(positions), bool)
    if account is not None:
        keep = positions["account"].to_numpy(str) == account
    contribution = allocation.contribution
    isolated = requirement.position_initial
    frame = pd.DataFrame(
        {
            "id": positions["id"].to_numpy(),
            "account": positions["account"].to_numpy(),
            "instrument": positions["instrument"].to_numpy(),
            "underlying": positions["underlying"].to_numpy(),
            "quantity": book.quantity,
            "contribution": contribution,
            "isolated_margin": isolated,
            "diversification_benefit": isolated - contribution,
        },
        columns=list(POSITION_COLUMNS),
    )[keep]
    # the book's table may list other accounts' underlyings; a key that is no underlying (a
    # settlement currency) comes from the model for this book's rows
    held, listed = set(frame["underlying"]), set(book.instruments.underlyings)
    return Attribution(
        model=model.name,
        portfolio_margin=requirement.initial,
        positions=_sorted(frame),
        basis={u: text for u, text in allocation.basis.items() if u in held or u not in listed},
        account=account,
    )


def _sorted(positions: pd.DataFrame) -> pd.DataFrame:
    order = np.argsort(-positions["contribution"].to_numpy(), kind="stable")
    return positions.iloc[order].reset_index(drop=True)
