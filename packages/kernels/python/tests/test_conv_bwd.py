"""The conv backward (kernels/conv_bwd.py) at its tile sizes against torch
autograd through the float64 reference conv (mamba2_runner.reference.ops;
test_grad.py checks it through the autograd Function at more widths; these
cases pin the tiles: the default 64 rows and 16, so that several L blocks
meet, L not a multiple of the tile, C not a multiple of the channel block,
a strided input).

Tolerance: cpu fp32 1e-4 (interpreter, exact fp32), cuda fp32 1e-3, cuda
bf16 3e-2, as test_grad.py. Fresh random inputs every run.
"""
from __future__ import annotations

import math

import pytest
import torch

from mamba2_runner.checks import rel_err
from mamba2_runner.pkgload import select_device
from mamba2_runner.reference.ops import ref_causal_conv1d

DEVICE = select_device()  # TRITON_INTERPRET before the kernels are imported

from mamba2_kernels.kernels import conv_bwd  # noqa: E402

TOL = {("cpu", torch.float32): 1e-4, ("cuda", torch.float32): 1e-3, ("cuda", torch.bfloat16): 3e-2}


def ref_grads(x, w, b, dout, silu):
    """dx, dw, db of the float64 reference conv (mamba2_runner.reference.ops) through autograd."""
    leaves = [t.detach().double().requires_grad_() for t in (x, w) + ((b,) if b is not None else ())]
    out = ref_causal_conv1d(leaves[0], leaves[1], leaves[2] if b is not None else None,
                            activation="silu" if silu else "identity")
    return torch.autograd.grad(out, leaves, dout.double())


@pytest.mark.parametrize("block_l,block_c,warps", [(None, None, None), (16, 16, 4)],
                         ids=["default-tiles", "16-row-16-channel-tiles"])
@pytest.mark.parametrize("width,has_bias,silu", [(4, True, True), (3, False, False)],
                         ids=["width4-bias-silu", "width3-identity"])
def test_the_conv_backward_matches_float64_autograd_at_each_tile(block_l, block_c, warps, width, has_bias, silu):
    dtype = torch.float32
    tol = TOL[(DEVICE, dtype)]
    Bsz, L, C = 2, 75, 40  # 5 tiles of 16 / 2 of 64 (the last partial), C over three blocks of 16
    big = torch.randn(Bsz, L, C + 9, device=DEVICE, dtype=dtype)
    x = big[:, :, 5:5 + C]  # strided rows: the kernels take the row stride
    w = (torch.randn(C, width, device=DEVICE) / math.sqrt(width)).to(dtype)
    b = torch.randn(C, device=DEVICE, dtype=dtype) if has_bias else None
    dout = torch.randn(Bsz, L, C, device=DEVICE, dtype=dtype)
    dx, dw, db = conv_bwd.causal_conv1d_bwd(dout, x, w, b, activation="silu" if silu else "identity",
                                            block_l=block_l, block_c=block_c, num_warps=warps)
    ref = ref_grads(x, w, b, dout, silu)
    got = [dx, dw] + ([db] if has_bias else [])
    for name, t, r in zip(["dx", "dw", "db"], got, ref):
        assert torch.isfinite(t).all(), f"{name} has non-finite values"
        err = rel_err(t.detach().cpu(), r.detach().cpu())
        assert err <= tol, f"block_l {block_l}: {name} rel err {err:.2e} > {tol:.0e}"



@pytest.mark.parametrize("block_c", [None, 8, 16], ids=["tile-across-every-piece", "tiles-inside-pieces", "mixed"])
def test_dout_in_three_pieces_and_dx_into_a_wider_buffer_match_the_one_tensor_form(block_c):
    """The block's call (block.py): dout as three side-by-side pieces (the scan's dx in the input
    dtype, dB and dC in fp32, each with its own row stride) and dx written into columns of a wider
    buffer: the same gradients as one dout tensor, against float64 autograd; the buffer's other
    columns are left as they were. Pieces of 24 / 8 / 8 channels: the default tile spans all three
    (the masked loads), 8-wide tiles each sit inside one piece (the plain loads), 16-wide tiles do
    both."""
    tol = TOL[(DEVICE, torch.float32)]
    Bsz, L, C = 2, 75, 40
    x = torch.randn(Bsz, L, C, device=DEVICE)
    w = torch.randn(C, 4, device=DEVICE) / 2
    b = torch.randn(C, device=DEVICE)
    dout = torch.randn(Bsz, L, C, device=DEVICE)
    wide = torch.randn(Bsz, L, C + 30, device=DEVICE)
    pieces = (dout[..., :24], torch.cat([dout[..., 24:32], wide[..., :3]], -1)[..., :8], dout[..., 32:].clone())
    keep = wide.clone()
    dx, dw, db = conv_bwd.causal_conv1d_bwd(pieces, x, w, b, dx_out=wide[..., 10:10 + C], block_c=block_c)
    assert dx.data_ptr() == wide[..., 10:10 + C].data_ptr()
    for name, t, r in zip(["dx", "dw", "db"], [dx, dw, db], ref_grads(x, w, b, dout, True)):
        err = rel_err(t.detach().cpu(), r.detach().cpu())
        assert err <= tol, f"{name} rel err {err:.2e} > {tol:.0e}"
    assert torch.equal(wide[..., :10], keep[..., :10]) and torch.equal(wide[..., 10 + C:], keep[..., 10 + C:])


def test_a_bf16_dpre_keeps_dw_and_db_exact_and_dx_within_bf16_rounding():
    """dpre_dtype=bf16 (half the HBM bytes between the launches): dweight and dbias are summed
    from the fp32 dpre in registers (equal to the fp32 form's bit for bit); dx is summed from the
    bf16-rounded dpre: within 1e-2 of float64 (bf16's unit roundoff 3.9e-3, W = 4 terms)."""
    Bsz, L, C = 2, 75, 40
    x = torch.randn(Bsz, L, C, device=DEVICE)
    w = torch.randn(C, 4, device=DEVICE) / 2
    b = torch.randn(C, device=DEVICE)
    dout = torch.randn(Bsz, L, C, device=DEVICE)
    dx32, dw32, db32 = conv_bwd.causal_conv1d_bwd(dout, x, w, b)
    dx, dw, db = conv_bwd.causal_conv1d_bwd(dout, x, w, b, dpre_dtype=torch.bfloat16)
    assert torch.equal(dw, dw32) and torch.equal(db, db32)
    err = rel_err(dx.cpu(), ref_grads(x, w, b, dout, True)[0].cpu())
    assert err <= 1e-2, f"dx rel err {err:.2e} > 1e-2"
    assert not torch.equal(dx, dx32), "dx did not change: dpre was not rounded to bf16"
