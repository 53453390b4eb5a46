"""The parameters of the ``deribit`` model, read from its YAML (``pmargin/models/deribit.yaml``).

The names are Deribit's own, as ``private/pme/simulate`` returns them in ``model_params``:

* ``currency_pairs`` (``model_params.currency_pair.<coin>_usd``): the scenario grid of each
  underlying (price range, vol ranges, term powers, minimum vol for a shock up), the extended
  table factor and the delta shock (threshold, rate ``m_inc``, cap). ``default`` serves every
  underlying without its own block.
* ``settlement_currencies`` (``model_params.currency.<currency>``): the roll shock
  (``annualised_move_risk``, ``min_annualised_move``), the extended dampener and the offset of
  gains (``pnl_offset``, ``max_offsetable_pnl``) of each settlement currency. ``USDC`` serves
  every linear (USD-settled) instrument; ``default`` inverse instruments of other coins.
* ``general``: ``mm_factor``, ``buckets_count``, ``vol_scenarios_count`` and the rounding of the
  worst case; ``extended_table.moves``: the extended price moves.

Every block may carry ``source`` and ``date`` (where the values come from), which ``pmargin models
show`` prints beside each parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ProblemCollector
from ..scenarios import VolTerm
from ..values import (
    MAX_GRID_STEPS,
    MOVE_MAX,
    POWER_MAX,
    VOL_MAX,
    WEIGHT_MAX,
    check_keys,
    number,
    number_list,
    section,
    whole_number,
)
from .base import DEFAULT, SOURCE_KEYS, parameter_blocks

#: the vol scenarios of each price bucket, in Deribit's order (index = 3·bucket + column)
VOL_COLUMNS = ("up", "same", "down")
#: days to expiry below which ``short_term_vega_power`` applies; vol shocks scale by (30/DTE)^p
VEGA_POWER_DAYS = 30.0
TOP_KEYS = (
    "name",
    "method",
    "description",
    "source",
    "general",
    "extended_table",
    "currency_pairs",
    "settlement_currencies",
    "liquidation",
)
GENERAL_KEYS = (
    *SOURCE_KEYS,
    "mm_factor",
    "buckets_count",
    "vol_scenarios_count",
    "worst_case_decimals",
)
#: the settlement currency of every linear (USDC/USDT/USD-settled) instrument
LINEAR_CURRENCY = "USDC"


@dataclass(frozen=True)
class PairParameters:
    """``model_params.currency_pair.<coin>_usd``: one underlying's scenarios and delta shock.

    Fractions are decimals (0.16 = 16%); ``delta_total_liq_shock_threshold`` is USD;
    ``m_inc`` is the delta-shock rate per coin of net delta above the threshold.
    """

    price_range: float
    volatility_range_up: float
    volatility_range_down: float
    min_volatility_for_shock_up: float
    short_term_vega_power: float
    long_term_vega_power: float
    extended_table_factor: float
    m_inc: float
    delta_total_liq_shock_threshold: float
    max_delta_shock: float

    def price_moves(self, buckets_count: int) -> np.ndarray:
        """−price_range … +price_range in 2·buckets_count + 1 evenly spaced moves, 0 included."""
        return np.linspace(-self.price_range, self.price_range, 2 * buckets_count + 1)

    def vol_moves(self) -> np.ndarray:
        """Relative vol shocks of the columns up, same, down (before the (30/DTE)^p scaling)."""
        return np.array([self.volatility_range_up, 0.0, -self.volatility_range_down])

    def vol_term(self) -> VolTerm:
        """The engine's term scaling: (30/DTE)^p, p short under 30 days; vol up ≥ the minimum."""
        return VolTerm(
            ref_days=VEGA_POWER_DAYS,
            short_power=self.short_term_vega_power,
            long_power=self.long_term_vega_power,
            floor=self.min_volatility_for_shock_up,
        )


@dataclass(frozen=True)
class CurrencyParameters:
    """``model_params.currency.<currency>``: roll shock, dampener and offset of gains.

    ``extended_dampener`` and ``max_offsetable_pnl`` are USD; the moves are decimals per year.
    """

    min_annualised_move: float
    annualised_move_risk: float
    extended_dampener: float
    pnl_offset: float
    max_offsetable_pnl: float


