import numpy as np
import pytest

from pmargin import InputError, load_scenarios


def test_explicit_set_with_default_and_per_underlying_shocks(write):
    path = write(
        "crash.yaml",
        """\
        name: crash
        description: test
        days: 1
        scenarios:
          - name: "All -30%, vol +50%"
            spot: -0.30
            vol: 0.5
          - name: "BTC -20%, ETH -35%"
            days: 0
            weight: 0.5
            shocks:
              BTC: {spot: -0.20, vol: 0.3}
              ETH: {spot: -0.35, vol_shift: 0.25}
        """,
    )
    scenario_set = load_scenarios(path)
    shocks = scenario_set.shocks(("BTC", "ETH", "SOL"))
    assert shocks.names == ("All -30%, vol +50%", "BTC -20%, ETH -35%")
    np.testing.assert_allclose(shocks.spot, [[-0.3, -0.2], [-0.3, -0.35], [-0.3, 0.0]])
    np.testing.assert_allclose(shocks.vol, [[0.5, 0.3], [0.5, 0.0], [0.5, 0.0]])
    np.testing.assert_allclose(shocks.vol_shift, [[0, 0], [0, 0.25], [0, 0]])
    np.testing.assert_allclose(shocks.days, [1, 0])
    np.testing.assert_allclose(shocks.weight, [1, 0.5])


def test_grid_set_is_the_cartesian_product(write):
    path = write(
        "grid.yaml",
        """\
        kind: grid
        spot: {min: -0.16, max: 0.16, steps: 9}
        vol: [-0.25, 0, 0.5]
        vol_term: {ref_days: 30, short_power: 0.30, long_power: 0.13, floor: 0.5}
        weight: 0.5
        """,
    )
    scenario_set = load_scenarios(path)
    assert scenario_set.count == 27 and scenario_set.kind == "grid"
    shocks = scenario_set.shocks(("BTC",))
    assert shocks.names[0] == "spot -16%, vol -25%"
    np.testing.assert_allclose(np.unique(shocks.spot), np.linspace(-0.16, 0.16, 9))
    np.testing.assert_allclose(shocks.vol[0, :3], [-0.25, 0, 0.5])
    assert shocks.vol_term.floor == 0.5
    assert (shocks.weight == 0.5).all()


def test_bundled_sets_load_by_name():
    crash = load_scenarios("crash")
    assert crash.count > 0 and crash.description


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind: montecarlo_typo\n", "unknown kind 'montecarlo_typo'"),
        ("scenarios:\n  - {name: a, spot: -0.2, volatility: 0.1}\n", "unknown key `volatility`"),
        ("scenarios:\n  - {name: a, spot: high}\n", "scenarios[0].spot: expected a number"),
        ("scenarios:\n  - {name: a, spot: -1.5}\n", "would make the price ≤ 0"),
        ("scenarios:\n  - {name: a}\n  - {name: a}\n", "duplicate scenario name 'a'"),
        ("kind: grid\nspot: {min: 0.1, max: -0.1, steps: 3}\n", "is below min"),
        ("scenarios: [\n", "malformed YAML"),
    ],
)
def test_bad_scenario_files(write, text, expected):
    with pytest.raises(InputError) as info:
        load_scenarios(write("s.yaml", text))
    assert expected in str(info.value)


def test_unknown_scenario_name():
    with pytest.raises(InputError, match="no such file or bundled scenario set"):
        load_scenarios("no_such_set")
