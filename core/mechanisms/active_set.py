r"""The exact finishing step of a piecewise-affine fixed point: its linear system, solved by GMRES.

Once Picard iteration (:mod:`core.mechanisms.fixedpoint`) has identified the
regimes of a piecewise-affine map, :math:`x_i = c_i + m_i (Kx)_i` on the
*free* entries :math:`F` and :math:`x_i = f_i` elsewhere, its fixed point
solves one linear system on the free entries,

.. math:: (I - \operatorname{diag}(m) K)_{FF}\, y_F = c_F + m_F (K f)_F,

the fictitious-default step of Eisenberg & Noe (2001) and the linear step of
the Greatest Clearing Vector Algorithm of Rogers & Veraart (2013).
:func:`solve_active_set` solves it matrix-free (one sparse product per Krylov
step; never a dense or direct sparse factorisation, which fills in on large
random graphs) with :func:`gmres_solve`, a restarted GMRES (Saad & Schultz
1986) written here because its per-step overhead is a fraction of
``scipy.sparse.linalg.gmres``'s, which matters when each step is one sparse
product of about 0.2 ms. The caller verifies the candidate against the
nonlinear map (:func:`core.mechanisms.fixedpoint.picard_active_set`).

References
----------
.. [1] Saad, Y., & Schultz, M. H. (1986). GMRES: a generalized minimal
   residual algorithm for solving nonsymmetric linear systems. *SIAM Journal
   on Scientific and Statistical Computing*, 7(3), 856--869.
.. [2] Paige, C. C., Rozložník, M., & Strakoš, Z. (2006). Modified
   Gram--Schmidt (MGS), least squares, and backward stability of MGS-GMRES.
   *SIAM Journal on Matrix Analysis and Applications*, 28(1), 264--284.
.. [3] Eisenberg, L., & Noe, T. H. (2001). Systemic risk in financial systems.
   *Management Science*, 47(2), 236--249.
.. [4] Rogers, L. C. G., & Veraart, L. A. M. (2013). Failure and rescue in an
   interbank network. *Management Science*, 59(4), 882--898.

Examples
--------
Two entities each paying ``1 + 0.5 x_other``, both free: the fixed point is 2 each.

>>> import numpy as np, scipy.sparse as sp
>>> K = sp.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]]))
>>> x, ok = solve_active_set(K, np.array([True, True]), 1.0, 0.5, 0.0, np.zeros(2))
>>> np.round(x, 12).tolist(), ok
([2.0, 2.0], True)
"""

from __future__ import annotations

import numpy as np
from scipy.linalg.blas import daxpy

from ..chunks import single_threaded_blas

__all__ = ["solve_active_set", "gmres_solve"]


