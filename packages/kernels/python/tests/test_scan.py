"""mamba2_kernels.mamba_chunk_scan_combined (fused and chunked) against the
float64 sequential reference mamba2_runner.reference.scan.ref_scan.

Error measure: ||out - ref|| / ||ref|| over the whole tensor (NaN/inf never
pass). Tolerances per (device, dtype):
  cpu fp32 1e-4  (interpreter: exact fp32 dots; measured ~1e-6 or below)
  cuda fp32 2e-3 (tf32 dots)
  bf16 2e-2      (bf16 dot operands, bf16 output)
Every buffer the wrappers allocate with torch.empty is poisoned with NaN (ints
with a large value) during the call, so an element the kernels forget to write
shows up as a failure.
"""
from __future__ import annotations

import math

import pytest
import torch

from mamba2_runner.pkgload import select_device
from mamba2_runner.reference.scan import ref_scan
from mamba2_runner.checks import rel_err

DEVICE = select_device()  # the same answer conftest's `device` fixture gives

import mamba2_kernels  # noqa: E402  (after select_device: TRITON_INTERPRET)
from mamba2_kernels import _config  # noqa: E402

TOL = {
    ("cpu", torch.float32): 1e-4,
    ("cuda", torch.float32): 2e-3,
    ("cpu", torch.bfloat16): 2e-2,
    ("cuda", torch.bfloat16): 2e-2,
    ("cpu", torch.float16): 1e-2,
    ("cuda", torch.float16): 1e-2,
}
DTYPE_IDS = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}


# ---------------------------------------------------------------- fused-scan paths

# The `impl` fixture (conftest.py) runs every scan test once per fused path
# (one-launch, pre, split: the dispatch forced) and once on the chunked kernels.


# ---------------------------------------------------------------- helpers


def make_inputs(b, l, h, p, n, g, device, dtype=torch.float32, *, D="h", z=False, dt_bias=False,
                init=False, seq_idx=None):
    """Random inputs in the ranges a trained block sees; the decay A * dt is
    kept small enough that the state carries across several chunks."""
    dev = device
    x = torch.randn(b, l, h, p, device=dev).to(dtype)
    if dt_bias:
        # raw dt around the inverse softplus of [1e-3, 0.2]; bias spread per head
        dt = torch.randn(b, l, h, device=dev) - 3.0
        bias = torch.rand(h, device=dev) * 2.0 - 1.0
    else:
        dt = torch.rand(b, l, h, device=dev) * 0.2 + 0.005
        bias = None
    A = -torch.exp(torch.empty(h, device=dev).uniform_(math.log(0.05), math.log(2.0)))
    B = torch.randn(b, l, g, n, device=dev).to(dtype)
    C = torch.randn(b, l, g, n, device=dev).to(dtype)
    kw = {}
    if D == "h":
        kw["D"] = torch.randn(h, device=dev)
    elif D == "hp":
        kw["D"] = torch.randn(h, p, device=dev)
    if z:
        kw["z"] = torch.randn(b, l, h, p, device=dev).to(dtype)
    if bias is not None:
        kw.update(dt_bias=bias, dt_softplus=True, dt_limit=(0.002, 0.15))
    if init:
        kw["initial_states"] = torch.randn(b, h, p, n, device=dev)
    if seq_idx is not None:
        kw["seq_idx"] = seq_idx.to(device=dev, dtype=torch.int32)
    return (x, dt, A, B, C), kw


def check(impl, device, dtype, args, kw, chunk, *, final=True):
    x = args[0]
    res = mamba2_kernels.mamba_chunk_scan_combined(*args, chunk, **kw, return_final_states=final, impl=impl)
    ref = ref_scan(*args, **kw, return_final_states=final)
    tol = TOL[(device, dtype)]
    if final:
        tri_out, tri_final = res
        ref_out, ref_final = ref
        assert tri_final.dtype == torch.float32
        assert tri_final.shape == ref_final.shape
        err_final = rel_err(tri_final, ref_final)
    else:
        tri_out, ref_out, err_final = res, ref, 0.0
    assert tri_out.dtype == x.dtype and tri_out.shape == x.shape
    err_out = rel_err(tri_out, ref_out)
    assert err_out <= tol, f"out rel err {err_out:.3e} > {tol:.1e}"
    assert err_final <= tol, f"final_states rel err {err_final:.3e} > {tol:.1e}"


