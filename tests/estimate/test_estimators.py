"""`pmargin.estimate`: the estimators against numpy and a hand-written recursion, windows, and
the nearest-correlation repair against Higham's published example and a brute-force search."""

from datetime import datetime

import numpy as np
import pytest
from scipy import optimize

from pmargin.errors import InputError
from pmargin.estimate import MIN_RETURNS, estimate
from pmargin.io.price_history import load_price_history
from pmargin.nearest_correlation import nearest_correlation

START = np.datetime64("2021-01-01")


def price_file(tmp_path, returns: dict[str, np.ndarray], name="closes.csv", first=None, last=None):
    """A CSV of closes 100·exp(cumsum(r)) (first close 100), one row per calendar day from line
    2; ``first`` / ``last`` map a coin to the row of its first / last close (empty outside)."""
    count = len(next(iter(returns.values()))) + 1
    closes = {c: 100.0 * np.exp(np.concatenate([[0.0], np.cumsum(r)])) for c, r in returns.items()}
    first, last = first or {}, last or {}
    lines = ["date," + ",".join(returns)]
    for row in range(count):
        day = str(START + np.timedelta64(row, "D"))
        cells = [
            repr(float(closes[c][row])) if first.get(c, 0) <= row <= last.get(c, count) else ""
            for c in returns
        ]
        lines.append(",".join([day, *cells]))
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def correlated_returns(count: int, rho: float, vols=(0.6, 0.8), seed=3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((2, count))
    second = rho * z[0] + np.sqrt(1 - rho**2) * z[1]
    daily = np.array(vols) / np.sqrt(365)
    return {"BTC": daily[0] * z[0], "ETH": daily[1] * second}


def read_returns(path) -> dict[str, np.ndarray]:
    """Log returns of the closes as written (what any estimator sees)."""
    history = load_price_history(path)
    return {c: np.diff(np.log(p)) for c, p in history.closes.items()}


def test_sample_vol_and_correlation_are_numpys_estimators(tmp_path):
    known = correlated_returns(400, 0.7)
    path = price_file(tmp_path, known)
    seen = read_returns(path)
    for coin in known:  # the file holds the known returns (to rounding of the closes)
        np.testing.assert_allclose(seen[coin], known[coin], rtol=0, atol=1e-13)
    result = estimate(load_price_history(path), method="sample")
    assert result.underlyings == ("BTC", "ETH") and result.window == 400
    assert result.vols[0] == np.std(seen["BTC"], ddof=1) * np.sqrt(365)
    assert result.vols[1] == np.std(seen["ETH"], ddof=1) * np.sqrt(365)
    assert result.correlation[0, 1] == np.corrcoef(seen["BTC"], seen["ETH"])[0, 1]
    assert result.correlation[1, 0] == result.correlation[0, 1]
    assert result.repair is None and result.notes == ()
    # and they are near what the returns were drawn with (400 draws)
    assert result.vols == pytest.approx([0.6, 0.8], rel=0.12)
    assert result.correlation[0, 1] == pytest.approx(0.7, abs=0.1)


def hand_ewma(first: np.ndarray, second: np.ndarray, decay: float) -> tuple[float, float, float]:
    """RiskMetrics, one return at a time: (var_first, var_second, covariance)."""
    seed = np.cov(first[:MIN_RETURNS], second[:MIN_RETURNS], ddof=1)
    a, b, c = seed[0, 0], seed[1, 1], seed[0, 1]
    for x, y in zip(first[MIN_RETURNS:], second[MIN_RETURNS:]):
        a = decay * a + (1 - decay) * x * x
        b = decay * b + (1 - decay) * y * y
        c = decay * c + (1 - decay) * x * y
    return a, b, c


@pytest.mark.parametrize("decay", [0.94, 0.97])
def test_ewma_equals_the_recursion_written_out(tmp_path, decay):
    path = price_file(tmp_path, correlated_returns(250, 0.5, seed=9))
    seen = read_returns(path)
    result = estimate(load_price_history(path), method="ewma", decay=decay)
    a, b, c = hand_ewma(seen["BTC"], seen["ETH"], decay)
    np.testing.assert_allclose(result.vols, np.sqrt(np.array([a, b]) * 365), rtol=1e-12)
    assert result.correlation[0, 1] == pytest.approx(c / np.sqrt(a * b), rel=1e-12)
    assert result.decay == decay and result.method == "ewma"


def test_ewma_of_exactly_30_returns_is_the_seed(tmp_path):
    path = price_file(tmp_path, correlated_returns(30, 0.2))
    seen = read_returns(path)
    result = estimate(load_price_history(path), method="ewma")
    assert result.vols[0] == pytest.approx(np.std(seen["BTC"], ddof=1) * np.sqrt(365), rel=1e-14)


def test_window_start_and_end_pick_the_rows(tmp_path):
    path = price_file(tmp_path, correlated_returns(200, 0.4))
    seen = read_returns(path)
    history = load_price_history(path)
    last_60 = estimate(history, window=60)
    assert last_60.window == 60
    assert last_60.vols[0] == np.std(seen["BTC"][-60:], ddof=1) * np.sqrt(365)
    assert str(last_60.last_date)[:10] == str(START + np.timedelta64(200, "D"))
    # --start 2021-02-01 --end 2021-04-01: rows 31..90 inclusive, returns 31..89
    dated = estimate(history, start=datetime(2021, 2, 1), end=datetime(2021, 4, 1))
    assert dated.window == 59
    assert dated.vols[1] == np.std(seen["ETH"][31:90], ddof=1) * np.sqrt(365)
    assert dated.as_of.isoformat() == "2021-04-01T08:00:00+00:00"
    both = estimate(history, window=40, end=datetime(2021, 4, 1))
    assert both.vols[0] == np.std(seen["BTC"][50:90], ddof=1) * np.sqrt(365)


def test_a_coin_that_starts_late_uses_its_own_returns(tmp_path):
    returns = correlated_returns(120, 0.6)
    path = price_file(tmp_path, returns, first={"ETH": 50})
    history = load_price_history(path)
    seen = {c: np.diff(np.log(p)) for c, p in history.closes.items()}
    result = estimate(history)
    eth = seen["ETH"][50:]
    assert result.returns.tolist() == [120, 70]
    assert result.vols[1] == np.std(eth, ddof=1) * np.sqrt(365)
    assert result.correlation[0, 1] == np.corrcoef(seen["BTC"][50:], eth)[0, 1]
    assert result.spot.tolist() == [history.closes["BTC"][-1], history.closes["ETH"][-1]]


def staggered_returns() -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Three coins whose pairwise correlations cannot all hold at once.

    A and B trade 300 days, anti-correlated for the first 240 of them; C starts on day 240 and,
    from then on, A, B and C all move together. A~C and B~C (from day 240) are about +0.95, A~B
    (from day 0) strongly negative: no correlation matrix has those three entries.
    """
    rng = np.random.default_rng(5)
    common, noise = rng.standard_normal(300), 0.2 * rng.standard_normal((3, 300))
    a = common + noise[0]
    b = np.where(np.arange(300) < 240, -common, common) + noise[1]
    c = common + noise[2]
    daily = 0.7 / np.sqrt(365)
    return {"A": daily * a, "B": daily * b, "C": daily * c}, {"C": 240}


def test_a_non_psd_estimate_is_repaired_and_the_size_is_stated(tmp_path):
    returns, first = staggered_returns()
    path = price_file(tmp_path, returns, first=first)
    history = load_price_history(path)
    seen = {c: np.diff(np.log(p)) for c, p in history.closes.items()}
    raw = np.eye(3)
    spans = {"A": slice(0, 300), "B": slice(0, 300), "C": slice(240, 300)}
    for i, x in enumerate("ABC"):
        for j, y in enumerate("ABC"):
            if i < j:
                shared = slice(max(spans[x].start, spans[y].start), 300)
                raw[i, j] = raw[j, i] = np.corrcoef(seen[x][shared], seen[y][shared])[0, 1]
    assert np.linalg.eigvalsh(raw)[0] < -0.1  # the pairwise estimate is not PSD

    result = estimate(history)
    assert result.repair is not None
    np.testing.assert_allclose(result.correlation, nearest_correlation(raw), atol=1e-12)
    assert np.linalg.eigvalsh(result.correlation)[0] > -1e-12
    np.testing.assert_allclose(np.diag(result.correlation), 1.0)
    distance = np.linalg.norm(result.correlation - raw)
    assert result.repair.distance == pytest.approx(distance)
    assert result.repair.smallest_eigenvalue == pytest.approx(np.linalg.eigvalsh(raw)[0])
    message = result.notes[-1]
    assert f"Frobenius distance {distance:.4g}" in message
    assert f"smallest eigenvalue {np.linalg.eigvalsh(raw)[0]:.4g}" in message
    change = np.abs(result.correlation - raw)
    assert f"({change.max():.4f})" in message
    # nearest: no correlation matrix found by a brute-force search is closer
    assert distance <= brute_force_nearest_distance(raw) + 1e-6


def brute_force_nearest_distance(target: np.ndarray) -> float:
    """min ‖C − target‖_F over correlation matrices C = L·Lᵀ with unit-norm rows of L (3×3)."""

    def distance(flat):
        rows = flat.reshape(3, 3)
        rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return np.linalg.norm(rows @ rows.T - target)

    rng = np.random.default_rng(0)
    return min(
        optimize.minimize(
            distance,
            rng.standard_normal(9),
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000},
        ).fun
        for _ in range(20)
    )


def test_nearest_correlation_matches_highams_published_example():
    # N. J. Higham (2002), IMA J. Numer. Anal. 22, section 4: A = [[1,1,0],[1,1,1],[0,1,1]]
    nearest = nearest_correlation(np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]]))
    expected = np.array([[1, 0.7607, 0.1573], [0.7607, 1, 0.7607], [0.1573, 0.7607, 1]])
    np.testing.assert_allclose(nearest, expected, atol=6e-5)


def test_a_psd_matrix_is_its_own_nearest_correlation_matrix():
    psd = np.array([[1.0, 0.9, 0.7], [0.9, 1.0, 0.8], [0.7, 0.8, 1.0]])
    np.testing.assert_allclose(nearest_correlation(psd), psd, atol=1e-12)


def test_a_coin_with_fewer_than_30_returns_is_named_with_its_lines(tmp_path):
    returns, _ = staggered_returns()
    path = price_file(tmp_path, returns, first={"C": 280})  # C: rows 280-300, 20 returns
    with pytest.raises(InputError) as caught:
        estimate(load_price_history(path))
    text = str(caught.value)
    assert f"{path}:282-302: column `C`: 20 daily returns in the window" in text
    assert "a vol needs at least 30" in text


def test_too_few_shared_returns_name_the_pair_and_lines(tmp_path):
    rng = np.random.default_rng(1)
    returns = {"LUNA": 0.05 * rng.standard_normal(200), "SOL": 0.05 * rng.standard_normal(200)}
    # LUNA rows 0-100, SOL rows 80-200: 100 and 120 returns, 20 of them shared (rows 80-100)
    path = price_file(tmp_path, returns, first={"SOL": 80}, last={"LUNA": 100})
    with pytest.raises(InputError) as caught:
        estimate(load_price_history(path))
    assert str(caught.value) == (
        f"{path}:82-102: columns `LUNA`, `SOL`: LUNA and SOL share 20 daily returns; a "
        "correlation needs at least 30. Widen the window so both have closes over 30 common "
        "days, or drop one column."
    )


def test_a_coin_that_ends_early_is_noted_with_the_date_of_its_spot(tmp_path):
    rng = np.random.default_rng(2)
    returns = {"LUNA": 0.05 * rng.standard_normal(200), "SOL": 0.05 * rng.standard_normal(200)}
    path = price_file(tmp_path, returns, last={"LUNA": 150})
    history = load_price_history(path)
    result = estimate(history)
    assert result.returns.tolist() == [150, 200]
    assert result.spot[0] == history.closes["LUNA"][150]
    assert result.notes == (
        f"LUNA's last close in the window is on 2021-05-31 ({path}:152), before the window's "
        "last date 2021-07-20; its spot is that close",
    )
