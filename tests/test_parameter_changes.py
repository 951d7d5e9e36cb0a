"""Dated parameter changes (core.parameter_changes): a snapshot's figures as they stood on a later day.

The crypto-2022-05 snapshot (6 May 2022) holds Aave v2 stETH's liquidation threshold in force that day, 0.75 (the
listing AIP; Gauntlet's AIP-75 text: "Currently, stETH liquidation threshold is 75%"), and its
``parameter_changes.csv`` AIP-75's 0.81 from its execution on 19 May 2022. DAI's PSM tin is 0 from the 2021-11-05
spell to the 2023-03-11 one (no change within the 2022 presets' dates, so no change row).
"""

from __future__ import annotations

import shutil

import pytest

import core
from core import datasets
from core.cli import main
from core.parameter_changes import CHANGES_FILE, changes_of, in_force, read_changes
from core.scenario import Scenario
from core.validation import DataValidationError

SNAP = "crypto-2022-05"
STETH_ROWS = ["AAVE_ETH.stETH-ETH.hf1.02", "AAVE_ETH.stETH-ETH.hf1.05", "AAVE_ETH.stETH-ETH.hf1.10",
              "AAVE_ETH.stETH-ETH.hf1.16", "AAVE_ETH.stETH-ETH.hf1.25", "AAVE_ETH.stETH-ETH.hf1.50",
              "AAVE_ETH.stETH-ETH.hf2.00", "AAVE_ETH.CELSIUS.stETH-USDC", "AAVE_ETH.3AC.stETH-USDC"]


def _lt(net):
    return net.cohorts.set_index("id").loc[STETH_ROWS, "liquidation_threshold"].tolist()


def test_the_snapshot_holds_the_6_may_figures_and_aip_75_is_a_dated_change():
    net = datasets.load(SNAP)
    assert _lt(net) == [0.75] * 9
    assert float(net.pegs.set_index("asset").loc["DAI", "psm_tin"]) == 0.0
    ch = changes_of(datasets.data_path(SNAP), net)
    assert len(ch) == 9 and set(ch["effective"]) == {"2022-05-19"} and set(ch["flag"]) == {"sourced"}
    assert sorted(ch["row"]) == sorted(STETH_ROWS) and set(ch["value"]) == {0.81}


def test_a_change_is_in_force_from_its_date_and_not_before():
    net = datasets.load(SNAP)
    ch = changes_of(datasets.data_path(SNAP), net)
    assert in_force(net, ch, "2022-05-18") is net  # nothing in force: the snapshot itself
    after = in_force(net, ch, "2022-05-19")
    assert _lt(after) == [0.81] * 9
    assert after.meta["parameters_as_of"] == "2022-05-19" and len(after.meta["parameter_changes"]) == 9
    # only the changed cells differ
    other = net.cohorts.drop(columns="liquidation_threshold")
    assert after.cohorts.drop(columns="liquidation_threshold").equals(other)
    for t in ("entities", "assets", "holdings", "exposures", "pegs", "maker_ilks"):
        assert getattr(after, t).equals(getattr(net, t))


def test_the_latest_change_in_force_wins(tmp_path):
    net = datasets.load(SNAP)
    f = tmp_path / CHANGES_FILE
    f.write_text("table,row,column,value,effective,source,flag,note\n"
                 "cohorts,AAVE_ETH.3AC.stETH-USDC,liquidation_threshold,0.85,2022-07-01,x,estimate,later\n"
                 "cohorts,AAVE_ETH.3AC.stETH-USDC,liquidation_threshold,0.81,2022-05-19,x,sourced,first\n", encoding="utf-8")
    ch = read_changes(f, net, "2022-05-06")
    lt = lambda n: float(n.cohorts.set_index("id").loc["AAVE_ETH.3AC.stETH-USDC", "liquidation_threshold"])  # noqa: E731
    assert [lt(in_force(net, ch, d)) for d in ("2022-05-06", "2022-05-19", "2022-06-30", "2022-07-01")] == [0.75, 0.81, 0.81, 0.85]