def shape_id(s):
    b, l, h, p, n, g, q = s
    return f"B{b}-L{l}-H{h}-P{p}-N{n}-G{g}-Q{q}"


# ---------------------------------------------------------------- shapes

# (b, l, h, p, n, g, chunk); the interpreter is slow, so CPU gets small ones
SHAPES_CPU = [
    (2, 64, 4, 32, 16, 1, 16),    # L a multiple of the chunk
    (1, 1, 2, 32, 16, 1, 16),     # seqlen 1
    (2, 77, 4, 48, 64, 2, 32),    # partial last chunk, headdim 48, ngroups > 1
    (1, 100, 2, 64, 128, 2, 64),  # d_state 128, chunk 64, one head per group
    (1, 40, 3, 20, 24, 1, 16),    # headdim and d_state not powers of two
]
SHAPES_CUDA = [
    (2, 512, 8, 64, 128, 1, 64),
    (2, 1000, 16, 64, 128, 4, 128),
    (1, 2049, 8, 48, 64, 2, 256),
    (4, 2048, 8, 64, 128, 1, 256),
    (1, 4096, 4, 128, 64, 1, 64),
]


SHAPES = SHAPES_CPU + (SHAPES_CUDA if DEVICE == "cuda" else [])
# bf16 on the interpreter is slow, and what it adds over fp32 (bf16 loads and
# stores, fp32 accumulation, the casts around the dots) is the same code at
# every shape: on CPU one shape, the one with every masked edge (partial last
# chunk, headdim 48, ngroups 2), on each path
SHAPE_CASES = [(s, torch.float32) for s in SHAPES] + [
    (s, torch.bfloat16) for s in (SHAPES if DEVICE == "cuda" else [SHAPES_CPU[2]])
]


