"""ref_cross_scan: scans of an image in several orders, merged (MAMBA2.md
"Scans in other orders"), in float64.

Independent of the kernels' index maps: each order's inputs are explicitly
permuted copies (reshape to the image, transpose, flip), the sequential
float64 recurrence (scan.ref_scan) runs once per order, and the outputs are
permuted back the same explicit way before the sum:

    y = sum_k unperm_k(ref_scan(perm_k(x), perm_k(dt_k), A_k, perm_k(B_k), perm_k(C_k)))
        + sum_k D_k x,            out = y * silu(z) when z is given.

Differentiable (autograd through it gives the reference gradients).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .scan import ref_scan

# directions -> the scan orders (0 row-major, 1 column-major, 2 / 3 reversed)
DIRECTION_ORDERS = {"bidirectional": (0, 2), "cross2d": (0, 1, 2, 3)}


def perm_tokens(t: torch.Tensor, height: int, width: int, order: int) -> torch.Tensor:
    """t [b, H*W, ...] in natural row-major token order -> the same tokens in
    scan order `order`, as a new tensor (dim 1 is the token dim)."""
    b, l = t.shape[:2]
    rest = t.shape[2:]
    img = t.reshape(b, height, width, *rest)
    if order in (1, 3):  # column-major: position j * H + i holds token (i, j)
        img = img.transpose(1, 2)
    seq = img.reshape(b, l, *rest)
    if order in (2, 3):
        seq = seq.flip(1)
    return seq.contiguous()


def unperm_tokens(t: torch.Tensor, height: int, width: int, order: int) -> torch.Tensor:
    """The inverse of perm_tokens: scan order `order` -> natural token order."""
    b, l = t.shape[:2]
    rest = t.shape[2:]
    if order in (2, 3):
        t = t.flip(1)
    if order in (1, 3):
        t = t.reshape(b, width, height, *rest).transpose(1, 2)
    return t.reshape(b, l, *rest).contiguous()


def ref_cross_scan(
    x, dt, A, B, C, height: int, width: int, directions: str, D=None, z=None, dt_bias=None,
    dt_softplus: bool = False, dt_limit=(0.0, math.inf),
):
    """float64 reference of cross_scan_combined.

    x: [b, H*W, h, p] (natural row-major tokens), dt: [b, K, H*W, h],
    A: [K, h], B, C: [b, K, H*W, g, n], D: [K, h] | None, z: [b, H*W, h, p] | None,
    dt_bias: [K, h] | None; directions 'bidirectional' (K=2: orders 0, 2) or
    'cross2d' (K=4: orders 0, 1, 2, 3). Returns float64 [b, H*W, h, p].
    """
    orders = DIRECTION_ORDERS[directions]
    assert dt.shape[1] == len(orders), f"dt has {dt.shape[1]} orders, {directions} needs {len(orders)}"
    y = None
    for k, order in enumerate(orders):
        yk = ref_scan(
            perm_tokens(x, height, width, order), perm_tokens(dt[:, k], height, width, order), A[k],
            perm_tokens(B[:, k], height, width, order), perm_tokens(C[:, k], height, width, order),
            dt_bias=None if dt_bias is None else dt_bias[k], dt_softplus=dt_softplus, dt_limit=dt_limit,
        )
        yk = unperm_tokens(yk, height, width, order)
        y = yk if y is None else y + yk
    if D is not None:
        y = y + D.double().sum(0)[:, None] * x.double()
    if z is not None:
        y = y * F.silu(z.double())
    return y