def test_each_preset_runs_on_the_parameters_of_its_date():
    want = {"black_thursday_eth_crash": 0.75, "terra_may_2022": 0.75, "steth_june_2022": 0.81, "tac_june_2022": 0.81,
            "ftx_nov_2022": 0.81}
    for key, lt in want.items():
        sc, net = datasets.load_preset(key)
        assert sc.date is not None and _lt(net) == [lt] * 9, key
    # a scenario without a date runs on the snapshot's own figures (the same object)
    assert datasets.network_of(Scenario(snapshot=SNAP)) is datasets.load(SNAP)


def test_the_dated_network_is_what_runs_and_a_later_threshold_liquidates_less_on_aave():
    """Same input, same output; AIP-75's higher threshold (19 May) leaves Aave's stETH borrowers more room, and on the
    June path Aave liquidates less with it (measured: $1.730bn at 0.75, $1.692bn at 0.81, the same positions)."""
    sc, june = datasets.load_preset("steth_june_2022")
    may = datasets.load(SNAP)
    a, b = core.simulate(june, sc), core.simulate(june, sc)
    assert a.summary_dict() == b.summary_dict()
    liq = lambda res: float(res.rounds.groupby("entity")["liquidated_usd"].sum()["AAVE_ETH"])  # noqa: E731
    assert liq(a) < liq(core.simulate(may, sc.model_copy(update={"date": None})))  # the 6 May figures, undated


def test_a_bad_change_file_is_reported_row_by_row(tmp_path, capsys):
    folder = tmp_path / SNAP
    shutil.copytree(datasets.data_path(SNAP), folder)
    with open(folder / CHANGES_FILE, "a", encoding="utf-8") as f:
        f.write("cohorts,NOPE,liquidation_threshold,1.5,2022-05-01,,maybe,x\n"
                "pegs,DAI,mechanism,0,2022-13-01,src,sourced,x\n"
                "ledgers,DAI,psm_tin,0,2022-06-01,src,sourced,x\n")
    with pytest.raises(DataValidationError) as err:
        changes_of(folder, datasets.load(SNAP))
    got = {(p.row, p.column) for p in err.value.problems}
    assert got == {(11, "row"), (11, "value"), (11, "effective"), (11, "flag"), (11, "source"),
                   (12, "column"), (12, "effective"), (13, "table")}
    assert main(["validate", str(folder)]) == 2
    assert "parameter_changes.csv, line 11, column 'row': found 'NOPE'" in capsys.readouterr().err


