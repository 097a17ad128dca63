# generated from examples/mamba2-130m.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: c65e08f6667234bed7456751cb78c3aca957c216835fd09082ab28d4c035a5f9
# copied from packages/kernels/python/mamba2_kernels/kernels/norm_bwd.py
"""Backward of rmsnorm_gated, per group of GROUP channels of a row.

With u the normalised input (y, or y * silu(z) when the gate comes first),
r = 1 / sqrt(mean(u^2) + eps), n = u * r:
    norm_before_gate False: out = n * w           -> dn = dout * w
    norm_before_gate True:  out = n * w * silu(z) -> dn = dout * w * silu(z)
    du = r * (dn - n * mean(dn * n))
and dy, dz follow from u (and the gate); dw = sum over rows of dout * n (* silu(z)).
Each program walks TILES tiles of BLOCK_R rows and writes its own partial dw;
the partials are reduced with torch.sum (deterministic, no atomics).
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

from .fastlaunch import fast_launch
from .._config import LAUNCH

MAX_ROW_PROGRAMS = 512


@fast_launch
@triton.jit
def _rmsnorm_gated_bwd_kernel(
    y, weight, z, dout, dy, dz, dw_part,
    M, L, D, eps,
    stride_yb, stride_yl,
    stride_zb, stride_zl,
    stride_ob, stride_ol,
    stride_dzb, stride_dzl,
    GROUP: tl.constexpr,
    HAS_Z: tl.constexpr,
    NORM_BEFORE_GATE: tl.constexpr,
    BLOCK_R: tl.constexpr,
    BLOCK_G: tl.constexpr,
    TILES: tl.constexpr,
):
    i_prog = tl.program_id(0)
    i_g = tl.program_id(1)
    o_g = tl.arange(0, BLOCK_G)
    o_d = i_g * GROUP + o_g
    m_d = o_g < GROUP
    b_w = tl.load(weight + o_d, mask=m_d, other=0.0).to(tl.float32)
    b_dw = tl.zeros([BLOCK_G], dtype=tl.float32)

    for i_t in range(TILES):
        o_r = (i_prog * TILES + i_t) * BLOCK_R + tl.arange(0, BLOCK_R)
        m_r = o_r < M
        o_r64 = o_r.to(tl.int64)
        i_b = o_r64 // L
        i_l = o_r64 % L
        m = m_r[:, None] & m_d[None, :]

        b_y = tl.load(y + (i_b * stride_yb + i_l * stride_yl)[:, None] + o_d[None, :], mask=m, other=0.0).to(tl.float32)
        b_do = tl.load(dout + (i_b * stride_ob + i_l * stride_ol)[:, None] + o_d[None, :], mask=m, other=0.0).to(tl.float32)
        if HAS_Z:
            b_z = tl.load(z + (i_b * stride_zb + i_l * stride_zl)[:, None] + o_d[None, :], mask=m, other=0.0).to(tl.float32)
            b_sig = tl.sigmoid(b_z)
            b_gate = b_z * b_sig
            b_dgate = b_sig * (1.0 + b_z * (1.0 - b_sig))
            if NORM_BEFORE_GATE:
                b_u = b_y
            else:
                b_u = b_y * b_gate
        else:
            b_u = b_y
        b_r = 1.0 / tl.sqrt(tl.sum(b_u * b_u, axis=1) / GROUP + eps)
        b_n = b_u * b_r[:, None]
        b_dn = b_do * b_w[None, :]
        if HAS_Z:
            if NORM_BEFORE_GATE:
                b_dn = b_dn * b_gate
                b_dw += tl.sum(b_do * b_n * b_gate, axis=0)
                b_dz = b_do * b_n * b_w[None, :] * b_dgate
            else:
                b_dw += tl.sum(b_do * b_n, axis=0)
        else:
            b_dw += tl.sum(b_do * b_n, axis=0)
        b_du = b_r[:, None] * (b_dn - b_n * (tl.sum(b_dn * b_n, axis=1) / GROUP)[:, None])
        if HAS_Z:
            if NORM_BEFORE_GATE:
                b_dy = b_du
            else:
                b_dy = b_du * b_gate
                b_dz = b_du * b_y * b_dgate
            tl.store(dz + (i_b * stride_dzb + i_l * stride_dzl)[:, None] + o_d[None, :],
                     b_dz.to(dz.dtype.element_ty), mask=m)
        else:
            b_dy = b_du
        tl.store(dy + o_r64[:, None] * D + o_d[None, :], b_dy.to(dy.dtype.element_ty), mask=m)

    tl.store(dw_part + (i_prog * D + o_d).to(tl.int64), b_dw, mask=m_d)


def rmsnorm_gated_bwd(dout, y, weight, z=None, eps=1e-5, group_size=None, norm_before_gate=False, *,
                      dz_out=None, num_warps=None):
    """Gradients of rmsnorm_gated.

    dout, y, z: [B, L, D] (last dim contiguous, any row strides), weight: [D].
    dz_out: [B, L, D] in z.dtype with a contiguous last dim (e.g. the z columns
    of the block's in_proj gradient) receives dz; None allocates it.
    Returns (dy [B, L, D] in y.dtype, dz [B, L, D] in z.dtype | None, dweight [D] fp32).
    """
    Bsz, L, D = y.shape
    group = D if group_size is None else int(group_size)
    y, dout = (t if t.stride(-1) == 1 else t.contiguous() for t in (y, dout))
    if z is not None and z.stride(-1) != 1:
        z = z.contiguous()
    weight = weight.contiguous()
    M = Bsz * L
    dev = y.device

    block_g = triton.next_power_of_2(group)
    block_r = max(1, min(16, 2048 // block_g))  # ~16 fp32 values per thread and tile at 4 warps
    n_tiles = triton.cdiv(M, block_r)
    tiles = triton.cdiv(n_tiles, MAX_ROW_PROGRAMS)
    n_prog = triton.cdiv(n_tiles, tiles)

    dy = torch.empty((Bsz, L, D), device=dev, dtype=y.dtype)
    dz = None
    if z is not None and dz_out is None:
        dz = torch.empty((Bsz, L, D), device=dev, dtype=z.dtype)
    elif z is not None:
        if tuple(dz_out.shape) != (Bsz, L, D) or dz_out.stride(-1) != 1 or dz_out.dtype != z.dtype:
            raise ValueError(
                f"dz_out must be [B, L, D] = {(Bsz, L, D)} in {z.dtype} with a contiguous last dim, got "
                f"shape {tuple(dz_out.shape)}, dtype {dz_out.dtype}, strides {dz_out.stride()}")
        dz = dz_out
    dw_part = torch.empty((n_prog, D), device=dev, dtype=torch.float32)
    zz = z if z is not None else y
    _rmsnorm_gated_bwd_kernel[(n_prog, D // group)](
        y, weight, zz, dout, dy, dz if dz is not None else dy, dw_part,
        M, L, D, float(eps),
        y.stride(0), y.stride(1),
        zz.stride(0), zz.stride(1),
        dout.stride(0), dout.stride(1),
        *((dz.stride(0), dz.stride(1)) if dz is not None else (0, 0)),
        GROUP=group,
        HAS_Z=z is not None,
        NORM_BEFORE_GATE=bool(norm_before_gate),
        BLOCK_R=block_r,
        BLOCK_G=block_g,
        TILES=tiles,
        num_warps=num_warps or (8 if block_g >= 4096 else LAUNCH.norm.num_warps),
    )
    return dy, dz, dw_part.sum(0)
