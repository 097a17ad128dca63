"""The float64 reference against hand-derived vectors (mamba2_runner/vectors.py),
and ref_block against the ops composed by hand on a tiny IR."""
from __future__ import annotations

import importlib.util
import math

import pytest
import torch

from mamba2_runner import vectors as V
from mamba2_runner.reference.graph import IRInterpretError, ref_block
from mamba2_runner.reference.ops import ref_causal_conv1d, ref_dt_transform, ref_rmsnorm_gated

HAS_SCAN = importlib.util.find_spec("mamba2_runner.reference.scan") is not None
needs_scan = pytest.mark.skipif(not HAS_SCAN, reason="reference/scan.py (ref_scan) has not landed yet")


def close(out, expected):
    exp = torch.tensor(expected, dtype=torch.float64)
    assert out.dtype == torch.float64
    assert not torch.isnan(out).any(), "NaN never passes"
    torch.testing.assert_close(out.reshape(exp.shape), exp, rtol=0, atol=V.HAND_ATOL)


@pytest.mark.parametrize("v", V.CONV_VECTORS, ids=lambda v: v["name"])
def test_causal_conv_matches_the_hand_vector(v):
    x = V.t64(v["x"]).unsqueeze(0)
    b = None if v["bias"] is None else V.t64(v["bias"])
    close(ref_causal_conv1d(x, V.t64(v["weight"]), b, v["activation"]), [v["out"]])


@pytest.mark.parametrize("v", V.DT_VECTORS, ids=lambda v: v["name"])
def test_dt_transform_matches_the_hand_vector(v):
    dt = V.t64(v["dt"]).reshape(1, 3, 1)
    bias = None if v["dt_bias"] is None else V.t64([v["dt_bias"]])
    close(ref_dt_transform(dt, bias, v["softplus"], v["limit"]), v["out"])


@pytest.mark.parametrize("v", V.NORM_VECTORS, ids=lambda v: v["name"])
def test_rmsnorm_gated_matches_the_hand_vector(v):
    z = None if v["z"] is None else V.t64(v["z"])
    out = ref_rmsnorm_gated(V.t64(v["y"]), V.t64(v["weight"]), z, v["eps"], v["group_size"], v["norm_before_gate"])
    close(out, v["out"])


def test_causal_conv_agrees_with_torch_conv1d_on_random_data():
    x = torch.randn(2, 9, 5, dtype=torch.float64)
    w = torch.randn(5, 4, dtype=torch.float64)
    b = torch.randn(5, dtype=torch.float64)
    want = torch.nn.functional.conv1d(x.transpose(1, 2), w.unsqueeze(1), b, padding=3, groups=5)[..., :9]
    close(ref_causal_conv1d(x, w, b, "identity"), want.transpose(1, 2).tolist())


@needs_scan
@pytest.mark.parametrize("v", V.SCAN_VECTORS, ids=lambda v: v["name"])
def test_ref_scan_matches_the_hand_vector(v):
    from mamba2_runner.reference.scan import ref_scan

    out, final = ref_scan(**V.scan_tensors(v), return_final_states=True)
    close(out, v["y"])
    close(final, [v["final"]])


@needs_scan
def test_ref_scan_applies_softplus_and_bias_to_reach_the_same_hand_vector():
    from mamba2_runner.reference.scan import ref_scan

    v = V.SCAN_VECTORS[0]
    args = V.scan_tensors(v)
    args["dt"] = V.t64([0.0, math.log(math.e**2 - 1) - math.log(math.e - 1), 0.0]).reshape(1, 3, 1)
    out = ref_scan(**args, dt_bias=V.t64([math.log(math.e - 1)]), dt_softplus=True)
    close(out, v["y"])


