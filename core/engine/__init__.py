"""The cascade engine: a round as a list of typed steps over a batch of scenarios.

A cascade runs in rounds until nothing changes or the horizon is reached.
:func:`~core.engine.rounds.run_round` is the one place that knows the order
of a round; each step is a function ``(compiled, state, batch, round) ->
changes`` in its own module, naming the state fields it reads and writes:

0. **Exogenous** (:mod:`~core.engine.exogenous`): the scenario's own moves —
   price shocks, depegs, sales into AMM pools, forced defaults (all in round 0;
   a forced default the scenario dates, ``forced_default_rounds``, at the start
   of its round, with round 0's treatment).
   The **circuit breaker** (:mod:`~core.engine.breaker`) then halts
   liquidations, runs and estate sales for a number of rounds once any price
   has fallen more than its threshold over the last round.
1. **Liquidations** (:mod:`~core.engine.liquidate`,
   :mod:`core.mechanisms.lending`): borrower cohorts are valued at oracle
   prices (``oracle_lag`` rounds old), liquidated under their protocol's rules
   within the liquidators' capacity; bad debt is booked at the protocol (its
   insurance fund pays it in before clearing, step 5).
   **Perpetuals** (:mod:`~core.engine.perps`, :mod:`core.perps_round`,
   :mod:`core.mechanisms.perps_book`): each venue marks its positions and
   their collateral under its own policy, liquidates into its market makers'
   shrinking depth and covers the deficits by backstop vault, insurance fund,
   then ADL or a socialised haircut; forced closes are sales or purchases for
   step 3, ADL'd accounts, vaults and venues book their losses for step 5.
2. **Runs** (:mod:`~core.engine.withdraw`, :mod:`core.mechanisms.runs`):
   depositors of entities that owe depositor aggregates withdraw at a rate
   rising with the entity's distress; withdrawals are paid in kind. Too little
   to pay is a liquidity default (a lending pool's runners not paid wait
   instead: the pool is fully utilised, not failed).
3. **Sales and price impact** (:mod:`~core.engine.sell`,
   :mod:`core.mechanisms.market`, :mod:`core.mechanisms.amm`): collateral
   seized by liquidators is sold, and the market sells ahead of defaulted
   estates, which are frozen and keep their tokens for their creditors at the
   prices of the end; a token whose price an AMM pool sets is swapped into
   that pool, every other token moves by the square-root law.
4. **Pegs** (:mod:`~core.engine.defend`, :mod:`core.mechanisms.pegs`): a
   reserve defending a pegged token below peg buys it in its pool; an
   algorithmic stablecoin below peg is redeemed for its backing token by
   mint-and-burn, and the holders queued beyond what it serves sell into its
   pool (:mod:`~core.engine.queue_sales`); a stablecoin whose issuer defaulted trades at the issuer's
   recovery; an exchange token follows its issuer's equity.
5. **Mark to market, defaults and clearing** (:mod:`~core.engine.clear`,
   :mod:`core.mechanisms.clearing`): the Rogers–Veraart map applied once per
   round, so a default reaches creditors one round later (Furfine's
   sequential default) and the rounds converge to the greatest clearing vector.

The state (:class:`~core.engine.state.CascadeState`) carries a leading
scenario axis on every array, so a batch of scenarios (each entity as the
seed of a failure, or Monte Carlo draws) is one run; a large batch is cut
into chunks that fit a core's cache and run on threads (:mod:`core.chunks`),
with the same results.

Accounting conventions (stated once, used throughout)
-----------------------------------------------------
* Outside assets of entity i: token holdings at market, other assets, its
  equity in protocol positions (collateral minus debt, floored at 0: the
  shortfall is the protocol's bad debt), a protocol's loan book (its cohorts'
  debt; a protocol's own stablecoin counts at peg), its legs of collateralised
  loans, and in-kind claims it holds on others.
* A collateralised loan of ``owed`` with ``u`` units of collateral splits at
  reference prices into a secured leg ``s0 = min(owed, u·p0)`` and an
  unsecured claim ``owed − s0`` that enters clearing. The secured leg is worth
  ``min(s0, u·p)`` to the creditor and ``max(0, u·p − s0)`` to the debtor, so
  the collateral's value is split, never counted twice.
* Claims of depositors, customers and liquidity providers are *in kind*
  (:func:`~core.engine.books.inkind_index`): they follow the assets held for them.
* In-kind claims are the debtor's outside liabilities, paid pro rata with its
  network claims; what remains of depositors' claims after withdrawals is
  what clearing pays on.
* Bad debt shrinks a protocol's loan book; its insurance fund pays it in
  first, then covers loans still under water at the closing prices (which
  the books write off), then its equity absorbs the rest, and what exceeds
  that reaches its suppliers through clearing. A lending pool is a
  pass-through (:mod:`core.mechanisms.pass_through`): that shortfall is its
  suppliers' pro-rata haircut (``supplier_haircut_usd``), and the pool counts
  as failed only beyond a 3% haircut. A CDP protocol
  with pooled collateral (Sai's PETH) draws on the pool's owners before its
  stablecoin's holders.
* An entity's loss is ``E0 − max(E, 0)`` (limited liability: its creditors
  record the rest as their own losses); system loss adds outside creditors'
  write-downs and insurance-fund draws.
"""

from .batch import ScenarioBatch, scenario_batch
from .compiled import Compiled, Group, Product, compile_network
from .outcome import BatchResult
from .rounds import run_batch, run_round, simulate, simulate_batch
from .state import CascadeState
from ..results import CascadeResult

__all__ = ["BatchResult", "CascadeResult", "CascadeState", "Compiled", "Group", "Product", "ScenarioBatch",
           "compile_network", "run_batch", "run_round", "scenario_batch", "simulate", "simulate_batch"]