@dataclass(frozen=True)
class DeribitParameters:
    """Everything the model reads from its YAML."""

    pairs: dict[str, PairParameters]
    currencies: dict[str, CurrencyParameters]
    mm_factor: float
    buckets_count: int
    worst_case_decimals: int | None
    extended_moves: tuple[float, ...]

    @property
    def grid_count(self) -> int:
        """Scenarios of the grid: (2·buckets_count + 1) price moves × 3 vol columns."""
        return (2 * self.buckets_count + 1) * len(VOL_COLUMNS)

    def pair(self, underlying: str) -> PairParameters:
        return self.pairs.get(underlying, self.pairs[DEFAULT])

    def currency(self, code: str) -> CurrencyParameters:
        return self.currencies.get(code, self.currencies[DEFAULT])


#: checks other than the default ≥ 0 (and at most :data:`pmargin.values.LARGEST`): moves and
#: powers within the bounds every scenario file has (:mod:`pmargin.values`), fractions of a
#: price or a P&L at most 1, the extended table's weight at most a scenario weight's
PAIR_CHECKS = {
    "price_range": {"positive": True},
    "volatility_range_up": {"minimum": 0, "maximum": MOVE_MAX},
    "volatility_range_down": {"minimum": 0, "maximum": 1},
    "min_volatility_for_shock_up": {"minimum": 0, "maximum": VOL_MAX},
    "short_term_vega_power": {"minimum": 0, "maximum": POWER_MAX},
    "long_term_vega_power": {"minimum": 0, "maximum": POWER_MAX},
    "extended_table_factor": {"minimum": 0, "maximum": WEIGHT_MAX},
    "max_delta_shock": {"minimum": 0, "maximum": 1},
}
CURRENCY_CHECKS = {
    "min_annualised_move": {"minimum": 0, "maximum": MOVE_MAX},
    "annualised_move_risk": {"minimum": 0, "maximum": MOVE_MAX},
    "pnl_offset": {"minimum": 0, "maximum": 1},
}
#: the most decimals the worst case may be rounded to (float64 holds ~15 significant digits)
MAX_DECIMALS = 15


def parse_parameters(
    document: dict[str, Any], where: str, problems: ProblemCollector
) -> DeribitParameters | None:
    """The model's parameters from its parsed YAML; every problem recorded in ``problems``."""
    check_keys(document, TOP_KEYS, where, problems, sep=": ")
    general = section(document, "general", where, problems)
    check_keys(general, GENERAL_KEYS, f"{where}: general", problems, sep=".")
    mm_factor = number(
        general.get("mm_factor", 0.8),
        f"{where}: general.mm_factor",
        problems,
        minimum=0,
        maximum=1,  # maintenance is never above the initial margin
    )
    buckets = whole_number(
        general.get("buckets_count", 4),
        f"{where}: general.buckets_count",
        problems,
        minimum=1,
        maximum=MAX_GRID_STEPS,
    )
    columns = general.get("vol_scenarios_count", len(VOL_COLUMNS))
    if columns != len(VOL_COLUMNS):
        problems.add(
            f"{where}: general.vol_scenarios_count",
            f"must be {len(VOL_COLUMNS)} (vol up, same, down), found {columns!r}",
        )
    decimals = general.get("worst_case_decimals")
    if decimals is not None:
        decimals = whole_number(
            decimals,
            f"{where}: general.worst_case_decimals",
            problems,
            minimum=0,
            maximum=MAX_DECIMALS,
        )
    extended = section(document, "extended_table", where, problems)
    check_keys(extended, (*SOURCE_KEYS, "moves"), f"{where}: extended_table", problems, sep=".")
    moves = number_list(
        extended.get("moves"), f"{where}: extended_table.moves", problems, maximum=MOVE_MAX
    )
    if len(moves) > MAX_GRID_STEPS:
        problems.add(
            f"{where}: extended_table.moves",
            f"at most {MAX_GRID_STEPS:,} moves, found {len(moves):,}",
        )
    if any(m == 0 or m <= -1 for m in moves):
        problems.add(
            f"{where}: extended_table.moves",
            "every move must be non-zero and above −1 (−100%)",
        )
    pairs = parameter_blocks(
        PairParameters, document, "currency_pairs", where, problems, PAIR_CHECKS
    )
    currencies = parameter_blocks(
        CurrencyParameters, document, "settlement_currencies", where, problems, CURRENCY_CHECKS
    )
    for name, pair in pairs.items():
        if pair.price_range >= 1:
            problems.add(
                f"{where}: currency_pairs.{name}.price_range",
                f"must be below 1 (100%), found {pair.price_range:g}",
            )
    if problems:
        return None
    return DeribitParameters(
        pairs=pairs,
        currencies=currencies,
        mm_factor=float(mm_factor),
        buckets_count=int(buckets),
        worst_case_decimals=decimals,
        extended_moves=tuple(moves),
    )
