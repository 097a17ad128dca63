"""torch.compile of the generated layer and LM: the kernels as custom ops (custom_ops.py).

Under torch.compile the entry points call opaque torch.library custom ops, so
Dynamo sees no Triton code. Here (CPU, Triton's interpreter) with the
"aot_eager" backend (Dynamo's capture, as the "eager" backend does it, then
AOTAutograd traces the backward through the ops' fake implementations and
autograd registrations), fullgraph=True:
- forward and backward of the layer and of the LM equal eager;
- prefill + decode steps through inference_params equal eager, states included;
- a second call with the same shapes does not recompile (CompileCounter);
- torch.library.opcheck on every op: schema, fake shapes/dtypes/strides vs the
  real outputs (optional inputs absent and present), autograd registration.
Tolerance: fp32, relative L2 error 1e-5 (the same kernels run in both).
Package: mamba2_layer_dssm (mamba_ssm's Mamba2: gated MLP, ngroups 2, grouped norm).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mamba2_runner.checks import rel_err  # the one helper: NaN/inf give NaN, which never passes
import torch._dynamo.testing

from mamba2_runner.pkgload import load_generated, select_device

DEVICE = select_device()
ROOT = Path(__file__).resolve().parents[4]
PKG = ROOT / "kernels-out" / "mamba2_layer_dssm"
TOL = 1e-5

pytestmark = pytest.mark.usefixtures("poison")




@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _ir_scan():
    ir = json.loads((PKG / "mamba2_layer_dssm" / "ir.json").read_text())
    return {n["id"]: n for n in ir["nodes"]}


def randomize(model):
    """Fresh random values where the init is constant (D, norm weights, conv bias)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("D", "norm.weight", "conv1d.bias", "norm_f.weight")):
                p.copy_(1.0 + 0.5 * torch.randn_like(p))
    return model


def make_layer(layer_idx=0):
    mod = load_generated(PKG)
    d_model = _ir_scan()["u"]["features"]
    return mod, randomize(mod.Mamba2(d_model, layer_idx=layer_idx, device=DEVICE))


def make_lm():
    mod = load_generated(PKG)
    nodes = _ir_scan()
    scan = nodes["scan"]
    config = {
        "d_model": nodes["u"]["features"], "n_layer": 1, "vocab_size": 40,
        "ssm_cfg": {"layer": "Mamba2", "d_state": scan["dState"], "headdim": scan["headdim"],
                    "ngroups": scan["ngroups"], "d_ssm": scan["nheads"] * scan["headdim"],
                    "D_has_hdim": True, "norm_before_gate": True},
    }
    return mod, randomize(mod.MambaLMHeadModel(config, device=DEVICE))


def compiled(model, backend):
    counter = torch._dynamo.testing.CompileCounterWithBackend(backend)
    return torch.compile(model, backend=counter, fullgraph=True), counter