def _tiny_ir(norm_before_gate=False, learnable=False, per_channel=False):
    """d_model 4, expand 2 -> d_inner 8, headdim 4 -> 2 heads, 1 group, d_state 2, conv width 3."""
    di, h, p, g, n, w = 8, 2, 4, 1, 2, 3
    conv_dim = di + 2 * g * n
    nodes = [
        {"kind": "Input", "id": "u", "features": 4},
        {"kind": "Linear", "id": "in_proj", "input": "u", "param": "in_proj", "inFeatures": 4,
         "outFeatures": 2 * di + 2 * g * n + h, "bias": False},
        {"kind": "Split", "id": "zxbcdt", "input": "in_proj",
         "parts": [{"name": "z", "size": di}, {"name": "xBC", "size": conv_dim}, {"name": "dt", "size": h}]},
        {"kind": "CausalConv1d", "id": "conv", "input": "zxbcdt.xBC", "param": "conv1d", "channels": conv_dim,
         "width": w, "bias": True, "activation": "silu", "init": None},
        {"kind": "Split", "id": "xbc", "input": "conv",
         "parts": [{"name": "x", "size": di}, {"name": "B", "size": g * n}, {"name": "C", "size": g * n}]},
        {"kind": "DtTransform", "id": "dt", "input": "zxbcdt.dt", "nheads": h, "bias": True, "softplus": True,
         "limit": [0.0, None], "dtMin": 1e-3, "dtMax": 0.1, "dtInitFloor": 1e-4},
        {"kind": "SsdScan", "id": "ssd", "x": "xbc.x", "dt": "dt", "B": "xbc.B", "C": "xbc.C", "nheads": h,
         "headdim": p, "ngroups": g, "dState": n, "chunkSize": 16, "aInitRange": [1, 16],
         "learnableInitStates": learnable},
        {"kind": "DSkip", "id": "dskip", "y": "ssd", "x": "xbc.x", "nheads": h, "headdim": p,
         "perChannel": per_channel},
        {"kind": "RMSNorm", "id": "norm", "y": "dskip", "z": "zxbcdt.z", "param": "norm", "features": di,
         "groupSize": di, "eps": 1e-5, "normBeforeGate": norm_before_gate},
        {"kind": "Linear", "id": "out_proj", "input": "norm", "param": "out_proj", "inFeatures": di,
         "outFeatures": 4, "bias": False},
        {"kind": "Output", "id": "out", "input": "out_proj", "features": 4},
    ]
    sd = {
        "in_proj.weight": torch.randn(2 * di + 2 * g * n + h, 4),
        "conv1d.weight": torch.randn(conv_dim, 1, w),
        "conv1d.bias": torch.randn(conv_dim),
        "dt_bias": torch.randn(h),
        "A_log": torch.rand(h),
        "D": torch.randn(h * p if per_channel else h),
        "norm.weight": 1 + 0.5 * torch.randn(di),
        "out_proj.weight": torch.randn(4, di),
    }
    if learnable:
        sd["init_states"] = torch.randn(h, p, n)
    return {"kind": "Graph", "name": "tiny", "className": "Tiny", "nodes": nodes, "output": "out"}, sd


def _sequential_block(sd, u, norm_before_gate, learnable, per_channel):
    """The block written out directly (loop over t), for ref_block to agree with."""
    u = u.double()
    sd = {k: v.double() for k, v in sd.items()}
    di, h, p, n = 8, 2, 4, 2
    zxbcdt = u @ sd["in_proj.weight"].T
    z, xBC, dt = zxbcdt[..., :di], zxbcdt[..., di : di + di + 2 * n], zxbcdt[..., -h:]
    xBC = ref_causal_conv1d(xBC, sd["conv1d.weight"], sd["conv1d.bias"], "silu")
    x, B, C = xBC[..., :di], xBC[..., di : di + n], xBC[..., di + n :]
    dt = torch.nn.functional.softplus(dt + sd["dt_bias"])
    A = -torch.exp(sd["A_log"])
    b, L = u.shape[:2]
    xh = x.reshape(b, L, h, p)
    S = torch.zeros(b, h, p, n, dtype=torch.float64)
    if learnable:
        S = S + sd["init_states"]
    ys = []
    for t in range(L):
        a = torch.exp(dt[:, t] * A)  # [b, h]
        S = a[..., None, None] * S + (dt[:, t, :, None, None] * xh[:, t, :, :, None] * B[:, t, None, None, :])
        ys.append(torch.einsum("bhpn,bn->bhp", S, C[:, t]))
    y = torch.stack(ys, 1)
    D = sd["D"].reshape(h, p) if per_channel else sd["D"][:, None]
    y = (y + D * xh).reshape(b, L, di)
    y = ref_rmsnorm_gated(y, sd["norm.weight"], z, 1e-5, None, norm_before_gate)
    return y @ sd["out_proj.weight"].T


@needs_scan
@pytest.mark.parametrize("nbg,learnable,per_channel", [(False, False, False), (True, True, True)],
                         ids=["default-block", "norm-before-gate-learnable-init-per-channel-D"])
def test_ref_block_agrees_with_the_block_written_out_step_by_step(nbg, learnable, per_channel):
    ir, sd = _tiny_ir(nbg, learnable, per_channel)
    u = torch.randn(2, 7, 4)
    out = ref_block(ir, sd, u)
    want = _sequential_block(sd, u, nbg, learnable, per_channel)
    assert out.shape == (2, 7, 4)
    assert torch.linalg.norm(out - want) / torch.linalg.norm(want) < 1e-12


