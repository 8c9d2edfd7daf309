r"""Exact solver of the inner minimisation of the crop-aware box loss.

Pure PyTorch (no registries): the inner problem of Eq. (2) of *Improving
Panoptic Segmentation at All Scales*,

.. math::

    \Delta^* = \arg\min_{\Delta \in \rho_A(G, C)} L_{BB}(\Delta_P; \Delta),

for box deltas in mmdet's ``DeltaXYWHBBoxCoder`` encoding, normalised by the
coder's ``target_means`` / ``target_stds`` exactly as the box loss sees them.

Notation
--------
Per dimension (x: ``dx, dw``, left/right; y: ``dy, dh``, top/bottom), raw
deltas are :math:`\delta = n_c s_c + m_c` (centre offset, in anchor
widths) and :math:`t = n_w s_w + m_w` (log width; :math:`\omega = e^t` in the
paper).  The sides, in anchor units, are :math:`L = \delta - e^t/2` and
:math:`R = \delta + e^t/2`.  SmoothL1 acts on normalised differences and
:math:`\ell_\beta(z/s) = \ell_{\beta s}(z)/s`, so one dimension costs

.. math::

    k_A h_\alpha(\delta - \delta_P) + k_B h_\gamma(t - t_P),\qquad
    k_A = 1/s_c,\ \alpha = \beta s_c,\ k_B = 1/s_w,\ \gamma = \beta s_w,

with :math:`h_a` the Huber function of threshold :math:`a`.  Alg. 1-3 of
the paper assume :math:`k_A = k_B = 1, \alpha = \gamma = \beta`; everything
below holds for any positive :math:`k_A, \alpha, k_B, \gamma`.

Feasible set and reduction to O1 (Sec. 2.4, Alg. 2)
---------------------------------------------------
An untruncated side stays; a truncated side only moves outward
(:math:`L \le L_G` for left/top, :math:`R \ge R_G` for right/bottom).  The
problem separates over x and y.

* No truncated side: the set is :math:`\{G\}`; the target is returned as is.
* One truncated side (O1).  Left fixed: :math:`\delta = L_G + e^t/2`,
  :math:`p = \delta_P - L_G`; right fixed: :math:`\delta = R_G - e^t/2`,
  :math:`p = R_G - \delta_P`.  Both give

  .. math::

      \min_{t \ge t_0} f(t) = k_A h_\alpha(x/2 - p) + k_B h_\gamma(t - q),
      \qquad x = e^t,\ q = t_P,\ t_0 = t_G .

  (Paper: :math:`\hat\omega = 2p`; :math:`f'(t) = \omega\,\xi'(\omega)` is
  the :math:`\sigma` of Prop. 8, so monotone :math:`f'` in :math:`t` is
  monotone :math:`\sigma` in :math:`\omega`.)
* Both sides truncated (O2).  Prop. 2 holds verbatim with weights (its proof
  only uses that :math:`h'` has the sign of its argument): either
  :math:`(\delta_P, t_P)` is feasible, hence optimal, or the optimum is on
  :math:`\{L = L_G, t \ge t_G\} \cup \{R = R_G, t \ge t_G\}`: two O1s.  All
  candidates are evaluated and the best is kept.

Global minimiser of O1 (the analogue of Props. 3-8 and Alg. 1)
--------------------------------------------------------------
:math:`f'(t) = g(t) + b(t)` is continuous, with
:math:`g = k_A \frac{x}{2} c(\frac{x/2 - p}{\alpha})`,
:math:`b = k_B c(\frac{t - q}{\gamma})` and :math:`c(z) = \max(-1,
\min(1, z))`.

*Bracket (Props. 3-5).*  :math:`f' < 0` for :math:`t < m_1 = \min(\log 2p,
q)` (:math:`p > 0`; both terms negative) and for :math:`t < m_2 = \min(q -
\gamma, \log(2k_B/k_A))` (:math:`b = -k_B`, :math:`|g| \le k_A x/2 < k_B`);
:math:`f' > 0` for :math:`t > h_1 = \max(\log 2p, q)` (both terms positive;
:math:`\log 2p := -\infty` for :math:`p \le 0`) and for :math:`t > h_2 =
\log(2\max(p + \alpha, k_B/k_A))` (:math:`g = k_A x/2 > k_B`).  So a global
minimiser lies in :math:`[lo, hi]`, :math:`lo = \max(t_0, m_1, m_2)`,
:math:`hi = \max(lo, \min(h_1, h_2))`, both finite; :math:`hi = lo` (e.g.
Prop. 4) gives :math:`t^* = lo` at once.

*Shape of g (Prop. 7).*  With :math:`z = x/2 - p`: :math:`dg/dx =
-k_A/2` for :math:`z < -\alpha`, :math:`k_A(x - p)/(2\alpha)` for
:math:`|z| \le \alpha`, :math:`k_A/2` for :math:`z > \alpha`.  Hence for
:math:`p > 0` and :math:`x_g = \max(p, 2(p - \alpha))`, :math:`g` is
strictly decreasing for :math:`x < x_g` and strictly increasing for
:math:`x > x_g` (for :math:`p \le 0` increasing everywhere,
:math:`x_g := 0`).  :math:`b` is non-decreasing, constant outside
:math:`I_b = [q - \gamma, q + \gamma]`.

*Where f' increases (Prop. 8).*  Let :math:`t_g = \log x_g`.

* :math:`R = [t_g, \infty)`: :math:`g` strictly increasing, :math:`b`
  non-decreasing.
* :math:`t < t_g`, :math:`t \notin I_b`: :math:`f' = g \pm k_B` strictly
  decreasing.
* :math:`t < t_g`, :math:`t \in I_b`: :math:`f'' = t`-derivative of
  :math:`g` :math:`+ k_B/\gamma`.  For :math:`z < -\alpha` it is
  :math:`k_B/\gamma - k_A x/2`, positive iff :math:`x < x_c = 2k_B/(\gamma
  k_A)`.  For :math:`|z| \le \alpha` (and :math:`x < p`) it has the sign of
  :math:`x^2 - px + c`, :math:`c = 2\alpha k_B/(\gamma k_A)`: positive
  except on :math:`(\nu_1, \nu_2)`, :math:`\nu_{1,2} = (p \mp \sqrt{p^2 -
  4c})/2` when :math:`p^2 > 4c` (the paper's :math:`\nu_{1,2}` for unit
  weights).

So :math:`f'` is increasing on the closed segments

* :math:`S_1 = I_b \cap \{z \le -\alpha\} \cap \{x \le x_c\}`,
* :math:`S_2 = I_b \cap \{|z| \le \alpha\} \cap \{x \le \min(p, \nu_1)\}`,
* :math:`S_3 = I_b \cap \{|z| \le \alpha\} \cap [\nu_2, p]` (if
  :math:`p^2 > 4c`),
* :math:`R`,

and strictly decreasing on the rest of :math:`[lo, hi]`, where :math:`f`
has no interior local minimum.  A global minimiser is therefore
:math:`lo`, :math:`hi`, or lies in one of these segments (clipped to
:math:`[lo, hi]`), on which :math:`f` is convex, and Alg. 3 (``FIND_MIN``)
returns the segment's minimiser: :math:`u` if :math:`f'(u) \ge 0`,
:math:`v` if :math:`f'(v) \le 0`, else the unique zero of :math:`f'`,
found by bisection.  The candidate with the lowest :math:`f` is the global
minimum.  No sorting or data-dependent branching is needed.

*Bisection width.*  :math:`S_{1,2,3} \subset I_b` have width at most
:math:`2\gamma`.  In :math:`R` a zero of :math:`f'` lies in :math:`I_b`, or
outside it where :math:`b = \pm k_B` and hence :math:`g = \mp k_B`, which
needs :math:`x \ge 2k_B/k_A` and :math:`x < 2p` (for :math:`t > q +
\gamma`) or :math:`x > 2p` (for :math:`t < q - \gamma`).  :math:`R` is
therefore searched as the three disjoint parts :math:`R \cap I_b`,
:math:`R \cap [\max(\log\frac{2k_B}{k_A}, q + \gamma), \min(h_2, \log
2p)]` and :math:`R \cap [\max(\log\frac{2k_B}{k_A}, \log 2p), \min(h_2, q
- \gamma)]`, each at most :math:`\max(2\gamma, \log\max(1, (p +
\alpha)k_A/k_B))` wide, while both ends of :math:`R` stay candidates.
Splitting these parts at :math:`z = \alpha` leaves no Huber switch inside
any segment, so there :math:`f'/k_B = a_2 x^2 + a_1 x + b_1 t + b_0` in
closed form.  :data:`_BISECTION_STEPS` halvings bound the error by the
width times :math:`2^{-32}`; one secant step in the final bracket refines
it further.

Gradient: by Prop. 1 (envelope theorem) the loss gradient is the SmoothL1
gradient at the returned, detached, target.

Numerical guards: float64 throughout; raw deltas are clamped to
:math:`\pm 10^{300}` and the target log width to :math:`\le 700`;
logarithms of non-positive numbers are :math:`-\infty` and every candidate
is clipped to :math:`[lo, hi]`, so finite inputs never give NaN or inf
(zero-width visible boxes, :math:`t_G = -\infty`, included).
"""
from typing import Sequence, Tuple, Union

