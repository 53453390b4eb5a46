"""Historical sets replay the file's own returns, exactly; bad files name the file and key."""

from datetime import date, timedelta

import numpy as np
import pytest

from pmargin import load_market, load_portfolio, load_scenarios
from pmargin.errors import InputError
from pmargin.stress import run_stress


def price_file(path, rows: int = 12, seed: int = 3, shuffle: bool = False, extra: str = ""):
    """A CSV of random daily closes for BTC and ETH (and a BTC vol index); returns the rows."""
    rng = np.random.default_rng(seed)
    start = date(2021, 1, 1)
    records = []
    btc, eth, dvol = 30000.0, 700.0, 80.0
    for day in range(rows):
        records.append((start + timedelta(days=day), round(btc, 2), round(eth, 3), round(dvol, 1)))
        btc *= float(np.exp(rng.normal(0, 0.05)))
        eth *= float(np.exp(rng.normal(0, 0.06)))
        dvol *= float(np.exp(rng.normal(0, 0.1)))
    lines = [f"{d.isoformat()},{b},{e},{v}" for d, b, e, v in records]
    if shuffle:
        lines = lines[::-1]
    path.write_text("date,BTC,ETH,BTC_DVOL\n" + "\n".join(lines) + "\n" + extra)
    return records


def set_file(write, body: str, name: str = "hist.yaml"):
    return write(name, "kind: historical\nprices: prices.csv\n" + body)


def test_replay_reproduces_the_file_returns_exactly(tmp_path, write):
    records = price_file(tmp_path / "prices.csv", shuffle=True)
    scenario_set = load_scenarios(set_file(write, "vol_columns: {BTC: BTC_DVOL}\n"))
    shocks = scenario_set.shocks(("BTC", "ETH"))
    assert shocks.count == len(records) - 1
    for t in range(len(records) - 1):
        (d0, b0, e0, v0), (d1, b1, e1, v1) = records[t], records[t + 1]
        assert scenario_set.scenario_names[t] == f"{d0} → {d1}"
        assert shocks.spot[0, t] == b1 / b0 - 1  # exact: the same one division
        assert shocks.spot[1, t] == e1 / e0 - 1
        assert shocks.vol[0, t] == v1 / v0 - 1
        assert shocks.vol[1, t] == 0.0  # no vol column for ETH: vol unshocked
    assert not shocks.vol_shift.any() and not shocks.days.any()


def test_window_and_overlapping_horizon(tmp_path, write):
    records = price_file(tmp_path / "prices.csv", rows=20)
    body = "start: 2021-01-03\nend: 2021-01-12\nhorizon_days: 3\n"
    scenario_set = load_scenarios(set_file(write, body))
    window = [r for r in records if date(2021, 1, 3) <= r[0] <= date(2021, 1, 12)]
    assert len(window) == 10
    spot = scenario_set.shocks(("BTC",)).spot[0]
    expected = [window[t + 3][1] / window[t][1] - 1 for t in range(len(window) - 3)]
    assert spot.tolist() == expected
    assert scenario_set.scenario_names[0] == "2021-01-03 → 2021-01-06"
    assert scenario_set.scenario_names[-1] == "2021-01-09 → 2021-01-12"


def test_proxies_give_an_unlisted_underlying_another_column(tmp_path, write):
    price_file(tmp_path / "prices.csv")
    scenario_set = load_scenarios(set_file(write, 'proxies: {SOL: ETH, "*": BTC}\n'))
    shocks = scenario_set.shocks(("BTC", "DOGE", "ETH", "SOL"))
    np.testing.assert_array_equal(shocks.spot[3], shocks.spot[2])  # SOL follows ETH
    np.testing.assert_array_equal(shocks.spot[1], shocks.spot[0])  # others follow BTC


def test_worst_scenario_of_a_long_btc_book_is_the_largest_daily_fall(tmp_path, write):
    records = price_file(tmp_path / "prices.csv", rows=60, seed=11)
    market = load_market(
        write(
            "market.yaml",
            "as_of: 2024-11-25T08:00:00Z\nrate: 0\n"
            "underlyings:\n  BTC: {spot: 100000, vol: 0.5}\n  ETH: {spot: 4000, vol: 0.6}\n",
        )
    )
    book = load_portfolio(
        write(
            "book.csv",
            "instrument,quantity\nBTC_USDC-PERPETUAL,2\nBTC_USDC-27DEC24-100000-C,3\n",
        )
    )
    result = run_stress(book, market, [load_scenarios(set_file(write, ""))])
    falls = [records[t + 1][1] / records[t][1] - 1 for t in range(len(records) - 1)]
    worst_day = int(np.argmin(falls))
    assert falls[worst_day] < -0.05  # the generated file does contain a real fall
    worst_set, index = result.worst()
    assert index == worst_day
    assert worst_set.names[index] == f"{records[worst_day][0]} → {records[worst_day + 1][0]}"
    # the perpetual alone loses 2 × 100,000 × the fall; the long call adds to the loss
    assert worst_set.pnl[index] < 2 * 100_000 * falls[worst_day]


