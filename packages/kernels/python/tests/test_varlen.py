"""Packed sequences (varlen.py): every packed sequence behaves as if it ran alone.

The float64 reference (mamba2_runner.reference) runs each sequence on its own
slice; the packed run must match it: the scan's output and the final state of
every sequence (cu_seqlens + return_varlen_states), the conv with seq_idx
(forward and gradients) and prefill through a generated layer (the cache it
fills, with seq_idx or cu_seqlens, continues each sequence with step()).
Lengths include a 1-token sequence and sequences crossing chunk boundaries.
Tolerances, fp32, relative L2 error: 1e-4 (scan, conv), 2e-4 (layer) on CPU; 2e-3
for anything through the fused scan on the GPU (its fp32 dots run in tf32 there, as
Triton's default and mamba_ssm's do; test_decode uses the same bound).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch._dynamo.testing

from mamba2_runner.pkgload import load_generated, load_ir, select_device
from mamba2_runner.reference import ref_causal_conv1d, ref_scan
from mamba2_runner.reference.graph import ref_block

DEVICE = select_device()
ROOT = Path(__file__).resolve().parents[4]
LENGTHS = [5, 1, 23, 11]
SCAN_TOL = 2e-3 if DEVICE == "cuda" else 1e-4  # the fused scan's fp32 dots: tf32 on the GPU
LAYER_TOL = 2e-3 if DEVICE == "cuda" else 2e-4

pytestmark = pytest.mark.usefixtures("poison")


def rel_err(got, ref):
    got, ref = got.detach().double().cpu(), ref.detach().double().cpu()
    assert got.shape == ref.shape, f"shape {tuple(got.shape)} != reference {tuple(ref.shape)}"
    assert torch.isfinite(got).all(), "NaN/inf: an element was never written?"
    return ((got - ref).norm() / ref.norm().clamp_min(1e-30)).item()


def cu_of(lengths):
    return torch.tensor([0] + torch.tensor(lengths).cumsum(0).tolist(), dtype=torch.int32, device=DEVICE)


def scan_inputs(L, h=4, p=16, g=2, n=16):
    r = lambda *s: torch.randn(*s, device=DEVICE)  # noqa: E731
    return dict(x=r(1, L, h, p), dt=r(1, L, h), A=-torch.rand(h, device=DEVICE) - 0.5, B=r(1, L, g, n),
                C=r(1, L, g, n), D=r(h), z=r(1, L, h, p), dt_bias=r(h) - 1.0)


def test_the_packed_scan_gives_each_sequence_its_own_output_and_final_state():
    import mamba2_kernels

    L = sum(LENGTHS)
    t = scan_inputs(L)
    cu = cu_of(LENGTHS)
    kw = dict(D=t["D"], z=t["z"], dt_bias=t["dt_bias"], dt_softplus=True, dt_limit=(0.0, 3.0))
    out, final, states = mamba2_kernels.mamba_chunk_scan_combined(
        t["x"], t["dt"], t["A"], t["B"], t["C"], 16, cu_seqlens=cu, return_final_states=True,
        return_varlen_states=True, **kw)
    assert states.shape == (len(LENGTHS), 4, 16, 16) and states.dtype == torch.float32
    for s, (a, b) in enumerate(zip(cu[:-1].tolist(), cu[1:].tolist())):
        sl = {k: t[k][:, a:b] for k in ("x", "dt", "B", "C", "z")}
        ref_out, ref_state = ref_scan(sl["x"], sl["dt"], t["A"], sl["B"], sl["C"], D=t["D"], z=sl["z"],
                                      dt_bias=t["dt_bias"], dt_softplus=True, dt_limit=(0.0, 3.0),
                                      return_final_states=True)
        assert rel_err(out[:, a:b], ref_out) < SCAN_TOL, f"output of sequence {s}"
        assert rel_err(states[s], ref_state[0]) < SCAN_TOL, f"final state of sequence {s}"
    assert rel_err(final[0], states[-1]) < SCAN_TOL  # the scan's own final state is the last sequence's


def test_the_packed_scan_compiles_in_one_graph_like_eager():
    import mamba2_kernels

    torch._dynamo.reset()
    t = scan_inputs(sum(LENGTHS))
    cu = cu_of(LENGTHS)

    def f(x, dt, B, C):
        return mamba2_kernels.mamba_chunk_scan_combined(x, dt, t["A"], B, C, 16, dt_bias=t["dt_bias"],
                                                        dt_softplus=True, cu_seqlens=cu, return_varlen_states=True)
    counter = torch._dynamo.testing.CompileCounterWithBackend("aot_eager")
    got = torch.compile(f, backend=counter, fullgraph=True)(t["x"], t["dt"], t["B"], t["C"])
    ref = f(t["x"], t["dt"], t["B"], t["C"])
    assert counter.frame_count == 1
    assert rel_err(got[0], ref[0]) < 1e-5 and rel_err(got[1], ref[1]) < 1e-5
    torch._dynamo.reset()


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_the_conv_with_seq_idx_equals_each_sequence_convolved_alone_forward_and_backward(bias):
    from mamba2_kernels.autograd import causal_conv1d_autograd

    L, C, W = 30, 24, 4
    x = torch.randn(2, L, C, device=DEVICE, requires_grad=True)
    w = torch.randn(C, W, device=DEVICE, requires_grad=True)
    b = torch.randn(C, device=DEVICE, requires_grad=True) if bias else None
    rows = [[5, 1, 24], [30]]  # row 1: one sequence (no cut)
    seq_idx = torch.stack([torch.repeat_interleave(torch.arange(len(r)), torch.tensor(r)) for r in rows])
    seq_idx = seq_idx.to(torch.int32).to(DEVICE)
    out = causal_conv1d_autograd(x, w, b, activation="silu", seq_idx=seq_idx)
    dout = torch.randn_like(out)
    grads = torch.autograd.grad(out, [x, w] + ([b] if bias else []), dout)

    xr = x.detach().double().requires_grad_()
    wr = w.detach().double().requires_grad_()
    br = b.detach().double().requires_grad_() if bias else None
    pieces = []
    for i, r in enumerate(rows):
        a = 0
        for n in r:
            pieces.append((i, a, a + n, ref_causal_conv1d(xr[i:i + 1, a:a + n], wr, br, "silu")))
            a += n
    ref = torch.zeros(2, L, C, dtype=torch.float64)
    for i, a, e, o in pieces:
        ref[i:i + 1, a:e] = o
    assert rel_err(out, ref) < 1e-4
    ref_grads = torch.autograd.grad(ref, [xr, wr] + ([br] if bias else []), dout.double().cpu())
    for name, g, rg in zip(("dx", "dweight", "dbias"), grads, ref_grads):
        assert rel_err(g, rg) < 1e-4, name


def _layer(name="mamba2_layer_dssm"):
    pkg = ROOT / "kernels-out" / name
    mod = load_generated(pkg)
    d_model = json.loads((pkg / name / "ir.json").read_text())["nodes"][0]["features"]
    layer = getattr(mod, mod.__all__[0])(d_model, layer_idx=0, device=DEVICE)
    with torch.no_grad():
        for pname, p in layer.named_parameters():
            if pname in ("D", "norm.weight", "conv1d.bias"):
                p.copy_(1.0 + 0.5 * torch.randn_like(p))
    return mod, layer, load_ir(pkg)


def test_prefill_with_seq_idx_fills_the_cache_of_each_rows_last_sequence():
    mod, layer, ir = _layer()
    # row 0: sequences of 6 and 2 tokens (the last one shorter than the conv window), row 1: 3 and 5
    seq_idx = torch.tensor([[0] * 6 + [1] * 2, [0] * 3 + [1] * 5], dtype=torch.int32, device=DEVICE)
    last_len = [2, 5]
    u = torch.randn(2, 8 + 2, layer.d_model, device=DEVICE)
    params = mod.InferenceParams(max_seqlen=16, max_batch_size=2)
    with torch.no_grad():
        pre = layer(u[:, :8], seq_idx=seq_idx, inference_params=params)
        steps = []
        for t in range(8, 10):
            params.seqlen_offset = t
            steps.append(layer(u[:, t:t + 1], inference_params=params))
    steps = torch.cat(steps, 1)
    sd = {k: v.cpu() for k, v in layer.state_dict().items()}  # the reference runs on CPU
    for i, n in enumerate(last_len):
        ref = ref_block(ir, sd, u[i:i + 1, 8 - n:].cpu())  # the last sequence alone, then its steps
        assert rel_err(pre[i:i + 1, 8 - n:], ref[:, :n]) < LAYER_TOL, f"prefill row {i}"
        assert rel_err(steps[i:i + 1], ref[:, n:]) < LAYER_TOL, f"steps after the packed prefill, row {i}"


def test_prefill_with_cu_seqlens_caches_every_packed_sequence_and_steps_continue_each():
    mod, layer, ir = _layer()
    lengths = [4, 1, 7]
    cu = cu_of(lengths)
    L = sum(lengths)
    u = torch.randn(1, L, layer.d_model, device=DEVICE)
    nxt = torch.randn(len(lengths), 2, layer.d_model, device=DEVICE)  # two more tokens per sequence
    params = mod.InferenceParams(max_seqlen=16, max_batch_size=len(lengths))
    with torch.no_grad():
        pre = layer(u, cu_seqlens=cu, inference_params=params)
        conv_state, ssm_state = params.key_value_memory_dict[0]
        assert conv_state.shape[0] == len(lengths) and ssm_state.shape[0] == len(lengths)
        steps = []
        for t in range(2):
            params.seqlen_offset = L + t
            steps.append(layer(nxt[:, t:t + 1], inference_params=params))
    steps = torch.cat(steps, 1)
    sd = {k: v.cpu() for k, v in layer.state_dict().items()}  # the reference runs on CPU
    for s, (a, b) in enumerate(zip(cu[:-1].tolist(), cu[1:].tolist())):
        ref = ref_block(ir, sd, torch.cat([u[:, a:b], nxt[s:s + 1]], 1).cpu())
        assert rel_err(pre[:, a:b], ref[:, : b - a]) < LAYER_TOL, f"prefill of sequence {s}"
        assert rel_err(steps[s:s + 1], ref[:, b - a:]) < LAYER_TOL, f"steps of sequence {s}"


def test_misused_varlen_arguments_are_refused_with_the_fix():
    import mamba2_kernels

    t = scan_inputs(10)
    args = (t["x"], t["dt"], t["A"], t["B"], t["C"], 16)
    with pytest.raises(ValueError, match="return_varlen_states=True needs cu_seqlens"):
        mamba2_kernels.mamba_chunk_scan_combined(*args, return_varlen_states=True)
    x2 = t["x"].expand(2, -1, -1, -1)
    with pytest.raises(ValueError, match="batch 1.*got batch 2"):
        mamba2_kernels.mamba_chunk_scan_combined(x2, t["dt"].expand(2, -1, -1), t["A"], t["B"].expand(2, -1, -1, -1),
                                                 t["C"].expand(2, -1, -1, -1), 16, cu_seqlens=cu_of([4, 6]))
    with pytest.raises(TypeError, match="int32"):
        mamba2_kernels.mamba_chunk_scan_combined(*args, cu_seqlens=cu_of([4, 6]).float())
