"""``sfm montecarlo`` and ``sfm sweep``: correlated-shock Monte Carlo and parameter sweeps from the command line.

Both show a progress bar on stderr (tqdm) and print their figures, each with
its standard error; ``--out`` writes the full result (JSON, or CSV for a sweep
when the file ends in ``.csv``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .. import datasets
from .common import (data_help, EXIT_OK, _network, usd, add_backend_args, check_backend_args, check_output, json_text,
                     non_negative_int, positive_float, positive_int, progress_bar, write_text_atomic)
from ..scenario import MAX_SCENARIO_BYTES
from ..validation import DataValidationError, Problem


def _spec(args: argparse.Namespace):
    from ..montecarlo import parse_spec
    from ..scenario import load_scenario

    doc: dict[str, Any] = _load_spec_doc(args.spec) if getattr(args, "spec", None) else {}
    for key, attr in (("dist", "dist"), ("df", "df"), ("horizon_days", "horizon_days"), ("source", "source"), ("path", "path")):
        v = getattr(args, attr, None)
        if v is not None:
            doc[key] = v
    if getattr(args, "scenario", None):
        doc["base"] = json.loads(load_scenario(args.scenario).model_dump_json())
    return parse_spec(doc, file=args.spec or "command line")


def _load_spec_doc(path: str) -> dict[str, Any]:
    """A Monte Carlo spec file, read strictly (BOM accepted; duplicate keys, NaN, booleans for numbers refused)."""
    from ..montecarlo import MonteCarloSpec, parse_spec
    from ..strict_json import boolean_problems, read_json_file

    doc, text = read_json_file(path, "a Monte Carlo spec JSON file", max_bytes=MAX_SCENARIO_BYTES)
    if isinstance(doc, dict):
        booleans = boolean_problems(doc, MonteCarloSpec, path, text)
        if booleans:
            raise DataValidationError(booleans)
    return json.loads(parse_spec(doc, file=path).model_dump_json())


def _result_json(res) -> str:
    """The Monte Carlo result as strict JSON: a non-finite cell is null, with its reason under ``null_reasons``."""
    from ..montecarlo_result import _RESULT_TABLES
    from ..result_tables import non_finite_cells

    doc = json.loads(res.to_json())
    reasons = [r for name in _RESULT_TABLES for r in non_finite_cells(getattr(res, name), name)]
    if reasons:
        doc["null_reasons"] = reasons
    return json_text(doc)


def cmd_montecarlo(args: argparse.Namespace) -> int:
    """``sfm montecarlo``: correlated-shock Monte Carlo; print the risk figures with standard errors."""

    from ..montecarlo import run_montecarlo

    check_backend_args(args)
    out = check_output(args.out, force=args.force)  # before any work
    spec = _spec(args)
    # without --data, a base scenario written for a snapshot runs on that snapshot (as sfm simulate does)
    net = _network(args.data) if args.data is not None or not spec.base.snapshot else datasets.network_of(spec.base)
    update, close = progress_bar("montecarlo")
    try:
        res = run_montecarlo(net, spec, runs=args.runs, seed=args.seed, backend=args.backend, workers=args.workers,
                             scheduler=args.scheduler, chunk_size=args.chunk_size, progress=update,
                             streaming=args.streaming)
    finally:
        close()
    text = _result_json(res) if out is not None or args.json else ""
    if out is not None:
        write_text_atomic(out, text)
        print(f"wrote {out}", file=sys.stderr)
    if args.json:
        print(text)
        return EXIT_OK
    m = res.meta
    episodes = f"{len(set(res.losses['episode']))} " if "episode" in res.losses and len(res.losses) else ""
    how = (f"replay of {episodes}preset episodes" if spec.source == "historical" else
           f"correlated {spec.dist} shocks{f' (df {spec.df:g})' if spec.dist == 't' else ''} over {spec.horizon_days:g} day(s)"
           f"{' as a path' if spec.path == 'daily' and spec.horizon_days * 24 > spec.base.round_hours else ''}")
    print(f"Monte Carlo: {m['runs']:,} runs, seed {m['seed']}, {how}, backend {m['backend']}, {m['elapsed_s']:.1f} s")
    for key, why in (m.get("episodes_skipped") or {}).items():
        print(f"  episode {key} not replayed on {m.get('network') or 'this network'}: {why}")
    print(f"  system equity {usd(m['system_equity_usd'])}; figures are value ± standard error; bad debt at ref.: "
          "the debt tokens' units at reference prices (a stablecoin at its peg) and what Maker's End, caged above "
          "the market, leaves DAI's holders short; marked: at each run's close")
    # bad debt at reference prices (debt-token units at the tokens' reference prices, a stablecoin at its peg) beside
    # the same marked at each run's close (core.engine.reference_bad_debt)
    names = {"system_loss_usd": "system loss", "bad_debt_reference_usd": "bad debt at ref.", "bad_debt_usd": "bad debt marked",
             "insolvent_debt_usd": "insolvent debt", "liquidated_usd": "liquidated"}
    for q, label in names.items():
        parts = []
        for _, r in res.risk[res.risk["quantity"] == q].iterrows():
            tag = "mean" if r.metric == "mean" else f"{r.metric}{r.confidence * 100:g}"
            parts.append(f"{tag} {usd(r.value)} ± {usd(r.standard_error)}")
        print(f"  {label:<16} " + "; ".join(parts))
    ent = res.entities[res.entities["probability_of_default"] > 0].head(args.top)
    if len(ent):
        print("Probability of default (± SE) and expected loss:")
        for _, r in ent.iterrows():
            print(f"  {str(r['name'])[:34]:<34} PD {r.probability_of_default:7.2%} ± {r.pd_standard_error:.2%}   "
                  f"EL {usd(r.expected_loss_usd)} ± {usd(r.el_standard_error)}")
    else:
        print("No entity defaulted in any run.")
    p = res.paths[res.paths["probability"] > 0].head(args.top)
    if len(p):
        print("Contagion paths (both default, debtor first):")
        for _, r in p.iterrows():
            print(f"  {r.debtor:>14} → {r.creditor:<14} {r.probability:7.2%} ± {r.standard_error:.2%}  exposure {usd(r.exposure_usd)}")
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    """``sfm sweep``: vary one or two safeguard parameters over a grid; print or write the table."""

    from ..result_tables import csv_text
    from ..scenario import Scenario, load_scenario
    from ..sweep import parse_grid, sweep

    check_backend_args(args)
    out = check_output(args.out, force=args.force)  # before any work
    grid = dict(parse_grid(p) for p in args.param)
    if len(grid) != len(args.param):
        raise DataValidationError([Problem("command line", None, "--param", ", ".join(args.param), "distinct parameters")])
    base = load_scenario(args.scenario) if args.scenario else None
    # without --data, a scenario written for a snapshot sweeps on that snapshot (as sfm simulate runs it)
    net = _network(args.data) if args.data is not None or base is None or not base.snapshot else datasets.network_of(base)
    runs = args.runs if args.runs is not None else (0 if base is not None else 1000)
    spec = None
    if runs > 0:
        spec = _spec(argparse.Namespace(**{**vars(args), "scenario": None}))
        if base is None:
            base = spec.base
    update, close = progress_bar("sweep")
    try:
        df = sweep(net, base if base is not None else Scenario(name="sweep-base"), grid, spec=spec, runs=runs, seed=args.seed,
                   backend=args.backend, workers=args.workers, scheduler=args.scheduler, chunk_size=args.chunk_size,
                   progress=update)
    finally:
        close()
    if out is not None:
        if out.suffix.lower() == ".csv":
            write_text_atomic(out, csv_text(df))
        else:
            write_text_atomic(out, json_text(df.to_dict(orient="records"), indent=1))
        print(f"wrote {out}", file=sys.stderr)
    if args.json:
        print(json_text(df.to_dict(orient="records"), indent=1))
        return EXIT_OK
    names = list(grid)
    what = f"{runs:,} Monte Carlo runs per cell (mean ± SE)" if runs else "one deterministic cascade per cell"
    print(f"Sweep of {', '.join(names)} on '{base.name if base else 'sweep-base'}': {len(df)} cells, {what}")
    head = "".join(f"{n[:22]:>23}" for n in names)
    print(f"{head} {'bad debt':>12} {'uncovered':>12} {'liquidated':>12} {'total loss':>12} {'defaults':>9} {'P(insolv.)':>11}  solvent")
    for _, r in df.iterrows():
        vals = "".join(f"{r[n]:>23}" if isinstance(r[n], str) else f"{r[n]:>23.4g}" for n in names)
        print(f"{vals} {usd(r.bad_debt_usd):>12} {usd(r.uncovered_bad_debt_usd):>12} {usd(r.liquidated_usd):>12} "
              f"{usd(r.total_loss_usd):>12} {r.defaults:>9.2f} {r.p_insolvent:>11.2%}  {'yes' if r.solvent else 'no'}")
    return EXIT_OK


def _common(s: argparse.ArgumentParser) -> None:
    s.add_argument("--data", metavar="NAME_OR_PATH", help=data_help())
    s.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0); same seed, same result on every backend")
    s.add_argument("--dist", choices=("normal", "t"), default=None, help="distribution of shocks (default normal)")
    s.add_argument("--df", type=positive_float, default=None, help="Student-t degrees of freedom (default 4)")
    s.add_argument("--horizon-days", dest="horizon_days", type=positive_float, default=None, help="shock horizon in days (default 1)")
    s.add_argument("--path", choices=("daily", "jump"), default=None,
                   help="a path of one draw per round over the horizon (default), or one square-root-of-time jump")
    s.add_argument("--source", choices=("parametric", "historical"), default=None,
                   help="correlated parametric shocks (default) or replay of the preset episodes in data/scenarios")
    s.add_argument("--spec", metavar="FILE", help="Monte Carlo spec JSON (jumps, depegs, base conditions); flags override it")
    add_backend_args(s, "runs")
    s.add_argument("--chunk-size", dest="chunk_size", type=positive_int, default=2000,  # core.montecarlo.DEFAULT_CHUNK
                   help="runs per task, a multiple of 100 (default 2000)")
    s.add_argument("--json", action="store_true", help="print JSON instead of text")
    s.add_argument("--force", action="store_true", help="replace --out if it exists (atomically)")


def _runs(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of runs, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number of runs, got {v}")
    return v


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``montecarlo`` and ``sweep`` to the sub-command parsers."""
    s = sub.add_parser("montecarlo", help="Monte Carlo of correlated shocks: loss distribution, VaR/ES, PDs, contagion paths",
                       description="Draw correlated shocks (normal or Student-t, with depegs and jumps) or replay the preset "
                                   "episodes, run each through the cascade engine, and report VaR and expected shortfall of "
                                   "system loss, bad debt, insolvent debt and liquidations, each entity's probability of "
                                   "default and expected loss, and contagion-path probabilities, each with its standard error.")
    s.add_argument("--runs", type=_runs, default=10_000, help="number of scenarios (default 10000)")
    s.add_argument("--scenario", metavar="FILE", help="base conditions (run intensity, liquidity, safeguards) from a scenario JSON")
    s.add_argument("--out", metavar="FILE", help="write the full result as JSON")
    s.add_argument("--top", type=positive_int, default=10, help="entities and paths to list (default 10)")
    s.add_argument("--streaming", action="store_true",
                   help="keep no per-run table: memory flat in --runs; VaR/ES from a sketch within 0.1%% of the exact "
                        "figures, their standard errors from 20 sections instead of the bootstrap")
    _common(s)
    s.set_defaults(func=cmd_montecarlo)

    s = sub.add_parser("sweep", help="vary one or two safeguard parameters over a grid: bad debt and liquidations per cell",
                       description="Run the cascade on a grid of one or two parameters (collateral_multiplier, "
                                   "max_liquidation_bonus, max_close_factor, circuit_breaker_threshold, insurance_multiplier, "
                                   "run_intensity, liquidity) and report bad debt, liquidations, losses and defaults per cell. "
                                   "With --scenario and no --runs each cell is one deterministic cascade; otherwise each cell "
                                   "sees the same Monte Carlo draws (default 1000 runs).")
    s.add_argument("--param", action="append", required=True, metavar="NAME=start:stop:steps",
                   help="a parameter and its grid (or NAME=v1,v2,...); give one or two")
    s.add_argument("--scenario", metavar="FILE", help="base scenario JSON (its shocks and conditions)")
    s.add_argument("--runs", type=_runs, default=None, help="Monte Carlo runs per cell (default: 0 with --scenario, else 1000)")
    s.add_argument("--out", metavar="FILE", help="write the table: CSV when FILE ends in .csv, JSON otherwise")
    _common(s)
    s.set_defaults(func=cmd_sweep)
