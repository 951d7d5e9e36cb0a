"""Mechanisms of failure propagation (one module per mechanism).

Network contagion: ``clearing`` (Eisenberg-Noe, Rogers-Veraart), ``debtrank``
(Battiston 2012, Bardoscia 2015), ``furfine`` (sequential default), all built on
the shared monotone fixed-point core in ``fixedpoint``.  Import from the
submodules directly, e.g. ``from core.mechanisms.clearing import eisenberg_noe``.
"""