def solve_active_set(
    K,
    free: np.ndarray,
    offset: np.ndarray,
    coef: np.ndarray,
    fixed_values: np.ndarray,
    x0: np.ndarray,
    *,
    rtol: float = 1e-14,
    maxiter: int = 200,
    K_x0: np.ndarray | None = None,
) -> tuple[np.ndarray, bool]:
    r"""Solve a piecewise-affine fixed point exactly once its regimes are known.

    With the *free* entries :math:`F` known, the fixed point of
    :math:`x_i = c_i + m_i (K x)_i` (:math:`i \in F`) and :math:`x_i = f_i`
    (:math:`i \notin F`) solves the linear system

    .. math:: (I - \operatorname{diag}(m) K)_{FF}\, y_F = c_F + m_F (K f)_F,

    solved matrix-free with :func:`gmres_solve` (one sparse product per
    Krylov step) in correction form: with :math:`y^0` the initial guess on
    :math:`F` and :math:`f` elsewhere, the correction :math:`d = y - y^0`
    solves :math:`(I - \operatorname{diag}(m) K)_{FF}\, d_F = c_F + m_F (K y^0)_F - y^0_F`,
    the fixed-point residual at :math:`y^0`, so the right-hand side costs one
    product (none when the caller passes :math:`K y^0`).  Works on one vector
    (``x0`` of shape (n,)) or on a block of S scenarios at once (shape (n, S),
    each column with its own free set; the block-diagonal system is solved
    jointly, so there is no Python loop over scenarios).  BLAS runs on one
    thread meanwhile (:func:`core.chunks.single_threaded_blas`): the Krylov
    basis products are thin, and OpenBLAS's own threads slowed the solve.

    Parameters
    ----------
    K : sparse matrix or LinearOperator, shape (n, n)
    free : numpy.ndarray of bool, shape of ``x0``
    offset, coef : numpy.ndarray, broadcastable to ``x0``
        :math:`c` and :math:`m` above (only their values on ``free`` matter).
    fixed_values : numpy.ndarray, broadcastable to ``x0``
        :math:`f` (values on the non-free entries).
    x0 : numpy.ndarray
        Initial guess (e.g. the last Picard iterate).
    rtol : float, default 1e-14
        GMRES tolerance, relative to the norm of the initial guess on the
        free set.
    maxiter : int, default 200
        Maximum number of GMRES steps (sparse products).
    K_x0 : numpy.ndarray, optional
        ``K @ x0`` if the caller has it; used when ``x0`` already equals
        ``fixed_values`` off the free set.

    Returns
    -------
    x : numpy.ndarray
        Candidate fixed point (the caller must verify it against the
        nonlinear map: regimes may have been misidentified).
    ok : bool
        Whether GMRES's residual estimate met the tolerance.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> K = sp.csr_array(np.array([[0.0, 0.5], [0.5, 0.0]]))
    >>> x, ok = solve_active_set(K, np.array([True, True]), 1.0, 1.0, 0.0, np.zeros(2))
    >>> np.round(x, 12).tolist(), ok
    ([2.0, 2.0], True)
    """
    shape = x0.shape
    free = np.broadcast_to(free, shape)
    start = np.where(free, x0, np.broadcast_to(fixed_values, shape)).astype(np.float64, copy=False)
    at = np.flatnonzero(free)
    if at.size == 0:
        return start, True
    K_start = K_x0 if K_x0 is not None and np.array_equal(start, x0) else K @ start

    def on_free(a):
        a = np.broadcast_to(a, shape)
        return a.reshape(-1)[at] if a.flags.c_contiguous else a[free]

    m, start_free = on_free(coef), start.reshape(-1)[at]
    residual = on_free(offset) + m * on_free(K_start) - start_free
    # the tolerance is relative to the iterate's size, as for the uncorrected system
    atol = rtol * max(float(np.linalg.norm(start_free)), float(np.linalg.norm(residual)))
    with single_threaded_blas():
        if 4 * at.size <= 3 * free.size:
            # the Krylov vectors live on the free entries alone (a product scatters and gathers)
            full = np.zeros(free.size)

            def matvec(y):
                full[at] = y
                return y - m * (K @ full.reshape(shape)).reshape(-1)[at]

            d, ok = gmres_solve(matvec, residual, np.zeros(at.size), rtol=0.0, atol=atol, maxiter=maxiter,
                                trust_estimate=True)
        else:
            m_flat, b_flat = np.zeros(free.size), np.zeros(free.size)
            m_flat[at], b_flat[at] = m, residual
            m_full, b = m_flat.reshape(shape), b_flat.reshape(shape)
            d, ok = gmres_solve(lambda y: y - m_full * (K @ y), b, np.zeros(shape), rtol=0.0, atol=atol,
                                maxiter=maxiter, trust_estimate=True)
            d = d.reshape(-1)[at]
    x = start.reshape(-1)          # start is a new array (np.where): update it in place
    x[at] += d
    return x.reshape(shape), ok and bool(np.isfinite(d).all())