@pytest.mark.parametrize(
    "shape,dtype", SHAPE_CASES, ids=[f"{shape_id(s)}-{DTYPE_IDS[d]}" for s, d in SHAPE_CASES]
)
def test_scan_with_every_option_matches_the_reference_across_shapes(device, impl, shape, dtype, poison
):
    b, l, h, p, n, g, q = shape
    seq = torch.zeros(b, l, dtype=torch.int32)
    seq[:, l // 3:] = 1
    seq[:, (2 * l) // 3:] = 2
    args, kw = make_inputs(b, l, h, p, n, g, device, dtype, D="hp", z=True, dt_bias=True,
                           init=True, seq_idx=seq)
    check(impl, device, dtype, args, kw, q)


FEATURES = {
    "plain": dict(D=None),
    "D-h": dict(D="h"),
    "D-hp": dict(D="hp"),
    "z-gate": dict(D="h", z=True),
    "dtbias-softplus-limit": dict(D=None, dt_bias=True),
    "initial-states": dict(D=None, init=True),
    "all": dict(D="hp", z=True, dt_bias=True, init=True),
}


FEATURE_CASES = [(f, True) for f in FEATURES] + [("plain", False), ("all", False)]


@pytest.mark.parametrize(
    "feature,final", FEATURE_CASES,
    ids=[f"{f}-{'final' if fin else 'no-final'}" for f, fin in FEATURE_CASES],
)
def test_scan_matches_the_reference_for_each_optional_input(device, impl, feature, final, poison):
    # two batches, two heads, four chunks (the last partial): every option has a
    # batch and a head offset to get wrong (ngroups > 1: the shape test)
    b, l, h, p, n, g, q = (2, 50, 2, 32, 32, 1, 16)
    args, kw = make_inputs(b, l, h, p, n, g, device, **FEATURES[feature])
    check(impl, device, torch.float32, args, kw, q, final=final)


def _seq(l, starts):
    """seq_idx [l] with a new sequence starting at each position in starts."""
    s = torch.zeros(l, dtype=torch.int32)
    for k, t in enumerate(starts):
        s[t:] = k + 1
    return s


# chunk 16, L 70: boundaries at 16, 32, 48, 64
SEQ_LAYOUTS = {
    "change-at-chunk-boundary": [_seq(70, [32]), _seq(70, [16, 48])],
    "change-inside-chunk": [_seq(70, [5]), _seq(70, [21, 60])],
    "two-changes-in-one-chunk": [_seq(70, [34, 39, 45]), _seq(70, [1, 2, 3])],
    "change-at-last-position": [_seq(70, [69]), _seq(70, [64, 69])],
    "one-sequence": [_seq(70, []), _seq(70, [])],
    "every-position": [torch.arange(70, dtype=torch.int32), _seq(70, [10, 30])],
    "non-monotone-ids": [torch.tensor([3] * 20 + [1] * 30 + [3] * 20, dtype=torch.int32), _seq(70, [17])],
}


@pytest.mark.parametrize("layout", list(SEQ_LAYOUTS), ids=list(SEQ_LAYOUTS))
def test_seq_idx_resets_the_state_exactly_where_it_changes(device, impl, layout, poison):
    seq = torch.stack(SEQ_LAYOUTS[layout])
    # one head: seq_idx is per (batch, position), the same for every head
    # (several heads with seq_idx: the shape test)
    b, l, h, p, n, g, q = (2, 70, 1, 32, 16, 1, 16)
    args, kw = make_inputs(b, l, h, p, n, g, device, D="h", z=True, init=True, seq_idx=seq)
    check(impl, device, torch.float32, args, kw, q)


def test_strided_views_of_one_packed_projection_are_accepted(device, impl, poison):
    """x, z, B, C, dt sliced out of one in_proj output, as the block does."""
    b, l, h, p, n, g, q = (2, 45, 4, 32, 16, 2, 16)
    d_inner = h * p
    width = 2 * d_inner + 2 * g * n + h
    zxbcdt = torch.randn(b, l, width + 3, device=device)[..., :width]
    z, x, Bf, Cf, dt = torch.split(zxbcdt, [d_inner, d_inner, g * n, g * n, h], dim=-1)
    x = x.unflatten(-1, (h, p))
    z = z.unflatten(-1, (h, p))
    B = Bf.unflatten(-1, (g, n))
    C = Cf.unflatten(-1, (g, n))
    assert not x.is_contiguous() and not B.is_contiguous()
    A = -torch.rand(h, device=device) - 0.1
    kw = dict(D=torch.randn(h, device=device), z=z, dt_bias=torch.randn(h, device=device),
              dt_softplus=True)
    check(impl, device, torch.float32, (x, dt, A, B, C), kw, q)


def test_impl_none_uses_the_configured_implementation(device, poison):
    assert _config.LAUNCH.scan_impl in mamba2_kernels.functional.IMPLS
    args, kw = make_inputs(1, 20, 2, 16, 16, 1, device, D="h")
    out = mamba2_kernels.mamba_chunk_scan_combined(*args, 16, **kw)
    assert isinstance(out, torch.Tensor)
    assert rel_err(out, ref_scan(*args, **kw)) <= TOL[(device, torch.float32)]


# ---------------------------------------------------------------- input checks


def _bad(name):
    """Mutations of a valid call (b2, l8, h4, p16, n16, g2) and the error they must raise."""
    def mutate(args, kw):
        x, dt, A, B, C = args
        if name == "x-3d":
            x = x[0]
        elif name == "dt-shape":
            dt = dt[:, :, :3]
        elif name == "A-shape":
            A = A[:3]
        elif name == "B-seqlen":
            B = B[:, :5]
        elif name == "C-vs-B":
            C = C[..., :8]
        elif name == "heads-not-multiple-of-groups":
            B, C = B.repeat(1, 1, 3, 1)[:, :, :3], C.repeat(1, 1, 3, 1)[:, :, :3]
        elif name == "D-shape":
            kw["D"] = torch.ones(4, 8, device=x.device)
        elif name == "z-shape":
            kw["z"] = torch.ones(2, 8, 4, 8, device=x.device)
        elif name == "dt_bias-shape":
            kw["dt_bias"] = torch.ones(5, device=x.device)
        elif name == "initial-states-shape":
            kw["initial_states"] = torch.ones(2, 4, 16, 8, device=x.device)
        elif name == "seq_idx-int64":
            kw["seq_idx"] = torch.zeros(2, 8, dtype=torch.int64, device=x.device)
        elif name == "seq_idx-shape":
            kw["seq_idx"] = torch.zeros(2, 7, dtype=torch.int32, device=x.device)
        elif name == "x-int":
            x = x.to(torch.int32)
        elif name == "impl":
            kw["impl"] = "magic"
        elif name == "chunk":
            kw["chunk_size"] = 48
        elif name == "chunk-huge":
            kw["chunk_size"] = 1 << 20
        elif name == "chunk-small":
            kw["chunk_size"] = 8
        elif name == "dt-limit":
            kw["dt_limit"] = (1.0, 0.5)
        return (x, dt, A, B, C), kw
    return mutate


BAD_INPUTS = {
    "x-3d": (ValueError, r"x must be a 4-d tensor"),
    "dt-shape": (ValueError, r"dt must have shape .*\(2, 8, 4\).*got \(2, 8, 3\)"),
    "A-shape": (ValueError, r"A must have shape .*\(4,\).*got \(3,\)"),
    "B-seqlen": (ValueError, r"B must have shape .*got \(2, 5, 2, 16\)"),
    "C-vs-B": (ValueError, r"C must have shape .*\(2, 8, 2, 16\).*got \(2, 8, 2, 8\)"),
    "heads-not-multiple-of-groups": (ValueError, r"nheads 4 .* ngroups 3"),
    "D-shape": (ValueError, r"D must have shape .*got \(4, 8\)"),
    "z-shape": (ValueError, r"z must have shape .*got \(2, 8, 4, 8\)"),
    "dt_bias-shape": (ValueError, r"dt_bias must have shape .*got \(5,\)"),
    "initial-states-shape": (ValueError, r"initial_states must have shape .*\(2, 4, 16, 16\)"),
    "seq_idx-int64": (TypeError, r"seq_idx must be int32, got torch.int64"),
    "seq_idx-shape": (ValueError, r"seq_idx must have shape .*got \(2, 7\)"),
    "x-int": (TypeError, r"x must be float32, float16 or bfloat16"),
    "impl": (ValueError, r"impl must be one of .*'magic'"),
    "chunk": (ValueError, r"chunk_size must be a power of two in 16\.\.256, got 48: pass one of 16, 32, 64, 128, 256"),
    "chunk-huge": (ValueError, r"chunk_size must be a power of two in 16\.\.256, got 1048576"),
    "chunk-small": (ValueError, r"chunk_size must be a power of two in 16\.\.256, got 8"),
    "dt-limit": (ValueError, r"dt_limit must be \(lo, hi\) with lo <= hi"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_invalid_inputs_raise_a_clear_error_before_any_launch(device, case):
    args, kw = make_inputs(2, 8, 4, 16, 16, 2, device, D="h")
    kw["chunk_size"] = 16
    args, kw = _bad(case)(args, kw)
    exc, pattern = BAD_INPUTS[case]
    with pytest.raises(exc, match=pattern):
        mamba2_kernels.mamba_chunk_scan_combined(*args, **kw)


# ---------------------------------------------------------------- > 2^31 elements


@pytest.mark.parametrize("impl_name", ["fused", "chunked"])
def test_offsets_past_2_pow_31_elements_stay_correct(device, impl_name):
    """b*L*h*p = 3 * 2^30 bf16 elements: the last batch starts past 2^31.
    seq_idx starts a new sequence W positions before the end, so the last
    window (and the final state) has a cheap exact reference; the first window
    of each batch needs only its own prefix."""
    if device != "cuda":
        pytest.skip("needs a GPU: 2 x 6 GiB of activations")
    b, l, h, p, n, g, q = 3, 1 << 20, 16, 64, 16, 1, 256
    assert b * l * h * p > 2**31
    W = 200
    x = torch.randn(b, l, h, p, device="cuda", dtype=torch.bfloat16)
    dt = torch.rand(b, l, h, device="cuda") * 0.2 + 0.005
    A = -torch.rand(h, device="cuda") - 0.05
    B = torch.randn(b, l, g, n, device="cuda", dtype=torch.bfloat16)
    C = torch.randn(b, l, g, n, device="cuda", dtype=torch.bfloat16)
    D = torch.randn(h, device="cuda")
    seq = torch.zeros(b, l, dtype=torch.int32, device="cuda")
    seq[:, l - W:] = 1
    out, final = mamba2_kernels.mamba_chunk_scan_combined(
        x, dt, A, B, C, q, D=D, seq_idx=seq, return_final_states=True, impl=impl_name
    )
    tol = TOL[("cuda", torch.bfloat16)]
    first = ref_scan(x[:, :W], dt[:, :W], A, B[:, :W], C[:, :W], D=D)
    last, last_final = ref_scan(x[:, l - W:], dt[:, l - W:], A, B[:, l - W:], C[:, l - W:], D=D,
                                return_final_states=True)
    for i in range(b):
        assert rel_err(out[i, :W], first[i]) <= tol, f"batch {i}, first window"
        assert rel_err(out[i, l - W:], last[i]) <= tol, f"batch {i}, last window"
        assert rel_err(final[i], last_final[i]) <= tol, f"batch {i}, final state"
