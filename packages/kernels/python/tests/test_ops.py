"""The library's small ops and its chunked SSD scan against the float64
references (mamba2_runner.reference: ops.py and scan.py).

Every comparison is the relative error ||tri - ref|| / ||ref|| of a named
output, with a tolerance per dtype (TOL below); a non-finite output never
passes. Inputs are fresh random data each run (seed in the pytest header).
Every op runs with the `poison` fixture: the buffers it allocates start as
NaN, so an output element the kernel forgets to write fails the comparison.
bf16 cases run only on CUDA; on CPU the kernels run under TRITON_INTERPRET=1.
"""
from __future__ import annotations

import math

import pytest
import torch

from mamba2_runner.pkgload import select_device
from mamba2_runner.reference.ops import ref_causal_conv1d, ref_dt_transform, ref_rmsnorm_gated
from mamba2_runner.reference.scan import ref_scan
from mamba2_runner.checks import rel_err as _rel_err

select_device()  # TRITON_INTERPRET before the kernels are imported

from mamba2_kernels.kernels.conv import causal_conv1d  # noqa: E402
from mamba2_kernels.kernels.dt import dt_transform  # noqa: E402
from mamba2_kernels.kernels.norm import rmsnorm_gated  # noqa: E402
from mamba2_kernels.kernels.ssd_chunked import ssd_chunked_fwd  # noqa: E402

# relative-error tolerances, per op and dtype
TOL = {
    "conv": {torch.float32: 1e-5, torch.bfloat16: 1e-2},
    "dt": {torch.float32: 1e-6, torch.bfloat16: 1e-6},  # fp32 output from exact inputs
    "norm": {torch.float32: 1e-5, torch.bfloat16: 1e-2},
    "scan": {torch.float32: 1e-4, torch.bfloat16: 3e-2},
    "state": {torch.float32: 1e-4, torch.bfloat16: 3e-2},
}
# every test runs with poisoned allocations (conftest.poison)
pytestmark = pytest.mark.usefixtures("poison")

DTYPES = [
    pytest.param(torch.float32, id="fp32"),
    pytest.param(torch.bfloat16, id="bf16"),
]


def _skip_unsupported(device: str, dtype: torch.dtype) -> None:
    if dtype == torch.bfloat16 and device != "cuda":
        pytest.skip("bf16 cases run on CUDA only")


def rel_err(name: str, tri: torch.Tensor, ref: torch.Tensor) -> float:
    assert tri.shape == ref.shape, f"{name}: shape {tuple(tri.shape)} != reference {tuple(ref.shape)}"
    assert ref.detach().abs().sum().item() > 0, f"{name}: the reference is all zeros, the test proves nothing"
    return _rel_err(tri.detach().cpu(), ref.detach().cpu())


def assert_close(name: str, tri: torch.Tensor, ref: torch.Tensor, tol: float) -> None:
    err = rel_err(name, tri, ref)
    assert err <= tol, f"{name}: relative error {err:.3e} > {tol:.0e}"


# ----------------------------------------------------------------------------- conv


