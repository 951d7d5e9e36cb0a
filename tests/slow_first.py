"""The suite's longest tests start first on each xdist worker (``pytest -n 2 --dist worksteal``, the README's command).

Work stealing hands each worker one contiguous half of the collection and, when a worker runs dry, moves half of the
other's queue *from its tail*: a long test near the end of a queue cannot be moved once it is the worker's next test,
and the other worker waits for it. :func:`order` (called from ``tests/conftest.py``'s
``pytest_collection_modifyitems``, on every worker alike, so the collections stay identical) puts the tests of
:data:`SLOW` at the head of the two halves, the longest first, balanced between the halves (longest processing time
first); every other test keeps its place and order. Nothing is skipped or changed: only the order of the run.

A slow test moves with the tests it shares work with, so that work is still done once per worker:

* a test that uses a module-scoped fixture moves with its whole module (the fixture is built once, not twice);
* tests that compute one thing once per process for each other (a module's ``shared_work(item)`` names it:
  tests/test_invariants.py's searches per network and monotone entries' batches, which
  tests/test_counterexample_depths.py reads too) move together.

:data:`SLOW` holds the call (or set-up) times of ``--durations`` measured at session 32's start (the whole suite on
2 workers under a load average of ~10, so about three times the quiet figures): only their ranking is used.
"""

from __future__ import annotations

import os
from collections import defaultdict

import pytest