import torch
from torch import Tensor

from mmpanoptic_cabb.structures.box_sides import BOTTOM, LEFT, RIGHT, TOP

__all__ = ['cabb_targets']

# Bisection halvings per bracket (see "Bisection width").
_BISECTION_STEPS = 32
_RAW_LIMIT = 1e300
_MAX_LOG_WIDTH = 700.0

FloatSeq = Union[Sequence[float], Tensor]


def _log(x: Tensor) -> Tensor:
    """``log(x)`` for ``x > 0`` and ``-inf`` elsewhere (never NaN)."""
    return x.clamp_min(0.0).log()


def _huber(z: Tensor, thr: Tensor) -> Tensor:
    """Huber function of threshold ``thr``: ``m (|z| - m / 2) / thr`` with
    ``m = min(|z|, thr)`` (equal to mmdet's SmoothL1 pieces)."""
    a = z.abs()
    m = torch.minimum(a, thr)
    return torch.add(a, m, alpha=-0.5).mul_(m).div_(thr)


def _objective(t: Tensor, p: Tensor, q: Tensor, k_a: Tensor, alpha: Tensor,
               k_b: Tensor, gamma: Tensor) -> Tensor:
    """O1 objective ``f(t)``; parameters broadcast against ``t``."""
    return (k_a * _huber(0.5 * t.exp() - p, alpha) +
            k_b * _huber(t - q, gamma))


