"""Presets name their snapshot; the newest snapshot is the default; the command line runs a preset on its own system.

Checks: the scenario field ``snapshot`` (optional; an unknown name lists the shipped ones),
``core.datasets.presets / presets_of / load_preset / resolve``, ``sfm simulate <preset>``
without ``--data``, ``sfm describe``'s sourced share per table, and Monte Carlo's historical
replay keeping each episode on its own snapshot.
"""

from __future__ import annotations

import json

import pytest

import core
from core import datasets
from core.cli import main
from core.montecarlo import run_montecarlo, select_episodes
from core.scenario import Scenario, parse_scenario
from core.validation import DataValidationError

OLD, NEW, BT = "crypto-2022-05", "crypto-2025-10", "crypto-2020-03"


# -- the scenario field ------------------------------------------------------------------------------

def test_a_scenario_without_snapshot_stays_valid():
    sc = parse_scenario({"name": "old file", "price_shocks": {"ETH": -0.3}})
    assert sc.snapshot is None
    assert "snapshot" in core.scenario.scenario_schema()["properties"]
    assert "snapshot" not in core.scenario.scenario_schema().get("required", [])


def test_an_unknown_snapshot_is_an_error_listing_the_shipped_ones():
    with pytest.raises(DataValidationError) as exc:
        parse_scenario('{"name": "x", "snapshot": "crypto-1999-01"}', file="x.json")
    text = str(exc.value)
    assert "x.json" in text and "snapshot" in text and "crypto-1999-01" in text
    for s in datasets.available():
        assert s.name in text


def test_the_shipped_schema_file_is_the_model_s():
    shipped = json.loads(datasets.data_path("scenarios", "scenario.schema.json").read_text(encoding="utf-8"))
    assert shipped == core.scenario.scenario_schema()


# -- presets per snapshot --------------------------------------------------------------------------------

def test_every_preset_names_a_shipped_snapshot_and_applies_to_it():
    names = {s.name for s in datasets.available()}
    presets = datasets.presets()
    assert presets, "no shipped presets"
    for p in presets:
        assert p.snapshot in names, f"{p.key} names no shipped snapshot"
        p.scenario.check_against(datasets.load(p.snapshot))


def test_presets_of_partitions_the_presets_by_snapshot():
    every = {p.key for p in datasets.presets()}
    parts = [{p.key for p in datasets.presets_of(s.name)} for s in datasets.available()] + [{p.key for p in datasets.presets_of(None)}]
    assert set().union(*parts) == every
    assert sum(len(x) for x in parts) == len(every)  # each preset under one snapshot
    assert {p.key for p in datasets.presets_of(BT)} >= {"black_thursday_2020"}
    assert {p.key for p in datasets.presets_of(OLD)} >= {"terra_may_2022", "steth_june_2022", "tac_june_2022", "ftx_nov_2022",
                                                          "black_thursday_eth_crash"}
    with pytest.raises(KeyError, match=NEW):
        datasets.presets_of("crypto-1999-01")


def test_load_preset_gives_the_preset_with_its_network():
    sc, net = datasets.load_preset("black_thursday_2020")
    assert net is datasets.load(BT) and sc.name == "black_thursday_2020"
    sc, net = datasets.load_preset("terra_may_2022")
    assert net is datasets.load(OLD)
    assert datasets.network_of(Scenario()) is datasets.default()
    with pytest.raises(DataValidationError, match="terra_may_2022"):
        datasets.load_preset("terra")


def test_the_hypothetical_crash_on_2022_says_so():
    p = datasets.preset("black_thursday_eth_crash")
    assert p.snapshot == OLD
    assert p.scenario.description.startswith("Hypothetical")


# -- the default is the newest snapshot --------------------------------------------------------------------

def test_default_is_the_newest_snapshot():
    newest = datasets.available()[-1]
    assert datasets.DEFAULT_DATASET == newest.name == NEW
    assert datasets.default() is datasets.load(newest.name)


