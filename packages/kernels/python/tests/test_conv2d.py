"""The depthwise 2-D conv (kernels/conv2d.py, conv2d_bwd.py, conv2d_autograd.py)
against float64 torch.nn.functional.conv2d with groups=C (padding 'same').

Relative error ||tri - ref|| / ||ref|| per named tensor; fresh random inputs;
the buffers the wrappers allocate start as NaN (conftest.poison). Shapes are
non-square, channel counts not powers of two, and x is a strided view (a slice
of a wider in_proj-like output), as the vision block passes it.
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mamba2_runner.checks import rel_err
from mamba2_runner.pkgload import select_device

select_device()  # TRITON_INTERPRET before the kernels are imported

from mamba2_kernels.conv2d_autograd import depthwise_conv2d_autograd  # noqa: E402
from mamba2_kernels.kernels.conv2d import depthwise_conv2d  # noqa: E402
from mamba2_kernels.kernels.conv2d_bwd import depthwise_conv2d_bwd  # noqa: E402

pytestmark = pytest.mark.usefixtures("poison")

# fp32 (CPU interpreter and CUDA alike): <= 49 fp32 products per output, no tl.dot
TOL = {"fwd": 1e-5, "grad": 1e-5}

CASES = [
    # B, H, W, C, KH, KW, bias, activation
    pytest.param(2, 5, 7, 12, 3, 3, True, "silu", id="B2-H5-W7-C12-K3x3-bias-silu"),
    pytest.param(1, 6, 3, 40, 3, 5, False, "identity", id="B1-H6-W3-C40-K3x5-nobias-identity"),
    pytest.param(2, 4, 9, 24, 5, 5, True, "silu", id="B2-H4-W9-C24-K5x5-bias-silu"),
]


def ref_dwconv2d(x, w, b, activation):
    """float64 [B, H, W, C] -> [B, H, W, C] through F.conv2d (groups=C, zero padding 'same')."""
    C, kh, kw = w.shape
    out = F.conv2d(x.to(torch.float64).permute(0, 3, 1, 2), w.to(torch.float64)[:, None],
                   None if b is None else b.to(torch.float64), padding=(kh // 2, kw // 2), groups=C)
    out = out.permute(0, 2, 3, 1)
    return F.silu(out) if activation == "silu" else out


def _inputs(device, B, H, W, C, kh, kw, bias):
    # x as the vision block passes it: a channel slice of a wider projection, viewed as an image
    wide = torch.randn(B, H * W, 2 * C + 3, device=device)
    x = wide[..., 3:3 + C].unflatten(1, (H, W))
    w = torch.randn(C, kh, kw, device=device) / (kh * kw) ** 0.5
    b = torch.randn(C, device=device) if bias else None
    return x, w, b


def _check(name, tri, ref, tol):
    assert tri.shape == ref.shape, f"{name}: shape {tuple(tri.shape)} != reference {tuple(ref.shape)}"
    assert ref.abs().sum() > 0, f"{name}: the reference is all zeros, the test proves nothing"
    err = rel_err(tri.detach().cpu(), ref.detach().cpu())
    assert err <= tol, f"{name}: relative error {err:.3e} > {tol:.0e}"


@pytest.mark.parametrize("B,H,W,C,kh,kw,bias,activation", CASES)
def test_forward_matches_float64_conv2d(device, B, H, W, C, kh, kw, bias, activation):
    x, w, b = _inputs(device, B, H, W, C, kh, kw, bias)
    out = depthwise_conv2d(x, w, b, activation=activation)
    assert out.dtype == x.dtype and out.is_contiguous()
    _check("out", out, ref_dwconv2d(x, w, b, activation), TOL["fwd"])


@pytest.mark.parametrize("B,H,W,C,kh,kw,bias,activation", CASES)
def test_every_gradient_matches_float64_autograd(device, B, H, W, C, kh, kw, bias, activation):
    x, w, b = _inputs(device, B, H, W, C, kh, kw, bias)
    w4 = w[:, None].clone()  # nn.Conv2d's [C, 1, KH, KW] parameter layout
    leaves = [t.detach().clone().requires_grad_() for t in (x, w4) + ((b,) if bias else ())]
    out = depthwise_conv2d_autograd(leaves[0], leaves[1], leaves[2] if bias else None, activation)
    gout = torch.randn_like(out)
    got = torch.autograd.grad(out, leaves, gout)
    l64 = [t.detach().to(torch.float64).requires_grad_() for t in leaves]
    ref = ref_dwconv2d(l64[0], l64[1][:, 0], l64[2] if bias else None, activation)
    want = torch.autograd.grad(ref, l64, gout.to(torch.float64))
    for name, g, r in zip(("dx", "dweight", "dbias"), got, want):
        assert g.shape == r.shape and g.dtype == torch.float32
        _check(name, g, r, TOL["grad"])


def test_backward_is_deterministic(device):
    x, w, b = _inputs(device, 2, 5, 7, 12, 3, 3, True)
    gout = torch.randn(2, 5, 7, 12, device=device)
    first = depthwise_conv2d_bwd(gout, x, w, b)
    second = depthwise_conv2d_bwd(gout, x, w, b)
    for name, a, c in zip(("dx", "dweight", "dbias"), first, second):
        assert torch.equal(a, c), f"{name} differs between two backward runs"


def test_rejects_an_even_kernel_naming_the_rule(device):
    x = torch.randn(1, 4, 4, 8, device=device)
    with pytest.raises(ValueError, match="odd sizes"):
        depthwise_conv2d(x, torch.randn(8, 2, 2, device=device))