def fwd_bwd(model, inp, loss_of):
    model.zero_grad(set_to_none=True)
    out = model(inp)
    loss_of(out).backward()
    grads = {n.removeprefix("_orig_mod."): p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return out, grads


@pytest.mark.parametrize("backend", ["aot_eager"])
def test_the_compiled_layer_runs_forward_and_backward_in_one_graph_like_eager(backend):
    mod, layer = make_layer()
    u = torch.randn(2, 21, layer.d_model, device=DEVICE)
    w = torch.randn(2, 21, layer.d_model, device=DEVICE)
    loss = lambda y: (y * w).sum()  # noqa: E731
    ref_out, ref_grads = fwd_bwd(layer, u, loss)
    clayer, counter = compiled(layer, backend)
    out, grads = fwd_bwd(clayer, u, loss)
    assert rel_err(out, ref_out) < TOL
    assert set(grads) == set(ref_grads) and len(grads) == len(list(layer.parameters()))
    for name in ref_grads:
        assert rel_err(grads[name], ref_grads[name]) < TOL, name
    out2 = clayer(torch.randn_like(u))  # the same shapes and grad mode: the same guards (a backward adds no frame)
    assert counter.frame_count == 1, f"recompiled: {counter.frame_count} frames for one shape"
    assert torch.isfinite(out2).all()


# aot_eager only: Dynamo captures the same frames as with "eager" (the custom
# ops' fake implementations give it the shapes either way), then AOTAutograd
# traces them again; "eager" would re-run the same capture and the same kernels
@pytest.mark.parametrize("backend", ["aot_eager"])
def test_compiled_prefill_and_steps_through_inference_params_equal_eager(backend):
    mod, layer = make_layer(layer_idx=3)
    u = torch.randn(2, 9, layer.d_model, device=DEVICE)
    results = {}
    for kind in ("eager", "compiled"):
        params = mod.InferenceParams(max_seqlen=16, max_batch_size=2)
        model, counter = (layer, None) if kind == "eager" else compiled(layer, backend)
        outs = [model(u[:, :6], inference_params=params)]
        frames_after_prefill = counter.frame_count if counter else 0
        for t in range(6, 9):
            params.seqlen_offset = t
            outs.append(model(u[:, t:t + 1], inference_params=params))
            if counter and t == 7:
                frames_after_two_steps = counter.frame_count
        results[kind] = (torch.cat(outs, 1), params.key_value_memory_dict[3])
        if counter:
            assert frames_after_prefill == 1
            # the step graph is built once (twice when seqlen_offset first turns dynamic), never again
            assert counter.frame_count == frames_after_two_steps <= 3, counter.frame_count
    (out_e, (conv_e, ssm_e)), (out_c, (conv_c, ssm_c)) = results["eager"], results["compiled"]
    assert rel_err(out_c, out_e) < TOL
    assert rel_err(conv_c, conv_e) < TOL and rel_err(ssm_c, ssm_e) < TOL


@pytest.mark.parametrize("backend", ["aot_eager"])
def test_the_compiled_lm_trains_and_decodes_like_eager(backend):
    mod, lm = make_lm()
    ids = torch.randint(0, 40, (1, 11), device=DEVICE)
    target = torch.randint(0, 40, (1, 11), device=DEVICE)
    loss = lambda o: torch.nn.functional.cross_entropy(o.logits.flatten(0, 1), target.flatten())  # noqa: E731
    ref_out, ref_grads = fwd_bwd(lm, ids, loss)
    clm, counter = compiled(lm, backend)
    out, grads = fwd_bwd(clm, ids, loss)
    assert rel_err(out.logits, ref_out.logits) < TOL
    assert set(grads) == set(ref_grads)
    for name in ref_grads:
        assert rel_err(grads[name], ref_grads[name]) < TOL, name
    assert counter.frame_count == 1

    logits = {}
    with torch.no_grad():
        for kind, model in (("eager", lm), ("compiled", clm)):
            params = mod.InferenceParams(max_seqlen=16, max_batch_size=1)
            steps = [model(ids[:, :8], inference_params=params, num_last_tokens=1).logits]
            for t in range(8, 11):
                params.seqlen_offset = t
                steps.append(model(ids[:, t:t + 1], inference_params=params).logits)
            logits[kind] = torch.cat(steps, 1)
    assert rel_err(logits["compiled"], logits["eager"]) < TOL


def _opcheck(op, args):
    # the aot_dispatch checks re-run the op many times; the compile tests above trace it through AOT
    torch.library.opcheck(op, args, test_utils=("test_schema", "test_autograd_registration", "test_faketensor"))


@pytest.mark.parametrize("optional", [True, False], ids=["all-optional-inputs", "none"])
def test_every_custom_op_passes_opcheck_with_and_without_its_optional_inputs(optional):
    from mamba2_kernels import custom_ops

    ops = custom_ops.OPS
    b, l, h, p, g, n = 1, 20, 4, 16, 2, 16
    r = lambda *s, grad=True: torch.randn(*s, device=DEVICE).requires_grad_(grad)  # noqa: E731
    opt = lambda t: t if optional else None  # noqa: E731
    x, dt, B, C, z = r(b, l, h, p), r(b, l, h), r(b, l, g, n), r(b, l, g, n), r(b, l, h, p)
    A = (-torch.rand(h, device=DEVICE) - 0.5).requires_grad_()
    seq_idx = torch.tensor([[0] * 7 + [1] * 13], dtype=torch.int32, device=DEVICE)
    _opcheck(ops["ssd_scan"], (x, dt, A, B, C, opt(r(h, p)), opt(z), opt(r(h)), opt(r(b, h, p, n)),
                               opt(seq_idx), 16, optional, 0.0, 2.0 if optional else float("inf"), "fused"))
    xc = r(b, l, 48)
    _opcheck(ops["causal_conv1d"], (xc, r(48, 4), opt(r(48)), opt(seq_idx), optional))
    if custom_ops._norm_fwd is not None:
        _opcheck(ops["rmsnorm_gated"], (r(b, l, 64), r(64), opt(r(b, l, 64)), 1e-5, 32, optional))
    cu = torch.tensor([0, 7, 20], dtype=torch.int32, device=DEVICE)
    _opcheck(ops["varlen_states"], (x.detach(), dt.detach(), A.detach(), B.detach(), cu,
                                    opt(r(h, grad=False)), optional, 0.0, float("inf")))
    # decode step: d_in_proj = z (64) + xBC (64 + 2 * 2 * 16) + dt (4); conv_dim 128
    d_ssm, conv_dim = h * p, h * p + 2 * g * n
    layout = custom_ops._flat_layout(((d_ssm, d_ssm + conv_dim), (d_ssm + conv_dim, d_ssm + conv_dim + h),
                                      (0, d_ssm), (d_ssm, d_ssm + g * n), (d_ssm + g * n, conv_dim),
                                      (0, d_ssm), None, None))
    zx = torch.randn(3, d_ssm + conv_dim + h, device=DEVICE)
    conv_state = torch.randn(3, 4, conv_dim, device=DEVICE).transpose(1, 2)
    ssm_state = torch.randn(3, h, p, n, device=DEVICE)
    _opcheck(ops["ssd_step"], (zx, conv_state, torch.randn(conv_dim, 4, device=DEVICE),
                               opt(torch.randn(conv_dim, device=DEVICE)), ssm_state, torch.randn(h, device=DEVICE),
                               opt(torch.randn(h, device=DEVICE)), opt(torch.randn(h, device=DEVICE)),
                               opt(torch.randn(d_ssm, device=DEVICE)), layout, p, True, 0.0, float("inf"),
                               True, not optional, 1e-5, 32 if optional else 0, optional, False))


def test_eager_calls_do_not_go_through_the_custom_ops(monkeypatch):
    import importlib

    mod, layer = make_layer()
    custom_ops = importlib.import_module(mod.__name__ + ".custom_ops")
    calls = []
    for name in ("ssd_scan", "causal_conv1d", "rmsnorm_gated"):
        real = getattr(custom_ops, name)
        monkeypatch.setattr(custom_ops, name, lambda *a, _r=real, _n=name, **k: calls.append(_n) or _r(*a, **k))
    u = torch.randn(1, 5, layer.d_model, device=DEVICE, requires_grad=True)
    layer(u).sum().backward()
    assert calls == []


def test_every_custom_op_asks_inductor_for_the_strides_eager_passes():
    # the kernels take strided views (x/B/C slices of in_proj's output); without the tag Inductor may copy
    # them to its own layout first: on the H200 (torch 2.11) a copy kernel ran before the conv and the norm
    from mamba2_kernels import custom_ops

    if not hasattr(torch.Tag, "needs_exact_strides"):
        pytest.skip(f"torch {torch.__version__} has no needs_exact_strides tag")
    untagged = [name for name, op in custom_ops.OPS.items() if torch.Tag.needs_exact_strides not in op.default.tags]
    assert not untagged, f"custom ops without torch.Tag.needs_exact_strides: {untagged}"


def test_the_compiled_layer_is_in_proj_one_block_op_out_proj_and_gives_eager_bits():
    # the whole block (split, conv, scan, norm, MLP channels) is ONE custom op per direction: each op call
    # costs host time (NOTES.md "Compiled layer host time"); a return to the per-kernel ops (conv, scan,
    # norm and their backwards: 3 + 3) fails here. The same kernels as eager's Function: the same bits.
    from torch._dynamo.backends.common import aot_autograd
    from functorch.compile import make_boxed_func

    mod, layer = make_layer()
    ns = mod.custom_ops.NAMESPACE
    graphs = {}

    def keep(name):
        def compiler(gm, example_inputs):
            graphs[name] = [n.target for n in gm.graph.nodes if n.op == "call_function"]
            return make_boxed_func(gm.forward)
        return compiler

    u = torch.randn(2, 13, layer.d_model, device=DEVICE)
    w = torch.randn(2, 13, layer.d_model, device=DEVICE)
    ref_out, ref_grads = fwd_bwd(layer, u, lambda y: (y * w).sum())
    clayer = torch.compile(layer, fullgraph=True, backend=aot_autograd(fw_compiler=keep("fw"), bw_compiler=keep("bw")))
    out, grads = fwd_bwd(clayer, u, lambda y: (y * w).sum())

    views = {"t", "view", "_unsafe_view", "select", "detach", "expand", "alias", "slice", "unsqueeze", "squeeze"}

    def named(targets):
        ours = [str(t).split(".")[1] for t in targets if str(t).startswith(ns + ".")]
        compute = sorted(str(t).split(".")[1] for t in targets if str(t).startswith("aten.")
                         and str(t).split(".")[1] not in views)
        return ours, compute
    fw_ours, fw_aten = named(graphs["fw"])
    bw_ours, bw_aten = named(graphs["bw"])
    assert fw_ours == ["split_conv_scan"], f"forward graph's custom ops: {fw_ours}, want one split_conv_scan"
    assert bw_ours == ["split_conv_scan_bwd"], f"backward graph's custom ops: {bw_ours}, want one split_conv_scan_bwd"
    # forward: in_proj and out_proj (mm) and A = -exp(A_log) (exp, neg); backward: out_proj's two mm,
    # in_proj's weight grad (u needs none), A_log's grad (neg, mul), the [C, 1, W] conv weight's (select_backward)
    assert fw_aten == ["exp", "mm", "mm", "neg"], fw_aten
    assert bw_aten == ["mm", "mm", "mm", "mul", "neg", "select_backward"], bw_aten
    assert torch.equal(out, ref_out)
    assert set(grads) == set(ref_grads)
    for name in ref_grads:
        assert torch.equal(grads[name], ref_grads[name]), name


def test_the_block_op_passes_opcheck_and_its_options_round_trip():
    mod, layer = make_layer()
    custom_ops = mod.custom_ops
    lay = mod.module._DECODE_LAYOUT
    opts = lambda eps, group: mod.block._Opts(  # noqa: E731
        layout=lay, headdim=layer.headdim, d_state=layer.d_state, chunk_size=layer.chunk_size, activation="silu",
        gate_z=False, dt_softplus=True, dt_limit=(0.0, float("inf")), impl=None, norm_eps=eps,
        norm_group_size=group, norm_gated=True, norm_before_gate=True)
    key = custom_ops.block_key(opts(1e-5, 48))
    o = custom_ops.block_opts(key)
    assert (o.layout, o.headdim, o.d_state, o.chunk_size, o.activation, o.gate_z, o.dt_softplus, o.dt_limit,
            o.norm_eps, o.norm_group_size, o.norm_gated, o.norm_before_gate) == (
        lay, layer.headdim, layer.d_state, layer.chunk_size, "silu", False, True, (0.0, float("inf")), 1e-5, 48,
        True, True)
    with pytest.raises(ValueError, match="fields"):
        custom_ops.block_opts("1,2;3")
    zx = layer.in_proj(torch.randn(1, 9, layer.d_model, device=DEVICE)).detach().requires_grad_()
    p = {n: t.detach().requires_grad_() for n, t in layer.named_parameters()}
    A = -torch.exp(p["A_log"].detach()).requires_grad_()
    key = custom_ops.block_key(opts(layer.norm.eps, 64))
    _opcheck(custom_ops.OPS["split_conv_scan"], (zx, p["conv1d.weight"][:, 0, :].detach().requires_grad_(),
                                                 p["conv1d.bias"], A, p["D"], p["dt_bias"], None, p["norm.weight"], key))