def test_resolve_reads_a_name_a_folder_or_nothing(tmp_path):
    assert datasets.resolve(OLD) is datasets.load(OLD)
    assert datasets.resolve(None) is datasets.default()
    assert datasets.resolve(str(datasets.data_path(BT))).n_entities == datasets.load(BT).n_entities
    with pytest.raises(DataValidationError) as exc:
        datasets.resolve("crypto-1999-01", "B")
    assert "'B'" in str(exc.value) and OLD in str(exc.value)


# -- the command line ---------------------------------------------------------------------------------------

def test_simulate_runs_a_preset_on_its_own_snapshot(capsys):
    assert main(["simulate", "black_thursday_2020"]) == 0
    assert "Scenario: black_thursday_2020 on crypto-2020-03" in capsys.readouterr().out
    assert main(["simulate", str(datasets.data_path("scenarios", "terra_may_2022.json"))]) == 0
    assert "Scenario: terra_may_2022 on crypto-2022-05" in capsys.readouterr().out


def test_simulate_with_data_of_another_snapshot_says_so(tmp_path, capsys):
    f = tmp_path / "eth.json"
    f.write_text(json.dumps({"name": "eth-30", "snapshot": OLD, "price_shocks": {"ETH": -0.3}}), encoding="utf-8")
    assert main(["simulate", str(f), "--data", NEW]) == 0
    captured = capsys.readouterr()
    assert "written for snapshot crypto-2022-05; running it on crypto-2025-10" in captured.err
    assert "Scenario: eth-30 on crypto-2025-10" in captured.out
    assert main(["simulate", str(f)]) == 0
    assert "Scenario: eth-30 on crypto-2022-05" in capsys.readouterr().out


def test_simulate_of_an_unknown_preset_exits_2_listing_them(capsys):
    assert main(["simulate", "terra"]) == 2
    err = capsys.readouterr().err
    assert "terra_may_2022" in err and "Traceback" not in err


def test_describe_prints_the_sourced_share_of_every_table(capsys):
    assert main(["describe", "--data", OLD]) == 0
    out = capsys.readouterr().out
    counts = datasets.sourced_counts(datasets.load(OLD))
    assert "Sourced share by table:" in out
    for table, r in counts.iterrows():
        assert f"{table:<22} {int(r.sourced):>4} of {int(r.rows):<4} {r.sourced_share:6.1%}" in out
    assert main(["describe", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["name"] == NEW and set(doc["sourced_by_table"]) == set(counts.index)


# -- Monte Carlo's historical replay ------------------------------------------------------------------------

def test_historical_replay_keeps_each_episode_on_its_own_snapshot():
    net = datasets.load(OLD)
    chosen, skipped = select_episodes(net)
    assert set(chosen) == {p.key for p in datasets.presets_of(OLD)}
    assert "black_thursday_2020" in skipped and BT in skipped["black_thursday_2020"]
    res = run_montecarlo(net, {"source": "historical"}, runs=100, seed=2, chunk_size=100)
    assert set(res.losses["episode"]) <= set(chosen)
    assert res.meta["episodes_skipped"] == skipped
    bt, none_skipped = select_episodes(datasets.load(BT))
    assert set(bt) == {p.key for p in datasets.presets_of(BT)}
    assert all(OLD in why or NEW in why for why in none_skipped.values())


def test_an_episode_named_for_another_snapshot_is_an_error():
    with pytest.raises(DataValidationError) as exc:
        select_episodes(datasets.load(OLD), ["black_thursday_2020"])
    assert "--data crypto-2020-03" in str(exc.value)


def test_historical_replay_on_a_snapshot_without_episodes_says_which_were_left_out():
    net = datasets.load(NEW)
    if datasets.presets_of(NEW):
        chosen, _ = select_episodes(net)
        assert set(chosen) == {p.key for p in datasets.presets_of(NEW)}
    else:
        with pytest.raises(DataValidationError, match="terra_may_2022: written for snapshot crypto-2022-05"):
            select_episodes(net)


def test_dashboard_data_takes_a_snapshot_name(capsys):
    from dashboard.state import load

    assert load("crypto-2020-03")[0] is datasets.load(BT)
    assert load()[0] is datasets.default()
    assert main(["dashboard", "--data", "crypto-1999-01"]) == 2
    err = capsys.readouterr().err
    assert "--data" in err and "crypto-1999-01" in err and NEW in err and "Traceback" not in err
