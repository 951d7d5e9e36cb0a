"""The safeguards a scenario puts in force, and the reserve impairments it imposes (:mod:`core.scenario`).

Each is a validated part of the scenario document: a circuit breaker, default costs, the safeguards an
analyst tests (collateral requirements, insurance funds, caps on liquidation bonus and close factor,
perpetuals venues' ADL rules and collateral policies), and a fiat-backed issuer's reserves lost or frozen.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .schema import MAX_AMOUNT_USD

__all__ = ["CircuitBreaker", "DefaultCosts", "ReserveImpairment", "Safeguards"]


class CircuitBreaker(BaseModel):
    """Halt liquidations and forced sales for ``rounds`` rounds once any price falls more than ``threshold`` within a round.

    Attributes
    ----------
    threshold : float
        Price fall within one round that trips the breaker, in (0, 1); default 0.2.
    rounds : int
        Rounds during which liquidations and forced sales are halted, 1-50; default 2.

    Raises
    ------
    pydantic.ValidationError
        On a value out of range (a ``ValueError``).

    Examples
    --------
    >>> CircuitBreaker(threshold=0.1)
    CircuitBreaker(threshold=0.1, rounds=2)
    """

    model_config = ConfigDict(extra="forbid")
    threshold: float = Field(0.2, gt=0.0, lt=1.0, description="Price fall within one round that trips the breaker (fraction).")
    rounds: int = Field(2, ge=1, le=50, description="Rounds during which liquidations and forced sales are halted.")


class DefaultCosts(BaseModel):
    """Rogers–Veraart (2013) default costs: shares of value a defaulted entity realises.

    Attributes
    ----------
    alpha : float
        Share of outside assets realised by a defaulted entity, in [0, 1] (1 = Eisenberg–Noe).
    beta : float
        Share of claims on others realised by a defaulted entity, in [0, 1].

    Raises
    ------
    pydantic.ValidationError
        On a value out of range (a ``ValueError``).

    Examples
    --------
    >>> DefaultCosts(alpha=0.5)
    DefaultCosts(alpha=0.5, beta=1.0)
    """

    model_config = ConfigDict(extra="forbid")
    alpha: float = Field(1.0, ge=0.0, le=1.0, description="Share of outside assets realised by a defaulted entity (1 = Eisenberg–Noe).")
    beta: float = Field(1.0, ge=0.0, le=1.0, description="Share of claims on others realised by a defaulted entity.")


class Safeguards(BaseModel):
    """Policy levers a scenario may change: circuit breaker, collateral requirements, insurance funds, liquidation caps.

    Governance's halt of a PSM against an impaired backing (``psm_governance_halt``) is on by default: the
    data's documented response (``psm_halt_hours`` of the pegs table); turn it off to test "governance does not act".

    Each field is described in :func:`scenario_schema` (``$defs.Safeguards``); the
    defaults leave the dataset as it is.

    Raises
    ------
    pydantic.ValidationError
        On an unknown field or a value out of range (a ``ValueError``).

    Examples
    --------
    >>> s = Safeguards(circuit_breaker=CircuitBreaker(), collateral_multiplier=1.5)
    >>> s.circuit_breaker.rounds, s.collateral_multiplier, s.max_close_factor
    (2, 1.5, None)
    """

    model_config = ConfigDict(extra="forbid")
    circuit_breaker: CircuitBreaker | None = Field(None, description="Circuit breaker; null for none.")
    collateral_multiplier: float = Field(1.0, ge=1.0, le=3.0, description="Tighter collateral requirements: liquidation thresholds are divided by this (1 = as in the data).")
    insurance_funds_usd: dict[str, float] = Field(default_factory=dict, description="Insurance-fund size per entity id (USD), replacing the dataset's.")
    insurance_multiplier: float = Field(1.0, ge=0.0, le=100.0, description="Multiplies every insurance fund of the dataset.")
    max_liquidation_bonus: float | None = Field(None, ge=0.0, le=1.0, description="Cap on liquidation bonus / penalty (fraction).")
    max_close_factor: float | None = Field(None, gt=0.0, le=1.0, description="Cap on close factor (fraction of debt per liquidation).")
    adl_rules: dict[str, Literal["adl", "socialised", "backstop_vault"]] = Field(default_factory=dict, description="ADL rule per perpetuals venue id, replacing the venue's (adl, socialised, or backstop_vault for a venue with a vault).")
    collateral_policies: dict[str, Literal["order_book", "index", "redemption_value"]] = Field(default_factory=dict, description="Collateral pricing policy per perpetuals venue id, replacing the venue's (order_book, index or redemption_value).")
    psm_governance_halt: bool = Field(True, description="Governance halts a PSM's sellGem once its backing coin has traded below the sell pin for the pegs table's psm_halt_hours (core.mechanisms.psm_halt; buyGem stays open); false: governance does not act, the PSM keeps taking the impaired backing.")

    @field_validator("insurance_funds_usd")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if not (0 <= x <= MAX_AMOUNT_USD)}
        if bad:
            raise ValueError(f"insurance fund sizes must be finite, non-negative USD of at most {MAX_AMOUNT_USD:g}, found {bad}")
        return v

    @property
    def active(self) -> bool:
        return (
            self.circuit_breaker is not None
            or self.collateral_multiplier != 1.0
            or bool(self.insurance_funds_usd)
            or self.insurance_multiplier != 1.0
            or self.max_liquidation_bonus is not None
            or self.max_close_factor is not None
            or bool(self.adl_rules)
            or bool(self.collateral_policies)
            or not self.psm_governance_halt
        )


class ReserveImpairment(BaseModel):
    """Part of a fiat-backed issuer's reserves lost or frozen (a bank failure), and how it resolves
    (:mod:`core.mechanisms.fiat_reserves`; the issuer's reserves are in the network's ``pegs`` table).

    Examples
    --------
    Circle's 8% at Silicon Valley Bank, frozen over a weekend and made whole on the third day:

    >>> imp = ReserveImpairment(fraction=0.08, resolved_round=2, rails_closed_rounds=2)
    >>> imp.reserve, imp.recovery_on_resolution
    ('cash', 1.0)
    """

    model_config = ConfigDict(extra="forbid")
    fraction: float = Field(..., gt=0.0, le=1.0, description="Share of the issuer's total reserves lost or frozen (0.08 = 8%), taken from the named reserve.")
    reserve: Literal["cash", "tbills", "other"] = Field("cash", description="Which reserve it hits: cash at banks, T-bills, or other; the fraction may not exceed that reserve's share.")
    expected_recovery: float = Field(0.0, ge=0.0, le=1.0, description="Share of the frozen reserves holders expect back while it is unresolved.")
    resolved_round: int | None = Field(None, ge=0, le=365, description="Round at which the impairment is resolved (a backstop); null: never.")
    recovery_on_resolution: float = Field(1.0, ge=0.0, le=1.0, description="Share of the frozen reserves returned at resolution (1 = a full backstop).")
    rails_closed_rounds: int = Field(0, ge=0, le=365, description="Rounds from round 0 during which the issuer's bank rails pay no redemptions (a weekend: 2 daily rounds).")