def test_a_change_that_breaks_a_cross_table_check_is_reported(tmp_path):
    net = datasets.load(SNAP)
    f = tmp_path / CHANGES_FILE
    # a Maker cohort's threshold is 1 / its ilk's mat (core.consistency_checks): changing the cohort alone breaks it
    f.write_text("table,row,column,value,effective,source,flag,note\n"
                 "cohorts,MAKER.ETH-A.hf1.10,liquidation_threshold,0.7,2022-06-01,x,estimate,x\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        read_changes(f, net, "2022-05-06")
    assert err.value.problems and all(p.column == "effective" and p.value == "2022-06-01" for p in err.value.problems)
    assert "1/liquidation_threshold" in str(err.value)


def test_validate_names_the_changes_and_the_scenario_date_is_checked(capsys):
    assert main(["validate", SNAP]) == 0
    assert "Dated parameter changes (parameter_changes.csv): 9 (9 sourced), in force from 2022-05-19" in capsys.readouterr().out
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        Scenario(snapshot=SNAP, date="19 May 2022")


def test_the_command_line_says_which_date_s_parameters_it_runs_on(capsys):
    assert main(["simulate", "steth_june_2022"]) == 0
    assert "parameters in force on 2022-06-18 (9 dated changes of the snapshot applied)" in capsys.readouterr().out


def test_the_page_runs_a_dated_scenario_on_its_date_s_parameters():
    from dashboard.state import dated

    sc = datasets.preset("tac_june_2022").scenario
    assert _lt(dated(datasets.load(SNAP), sc)) == [0.81] * 9
    assert dated(datasets.load(SNAP), sc.model_copy(update={"date": None})) is datasets.load(SNAP)


def test_simulate_on_a_shipped_snapshot_applies_the_scenario_s_date():
    """``core.simulate(network, Scenario(date=...))`` on the shipped snapshot (as ``datasets.load`` serves it, at its
    own date or another's) runs the parameters in force on the scenario's date, as ``network_of`` does: the same
    result as on the dated network; and the date's network is what a dated network is put at."""
    sc = datasets.preset("steth_june_2022").scenario
    june = datasets.load(SNAP, at=sc.date)
    assert _lt(june) == [0.81] * 9
    on_june = core.simulate(june, sc).summary_dict()
    assert core.simulate(datasets.load(SNAP), sc).summary_dict() == on_june
    assert core.simulate(datasets.load(SNAP, at="2022-11-11"), sc).summary_dict() == on_june
    may = sc.model_copy(update={"date": "2022-05-13"})  # no change in force yet: the snapshot itself
    assert core.simulate(june, may).summary_dict() == core.simulate(datasets.load(SNAP), may.model_copy(
        update={"date": None})).summary_dict() != on_june


@pytest.mark.parametrize("how", ["folder", "synthetic"])
def test_simulate_refuses_a_dated_scenario_on_a_network_that_does_not_know_its_changes(how):
    """A network read from a folder (or any network not served by ``datasets.load``) has no record of its snapshot's
    dated changes: a dated scenario on it is refused with what was given, what was expected and how to run it,
    never run on the snapshot's own figures as if the date were not there."""
    net = core.load_network(datasets.data_path(SNAP)) if how == "folder" else datasets.synthetic(5, 5)
    sc = Scenario(date="2022-06-18", price_shocks={"ETH": -0.3} if how == "folder" else {})
    with pytest.raises(DataValidationError) as err:
        core.simulate(net, sc)
    (p,) = err.value.problems
    assert (p.file, p.column, p.value) == ("scenario", "date", "2022-06-18")
    for words in (f"network {net.name!r}", "not a shipped snapshot", "core.snapshots.load(NAME, at='2022-06-18')",
                  "core.presets.network_of(scenario)", "date to null"):
        assert words in p.expected
    assert core.simulate(net, sc.model_copy(update={"date": None})).summary_dict()["rounds"] >= 1  # undated: runs


def test_simulate_refuses_a_date_before_the_snapshot_s_own():
    with pytest.raises(DataValidationError, match="a date on or after 2022-05-06, the date of snapshot crypto-2022-05"):
        core.simulate(datasets.load(SNAP), Scenario(date="2022-05-01"))


def test_the_command_line_exits_2_on_a_dated_scenario_with_a_data_folder(capsys):
    """``sfm simulate --data FOLDER`` with a dated preset: exit 2 and the message; ``--data NAME`` re-dates it."""
    assert main(["simulate", "--data", str(datasets.data_path(SNAP)), "steth_june_2022"]) == 2
    err = capsys.readouterr().err
    assert "column 'date': found '2022-06-18'; expected no date on network 'crypto-2022-05'" in err
    assert "--data NAME, or no --data" in err
    assert main(["simulate", "--data", SNAP, "steth_june_2022"]) == 0
    assert "parameters in force on 2022-06-18 (9 dated changes of the snapshot applied)" in capsys.readouterr().out


def test_the_page_s_run_view_of_a_dated_preset_is_its_date_s_run_and_says_so():
    """The cascade view of the June preset on the 2022 page (the snapshot's own network in the store) is the run on
    the parameters of 18 June, and the prices chart names both dates: the snapshot's prices, the run's parameters."""
    from dashboard.cascade import run_view

    sc = datasets.preset("steth_june_2022").scenario
    view = run_view(datasets.load(SNAP), sc, False)
    assert view["result"].summary_dict() == core.simulate(datasets.load(SNAP, at=sc.date), sc).summary_dict()
    title = view["figures"]["chart-prices"]["layout"]["title"]["text"]
    assert title.endswith("(% of the price on 2022-05-06; parameters of 2022-06-18)"), title
