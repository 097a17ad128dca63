# generated from examples/vision-mamba2.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 973d21e2cf8d81c0e01a13580d2634dea1d19fba039c3bddcd8ee47c7c19c7c4
# copied from packages/kernels/python/mamba2_kernels/cross_scan.py
"""cross_scan_combined: scans of an image's tokens in several orders, merged
(Vision Mamba's forward + backward, VMamba's four-way SS2D; MAMBA2.md "Scans
in other orders"), with no permuted copy of x, dt, B, C or y.

    y = sum_k unperm_k(scan(perm_k(x), perm_k(dt_k), A_k, perm_k(B_k), perm_k(C_k)))
        + sum_k D_k x,            out = y * silu(z) (the gate after the sum).

Each order k is one run of the fused forward scan (kernels/ssd_fused.py) with
ORDER = its order: x, dt_k, B_k, C_k and the output stay in natural token
order and are read and written through the order's index map
(kernels/ssd_common.token_index); dt[:, k], B[:, k], C[:, k], A[k] are views.
Three merge strategies (`merge=`); the first two end with the merge kernel
(kernels/cross_merge.py: sum, skip, gate in one pass), the third needs none:

  'buffer'      each order writes its y_k (x.dtype) into a [K, b, l, h, p]
                buffer; the merge reads the K of them.
  'accumulate'  the orders add into one fp32 [b, l, h, p] accumulator in turn
                (order k > 0 reads it back: out += y cannot run twice, so
                these walks are the exact ones, not the plain walk + re-walk);
                the merge reads it once.
  'chain'       order k > 0 reads the running sum of the earlier orders (prev,
                x.dtype) and writes prev + y_k into another buffer (out and
                one [b, l, h, p] buffer, ping-pong), so a re-walk of a flagged
                program writes the same again and every order keeps the plain
                walk. The last order's epilogue is the merge: prev + y +
                (sum_k D_k) x, ysum kept (before the gate) when z is given and
                the backward needs it, then the gate; out is written in x.dtype.

The backward runs the merge's backward (dy, dz, dD), then the default SSD
backward (kernels/ssd_bwd.py: v6, or v4 for what v6 gives away) once per order
with the same index map, and sums the K dx in order k = 0..K-1 (fp32):
deterministic, no atomics.
"""
from __future__ import annotations

import math

import torch

from . import fragments
from ._config import LAUNCH
from .autograd import needs_grad
from .kernels.cross_merge import cross_merge_bwd, cross_merge_fwd
from .kernels.host import check_chunk_size, limit_pair
from .kernels.ssd_bwd import ssd_bwd
from .kernels.ssd_fused import ssd_fused_fwd

# directions -> scan orders (0 row-major, 1 column-major, 2 / 3 = 0 / 1 reversed)
DIRECTIONS = {"bidirectional": (0, 2), "cross2d": (0, 1, 2, 3)}
MERGES = ("buffer", "accumulate", "chain")
# The default merge strategy: 'chain', by its byte count (NOT measured yet; NOTES
# "Cross-scan merge in the last order's epilogue"). Merge traffic per element of
# y, bf16, D given, no z: 'buffer' 4K + 4 B (K writes, K reads, x, out),
# 'accumulate' 8K + 4 (fp32 read-modify-write per order, x, out), 'chain' 4K - 2
# (K - 1 running sums written and read, out; x is already in the last walk's
# registers): 6 / 12 / 20 B at K = 2 and 14 / 20 / 36 at K = 4; z adds 2 B (4
# with ysum) to each alike. It also drops the merge launch and keeps the plain
# walk (accumulate's exact walk: 0.41 vs 0.30 ms at (4, 4096, 80)). Measured
# before: 'accumulate' beat 'buffer' (1.038 vs 1.071 ms at (b16, 56x56, h8),
# 0.382 vs 0.846 at (b32, 14x14, h16): the buffer's allocation and K-way merge).
# The running sum is in x.dtype, not fp32: 'buffer' rounds each y_k to x.dtype
# too (K roundings there, K - 1 of partial sums here), and an fp32 sum would
# move 8K - 6 B, more than 'buffer' at K = 4.
MERGE = "chain"
_FLOAT_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def _shape(t):
    return tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__


def _expect(name, t, expected, meaning):
    if not isinstance(t, torch.Tensor) or tuple(t.shape) != tuple(expected):
        raise ValueError(f"{name} must have shape {meaning} = {tuple(expected)}, got {_shape(t)}")


