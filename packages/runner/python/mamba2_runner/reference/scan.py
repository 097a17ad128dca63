"""ref_scan: the Mamba-2 SSD scan as the plain sequential recurrence, in float64.

Independent of the generated kernels (no chunking, no Triton): every input is
upcast to float64 and the state is stepped one time position at a time,

    S_t = exp(dt_t * A) * S_{t-1} + dt_t * (x_t outer B_t)
    y_t = S_t C_t + D * x_t,          out = y * silu(z) when z is given.

The loop runs over t only; batch and heads are vectorised, so it also runs on
CUDA tensors for long sequences. Differentiable: torch autograd through it
gives the float64 reference gradients of every input.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _ref_dt(dt: torch.Tensor, dt_bias, dt_softplus: bool, dt_limit) -> torch.Tensor:
    """dt [b, l, h] -> float64 clamp(softplus?(dt + dt_bias), lo, hi)."""
    dt = dt.double()
    if dt_bias is not None:
        dt = dt + dt_bias.double()
    if dt_softplus:
        dt = torch.where(dt > 20.0, dt, torch.log1p(torch.exp(dt)))
    lo, hi = dt_limit
    return dt.clamp(min=float(lo), max=float(hi))


def ref_scan(
    x: torch.Tensor,
    dt: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    z: torch.Tensor | None = None,
    dt_bias: torch.Tensor | None = None,
    initial_states: torch.Tensor | None = None,
    seq_idx: torch.Tensor | None = None,
    dt_softplus: bool = False,
    dt_limit: tuple[float, float] = (0.0, math.inf),
    return_final_states: bool = False,
):
    """Sequential float64 reference of mamba_chunk_scan_combined.

    x: [b, l, h, p], dt: [b, l, h] (raw, before bias/softplus/clamp), A: [h],
    B, C: [b, l, g, n] (head i uses group i // (h // g)), D: [h] or [h, p],
    z: [b, l, h, p], dt_bias: [h], initial_states: [b, h, p, n],
    seq_idx: [b, l] integer (the state resets to zero wherever seq_idx[t] !=
    seq_idx[t-1]). dt_limit clamps dt whether or not dt_softplus is set.

    Returns float64 out [b, l, h, p], or (out, final_states [b, h, p, n]) when
    return_final_states.
    """
    b, l, h, p = x.shape
    g, n = B.shape[2], B.shape[3]
    assert h % g == 0, f"nheads {h} is not a multiple of ngroups {g}"
    heads_per_group = h // g

    x64 = x.double()
    dt64 = _ref_dt(dt, dt_bias, dt_softplus, dt_limit)  # [b, l, h]
    A64 = A.double()
    # expand the groups to heads once: [b, l, h, n]
    B64 = B.double().repeat_interleave(heads_per_group, dim=2)
    C64 = C.double().repeat_interleave(heads_per_group, dim=2)

    if initial_states is not None:
        S = initial_states.double().clone()
    else:
        S = x64.new_zeros(b, h, p, n)

    ys = []
    for t in range(l):
        if seq_idx is not None and t > 0:
            # A reset replaces the state (torch.where, not S * 0: a NaN or Inf
            # of the previous sequence must not survive into the next one).
            keep = seq_idx[:, t] == seq_idx[:, t - 1]  # [b]
            S = torch.where(keep[:, None, None, None], S, torch.zeros_like(S))
        dt_t = dt64[:, t]  # [b, h]
        decay = torch.exp(dt_t * A64)  # [b, h]
        dBx = (dt_t[:, :, None] * x64[:, t])[..., None] * B64[:, t, :, None, :]  # [b, h, p, n]
        S = decay[:, :, None, None] * S + dBx
        ys.append(torch.einsum("bhpn,bhn->bhp", S, C64[:, t]))
    y = torch.stack(ys, dim=1) if ys else x64.new_zeros(b, 0, h, p)

    if D is not None:
        D64 = D.double()
        if D64.dim() == 1:
            D64 = D64[:, None]
        y = y + D64 * x64
    if z is not None:
        y = y * F.silu(z.double())
    if return_final_states:
        return y, S
    return y