def _scaled_derivative(t: Tensor, p: Tensor, q: Tensor, k_a: Tensor,
                       alpha: Tensor, k_b: Tensor, gamma: Tensor) -> Tensor:
    """``f'(t) / k_B`` (same sign as ``f'``); parameters broadcast."""
    x = t.exp()
    c_a = ((0.5 * x - p) / alpha).clamp_(-1.0, 1.0)
    c_b = ((t - q) / gamma).clamp_(-1.0, 1.0)
    return c_b.addcmul_(x * (0.5 * k_a / k_b), c_a)


def _bisect(u: Tensor, v: Tensor, params: Tuple[Tensor, ...]) -> Tensor:
    """Zero of an increasing ``f'`` on ``[u, v]`` given ``f'(u)<0<f'(v)``.

    No Huber piece switches inside a bracket, so there, with ``x = e^t``,
    ``f'(t) / k_B = a_2 x^2 + a_1 x + b_1 t + b_0`` with coefficients read
    off the pieces at the bracket's midpoint.  Fixed number of halvings,
    then one secant step in the final bracket.
    """
    p, q, k_a, alpha, k_b, gamma = params
    mid = 0.5 * (u + v)
    rho = 0.5 * k_a / k_b
    z_a = 0.5 * mid.exp() - p
    quad_a = z_a.abs() < alpha
    a_2 = torch.where(quad_a, 0.5 * rho / alpha, torch.zeros_like(rho))
    a_1 = rho * torch.where(quad_a, -p / alpha, z_a.sign())
    z_b = mid - q
    quad_b = z_b.abs() < gamma
    b_1 = torch.where(quad_b, 1.0 / gamma, torch.zeros_like(gamma))
    b_0 = torch.where(quad_b, -q / gamma, z_b.sign())

    def scaled_derivative(t: Tensor) -> Tensor:
        x = t.exp()
        return torch.addcmul(b_0, b_1,
                             t).addcmul_(torch.addcmul(a_1, a_2, x), x)

    lower, width = u, v - u
    for step in range(_BISECTION_STEPS):
        mid = torch.add(lower, width, alpha=0.5**(step + 1))
        lower = torch.where(scaled_derivative(mid).signbit(), mid, lower)
    upper = torch.add(lower, width, alpha=0.5**_BISECTION_STEPS)
    f_lower, f_upper = scaled_derivative(lower), scaled_derivative(upper)
    frac = (-f_lower / (f_upper - f_lower)).nan_to_num(0.5).clamp_(0.0, 1.0)
    return torch.addcmul(lower, frac, upper - lower).clamp_(u, v)