def check_cross_inputs(x, dt, A, B, C, height, width, directions, D, z, dt_bias, chunk_size, dt_limit, merge):
    """Validates the arguments of cross_scan_combined; returns (orders, (lo, hi), merge)."""
    if directions not in DIRECTIONS:
        raise ValueError(
            f"directions must be one of {tuple(DIRECTIONS)} for cross_scan_combined, got {directions!r} "
            "(a 'forward' scan is mamba_chunk_scan_combined)")
    orders = DIRECTIONS[directions]
    K = len(orders)
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ValueError(f"x must be a 4-d tensor [batch, height * width, nheads, headdim], got {_shape(x)}")
    if x.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"x must be float32, float16 or bfloat16, got {x.dtype}")
    b, l, h, p = x.shape
    for name, v in (("height", height), ("width", width)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    if height * width != l:
        raise ValueError(
            f"height * width must equal seqlen: {height} * {width} = {height * width} but x has seqlen {l} "
            "(x.shape[1]); pass the image's height and width, tokens flattened row-major")
    _expect("dt", dt, (b, K, l, h), f"[batch, K={K} orders of {directions!r}, seqlen, nheads]")
    _expect("A", A, (K, h), f"[K={K}, nheads]")
    if not isinstance(B, torch.Tensor) or B.dim() != 5 or tuple(B.shape[:3]) != (b, K, l):
        raise ValueError(
            f"B must have shape [batch, K={K}, seqlen, ngroups, d_state] with batch, K, seqlen = {(b, K, l)}, "
            f"got {_shape(B)}")
    g, n = B.shape[3], B.shape[4]
    _expect("C", C, tuple(B.shape), "[batch, K, seqlen, ngroups, d_state] like B")
    if g == 0 or h % g != 0:
        raise ValueError(
            f"nheads {h} (x.shape[2]) is not a multiple of ngroups {g} (B.shape[3]): "
            "each group must serve the same number of heads")
    if D is not None:
        _expect("D", D, (K, h), f"[K={K}, nheads] (one skip per order)")
    if z is not None:
        _expect("z", z, tuple(x.shape), "[batch, seqlen, nheads, headdim] like x")
    if dt_bias is not None:
        _expect("dt_bias", dt_bias, (K, h), f"[K={K}, nheads]")
    for name, t in (("dt", dt), ("A", A), ("B", B), ("C", C), ("D", D), ("z", z), ("dt_bias", dt_bias)):
        if t is None:
            continue
        if not t.is_floating_point():
            raise TypeError(f"{name} must be a floating point tensor, got {t.dtype}")
        if t.device != x.device:
            raise ValueError(f"{name} is on {t.device} but x is on {x.device}: move all inputs to one device")
    if chunk_size is not None:
        check_chunk_size(chunk_size)
    lo, hi = dt_limit
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)
    if not lo <= hi:
        raise ValueError(f"dt_limit must be (lo, hi) with lo <= hi, got {dt_limit!r}")
    merge = MERGE if merge is None else merge
    if merge not in MERGES:
        raise ValueError(f"merge must be one of {MERGES} or None (= {MERGE!r}), got {merge!r}")
    return orders, (lo, hi), merge


def _sel(t, k):
    return None if t is None else t[k]


def _chain_fwd(x, dt, A, B, C, D, z, dt_bias, height, width, orders, dt_softplus, dt_limit, chunk_size,
               keep_ysum):
    """merge 'chain' (module docstring): K scans, the last one's epilogue the merge."""
    K = len(orders)
    out = torch.empty(x.shape, device=x.device, dtype=x.dtype)
    other = torch.empty_like(out) if K > 1 else None  # out's ping-pong partner
    ysum = torch.empty_like(out) if keep_ysum and z is not None else None
    Dsum = D.float().sum(0) if D is not None else None
    prev = None
    for k, order in enumerate(orders):
        last = k == K - 1
        dst = out if (K - 1 - k) % 2 == 0 else other  # so that the last order writes out, never its own prev
        ssd_fused_fwd(
            x, dt[:, k], A[k], B[:, k], C[:, k], chunk_size, D=Dsum if last else None, z=z if last else None,
            dt_bias=_sel(dt_bias, k), dt_softplus=dt_softplus, dt_limit=dt_limit, order=order, height=height,
            width=width, out=dst, prev=prev, ysum=ysum if last else None,
            # the merge's formula (cross_merge.py), not a model's epilogue fragment
            epilogue=fragments.scan_epilogue if last else None,
        )
        prev = dst
    return out, ysum


def _cross_fwd(x, dt, A, B, C, D, z, dt_bias, height, width, orders, dt_softplus, dt_limit, chunk_size,
               merge, keep_ysum):
    b, l, h, p = x.shape
    K = len(orders)
    if merge == "chain":
        return _chain_fwd(x, dt, A, B, C, D, z, dt_bias, height, width, orders, dt_softplus, dt_limit,
                          chunk_size, keep_ysum)
    if merge == "buffer":
        ys = torch.empty((K, b, l, h, p), device=x.device, dtype=x.dtype)
    else:
        ys = torch.empty((1, b, l, h, p), device=x.device, dtype=torch.float32)
    for k, order in enumerate(orders):
        ssd_fused_fwd(
            x, dt[:, k], A[k], B[:, k], C[:, k], chunk_size, dt_bias=_sel(dt_bias, k),
            dt_softplus=dt_softplus, dt_limit=dt_limit, order=order, height=height, width=width,
            out=ys[k] if merge == "buffer" else ys[0], accumulate=merge == "accumulate" and k > 0,
        )
    return cross_merge_fwd(ys, x, D=D, z=z, store_ysum=keep_ysum)


class CrossScanFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, dt, A, B, C, D, z, dt_bias, height, width, orders, dt_softplus, dt_limit,
                chunk_size, merge):
        out, ysum = _cross_fwd(x, dt, A, B, C, D, z, dt_bias, height, width, orders, dt_softplus,
                               dt_limit, chunk_size, merge, keep_ysum=True)
        ctx.save_for_backward(x, dt, A, B, C, D, z, dt_bias, ysum)
        ctx.opts = (height, width, orders, dt_softplus, dt_limit)
        return out

    @staticmethod
    def backward(ctx, dout):
        x, dt, A, B, C, D, z, dt_bias, ysum = ctx.saved_tensors
        height, width, orders, dt_softplus, dt_limit = ctx.opts
        dy, dz, dD = cross_merge_bwd(dout, x, D=D, z=z, ysum=ysum)
        dx = None
        ddt, dA, dB, dC, ddt_bias = [], [], [], [], []
        # the default backward (v6, which gives what it does not compute to v4); v5s computes
        # order 0 only, so with MAMBA2_SSD_BWD=v5s the orders run v4
        from .kernels import ssd_bwd as bwd_module  # its BWD_IMPL as ssd_bwd reads it, at call time

        impl = "v4" if bwd_module.BWD_IMPL == "v5s" else None
        for k, order in enumerate(orders):  # fixed order: bit-identical reruns
            g = ssd_bwd(dy, x, dt[:, k], A[k], B[:, k], C[:, k], dt_bias=_sel(dt_bias, k),
                        dt_softplus=dt_softplus, dt_limit=dt_limit, impl=impl,
                        order=order, height=height, width=width)
            dx = g["dx"].float() if dx is None else dx.add_(g["dx"])
            ddt.append(g["ddt"])
            dA.append(g["dA"])
            dB.append(g["dB"])
            dC.append(g["dC"])
            ddt_bias.append(g["ddt_bias"])
        if D is not None:  # the skip: y += (sum_k D_k) x
            dx.add_(dy.float() * D.float().sum(0)[:, None])

        def as_(grad, t):
            return None if t is None else grad.to(t.dtype)

        return (
            as_(dx, x), as_(torch.stack(ddt, 1), dt), as_(torch.stack(dA), A),
            as_(torch.stack(dB, 1), B), as_(torch.stack(dC, 1), C), as_(dD, D), as_(dz, z),
            None if dt_bias is None else torch.stack(ddt_bias).to(dt_bias.dtype),
            None, None, None, None, None, None, None,
        )


def cross_scan_combined(
    x, dt, A, B, C, height, width, directions, D=None, z=None, dt_bias=None, dt_softplus=False,
    dt_limit=(0.0, math.inf), chunk_size=None, *, merge=None,
):
    """Scans of an image's tokens in K orders, merged, with a backward.

    x: [b, H*W, h, p] (tokens row-major), dt: [b, K, H*W, h] (raw: dt_bias,
    softplus and clamp applied inside, per order), A: [K, h], B, C:
    [b, K, H*W, g, n] (h % g == 0), D: [K, h] | None, z: [b, H*W, h, p] | None,
    dt_bias: [K, h] | None. directions: 'bidirectional' (K = 2: row-major and
    its reverse; height 1 is the 1-d bidirectional scan) or 'cross2d' (K = 4:
    row-major, column-major and both reversed); every per-order tensor holds
    its order's values in natural token order. chunk_size caps the walk's
    tile (None: LAUNCH.fused.block_q; the result does not depend on it).
    merge: 'buffer' | 'accumulate' | 'chain' | None (= MERGE), see the module docstring.

    Returns y [b, H*W, h, p] in x.dtype. Gradients flow to x, dt, A, B, C, D,
    z and dt_bias.
    """
    orders, lim, merge = check_cross_inputs(x, dt, A, B, C, height, width, directions, D, z, dt_bias,
                                            chunk_size, dt_limit, merge)
    chunk = chunk_size if chunk_size is not None else LAUNCH.fused.block_q
    lim = limit_pair(lim)
    if needs_grad(x, dt, A, B, C, D, z, dt_bias):
        return CrossScanFunction.apply(x, dt, A, B, C, D, z, dt_bias, height, width, orders,
                                       bool(dt_softplus), lim, chunk, merge)
    out, _ = _cross_fwd(x, dt, A, B, C, D, z, dt_bias, height, width, orders, bool(dt_softplus), lim,
                        chunk, merge, keep_ysum=False)
    return out