#: (node id, or node id of a parametrized function without its ``[...]``; seconds measured at session 32's start)
SLOW: tuple[tuple[str, float], ...] = (
    # one test of all seven bullets measured 272.96 s; split per bullet in session 32, shared by their CPU (s, children
    # included, measured alone): 0 2.6, 1 2.4, 2 4.6, 3 5.5, 4 17.1, 5 3.9, 6 4.4
    ("tests/test_scale_before_after.py::test_quick_mode_measures_every_bullet_on_both_trees[4]", 115.3),
    ("tests/test_scale_before_after.py::test_quick_mode_measures_every_bullet_on_both_trees[3]", 37.1),
    ("tests/test_scale_before_after.py::test_quick_mode_measures_every_bullet_on_both_trees[2]", 31.0),
    ("tests/test_scale_before_after.py::test_quick_mode_measures_every_bullet_on_both_trees[6]", 29.7),
    ("tests/test_scale_before_after.py::test_quick_mode_measures_every_bullet_on_both_trees[5]", 26.3),
    ("tests/test_scale_before_after.py::test_quick_mode_measures_every_bullet_on_both_trees[0]", 17.5),
    ("tests/test_scale_before_after.py::test_quick_mode_measures_every_bullet_on_both_trees[1]", 16.2),
    # 82.08 s measured; one engine run for its two measures since (13.1 s -> 5.6 s alone, quiet): 82.08 x 5.6 / 13.1
    ("tests/test_asset_oracle.py::test_monotone_and_no_value_created_with_usde_at_usdts_price", 35.1),
    ("tests/test_bench_scale.py::test_quick_mode_prints_every_goal", 77.96),
    ("tests/test_montecarlo.py::test_engine_rows_do_not_depend_on_batch_mates[crypto-2025-10]", 66.84),
    ("tests/test_streaming_risk.py::test_streamed_memory_does_not_grow_with_runs", 56.73),
    ("tests/test_positions.py::test_any_valid_positions_table_round_trips_exactly", 53.66),
    ("tests/test_run_panels_browser.py::test_the_critical_nodes_and_slider_are_of_the_run_on_screen[chromium]", 52.77),
    ("tests/test_montecarlo.py::test_engine_rows_do_not_depend_on_batch_mates[crypto-2022-05]", 47.67),
    ("tests/test_dashboard_2025_browser.py::test_names_are_whole_on_the_graph_and_in_the_hover_box[chromium]", 39.05),
    ("tests/test_psm_books.py::test_conservation_with_the_psm_swapping", 36.82),
    ("tests/test_positions.py::test_accounts_and_margins_of_any_book", 35.30),
    ("tests/test_invariants.py::test_no_value_created_in_falls[shipped]", 32.82),
    ("tests/test_invariants.py::test_prices_positive_and_finite[shipped]", 31.85),
    ("tests/test_dashboard_callbacks.py::test_large_synthetic_network_runs_end_to_end", 30.56),
    ("tests/test_streaming_risk.py::test_streamed_result_is_the_same_for_every_chunk_size_and_backend", 29.06),
    # set-up 26.94 + tear-down 28.31 measured; the tear-down's 20 s wait for a warm shutdown is gone since
    ("tests/test_celery_redis.py::test_a_worker_on_other_code_refuses_the_job", 35.25),
    ("tests/test_invariants.py::test_a_horizon_cut_entry_holds_once_its_runs_are_done[monotone-2025-jitosol-36-37-wbtc-35-36-steth-13-15-dai-depeg-9-hype-failed-half-runs-lag1-liquidity-042-capital-50m-sparklend-fixed-dai]", 28.24),
    ("tests/test_snapshot_diff.py::test_on_any_network_the_comparison_is_well_formed", 26.19),
    ("tests/test_invariants.py::test_a_horizon_cut_entry_holds_once_its_runs_are_done[monotone-2025-wbtc-weeth-steth-alts-lag2-capital-50m]", 26.11),
    ("tests/test_sky_end_cash.py::test_conservation", 24.99),
    ("tests/test_dashboard_forced_rounds_browser.py::test_a_dated_failure_is_set_on_the_page_and_rides_in_the_link[chromium]", 24.99),
    ("tests/test_dashboard_layout_browser.py::test_no_dropdown_cuts_its_text[chromium-size1]", 23.93),
    ("tests/test_celery_redis.py::test_a_monte_carlo_runs_end_to_end_on_a_celery_worker", 32.54),  # set-up 22.95 + call 9.59
    ("tests/test_dashboard_layout_browser.py::test_leader_lines_show_after_the_run_changes_in_the_page[chromium]", 22.47),
    ("tests/test_dashboard_layout_browser.py::test_no_dropdown_cuts_its_text[chromium-size0]", 22.34),
    ("tests/test_perps_round.py::test_any_book_over_two_rounds", 21.87),
    ("tests/test_streaming_risk.py::test_streamed_entities_and_paths_are_bit_identical_to_the_exact_run", 21.75),  # set-up
    ("tests/test_snapshots_browser.py::test_every_preset_of_every_snapshot_plays[chromium-black_thursday_2020]", 20.54),
    ("tests/test_jobstore.py::test_identical_inputs_at_the_same_moment_both_get_their_result", 18.99),
    ("tests/test_wheel.py::test_installed_sfm_validates_and_simulates_shipped_files", 18.62),
    ("tests/test_invariants.py::test_deeper_shock_never_lowers_loss_or_bad_debt[shipped]", 18.43),
    ("tests/test_invariants.py::test_a_horizon_cut_entry_holds_once_its_runs_are_done[monotone-shipped-luna-wbtc-steth-full-runs-lag2-capital-bad-debt]", 18.35),
    ("tests/test_chunks_heap.py::test_freed_arrays_are_not_faulted_in_again", 18.11),
    ("tests/test_snapshots_browser.py::test_every_preset_of_every_snapshot_plays[chromium-steth_june_2022]", 16.58),
    ("tests/test_data_model.py::test_cli_help_everywhere", 16.12),
    ("tests/test_montecarlo_speed_paths.py::test_runs_ordered_by_shock_depth_give_the_runs_in_their_own_order[crypto-2025-10]", 15.80),
    ("tests/test_dashboard_layout_browser.py::test_no_panel_cuts_its_text_at_the_bottom[chromium-size1]", 15.76),
    ("tests/test_maker_auctions.py::test_bark_matches_the_contract_for_vaults_above_twice_dust", 15.42),
    ("tests/test_one_run_on_screen_browser.py::test_a_new_run_replaces_every_figure_at_once[chromium]", 15.42),
    ("tests/test_ranking.py::test_ranking_is_bit_identical_on_processes_and_dask", 15.16),
    ("tests/test_snapshots_browser.py::test_every_preset_of_every_snapshot_plays[chromium-tac_june_2022]", 15.16),
    ("tests/test_dashboard_browser.py::test_play_advances_rounds[chromium]", 15.14),
    ("tests/test_web_bad_input.py::test_the_critical_tab_at_the_bound_stays_within_the_memory_budget", 15.12),
    ("tests/test_invariants.py::test_a_horizon_cut_entry_holds_once_its_runs_are_done[monotone-2025-jitosol-steth-shallow-full-runs-lag2-capital-50m-horizon]", 15.07),
    ("tests/test_invariants.py::test_a_horizon_cut_entry_holds_once_its_runs_are_done[monotone-synthetic1000-seed7-btc-luna-token-edge-lag2-capital]", 15.02),
    ("tests/test_dashboard_2025_browser.py::test_the_preset_menu_names_the_preset_on_screen[chromium-menu of another snapshot]", 15.00),
    ("tests/test_maker_auctions.py::test_bark_invariants", 14.90),
    ("tests/test_settle_ulps.py::test_closes_moving_by_an_ulp_a_round_do_not_hold_a_cascade_open", 14.82),
    ("tests/test_web_bad_input.py::test_browser_shows_the_body_cap_message_and_keeps_the_network[chromium]", 14.52),
    ("tests/test_dashboard_2025_browser.py::test_the_grid_bundle_loads_with_its_tab_not_with_the_page[chromium]", 14.38),
    ("tests/test_snapshots_browser.py::test_every_preset_of_every_snapshot_plays[chromium-black_thursday_eth_crash]", 14.36),
    ("tests/test_snapshots_browser.py::test_every_preset_of_every_snapshot_plays[chromium-october_2025_crash]", 14.24),
    ("tests/test_dashboard_browser.py::test_saved_scenario_loads_back_to_the_same_view[chromium]", 14.23),
    ("tests/test_page_review_browser.py::test_critical_headers_break_only_between_words[chromium-size0]", 14.19),
    ("tests/test_dashboard_2025_browser.py::test_labels_read_at_both_sizes_on_the_2025_snapshot[chromium-size0]", 13.95),
    ("tests/test_page_review_browser.py::test_critical_headers_break_only_between_words[chromium-size1]", 13.59),
    ("tests/test_invariants.py::test_counterexample[monotone-synthetic1000-seed7-btc-capital-50m-end-defaults]", 13.56),
    ("tests/test_jobstore.py::test_a_hostile_store_is_refused_and_never_unpickled[group-writable]", 13.54),
    ("tests/test_invariants.py::test_counterexample[monotone-shipped-eth-79-luna-maker-psm-failed-full-runs-capital-50m-end-bad-debt]", 13.49),
    ("tests/test_jobstore.py::test_a_hostile_store_is_refused_and_never_unpickled[planted cache.db of another owner]", 13.46),
    ("tests/test_invariants.py::test_a_horizon_cut_entry_holds_once_its_runs_are_done[monotone-shipped-btc-89-eth-76-lag1-liquidity-131-capital-50m]", 13.33),
    ("tests/test_dashboard_layout_browser.py::test_the_critical_grid_shows_its_columns_without_sideways_scrolling[chromium-size0]", 13.29),
    ("tests/test_dashboard_layout_browser.py::test_the_critical_grid_shows_its_columns_without_sideways_scrolling[chromium-size1]", 13.11),
    ("tests/test_invariants.py::test_a_horizon_cut_entry_holds_once_its_runs_are_done[monotone-shipped-btc-89-eth-76-lag1-liquidity-131-capital-50m-horizon-11-pool-claims-lag]", 12.93),
    ("tests/test_report_tables.py::test_one_pass_causes_equal_the_per_entity_filters", 12.60),
    ("tests/test_venues_browser.py::test_an_adl_rule_set_on_the_page_reaches_the_link_table_and_headline[chromium]", 12.56),
    ("tests/test_dashboard_2025_browser.py::test_labels_read_at_both_sizes_on_the_2025_snapshot[chromium-size1]", 12.48),
    ("tests/test_entity_card_browser.py::test_the_card_agrees_with_the_hover_box_and_the_grid_at_every_round[chromium-CELSIUS]", 12.42),
    ("tests/test_report_tables.py::test_paths_targets_by_row_are_the_looked_up_ones", 12.38),
    ("tests/test_jobstore.py::test_a_hostile_store_is_refused_and_never_unpickled[world-writable]", 12.38),
    ("tests/test_jobstore.py::test_a_hostile_store_is_refused_and_never_unpickled[other owner]", 12.28),
    ("tests/test_dashboard_layout_browser.py::test_no_panel_cuts_its_text_at_the_bottom[chromium-size0]", 12.21),
    ("tests/test_jobstore.py::test_gunicorn_stops_on_a_hostile_store_instead_of_restarting_workers", 12.08),
)