@pytest.mark.parametrize("activation", ["silu", "identity"])
@pytest.mark.parametrize("has_bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("width", range(2, 9), ids=[f"W{w}" for w in range(2, 9)])
def test_causal_conv1d_matches_the_reference_for_every_width(device, width, has_bias, activation):
    Bsz, L, C = 2, 37, 40
    x = torch.randn(Bsz, L, C, device=device)
    weight = torch.randn(C, width, device=device) / math.sqrt(width)
    bias = torch.randn(C, device=device) if has_bias else None
    tri_out = causal_conv1d(x, weight, bias, activation=activation)
    ref_out = ref_causal_conv1d(x, weight, bias, activation)
    assert tri_out.dtype == x.dtype and tri_out.is_contiguous()
    assert_close("out", tri_out, ref_out, TOL["conv"][torch.float32])


@pytest.mark.parametrize("dtype", DTYPES)
def test_causal_conv1d_reads_a_strided_slice_of_the_in_proj_output(device, dtype):
    """x is the xBC part of [z, xBC, dt] in a (batch, seqlen, features) tensor
    whose batch rows are not even adjacent (every other row of a larger one)."""
    _skip_unsupported(device, dtype)
    Bsz, L, C, W = 3, 45, 72, 4
    zxbcdt = torch.randn(2 * Bsz, L, 24 + C + 8, device=device, dtype=dtype)
    x = zxbcdt[::2, :, 24:24 + C]
    assert not x.is_contiguous() and x.stride(-1) == 1
    weight = (torch.randn(C, 1, W, device=device) / 2).to(dtype)  # nn.Conv1d layout
    bias = torch.randn(C, device=device).to(dtype)
    tri_out = causal_conv1d(x, weight, bias, activation="silu", block_l=16, block_c=32)
    ref_out = ref_causal_conv1d(x, weight, bias, "silu")
    assert tri_out.dtype == dtype and tri_out.is_contiguous()
    assert_close("out", tri_out, ref_out, TOL["conv"][dtype])


def test_causal_conv1d_rejects_a_width_above_8(device):
    with pytest.raises(ValueError, match="width 9"):
        causal_conv1d(torch.randn(1, 4, 8, device=device), torch.randn(8, 9, device=device))


# ------------------------------------------------------------------------------- dt

DT_LIMITS = [
    pytest.param((0.0, math.inf), id="lim0-inf"),
    pytest.param((1e-3, 0.1), id="lim1e-3-0.1"),
    pytest.param((-math.inf, math.inf), id="nolimit"),
]


@pytest.mark.parametrize("limit", DT_LIMITS)
@pytest.mark.parametrize("softplus", [True, False], ids=["softplus", "nosoftplus"])
@pytest.mark.parametrize("has_bias", [True, False], ids=["bias", "nobias"])
def test_dt_transform_matches_the_reference(device, has_bias, softplus, limit):
    Bsz, L, H = 2, 33, 12
    # raw dt from -30 to 30: both softplus branches (v > 20 and the log1p) and tiny values
    zxbcdt = torch.randn(Bsz, L, 5 + H, device=device) * 10
    dt = zxbcdt[..., 5:]
    dt_bias = torch.randn(H, device=device) if has_bias else None
    tri_dt = dt_transform(dt, dt_bias, softplus=softplus, limit=limit)
    ref_dt = ref_dt_transform(dt, dt_bias, softplus, limit)
    assert tri_dt.dtype == torch.float32 and tri_dt.shape == (Bsz, L, H)
    assert_close("dt", tri_dt, ref_dt, TOL["dt"][torch.float32])


def test_dt_transform_keeps_the_relative_precision_of_tiny_softplus_values(device):
    """softplus(v) for v in [-25, -6] is about exp(v): log(1 + exp(v)) in fp32
    would round it away; the kernel must not."""
    dt = torch.rand(2, 40, 8, device=device) * -19 - 6
    tri_dt = dt_transform(dt, None, softplus=True, limit=(0.0, math.inf))
    ref_dt = ref_dt_transform(dt, None, True, (0.0, math.inf))
    assert_close("dt", tri_dt, ref_dt, 1e-5)


# ----------------------------------------------------------------------------- norm

NORM_CASES = [
    pytest.param(False, False, None, id="noz"),
    pytest.param(False, False, 16, id="noz-group16"),
    pytest.param(True, False, None, id="z-gate-then-norm"),
    pytest.param(True, True, None, id="z-norm-then-gate"),
    pytest.param(True, False, 24, id="z-gate-then-norm-group24"),
    pytest.param(True, True, 48, id="z-norm-then-gate-group48"),
]


@pytest.mark.parametrize("has_z,norm_before_gate,group_size", NORM_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_rmsnorm_gated_matches_the_reference(device, dtype, has_z, norm_before_gate, group_size):
    _skip_unsupported(device, dtype)
    Bsz, L, D = 2, 19, 96
    y = (torch.randn(Bsz, L, D + 8, device=device) * 3).to(dtype)[..., :D]  # strided rows
    z = torch.randn(Bsz, L, 2 * D, device=device).to(dtype)[..., D:] if has_z else None
    weight = (1 + 0.5 * torch.randn(D, device=device)).to(dtype)
    tri_out = rmsnorm_gated(y, weight, z, eps=1e-5, group_size=group_size, norm_before_gate=norm_before_gate)
    ref_out = ref_rmsnorm_gated(y, weight, z, 1e-5, group_size, norm_before_gate)
    assert tri_out.dtype == dtype and tri_out.is_contiguous()
    assert_close("out", tri_out, ref_out, TOL["norm"][dtype])


# ------------------------------------------------------------------- chunked scan


def _scan_inputs(device, dtype, b, l, h, p, g, n, *, D=None, z=False, dt_bias=False, softplus=False,
                 init=False, seq_idx=None):
    """Random inputs in the ranges a Mamba-2 block sees (dt > 0, A < 0)."""
    x = torch.randn(b, l, h, p, device=device)
    B = torch.randn(b, l, g, n, device=device)
    C = torch.randn(b, l, g, n, device=device)
    dt_raw = torch.rand(b, l, h, device=device)
    if softplus:
        dt_raw = dt_raw * 4 - 4  # softplus of [-4, 0]: dt in [0.018, 0.69]
    else:
        dt_raw = dt_raw * 0.2 + 0.01
    A = -torch.exp(torch.rand(h, device=device) * math.log(8.0))  # -[1, 8]
    args = dict(
        x=x.to(dtype), dt=dt_raw, A=A, B=B.to(dtype), C=C.to(dtype),
        D=None if D is None else (torch.randn(h, device=device) if D == "h" else torch.randn(h, p, device=device)),
        z=torch.randn(b, l, h, p, device=device).to(dtype) if z else None,
        dt_bias=torch.randn(h, device=device) * 0.5 if dt_bias else None,
        initial_states=torch.randn(b, h, p, n, device=device) if init else None,
        seq_idx=None if seq_idx is None else seq_idx.to(device=device, dtype=torch.int32),
    )
    return args


def _seq_idx(b: int, l: int, changes: list[list[int]]) -> torch.Tensor:
    """seq_idx [b, l] that increments at each listed position of each batch row."""
    s = torch.zeros(b, l, dtype=torch.int32)
    for i, row in enumerate(changes):
        for t in row:
            s[i, t:] += 1
    return s


# (id, dims b-l-h-p-g-n-Q, options). The chunked kernels' shapes, options,
# seq_idx layouts and strided inputs are test_scan.py's, where every case runs
# on the chunked kernels too (its `impl` fixture; mamba_chunk_scan_combined
# calls ssd_chunked_fwd with the same arguments). Here only what it lacks:
SCAN_CASES = [
    # headdim and d_state below the 16 of a dot tile, three groups of two heads
    ("B1-L40-H6-P8-N8-G3-Q16-small-dims", (1, 40, 6, 8, 3, 8, 16), {}),
    # dt_limit without softplus (test_scan always pairs dt_bias with softplus)
    ("B2-L40-H4-P16-N16-G1-Q16-limit-no-softplus", (2, 40, 4, 16, 1, 16, 16), {"limit": (0.05, 0.15)}),
]


@pytest.mark.parametrize("dims,opts", [pytest.param(d, o, id=i) for i, d, o in SCAN_CASES])
@pytest.mark.parametrize("dtype", DTYPES)
def test_ssd_chunked_fwd_matches_the_sequential_reference(device, dtype, dims, opts):
    _skip_unsupported(device, dtype)
    b, l, h, p, g, n, Q = dims
    opts = dict(opts)
    limit = opts.pop("limit", (0.0, math.inf))
    seq = opts.pop("seq_idx", None)
    args = _scan_inputs(device, dtype, b, l, h, p, g, n,
                        seq_idx=None if seq is None else _seq_idx(b, l, seq), **opts)
    softplus = opts.get("softplus", False)
    tri_out, tri_final = ssd_chunked_fwd(chunk_size=Q, dt_softplus=softplus, dt_limit=limit,
                                             return_final_states=True, **args)
    ref_out, ref_final = ref_scan(dt_softplus=softplus, dt_limit=limit, return_final_states=True, **args)
    assert tri_out.dtype == dtype and tri_out.shape == (b, l, h, p) and tri_out.is_contiguous()
    assert tri_final.dtype == torch.float32 and tri_final.shape == (b, h, p, n)
    assert_close("out", tri_out, ref_out, TOL["scan"][dtype])
    assert_close("final_states", tri_final, ref_final, TOL["state"][dtype])


def test_ssd_chunked_fwd_returns_no_final_states_unless_asked(device):
    args = _scan_inputs(device, torch.float32, 1, 20, 2, 16, 1, 16)
    tri_out, tri_final = ssd_chunked_fwd(chunk_size=16, **args)
    assert tri_final is None
    assert_close("out", tri_out, ref_scan(**args), TOL["scan"][torch.float32])


def test_ssd_chunked_fwd_rejects_a_chunk_size_outside_the_powers_of_two_16_to_256(device):
    args = _scan_inputs(device, torch.float32, 1, 20, 2, 16, 1, 16)
    with pytest.raises(ValueError, match=r"chunk_size must be a power of two in 16\.\.256, got 24"):
        ssd_chunked_fwd(chunk_size=24, **args)
    with pytest.raises(ValueError, match=r"got 512"):
        ssd_chunked_fwd(chunk_size=512, **args)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="long-sequence case runs on CUDA only")
def test_ssd_chunked_fwd_matches_the_reference_on_a_long_bf16_sequence(device):
    if device != "cuda":
        pytest.skip("CUDA only")
    b, l, h, p, g, n, Q = 2, 1000, 8, 64, 1, 128, 256
    args = _scan_inputs(device, torch.bfloat16, b, l, h, p, g, n, D="h", z=True, dt_bias=True,
                        softplus=True, init=True, seq_idx=_seq_idx(b, l, [[300], [256, 700]]))
    tri_out, tri_final = ssd_chunked_fwd(chunk_size=Q, dt_softplus=True, return_final_states=True, **args)
    ref_out, ref_final = ref_scan(dt_softplus=True, return_final_states=True, **args)
    assert_close("out", tri_out, ref_out, TOL["scan"][torch.bfloat16])
    assert_close("final_states", tri_final, ref_final, TOL["state"][torch.bfloat16])
