# generated from examples/vision-mamba2.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 973d21e2cf8d81c0e01a13580d2634dea1d19fba039c3bddcd8ee47c7c19c7c4
# copied from packages/kernels/python/mamba2_kernels/kernels/norm.py
"""(Gated) RMSNorm over each group of channels of a row."""
from __future__ import annotations

import torch
import triton
import triton.language as tl

from .fastlaunch import fast_launch
from .._config import LAUNCH
from ..fragments import silu
from .host import cdiv, next_pow2


@fast_launch
@triton.jit
def _rmsnorm_gated_fwd_kernel(
    y, weight, z, out,
    L, D, eps,
    stride_yb, stride_yl,
    stride_zb, stride_zl,
    GROUP: tl.constexpr,
    HAS_Z: tl.constexpr,
    NORM_BEFORE_GATE: tl.constexpr,
    BLOCK_G: tl.constexpr,
):
    i_row = tl.program_id(0)
    i_g = tl.program_id(1)
    i_b = (i_row // L).to(tl.int64)
    i_l = (i_row % L).to(tl.int64)
    o_d = i_g * GROUP + tl.arange(0, BLOCK_G)
    m_d = tl.arange(0, BLOCK_G) < GROUP

    b_y = tl.load(y + i_b * stride_yb + i_l * stride_yl + o_d, mask=m_d, other=0.0).to(tl.float32)
    if HAS_Z:
        b_z = tl.load(z + i_b * stride_zb + i_l * stride_zl + o_d, mask=m_d, other=0.0).to(tl.float32)
        b_gate = silu(b_z)
        if not NORM_BEFORE_GATE:
            b_y = b_y * b_gate
    b_rstd = 1.0 / tl.sqrt(tl.sum(b_y * b_y, axis=0) / GROUP + eps)
    b_w = tl.load(weight + o_d, mask=m_d, other=0.0).to(tl.float32)
    b_o = b_y * b_rstd * b_w
    if HAS_Z:
        if NORM_BEFORE_GATE:
            b_o = b_o * b_gate

    tl.store(out + (i_b * L + i_l) * D + o_d, b_o.to(out.dtype.element_ty), mask=m_d)


def rmsnorm_gated(y, weight, z=None, eps=1e-5, group_size=None, norm_before_gate=False, *, num_warps=None):
    """Gated RMSNorm, statistics in fp32.

    y: [B, L, D] (last dim contiguous, any row strides), weight: [D],
    z: [B, L, D] | None (same rules as y), group_size: divides D (None = D).
    z None: rmsnorm(y) * w; norm_before_gate False: rmsnorm(y * silu(z)) * w;
    True: rmsnorm(y) * w * silu(z). Returns [B, L, D] contiguous, dtype of y.
    """
    if y.dim() != 3:
        raise ValueError(f"y must be [B, L, D], got shape {tuple(y.shape)}")
    Bsz, L, D = y.shape
    group = D if group_size is None else int(group_size)
    if group <= 0 or D % group != 0:
        raise ValueError(f"group_size {group_size} does not divide D {D}")
    if weight.shape != (D,):
        raise ValueError(f"weight must be [{D}], got {tuple(weight.shape)}")
    if z is not None and z.shape != y.shape:
        raise ValueError(f"z must have y's shape {tuple(y.shape)}, got {tuple(z.shape)}")
    if y.stride(-1) != 1:
        y = y.contiguous()
    if z is not None and z.stride(-1) != 1:
        z = z.contiguous()
    weight = weight.contiguous()

    out = torch.empty((Bsz, L, D), device=y.device, dtype=y.dtype)
    if out.numel() == 0:
        return out
    zz = z if z is not None else y
    grid = (Bsz * L, D // group)
    _rmsnorm_gated_fwd_kernel[grid](
        y, weight, zz, out,
        L, D, float(eps),
        y.stride(0), y.stride(1),
        zz.stride(0), zz.stride(1),
        GROUP=group,
        HAS_Z=z is not None,
        NORM_BEFORE_GATE=bool(norm_before_gate),
        BLOCK_G=next_pow2(group),
        num_warps=num_warps or LAUNCH.norm.num_warps,
    )
    return out