def _solve_o1(t0: Tensor, p: Tensor, q: Tensor, k_a: Tensor, alpha: Tensor,
              k_b: Tensor, gamma: Tensor) -> Tuple[Tensor, Tensor]:
    """Global minimiser of ``f(t)`` over ``t >= t0`` for a batch of O1s.

    Args:
        t0 (Tensor): (M,) lower bound on the log width (target's log width).
        p (Tensor): (M,) signed distance from the fixed side to the
            predicted centre (half the paper's :math:`\\hat\\omega`).
        q (Tensor): (M,) predicted log width.
        k_a (Tensor): (M,) weight of the centre term.
        alpha (Tensor): (M,) Huber threshold of the centre term.
        k_b (Tensor): (M,) weight of the log-width term.
        gamma (Tensor): (M,) Huber threshold of the log-width term.

    Returns:
        tuple[Tensor, Tensor]: the minimiser ``t*`` (M,) and ``f(t*)`` (M,).
    """
    params = (p, q, k_a, alpha, k_b, gamma)
    log_2p = _log(2.0 * p)
    ratio = k_b / k_a
    # Bracket [lo, hi] (Props. 3-5).
    m1 = torch.minimum(log_2p, q)  # -inf where p <= 0
    m2 = torch.minimum(q - gamma, (2.0 * ratio).log())
    lo = torch.maximum(t0, torch.maximum(m1, m2))
    h1 = torch.maximum(log_2p, q)
    h2 = (2.0 * torch.maximum(p + alpha, ratio)).log()
    hi = torch.maximum(lo, torch.minimum(h1, h2))
    best_t = lo
    # Where hi == lo the answer is lo (e.g. Prop. 4); solve the rest.
    open_idx = (hi > lo).nonzero(as_tuple=True)[0]
    if open_idx.numel() > 0:
        best_t = best_t.clone()
        lo_o, hi_o, h2_o, *params_o = torch.stack([lo, hi, h2, *params],
                                                  1)[open_idx].unbind(1)
        best_t[open_idx] = _minimise_in_bracket(lo_o, hi_o, h2_o,
                                                tuple(params_o))
    return best_t, _objective(best_t, *params)


