"""float64 references for the small ops: causal conv, depthwise conv2d, dt prologue, gated RMSNorm.

Plain PyTorch written from ../shared/MAMBA2.md, sharing nothing with the
generated kernels. Every function upcasts its inputs to float64 and returns
float64, so comparing a kernel against it measures the kernel's error alone.

Differentiable by design: the upcast is `.to(float64)` (an autograd op, not a
detach), so torch autograd through these functions gives the float64
reference gradients with respect to inputs of any dtype.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
from torch import Tensor

F64 = torch.float64


def _f64(t: Optional[Tensor]) -> Optional[Tensor]:
    """float64 copy that keeps the autograd graph (never detach here)."""
    return None if t is None else t.to(F64)


def ref_silu(v: Tensor) -> Tensor:
    return v / (1.0 + torch.exp(-v))


def ref_softplus(v: Tensor) -> Tensor:
    """softplus with the usual threshold: v > 20 -> v (as the kernels do)."""
    return torch.where(v > 20.0, v, torch.log1p(torch.exp(torch.clamp(v, max=20.0))))


def ref_causal_conv1d(
    x: Tensor, weight: Tensor, bias: Optional[Tensor] = None, activation: Optional[str] = "silu",
    seq_idx: Optional[Tensor] = None,
) -> Tensor:
    """x: [B, L, C], weight: [C, W] (or [C, 1, W]), bias: [C] | None.

    out[b, t, c] = sum_k weight[c, k] * x[b, t - (W - 1) + k, c] (+ bias[c]),
    x taken as 0 before t = 0; weight[c, W-1] multiplies the current step.
    With seq_idx [B, L] (packed sequences), a tap reads x[t - s] only when
    seq_idx[t - s] == seq_idx[t]: each sequence's window starts with zeros, as
    if it ran alone (mamba_ssm's causal_conv1d with seq_idx; ../shared/MAMBA2.md).
    activation: "silu"/"swish", or None/"identity".
    """
    x = _f64(x)
    w = _f64(weight)
    if w.dim() == 3:
        w = w[:, 0, :]
    Bsz, L, C = x.shape
    W = w.shape[1]
    if w.shape[0] != C:
        raise ValueError(f"conv weight has {w.shape[0]} channels, x has {C}")
    out = torch.zeros(Bsz, L, C, dtype=F64, device=x.device)
    for k in range(W):
        shift = W - 1 - k  # weight[:, k] looks `shift` steps back
        if shift >= L:
            continue
        tap = w[:, k] * x[:, : L - shift, :]
        if seq_idx is not None and shift > 0:
            same = (seq_idx[:, shift:] == seq_idx[:, : L - shift]).to(x.device)  # [B, L - shift]
            tap = torch.where(same[..., None], tap, torch.zeros_like(tap))
        out[:, shift:, :] += tap
    if bias is not None:
        out = out + _f64(bias)
    if activation in ("silu", "swish"):
        out = ref_silu(out)
    elif activation not in (None, "identity"):
        raise ValueError(f"unknown activation {activation!r}: use 'silu', 'swish' or 'identity'")
    return out


def ref_depthwise_conv2d(
    x: Tensor, weight: Tensor, bias: Optional[Tensor] = None, activation: Optional[str] = "silu",
) -> Tensor:
    """x: [B, H, W, C] (channels last), weight: [C, KH, KW] (or nn.Conv2d's [C, 1, KH, KW]),
    KH and KW odd, bias: [C] | None.

    out[b, i, j, c] = sum_{di, dj} weight[c, di, dj] * x[b, i + di - KH//2, j + dj - KW//2, c]
    (+ bias[c]), x taken as 0 outside the image (padding 'same', non-causal),
    then the activation ("silu"/"swish", or None/"identity"). Written tap by
    tap on a zero-padded copy, sharing nothing with the kernels or F.conv2d.
    """
    x = _f64(x)
    w = _f64(weight)
    if w.dim() == 4:
        w = w[:, 0]
    Bsz, H, W, C = x.shape
    kh, kw = w.shape[1:]
    if w.shape[0] != C or kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"conv2d weight {tuple(w.shape)} must be [{C}, KH, KW] with odd KH, KW")
    ph, pw = kh // 2, kw // 2
    xp = torch.zeros(Bsz, H + 2 * ph, W + 2 * pw, C, dtype=F64, device=x.device)
    xp[:, ph:ph + H, pw:pw + W, :] = x
    out = torch.zeros(Bsz, H, W, C, dtype=F64, device=x.device)
    for di in range(kh):
        for dj in range(kw):
            out = out + w[:, di, dj] * xp[:, di:di + H, dj:dj + W, :]
    if bias is not None:
        out = out + _f64(bias)
    if activation in ("silu", "swish"):
        out = ref_silu(out)
    elif activation not in (None, "identity"):
        raise ValueError(f"unknown activation {activation!r}: use 'silu', 'swish' or 'identity'")
    return out


def ref_dt_transform(
    dt: Tensor,
    dt_bias: Optional[Tensor] = None,
    softplus: bool = False,
    limit: Sequence[Optional[float]] = (0.0, math.inf),
) -> Tensor:
    """dt: [B, L, H] -> clamp(softplus?(dt + dt_bias), lo, hi), float64.

    An upper bound of None means +inf (that is how ir.json spells it).
    """
    v = _f64(dt)
    if dt_bias is not None:
        v = v + _f64(dt_bias)
    if softplus:
        v = ref_softplus(v)
    lo, hi = limit
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)
    return torch.clamp(v, min=lo, max=hi)


def ref_rmsnorm_gated(
    y: Tensor,
    weight: Tensor,
    z: Optional[Tensor] = None,
    eps: float = 1e-5,
    group_size: Optional[int] = None,
    norm_before_gate: bool = False,
) -> Tensor:
    """y, z: [..., D]; weight: [D]; each group of `group_size` channels (None = D)
    is normalised by its own root mean square.

    z None: rmsnorm(y) * w; norm_before_gate False: rmsnorm(y * silu(z)) * w;
    norm_before_gate True: rmsnorm(y) * w * silu(z).
    """
    y = _f64(y)
    w = _f64(weight)
    z = _f64(z)
    D = y.shape[-1]
    G = D if group_size is None else int(group_size)
    if D % G != 0:
        raise ValueError(f"group_size {G} does not divide the feature size {D}")
    if z is not None and not norm_before_gate:
        y = y * ref_silu(z)
    g = y.reshape(*y.shape[:-1], D // G, G)
    rstd = 1.0 / torch.sqrt(g.pow(2).mean(dim=-1, keepdim=True) + eps)
    out = (g * rstd).reshape(y.shape) * w
    if z is not None and norm_before_gate:
        out = out * ref_silu(z)
    return out
