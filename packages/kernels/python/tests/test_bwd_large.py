"""Forward+backward over more than 2^31 elements (issue 9): every offset past
2^31 must be computed in int64, forward and backward. The last batch row of a
b = 3 run starts past 2^31 elements of x; its output and every gradient must
equal the same row run alone (b = 1, offsets small). Launch settings may
differ with the batch (the split choices count programs), so the two agree to
bf16 rounding, not bit for bit: tolerance 1e-2 relative (a wrong int32 offset
reads another row or garbage: error ~1). dA and dD sum over the batch, so the
check is per row, on the output, dx, ddt, dB and dC."""
from __future__ import annotations

import pytest
import torch

import mamba2_kernels
from mamba2_runner.checks import rel_err

TOL = 1e-2  # bf16 inputs and gradients


def test_fwd_bwd_past_2_pow_31_elements_matches_the_last_row_run_alone(device):
    if device != "cuda":
        pytest.skip("needs a GPU: about 40 GiB of activations, states and gradients")
    b, l, h, p, n, g, q = 3, 1 << 20, 16, 64, 16, 1, 256
    assert (b - 1) * l * h * p >= 2**31, "the last row must start past 2^31 elements"
    gen = torch.Generator(device="cuda").manual_seed(int(torch.randint(0, 2**31 - 1, (1,))))
    bf = torch.bfloat16

    def rnd(*shape, dtype=bf, scale=1.0, shift=0.0):
        return (torch.randn(*shape, device="cuda", generator=gen) * scale + shift).to(dtype)

    x = rnd(b, l, h, p)
    dt = (torch.rand(b, l, h, device="cuda", generator=gen) * 0.2 + 0.005)
    A = -(torch.rand(h, device="cuda", generator=gen) + 0.05)
    B = rnd(b, l, g, n)
    C = rnd(b, l, g, n)
    D = torch.randn(h, device="cuda", generator=gen)
    dy = rnd(b, l, h, p)

    def run(xs, dts, Bs, Cs, dys):
        leaves = [t.detach().clone().requires_grad_(True) for t in (xs, dts, Bs, Cs)]
        out = mamba2_kernels.mamba_chunk_scan_combined(leaves[0], leaves[1], A, leaves[2], leaves[3], q, D=D)
        out.backward(dys)
        return out.detach(), [t.grad for t in leaves]

    out_all, grads_all = run(x, dt, B, C, dy)
    i = b - 1
    out_one, grads_one = run(x[i:], dt[i:], B[i:], C[i:], dy[i:])
    for t in [out_all, *grads_all]:
        assert torch.isfinite(t).all(), "non-finite output or gradient"
    assert rel_err(out_all[i:], out_one) <= TOL, "output of the last row"
    for name, ga, go in zip(("dx", "ddt", "dB", "dC"), grads_all, grads_one):
        assert rel_err(ga[i:], go) <= TOL, f"{name} of the last row"