def _weight(nodeid: str) -> float:
    for key, seconds in SLOW:
        if nodeid == key or nodeid.startswith(key + "["):
            return seconds
    return 0.0


def _module_scoped(item: pytest.Item) -> bool:
    """Whether ``item`` uses a fixture built once per module (it then moves with its module)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(defs and defs[-1].scope == "module" for defs in info.name2fixturedefs.values())


def _unit_key(item: pytest.Item) -> tuple:
    """The block ``item`` moves in: its module, the work it shares with other tests, or itself."""
    module = item.nodeid.split("::", 1)[0]
    if _module_scoped(item):
        return (module,)
    shared = getattr(getattr(item, "module", None), "shared_work", None)
    key = shared(item) if shared is not None else None
    if key is not None:
        return ("shared", *key)
    return (item.nodeid,)


def _dist(config: pytest.Config) -> str | None:
    """The ``--dist`` mode of the run: a worker's own option says "no" (pytest-xdist resets it), so it is read from
    the command line the controller was started with."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return getattr(config.option, "dist", None)
    argv = list(workerinput.get("mainargv", []))
    for i, arg in enumerate(argv):
        if arg.startswith("--dist="):
            return arg.split("=", 1)[1]
        if arg == "--dist" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def order(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Reorder ``items`` in place for ``--dist worksteal`` on this worker count (see the module docstring)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
    if workers < 2 or _dist(config) != "worksteal" or not items:
        return
    units: dict[tuple, list[int]] = defaultdict(list)  # every item's block, in collection order
    for i, item in enumerate(items):
        units[_unit_key(item)].append(i)
    slow = {k: idx for k, idx in units.items() if any(_weight(items[i].nodeid) for i in idx)}
    if not slow:
        return
    moved = {i for idx in slow.values() for i in idx}
    weight = {k: sum(_weight(items[i].nodeid) for i in idx) for k, idx in slow.items()}
    # The halves worksteal hands out first: worker w gets len(pending) // (workers - w) of what is left.
    sizes, left = [], len(items)
    for w in range(workers):
        sizes.append(left // (workers - w))
        left -= sizes[-1]
    heads: list[list[int]] = [[] for _ in range(workers)]
    load = [0.0] * workers
    for k in sorted(slow, key=lambda k: (-weight[k], slow[k][0])):  # longest processing time first
        w = min((w for w in range(workers) if len(heads[w]) + len(slow[k]) <= sizes[w]), key=lambda w: load[w],
                default=None)
        if w is None:
            return  # cannot happen with a few dozen slow tests; leave the order alone rather than unbalance it
        heads[w].extend(slow[k])
        load[w] += weight[k]
    rest = iter(i for i in range(len(items)) if i not in moved)
    new = []
    for w in range(workers):
        new.extend(heads[w])
        new.extend(next(rest) for _ in range(sizes[w] - len(heads[w])))
    assert sorted(new) == list(range(len(items)))
    items[:] = [items[i] for i in new]