def test_every_set_underlying_the_portfolio_lacks_is_a_warning(tmp_path, write, market_path):
    price_file(tmp_path / "prices.csv")
    book = load_portfolio(write("book.csv", "instrument,quantity\nBTC_USDC-PERPETUAL,1\n"))
    hist = load_scenarios(set_file(write, ""))
    result = run_stress(book, load_market(market_path), [hist])
    assert result.sets[0].warnings == (
        f"scenario set hist ({hist.source}): shocks for BTC_DVOL are ignored; neither the "
        "portfolio nor the market has BTC_DVOL",
        f"scenario set hist ({hist.source}): shocks for ETH are ignored; "
        "the portfolio holds no ETH",
    )


def test_an_underlying_the_portfolio_holds_but_the_file_lacks_is_an_error(
    tmp_path, write, market_path
):
    (tmp_path / "prices.csv").write_text("date,ETH\n2021-01-01,100\n2021-01-02,90\n")
    book = load_portfolio(write("book.csv", "instrument,quantity\nBTC_USDC-PERPETUAL,1\n"))
    hist = load_scenarios(set_file(write, ""))
    with pytest.raises(InputError) as caught:
        run_stress(book, load_market(market_path), [hist])
    message = str(caught.value)
    assert f"{hist.source}: prices: the portfolio holds BTC but" in message
    assert "has no column for BTC (it has ETH)" in message
    assert "proxies" in message


@pytest.mark.parametrize(
    ("body", "csv", "expected"),
    [
        ("", None, "hist.yaml: prices: prices file"),
        ("start: 2030-01-01\n", "ok", "hist.yaml: start/end: "),
        ("horizon_days: 0\n", "ok", "hist.yaml: horizon_days: must be > 0"),
        ("horizon_days: 1.5\n", "ok", "hist.yaml: horizon_days: must be a whole number"),
        ("start: someday\n", "ok", "hist.yaml: start: 'someday' is not a date"),
        ("vol_columns: {BTC: DVOL}\n", "ok", "hist.yaml: vol_columns.BTC: no column `DVOL`"),
        ("proxies: {SOL: ADA}\n", "ok", "hist.yaml: proxies.SOL: "),
        ("window: 3\n", "ok", "hist.yaml: unknown key `window`"),
        ("", "date,BTC\n2021-01-01,1\n01/02/2021,2\n", "prices.csv:3: column `date`: '01/02/2021'"),
        ("", "day,BTC\n2021-01-01,1\n", "prices.csv: header: no `date` column"),
        ("", "date,BTC\n2021-01-01,1\n2021-01-02,\n", "prices.csv:3: column `BTC`: no price"),
        ("", "date,BTC\n2021-01-01,1\n2021-01-01,2\n", "prices.csv:3: column `date`: date 2021"),
        ("", "date,BTC\n2021-01-01,1,3\n", "prices.csv:2: 3 fields, the header has 2"),
    ],
)
def test_bad_historical_files_name_the_file_and_key(tmp_path, write, body, csv, expected):
    if csv == "ok":
        price_file(tmp_path / "prices.csv")
    elif csv is not None:
        (tmp_path / "prices.csv").write_text(csv)
    with pytest.raises(InputError) as caught:
        load_scenarios(set_file(write, body))
    assert expected in str(caught.value)


def test_a_bad_row_outside_the_window_does_not_matter(tmp_path, write):
    price_file(tmp_path / "prices.csv", rows=5, extra="2022-01-01,,1,1\n")
    scenario_set = load_scenarios(set_file(write, "end: 2021-12-31\n"))
    assert scenario_set.count == 4


def test_a_window_with_no_rows_says_which_window(tmp_path, write):
    price_file(tmp_path / "prices.csv")
    with pytest.raises(InputError) as caught:
        load_scenarios(set_file(write, "start: 2030-01-01\nend: 2030-02-01\n"))
    assert "has 0 rows from 2030-01-01 to 2030-02-01" in str(caught.value)


def test_intraday_rows_on_the_end_date_are_inside_the_window(tmp_path, write):
    (tmp_path / "prices.csv").write_text(
        "date,BTC\n2021-01-01T00:00:00Z,100\n2021-01-01T12:00:00Z,110\n2021-01-02T12:00:00Z,99\n"
    )
    scenario_set = load_scenarios(set_file(write, "end: 2021-01-01\n"))
    assert scenario_set.scenario_names == ("2021-01-01T00:00 → 2021-01-01T12:00",)
    assert scenario_set.shocks(("BTC",)).spot[0, 0] == 110 / 100 - 1
