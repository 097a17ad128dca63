# generated from examples/vision-mamba2-bidirectional.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ecdc1a8c1f3908dbc9b3232a151982a82ea56e47204e629702db577caff5a69c
# copied from packages/kernels/python/mamba2_kernels/kernels/cross_merge.py
"""The merge of a cross scan (cross_scan.py): the K orders' outputs y_k, in
natural token order, summed with the skip and gated in one pass,

    ysum = sum_k y_k + (sum_k D_k) x,      out = ysum * silu(z)  (ysum without z),

and its backward: dy = dout * silu(z) (the gradient of every y_k alike),
dz = dout * ysum * silu'(z), dD_k = sum over (b, l, p) of dy * x (alike for
every k), dx_skip = dy * sum_k D_k.

Grid (cdiv(L, BLOCK_L), b * h): a [BLOCK_L, P] tile of one (batch, head). The
K inputs are summed in order k = 0..K-1 and dD is written as one partial per
program, reduced with torch.sum: no atomics, bit-identical reruns.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

from .fastlaunch import fast_launch
from .host import cdiv, next_pow2

_BLOCK_L = 32


@fast_launch
@triton.jit
def _cross_merge_fwd_kernel(
    ys, x, Dsum, z, out, ysum,
    L, H, P, stride_yk,
    stride_xb, stride_xl, stride_xh,
    stride_zb, stride_zl, stride_zh,
    K: tl.constexpr,
    BLOCK_L: tl.constexpr,
    BLOCK_P: tl.constexpr,
    HAS_D: tl.constexpr,
    HAS_Z: tl.constexpr,
    STORE_YSUM: tl.constexpr,
):
    """ys: K contiguous [b, L, h, p] blocks stride_yk apart (fp32 or x.dtype);
    out, ysum: contiguous [b, L, h, p]."""
    i_l = tl.program_id(0)
    i_bh = tl.program_id(1)
    i_b = (i_bh // H).to(tl.int64)
    i_h = (i_bh % H).to(tl.int64)
    o_l = i_l * BLOCK_L + tl.arange(0, BLOCK_L)
    o_p = tl.arange(0, BLOCK_P)
    m = (o_l < L)[:, None] & (o_p < P)[None, :]
    o_c = ((i_b * L + o_l[:, None]) * H + i_h) * P + o_p[None, :]  # contiguous [b, L, h, p]

    b_y = tl.zeros([BLOCK_L, BLOCK_P], dtype=tl.float32)
    for k in tl.static_range(K):  # fixed order: bit-identical reruns
        b_y += tl.load(ys + k * stride_yk + o_c, mask=m, other=0.0).to(tl.float32)
    if HAS_D:
        b_x = tl.load(x + i_b * stride_xb + i_h * stride_xh + o_l[:, None] * stride_xl + o_p[None, :],
                      mask=m, other=0.0).to(tl.float32)
        b_y += tl.load(Dsum + i_h).to(tl.float32) * b_x
    if STORE_YSUM:
        tl.store(ysum + o_c, b_y.to(ysum.dtype.element_ty), mask=m)
    if HAS_Z:
        b_z = tl.load(z + i_b * stride_zb + i_h * stride_zh + o_l[:, None] * stride_zl + o_p[None, :],
                      mask=m, other=0.0).to(tl.float32)
        b_y = b_y * b_z * tl.sigmoid(b_z)
    tl.store(out + o_c, b_y.to(out.dtype.element_ty), mask=m)


@fast_launch
@triton.jit
def _cross_merge_bwd_kernel(
    dout, x, Dsum, z, ysum, dy, dz, dD_part,
    L, H, P, N_LB,
    stride_xb, stride_xl, stride_xh,
    stride_zb, stride_zl, stride_zh,
    stride_ob, stride_ol, stride_oh,
    BLOCK_L: tl.constexpr,
    BLOCK_P: tl.constexpr,
    HAS_D: tl.constexpr,
    HAS_Z: tl.constexpr,
):
    """dy, dz, ysum contiguous [b, L, h, p]; dD_part fp32 [b, N_LB, h]."""
    i_l = tl.program_id(0)
    i_bh = tl.program_id(1)
    i_b = (i_bh // H).to(tl.int64)
    i_h = (i_bh % H).to(tl.int64)
    o_l = i_l * BLOCK_L + tl.arange(0, BLOCK_L)
    o_p = tl.arange(0, BLOCK_P)
    m = (o_l < L)[:, None] & (o_p < P)[None, :]
    o_c = ((i_b * L + o_l[:, None]) * H + i_h) * P + o_p[None, :]

    b_do = tl.load(dout + i_b * stride_ob + i_h * stride_oh + o_l[:, None] * stride_ol + o_p[None, :],
                   mask=m, other=0.0).to(tl.float32)
    if HAS_Z:
        b_z = tl.load(z + i_b * stride_zb + i_h * stride_zh + o_l[:, None] * stride_zl + o_p[None, :],
                      mask=m, other=0.0).to(tl.float32)
        b_sig = tl.sigmoid(b_z)
        b_ys = tl.load(ysum + o_c, mask=m, other=0.0).to(tl.float32)
        tl.store(dz + o_c, (b_do * b_ys * b_sig * (1.0 + b_z * (1.0 - b_sig))).to(dz.dtype.element_ty), mask=m)
        b_dy = b_do * b_z * b_sig
    else:
        b_dy = b_do
    tl.store(dy + o_c, b_dy.to(dy.dtype.element_ty), mask=m)
    if HAS_D:
        b_x = tl.load(x + i_b * stride_xb + i_h * stride_xh + o_l[:, None] * stride_xl + o_p[None, :],
                      mask=m, other=0.0).to(tl.float32)
        tl.store(dD_part + (i_b * N_LB + i_l) * H + i_h, tl.sum(tl.sum(b_dy * b_x, axis=1), axis=0))


def _strides3(t):
    return (t.stride(0), t.stride(1), t.stride(2)) if t is not None else (0, 0, 0)


def cross_merge_fwd(ys, x, D=None, z=None, store_ysum=False):
    """ys: [K, b, L, h, p] (contiguous, fp32 or x.dtype; K = 1 for an
    accumulator), x: [b, L, h, p] (last dim contiguous), D: [K_orders, h] | None,
    z: [b, L, h, p] | None. Returns (out in x.dtype, ysum in x.dtype or None):
    ysum = sum_k ys[k] + D.sum(0) x is kept when store_ysum (the backward of
    the gate needs it)."""
    K, b, L, h, p = ys.shape
    ys = ys.contiguous()
    out = torch.empty((b, L, h, p), device=x.device, dtype=x.dtype)
    ysum = torch.empty_like(out) if store_ysum and z is not None else None
    Dsum = D.float().sum(0).contiguous() if D is not None else None
    _cross_merge_fwd_kernel[(cdiv(L, _BLOCK_L), b * h)](
        ys, x, Dsum if Dsum is not None else x, z if z is not None else x, out,
        ysum if ysum is not None else out,
        L, h, p, b * L * h * p,
        *_strides3(x), *_strides3(z),
        K=K, BLOCK_L=_BLOCK_L, BLOCK_P=max(16, next_pow2(p)),
        HAS_D=D is not None, HAS_Z=z is not None, STORE_YSUM=ysum is not None,
        num_warps=4,
    )
    return out, ysum


def cross_merge_bwd(dout, x, D=None, z=None, ysum=None):
    """Backward of cross_merge_fwd. dout: [b, L, h, p]; ysum: what the forward
    kept (needed with z). Returns (dy [b, L, h, p] in x.dtype: the gradient of
    every order's y_k, dz | None, dD [K_orders, h] fp32 | None); the skip's
    part of dx is dy * D.sum(0), added by the caller."""
    b, L, h, p = x.shape
    if z is not None and ysum is None:
        raise ValueError("cross_merge_bwd with z needs the forward's ysum (store_ysum=True)")
    dout = dout if dout.stride(-1) == 1 else dout.contiguous()
    n_lb = cdiv(L, _BLOCK_L)
    dy = torch.empty((b, L, h, p), device=x.device, dtype=x.dtype)
    dz = torch.empty((b, L, h, p), device=x.device, dtype=z.dtype) if z is not None else None
    dD_part = torch.empty((b, n_lb, h), device=x.device, dtype=torch.float32) if D is not None else None
    Dsum = D.float().sum(0).contiguous() if D is not None else None
    _cross_merge_bwd_kernel[(n_lb, b * h)](
        dout, x, Dsum if Dsum is not None else x, z if z is not None else x,
        ysum if ysum is not None else x, dy, dz if dz is not None else dy,
        dD_part if dD_part is not None else dy,
        L, h, p, n_lb,
        *_strides3(x), *_strides3(z), *_strides3(dout),
        BLOCK_L=_BLOCK_L, BLOCK_P=max(16, next_pow2(p)),
        HAS_D=D is not None, HAS_Z=z is not None,
        num_warps=4,
    )
    dD = None
    if D is not None:
        dD = dD_part.sum((0, 1))[None, :].expand(D.shape[0], h).contiguous()
    return dy, dz, dD