def _minimise_in_bracket(lo: Tensor, hi: Tensor, h2: Tensor,
                         params: Tuple[Tensor, ...]) -> Tensor:
    """Global minimiser of ``f`` over ``[lo, hi]`` (``lo < hi``).

    Args:
        lo (Tensor): (M,) lower end of the bracket.
        hi (Tensor): (M,) upper end of the bracket.
        h2 (Tensor): (M,) the bound :math:`h_2` of the module docstring.
        params (tuple[Tensor]): ``(p, q, k_a, alpha, k_b, gamma)``, each (M,).

    Returns:
        Tensor: (M,) the minimiser.
    """
    p, q, k_a, alpha, k_b, gamma = params
    inf = torch.full_like(p, float('inf'))
    ratio = k_b / k_a
    log_p = _log(p)
    log_z_lo = _log(2.0 * (p - alpha))  # z = -alpha
    log_z_hi = _log(2.0 * (p + alpha))  # z = +alpha
    t_g = torch.maximum(log_p, log_z_lo)  # log(x_g); -inf where p <= 0
    q_lo, q_hi = q - gamma, q + gamma
    c = 2.0 * alpha * ratio / gamma
    disc = p * p - 4.0 * c
    has_nu = (p > 0) & (disc > 0)
    nu_2 = 0.5 * (p + disc.clamp_min(0.0).sqrt())
    log_nu_1 = torch.where(has_nu, _log(c / nu_2), inf)  # nu_1 nu_2 = c
    log_nu_2 = torch.where(has_nu, _log(nu_2), inf)
    mx, mn = torch.maximum, torch.minimum
    log_2p = log_p + 0.6931471805599453
    r_lo = mx(t_g, (2.0 * ratio).log())
    # Segments S1, S2, S3 and the parts of R that can hold a zero of f':
    # R n I_b, and outside I_b (where x >= 2 k_B / k_A) the parts with
    # g = -k_B < 0 (t > q + gamma, x < 2p) and g = k_B (t < q - gamma,
    # x > 2p); see the module docstring.  Parts of R are further split at
    # z = alpha so that no Huber piece switches inside any segment.
    r_i_b = mx(t_g, q_lo)
    r_g_pos = mx(r_lo, log_2p)
    starts = torch.stack([
        q_lo,
        mx(q_lo, log_z_lo),
        mx(mx(q_lo, log_z_lo), log_nu_2),
        r_i_b,
        mx(r_i_b, log_z_hi),
        mx(r_lo, q_hi),
        r_g_pos,
        mx(r_g_pos, log_z_hi),
    ], 1)
    ends = torch.stack([
        mn(mn(q_hi, log_z_lo), (2.0 * ratio / gamma).log()),
        mn(mn(q_hi, log_z_hi), mn(log_p, log_nu_1)),
        mn(mn(q_hi, log_z_hi), log_p),
        mn(q_hi, log_z_hi),
        q_hi,
        mn(h2, log_2p),
        mn(mn(h2, q_lo), log_z_hi),
        mn(h2, q_lo),
    ], 1)
    lo_col, hi_col = lo[:, None], hi[:, None]
    starts = mn(mx(starts, lo_col), hi_col)
    ends = mx(mn(ends, hi_col), starts)  # empty segment -> one point
    cols = [x[:, None] for x in params]
    slopes = _scaled_derivative(torch.cat([starts, ends], 1), *cols)
    slope_start, slope_end = slopes.chunk(2, dim=1)
    # FIND_MIN (Alg. 3) on every segment, f' increasing: start if
    # f'(start) >= 0, end if f'(end) <= 0, else the zero in between.
    start_neg = slope_start < 0
    found = torch.where(start_neg, ends, starts)
    bracketed = start_neg & (slope_end > 0)
    prob, seg = bracketed.nonzero(as_tuple=True)
    if prob.numel() > 0:
        lane = torch.stack(params, 1)[prob].unbind(1)
        found[prob, seg] = _bisect(starts[prob, seg], ends[prob, seg], lane)
    cands = torch.cat([lo_col, hi_col, mn(mx(t_g, lo), hi)[:, None], found], 1)
    best = _objective(cands, *cols).argmin(dim=1, keepdim=True)
    return cands.gather(1, best).squeeze(1)


def _as_column_params(values: FloatSeq, ref: Tensor) -> Tensor:
    """Convert means/stds to a float64 tensor of shape (4,) on ``ref``."""
    out = torch.as_tensor(values, dtype=torch.float64, device=ref.device)
    if out.numel() != 4:
        raise ValueError(f'expected 4 values, got {out.numel()}')
    return out.reshape(4)


