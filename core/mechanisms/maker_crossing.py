r"""When within a round Maker's vaults are barked, and at what prices their auctions start and clear.

A round stands for hours or days (``round_hours``), while the contracts act within minutes: a vault is
barked as soon as the OSM price crosses its liquidation ratio, and its Clipper auction clears within the
hour its price curve needs to reach what keepers pay. Barking every vault that is unsafe at the round's
*end* at the end-of-round price, as one step, sells a vault that crossed early in a falling round at the
day's low: on the stETH preset's 72-hour round from ETH 1,443 to 1,067 (-26%), ETH-B vaults that crossed
130% near 1,363 were sold at 1,026 with their ratio at 102%, and Maker took bad debt June 2022 did not see.

Model
-----
Within a round of ``T`` seconds the OSM price (the feed) and the market move log-linearly between the prices
Maker's step saw the round before (:math:`p_0`, :math:`m_0`) and the ones it sees now (:math:`p_1`,
:math:`m_1`): :math:`p(u) = p_0 e^{Lu}`, :math:`m(u) = m_0 e^{Ku}`, :math:`L = \ln(p_1/p_0)`,
:math:`K = \ln(m_1/m_0)`, :math:`u = t/T`. A vault whose ratio over ``mat`` (at par) is :math:`\rho < 1` at
:math:`p_1` crossed at the feed :math:`p^* = p_1/\rho`, at

.. math:: u^*(\rho) = \operatorname{clip}\!\left(1 - \frac{\ln\rho}{L},\ 0,\ 1\right)\ (L < 0), \qquad u^* = 0\ (L \ge 0),

(0: unsafe at the round's start, e.g. kept back by ``hole`` or a halt). ``dog.bark`` starts its auction
then, ``clip.kick`` setting ``top = feed(u^*) * buf``, and keepers take it ``delay`` seconds later
(:math:`\delta = \text{delay}/T`), when the curve reaches what they pay, at the market of that moment,
never past the round's end:

.. math:: q(\rho) = m_0\, e^{K \min(u^* + \delta,\ 1)} .

A cohort's barked slice holds vaults spread uniformly in debt over :math:`\rho \in [\rho_{lo}, \rho_{hi}]`
(:mod:`~core.mechanisms.cohort_spread`), with collateral in proportion to :math:`\rho`; its auction is one
slot, so the slice is summed into a collateral-weighted kick feed :math:`\bar p`, take market
:math:`\bar q` and kick time :math:`\bar u` (closed forms over the three pieces :math:`\rho \le e^L`
(:math:`u^* = 0`), :math:`e^L < \rho < e^{\delta L}` (:math:`q \propto \rho^{-K/L}`) and
:math:`\rho \ge e^{\delta L}` (:math:`q = m_1`)). With the market on the feed's path (:math:`K = L`), a vault
barked at its crossing fetches :math:`\rho\,q/p_1 = e^{L\delta}` times ``mat`` times its debt at the take:
every vault that crosses in time sells at the same ratio, whatever its ratio at the round's end.

Only the prices move: the auction's slot keeps the round's clock (its curve runs, and keepers may take it,
over the whole round, as when every vault was barked at the round's end), so a vault crossing too late for
keepers within the round is taken at the round's end market, as before. [Model: a cohort's slice is one
slot; giving it the window left after its mean kick time made the slices that crossed late in two-hour rounds
wait a round, and join the next barks on a curve already far below the market.]

``delay`` is the auction's life on its curve (:func:`core.engine.maker_book.auction_seconds`) plus what is
left of the OSM's hour once the rounds' oracle lag is counted (:func:`delay_seconds`). With
``delay >= T`` every vault clears at the round's end market (the one-step model).

Conventions: arrays broadcast to the cohorts' shape ``(S, c)``; prices > 0. [Model: the price path within a
round is not in the scenario; log-linear is the least-information path between its two prices; a round
whose feed rises barks at the round's start. A scenario's *gap* (a price shock applied at once) is no path:
the engine starts round 0's path after it, :func:`core.engine.maker.round_zero_start`.]

References
----------
* MakerDAO ``dss`` ``dog.sol`` ``bark``: any keeper may bark a vault once
  ``ink * spot < art * rate`` (``Dog/not-unsafe``), ``spot = val / par / mat`` from ``spot.sol`` ``poke``.
* ``clip.sol`` ``kick``: ``top = rmul(getFeedPrice(), buf)``, the OSM's price at the bark; ``take`` at
  ``calc.price(top, now - tic)``, the StairstepExponentialDecrease of ``abaci.sol`` (``cut`` 0.99 every
  60-90 s for ETH in 2022: MakerDAO forum t/7628, t/8477).
* ``osm.sol`` (Oracle Security Module): ``hop`` = 3600 s; ``poke`` moves ``nxt`` to ``cur`` once an hour,
  and ``peek`` returns ``cur``: the price the Spotter and the Clipper read is one to two hours old.
* https://docs.makerdao.com/smart-contract-modules/dog-and-clipper-detailed-documentation,
  https://docs.makerdao.com/smart-contract-modules/oracle-module/oracle-security-module-osm-detailed-documentation
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["OSM_HOP_SECONDS", "CrossingTerms", "crossing_terms", "delay_seconds"]

#: ``osm.sol`` ``hop``: the OSM releases the price it read an hour before (seconds).
OSM_HOP_SECONDS = 3600.0


@dataclass(frozen=True)
class CrossingTerms:
    """A cohort's barked slice within the round, collateral-weighted; (S, c) arrays.

    Attributes
    ----------
    kick_feed : the OSM price at the barks (the auction's ``top`` is this times ``buf``)
    take_market : the market price when keepers take
    kick_share : share of the round gone at the barks (0: its start)

    Examples
    --------
    Vaults already unsafe when a round began are barked at its start, at its first prices:

    >>> t = crossing_terms(1000.0, 800.0, 1000.0, 800.0, 0.7, 0.7, 0.0)
    >>> round(float(t.kick_feed), 6), round(float(t.take_market), 6), float(t.kick_share)
    (1000.0, 1000.0, 0.0)
    """

    kick_feed: np.ndarray
    take_market: np.ndarray
    kick_share: np.ndarray


def delay_seconds(auction_seconds, round_seconds, lag_rounds):
    """Seconds from a vault's crossing on the round's feed path to the keepers' take: the auction's life on
    its curve, plus the OSM's hour (:data:`OSM_HOP_SECONDS`) beyond what the rounds' oracle lag already holds.

    Examples
    --------
    ETH-B's 22 one-minute steps: in 72-hour rounds with no lag, 22 minutes plus the hour; in two-hour rounds
    with a one-round lag, the 22 minutes alone.

    >>> delay_seconds(1320.0, [259200.0, 7200.0], [0, 1]).tolist()
    [4920.0, 1320.0]
    """
    hop_left = np.maximum(OSM_HOP_SECONDS - np.asarray(lag_rounds, float) * np.asarray(round_seconds, float), 0.0)
    return np.asarray(auction_seconds, float) + hop_left


def _power_integral(low, high, exponent):
    r""":math:`\int_{low}^{high} \rho^{x - 1} d\rho = (high^x - low^x)/x`, :math:`\ln(high/low)` at x = 0 (0 < low <= high)."""
    a, b = np.log(low), np.log(high)
    x = np.asarray(exponent, float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = (np.expm1(x * b) - np.expm1(x * a)) / x
        # A steep exponent (a feed that barely fell against a market that did: x ~ -K/L) overflows both powers,
        # inf - inf: the same integral with the larger power factored out, e^{x t}(1 - e^{-|x|(b - a)})/|x|,
        # t the end where rho^x is largest; an empty interval integrates to 0.
        top = np.where(x > 0, b, a)
        factored = np.exp(x * top) * -np.expm1(-np.abs(x) * (b - a)) / np.abs(x)
    out = np.where(np.isfinite(out), out, factored)
    out = np.where(b > a, out, 0.0)
    return np.where(np.abs(x) < 1e-12, b - a, out)


def _rho_log_integral(low, high):
    r""":math:`\int_{low}^{high} \rho \ln\rho \, d\rho`."""
    def f(r):
        return 0.5 * r * r * np.log(r) - 0.25 * r * r
    return f(high) - f(low)


def crossing_terms(feed_start, feed_end, market_start, market_end, ratio_low, ratio_high, delay_share) -> CrossingTerms:
    r"""Kick feed, take market and kick time of a cohort's barked slice (module docstring).

    Parameters
    ----------
    feed_start, feed_end : array_like
        The OSM price at the round's start and end (> 0).
    market_start, market_end : array_like
        The market price at the round's start and end (> 0).
    ratio_low, ratio_high : array_like
        The barked vaults' lowest and highest ratio over ``mat`` at ``feed_end`` (> 0; equal for one vault).
    delay_share : array_like
        Delay from the crossing to the take, as a share of the round (>= 0).

    Returns
    -------
    CrossingTerms

    Examples
    --------
    The stETH preset's ETH-B vaults at 102% (mat 130%, :math:`\rho` = 0.7831) after ETH's 72-hour fall from
    1,442.54 to 1,067.02, with 82 minutes from crossing to take: they crossed at 1,362.6, 19% into the
    round (13.6 hours), and keepers take at a market of 1,354.8, not 1,067.02.

    >>> t = crossing_terms(1442.54, 1067.02, 1442.54, 1067.02, 1.018 / 1.3, 1.018 / 1.3, 4920.0 / 259200.0)
    >>> round(float(t.kick_feed), 1), round(float(t.take_market), 1), round(float(t.kick_share) * 72, 2)
    (1362.6, 1354.8, 13.61)

    A slice spread over ratios 0.90-0.95 of ``mat`` after a 10% fall in a day, one hour's delay: every vault
    crossed in the round (the lowest at 1,000, the highest at 947.4) and sells at its crossing price less
    the hour's fall, :math:`0.9^{1/24}` = 0.44%.

    >>> t = crossing_terms(1000.0, 900.0, 1000.0, 900.0, 0.90, 0.95, 1 / 24)
    >>> round(float(t.kick_feed), 2), round(float(t.take_market), 2)
    (972.97, 968.71)
    """
    p0, p1 = np.asarray(feed_start, float), np.asarray(feed_end, float)
    m0, m1 = np.asarray(market_start, float), np.asarray(market_end, float)
    lo = np.minimum(np.asarray(ratio_low, float), 1.0)
    hi = np.minimum(np.maximum(np.asarray(ratio_high, float), lo), 1.0)
    delta = np.asarray(delay_share, float)
    L, K = np.log(p1 / p0), np.log(m1 / m0)
    falling = L < 0
    Ls = np.where(falling, L, -1.0)                                  # a safe divisor where the feed did not fall
    # one vault (or a slice too thin for the integrals): the point values
    u_pt = np.where(falling, np.clip(1.0 - np.log(hi) / Ls, 0.0, 1.0), 0.0)
    p_pt = p0 * np.exp(L * u_pt)
    q_pt = m0 * np.exp(K * np.minimum(u_pt + delta, 1.0))
    # a slice: piece A (unsafe at the start, rho <= e^L), B (crossed, taken within the round), C (taken at its end)
    bA = np.where(falling, np.exp(Ls), np.inf)
    bB = np.maximum(np.where(falling, np.exp(delta * Ls), np.inf), bA)
    a1 = np.clip(bA, lo, hi)
    b1 = np.clip(bB, lo, hi)
    half_sq = 0.5 * (a1 * a1 - lo * lo)                              # piece A: [lo, a1]
    p_sum = p0 * half_sq + p1 * (hi - a1)                            # B and C: the crossing feed p1 / rho
    beta2 = np.where(falling, 2.0 - K / Ls, 2.0)                     # q ~ rho^(-K/L) in B: integrand rho^(1 - K/L)
    q_sum = (m0 * np.exp(K * np.minimum(delta, 1.0)) * half_sq
             + m0 * np.exp(K * (1.0 + delta)) * _power_integral(a1, b1, beta2)
             + m1 * 0.5 * (hi * hi - b1 * b1))
    u_sum = 0.5 * (hi * hi - a1 * a1) - _rho_log_integral(a1, hi) / Ls
    weight = 0.5 * (hi * hi - lo * lo)
    thin = weight <= 1e-9 * hi * hi
    w = np.where(thin, 1.0, weight)
    return CrossingTerms(kick_feed=np.where(thin, p_pt, p_sum / w), take_market=np.where(thin, q_pt, q_sum / w),
                         kick_share=np.where(thin, u_pt, np.where(falling, u_sum / w, 0.0)))
