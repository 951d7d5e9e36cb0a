"""Mechanisms of failure propagation (one module per mechanism).

Network contagion: ``clearing`` (Eisenberg-Noe, Rogers-Veraart; solved in
``clearing_solver``, one round at a time in ``sequential_clearing``, on the
networks that ``liability_network`` checks and orients), ``debtrank``
(Battiston 2012, Bardoscia 2015), ``furfine`` (sequential default), all built on
the shared monotone fixed-point core in ``fixedpoint``.  Import from the
submodules directly, e.g. ``from core.mechanisms.clearing import eisenberg_noe``.

Stablecoins and staking tokens: ``fiat_reserves`` (named reserves, impairment,
redemption queue, re-peg), ``psm`` (Maker's PSM and partly-collateralised
coins), ``cdp_premium`` (deleveraging demand), ``liquid_staking`` (pool
discount, redemption or carry floor, LP withdrawals), ``lst_arbitrage`` (the
arbitrage capital the discount draws, netted with the round's sellers), ``lst_holdings`` (that
capital as a position held to redemption, arriving since the shock), ``pegs`` (reduced forms),
``algorithmic_stablecoin`` (the UST/LUNA spiral and the reserve defending it). Maker: ``maker_dog`` (dog.sol: unsafe test, bark, incentive), ``maker_clip`` (clip.sol),
``maker_backstop`` (vow.sol and flop.sol), ``maker_flip`` (2020 flip.sol),
``maker_crossing`` (barks at the OSM's crossing within a round, osm.sol),
``maker_liquidations`` (one round of all of them), ``vault_defence`` (owners repaying before
the Dog barks). Lenders' fees and dust:
``lender_fees``; liquidations themselves: ``lending`` (the close-factor rules of Aave, Compound v2 and Anchor),
``vault_auction`` (Maker-style vaults outside the Maker system), ``comet_absorb`` (Compound v3), their common
record ``liquidation_result``, and ``liquidators`` (who is served first when their capital is shared).
"""