def gmres_solve(matvec, b: np.ndarray, x0: np.ndarray, *, rtol: float = 1e-14,
                maxiter: int = 200, restart: int = 30, atol: float = 0.0,
                trust_estimate: bool = False) -> tuple[np.ndarray, bool]:
    """Restarted GMRES (Saad & Schultz 1986) on arrays of any shape.

    A small matrix-free implementation (modified Gram--Schmidt, which is
    backward stable for GMRES (Paige, Rozložník & Strakoš 2006) and reads the
    Krylov basis half as often as classical Gram--Schmidt twice; Givens
    rotations on the Hessenberg matrix) whose
    per-step overhead is a fraction of ``scipy.sparse.linalg.gmres``'s, which
    matters here: each step costs one sparse product of ~0.2 ms.

    Parameters
    ----------
    matvec : callable
        ``y -> A y`` on arrays shaped like ``b``.
    b, x0 : numpy.ndarray
        Right-hand side and initial guess (same shape; (n,) or (n, S)).
    rtol, atol : float
        Stop when ``||b - A x||_2 <= max(rtol * ||b||_2, atol)``.
    maxiter : int
        Maximum number of matrix-vector products.
    restart : int
        Krylov subspace dimension before a restart.
    trust_estimate : bool, default False
        Return as soon as GMRES's own residual estimate (the last Givens
        entry) meets the tolerance, without one more product to compute the
        true residual; for callers that verify the result themselves.

    Returns
    -------
    x : numpy.ndarray
    ok : bool
        Whether the tolerance was met (``False`` also when a restart cycle
        fails to halve the residual: stagnation at rounding level).

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[2.0, 1.0], [0.0, 3.0]])
    >>> x, ok = gmres_solve(lambda v: A @ v, np.array([3.0, 3.0]), np.zeros(2))
    >>> np.round(x, 12).tolist(), ok
    ([1.0, 1.0], True)
    """
    shape = b.shape
    bv = b.ravel()
    x = np.array(x0, dtype=np.float64).ravel()
    N = bv.size
    bnorm = float(np.linalg.norm(bv))
    if bnorm == 0.0:
        return np.zeros(shape), True
    target = max(rtol * bnorm, atol)
    used = 0
    prev = np.inf
    estimate_met = False
    while True:
        if estimate_met and trust_estimate:
            return x.reshape(shape), True
        r = bv.copy() if used == 0 and not x.any() else bv - matvec(x.reshape(shape)).ravel()
        beta = float(np.linalg.norm(r))
        if beta <= target:
            return x.reshape(shape), True
        if used >= maxiter or beta > 0.5 * prev:     # budget spent or stagnation
            return x.reshape(shape), False
        prev = beta
        m = min(restart, maxiter - used, N)
        V = np.empty((m + 1, N))
        H = np.zeros((m + 1, m))
        cs = np.zeros(m)
        sn = np.zeros(m)
        g = np.zeros(m + 1)
        g[0] = beta
        V[0] = r / beta
        k = 0
        for j in range(m):
            w = matvec(V[j].reshape(shape)).ravel()
            used += 1
            h = np.empty(j + 1)
            for i in range(j + 1):          # modified Gram-Schmidt
                h[i] = V[i] @ w
                w = daxpy(V[i], w, a=-h[i])  # in place
            hn = float(np.linalg.norm(w))
            for i in range(j):              # apply previous Givens rotations
                hi, hi1 = h[i], h[i + 1]
                h[i] = cs[i] * hi + sn[i] * hi1
                h[i + 1] = -sn[i] * hi + cs[i] * hi1
            d = float(np.hypot(h[j], hn))
            cs[j], sn[j] = (1.0, 0.0) if d == 0.0 else (h[j] / d, hn / d)
            h[j] = d
            H[: j + 1, j] = h
            g[j + 1] = -sn[j] * g[j]
            g[j] = cs[j] * g[j]
            k = j + 1
            if abs(g[j + 1]) <= 0.5 * target or hn <= 1e-14 * beta or d == 0.0:
                break
            V[j + 1] = w / hn
        R = H[:k, :k]
        y = np.linalg.solve(R, g[:k]) if k else np.zeros(0)
        x = x + y @ V[:k]
        estimate_met = k > 0 and abs(g[k]) <= 0.5 * target