@torch.no_grad()
def cabb_targets(
    pred: Tensor,
    target: Tensor,
    truncated: Tensor,
    beta: float = 1.0,
    means: FloatSeq = (0., 0., 0., 0.),
    stds: FloatSeq = (1., 1., 1., 1.)
) -> Tensor:
    """Closest crop-aware box target to each prediction (Eq. 2 of the paper).

    For every row, returns the box of the CABB set (untruncated sides fixed,
    truncated sides moved outward or kept) minimising
    ``sum(SmoothL1_beta(pred - target'))`` in the normalised delta space of
    mmdet's ``DeltaXYWHBBoxCoder`` (``raw = normalised * std + mean``).

    Args:
        pred (Tensor): (N, 4) predicted normalised deltas (dx, dy, dw, dh).
        target (Tensor): (N, 4) normalised deltas of the cropped GT boxes.
        truncated (Tensor): (N, 4) bool, columns (left, top, right, bottom):
            that side of the GT box was cut by the crop. The columns are
            read by the constants ``LEFT``, ``TOP``, ``RIGHT``, ``BOTTOM`` of
            :mod:`mmpanoptic_cabb.structures.box_sides`.
        beta (float): SmoothL1 threshold. Defaults to 1.0.
        means (Sequence[float] | Tensor): The coder's ``target_means``.
        stds (Sequence[float] | Tensor): The coder's ``target_stds``.

    Returns:
        Tensor: (N, 4) detached targets with ``target``'s dtype and device.
        Rows (and dimensions) without a truncated side are bitwise equal to
        ``target``.
    """
    if pred.shape != target.shape or pred.dim() != 2 or pred.size(1) != 4:
        raise ValueError('pred and target must both have shape (N, 4), got '
                         f'{tuple(pred.shape)} and {tuple(target.shape)}')
    if truncated.shape != target.shape:
        raise ValueError('truncated must have shape (N, 4), got '
                         f'{tuple(truncated.shape)}')
    if beta <= 0:
        raise ValueError(f'beta must be positive, got {beta}')
    out = target.detach().clone(memory_format=torch.contiguous_format)
    # Flags per dimension (x, y), as [row, dim]: the low side of x is LEFT,
    # of y TOP; the high side of x is RIGHT, of y BOTTOM.
    flags = truncated.to(device=target.device, dtype=torch.bool)
    low_free = torch.stack((flags[:, LEFT], flags[:, TOP]), 1)
    high_free = torch.stack((flags[:, RIGHT], flags[:, BOTTOM]), 1)
    rows, dims = (low_free | high_free).nonzero(as_tuple=True)
    if rows.numel() == 0:
        return out

    # (N, 4) deltas (dx, dy, dw, dh) viewed as [row, dim, (centre, log width)].
    def per_dim(deltas: Tensor) -> Tensor:
        return deltas.reshape(-1, 2, 2).transpose(1, 2)

    f64 = torch.float64
    mean = per_dim(_as_column_params(means, target).view(1, 4))[0, dims]
    std = per_dim(_as_column_params(stds, target).view(1, 4))[0, dims]
    pred_sel = per_dim(pred.detach())[rows, dims]
    target_sel = per_dim(out)[rows, dims]
    raw_pred = (pred_sel.to(f64) * std + mean).clamp(-_RAW_LIMIT, _RAW_LIMIT)
    raw_gt = target_sel.to(f64) * std + mean
    pred_c, pred_w = raw_pred.unbind(1)
    gt_c = raw_gt[:, 0].clamp(-_RAW_LIMIT, _RAW_LIMIT)
    gt_w = raw_gt[:, 1].clamp(max=_MAX_LOG_WIDTH)
    half_w = 0.5 * gt_w.exp()
    side_lo, side_hi = gt_c - half_w, gt_c + half_w
    # (K, 2): low side free, high side free
    free = torch.stack((low_free, high_free), 2)[rows, dims]

    # O1 sub-problems, one per free side, solved in one batch.  Low side
    # free (side 0): the high side stays, delta = side_hi - e^t / 2 and
    # p = side_hi - delta_P.  High side free (side 1): the low side stays,
    # delta = side_lo + e^t / 2 and p = delta_P - side_lo.  O2 problems
    # contribute both (Alg. 2).
    prob, side = free.nonzero(as_tuple=True)
    per_problem = torch.stack([
        side_hi - pred_c, pred_c - side_lo, gt_w, pred_w, std[:, 0], std[:, 1]
    ], 1)[prob]
    p_sub = per_problem[:, :2].gather(1, side[:, None]).squeeze(1)
    std_c, std_w = per_problem[:, 4], per_problem[:, 5]
    t_sub, v_sub = _solve_o1(per_problem[:, 2], p_sub, per_problem[:, 3],
                             1.0 / std_c, beta * std_c, 1.0 / std_w,
                             beta * std_w)
    values = torch.full_like(raw_gt, float('inf'))
    values[prob, side] = v_sub
    widths = gt_w[:, None].repeat(1, 2)
    widths[prob, side] = t_sub
    best_side = values.argmin(dim=1, keepdim=True)
    best_t = widths.gather(1, best_side).squeeze(1)
    best_c = torch.where(
        best_side.squeeze(1) == 1, side_lo + 0.5 * best_t.exp(),
        side_hi - 0.5 * best_t.exp())
    new = ((torch.stack([best_c, best_t], 1) - mean) / std).to(out.dtype)
    # Keep the exact target where its own width is optimal (Prop. 4 case).
    new = torch.where((best_t == gt_w)[:, None], target_sel, new)
    # O2 interior (Prop. 2): the prediction itself when it is feasible.
    half_p = 0.5 * pred_w.clamp(max=_MAX_LOG_WIDTH).exp()
    inside = (
        free.all(dim=1) & (pred_c - half_p <= side_lo) &
        (pred_c + half_p >= side_hi))
    new = torch.where(inside[:, None], pred_sel.to(out.dtype), new)
    per_dim(out)[rows, dims] = new
    return out