def test_ref_block_names_a_missing_parameter_and_the_fix():
    ir, sd = _tiny_ir()
    del sd["conv1d.bias"]
    with pytest.raises(IRInterpretError, match=r"conv1d\.bias.*state_dict"):
        ref_block(ir, sd, torch.randn(1, 3, 4))


def test_autograd_through_ref_block_matches_finite_differences_for_u_and_every_parameter():
    """The reference is differentiable as it is (no patching): torch's
    gradcheck on the tiny block, float64, every input and parameter at once."""
    ir, sd = _tiny_ir(norm_before_gate=False, learnable=True, per_channel=True)
    names = sorted(sd)
    u = torch.randn(1, 5, 4, dtype=torch.float64, requires_grad=True)
    params = [(0.5 * sd[k]).double().requires_grad_() for k in names]
    params[names.index("A_log")].data = torch.rand(2, dtype=torch.float64)  # keep A in a sane range

    def fn(u, *ps):
        return ref_block(ir, dict(zip(names, ps)), u)

    assert fn(u, *params).requires_grad
    assert torch.autograd.gradcheck(fn, (u, *params), eps=1e-6, atol=1e-6, rtol=1e-5)


def test_autograd_through_ref_scan_matches_finite_differences_with_every_option():
    from mamba2_runner.reference import ref_scan

    b, l, h, p, g, n = 1, 6, 2, 2, 1, 2
    f64 = dict(dtype=torch.float64)
    x, B, C = torch.randn(b, l, h, p, **f64), torch.randn(b, l, g, n, **f64), torch.randn(b, l, g, n, **f64)
    dt, A, D = 0.5 * torch.randn(b, l, h, **f64), -torch.rand(h, **f64) - 0.5, torch.randn(h, p, **f64)
    z, bias, s0 = torch.randn(b, l, h, p, **f64), torch.randn(h, **f64), torch.randn(b, h, p, n, **f64)
    ins = [t.requires_grad_() for t in (x, dt, A, B, C, D, z, bias, s0)]
    seq_idx = torch.tensor([[0, 0, 0, 1, 1, 1]])

    def fn(x, dt, A, B, C, D, z, bias, s0):
        out, final = ref_scan(x, dt, A, B, C, D=D, z=z, dt_bias=bias, initial_states=s0, seq_idx=seq_idx,
                              dt_softplus=True, dt_limit=(0.0, 10.0), return_final_states=True)
        return out, final

    assert torch.autograd.gradcheck(fn, tuple(ins), eps=1e-6, atol=1e-6, rtol=1e-5)


def test_ref_scan_keeps_a_nan_inside_its_own_packed_sequence():
    """The recurrence is NaN only from t on, within its own sequence: a NaN in
    x of the first packed sequence must not reach the second after the reset."""
    from mamba2_runner.reference import ref_scan

    b, l, h, p, n = 1, 12, 2, 3, 4
    x = torch.randn(b, l, h, p, dtype=torch.float64)
    dt = torch.rand(b, l, h, dtype=torch.float64) + 0.1
    A = -torch.rand(h, dtype=torch.float64) - 0.1
    B = torch.randn(b, l, 1, n, dtype=torch.float64)
    C = torch.randn(b, l, 1, n, dtype=torch.float64)
    seq_idx = torch.zeros(b, l, dtype=torch.int32)
    seq_idx[:, 7:] = 1
    x[0, 4, 0, 1] = float("nan")
    y = ref_scan(x, dt, A, B, C, seq_idx=seq_idx)
    assert torch.isfinite(y[:, :4]).all(), "NaN reached positions before it"
    assert torch.isnan(y[0, 4:7, 0]).any(), "the NaN must show from its own position on"
    assert torch.isfinite(y[:, 7:]).all(), "NaN crossed the seq_idx reset into the next sequence"


def test_ref_causal_conv1d_with_seq_idx_equals_each_packed_sequence_convolved_alone():
    from mamba2_runner.reference import ref_causal_conv1d

    x = torch.randn(2, 10, 3, dtype=torch.float64)
    w = torch.randn(3, 4, dtype=torch.float64)
    b = torch.randn(3, dtype=torch.float64)
    starts = [[0, 4, 7], [0, 1]]
    seq_idx = torch.zeros(2, 10, dtype=torch.int32)
    for r, st in enumerate(starts):
        for i, s0 in enumerate(st):
            seq_idx[r, s0:] = i
    out = ref_causal_conv1d(x, w, b, "silu", seq_idx=seq_idx)
    for r, st in enumerate(starts):
        for s0, s1 in zip(st, st[1:] + [10]):
            alone = ref_causal_conv1d(x[r : r + 1, s0:s1], w, b, "silu")
            assert torch.allclose(out[r : r + 1, s0:s1], alone), f"row {r}, sequence [{s0}, {s1})"
