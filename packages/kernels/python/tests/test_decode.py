"""Decode of every generated layer vs the float64 reference of the full forward.

Each example package in kernels-out/ is run token by token (step, and forward
with InferenceParams) and compared with mamba2_runner.reference's ref_block
over the whole sequence: decoding must reproduce the full forward. CPU runs
use Triton's interpreter (fp32); on a GPU the same tests run on CUDA.
Tolerances (relative L2 error): fp32 state 2e-4 on CPU; 2e-3 for a prefill on
the GPU, whose fused scan takes tf32 dots (measured 2.3e-4 to 3.0e-4 on the
H200, bench/results/2026-12-01-h200-closing/pytest-rerun.log); bf16 state 2e-2.
"""
from __future__ import annotations

from pathlib import Path

from mamba2_runner.pkgload import load_generated, load_ir, select_device

DEVICE = select_device()  # conftest.py already set TRITON_INTERPRET=1 when there is no GPU
ROOT = Path(__file__).resolve().parents[4]

import pytest  # noqa: E402
import torch  # noqa: E402
from mamba2_runner.checks import rel_err  # noqa: E402  (the one helper: NaN/inf give NaN, which never passes)

from mamba2_runner.reference.graph import ref_block  # noqa: E402

# (package, what it covers)
MODELS = {
    "mamba2_simple": "gated norm over d_inner, ngroups 1",
    "mamba2_grouped": "ngroups 4, headdim 32, d_state 64",
    "mamba2_stateful": "learnable initial states, dt_limit, D per channel, norm before gate in groups",
    "mamba2_conv6_nogate": "no z, ungated norm, conv width 6, identity activation",
    "mamba2_builder_gate": "no norm: y * silu(z) in the step, conv without bias",
    "mamba2_layer_dssm": "mamba_ssm's Mamba2, d_ssm < d_inner (gated MLP), ngroups 2, D_has_hdim",
}


def pkg(name):
    return ROOT / "kernels-out" / name




# every test runs with torch.empty poisoned (conftest.py): an unwritten output is NaN
pytestmark = pytest.mark.usefixtures("poison")


def make_layer(name, layer_idx=0):
    mod = load_generated(pkg(name))
    cls = getattr(mod, mod.__all__[0])
    layer = cls(_d_model(name), layer_idx=layer_idx, device=DEVICE)
    # fresh random values where the init is constant (D = 1, norm weight = 1, init_states = 0)
    with torch.no_grad():
        for pname, p in layer.named_parameters():
            if pname in ("D", "norm.weight") or pname.endswith("bias") and "conv" in pname:
                p.copy_(1.0 + 0.5 * torch.randn_like(p))
            elif pname == "init_states":
                p.copy_(0.5 * torch.randn_like(p))
    return mod, layer


def _d_model(name):
    import json

    return json.loads((pkg(name) / name / "ir.json").read_text())["nodes"][0]["features"]


def reference(name, layer, u):
    return ref_block(load_ir(pkg(name)), layer.state_dict(), u)


@pytest.mark.parametrize("name", list(MODELS), ids=list(MODELS))
def test_steps_from_an_empty_cache_equal_the_full_forward(name):
    mod, layer = make_layer(name)
    u = torch.randn(1, 3, layer.d_model, device=DEVICE)
    conv_state, ssm_state = layer.allocate_inference_cache(1, 3)
    assert ssm_state.dtype == torch.float32
    outs = []
    with torch.no_grad():
        for t in range(u.shape[1]):
            out, cs, ss = layer.step(u[:, t : t + 1], conv_state, ssm_state)
            assert cs is conv_state and ss is ssm_state
            outs.append(out)
    err = rel_err(torch.cat(outs, dim=1), reference(name, layer, u))
    assert err < 2e-4, f"{name} ({MODELS[name]}): step-by-step rel err {err:.2e}"


@pytest.mark.parametrize("name", list(MODELS), ids=list(MODELS))
def test_prefill_then_steps_through_inference_params_equal_the_full_forward(name):
    # 5 prompt tokens: more than a width-4 conv window, fewer than mamba2_conv6_nogate's 6
    mod, layer = make_layer(name, layer_idx=3)
    prefill, steps = 5, 2
    u = torch.randn(2, prefill + steps, layer.d_model, device=DEVICE)
    params = mod.InferenceParams(max_seqlen=prefill + steps, max_batch_size=2)
    with torch.no_grad():
        outs = [layer(u[:, :prefill], inference_params=params)]
        assert set(params.key_value_memory_dict) == {3}
        params.seqlen_offset += prefill
        for t in range(prefill, prefill + steps):
            outs.append(layer(u[:, t : t + 1], inference_params=params))
            params.seqlen_offset += 1
    err = rel_err(torch.cat(outs, dim=1), reference(name, layer, u))
    tol = 2e-3 if DEVICE == "cuda" else 2e-4  # the prefill's fused scan: tf32 dots on the GPU
    assert err < tol, f"{name} ({MODELS[name]}): prefill {prefill} + {steps} steps rel err {err:.2e}"


def test_a_bf16_state_still_follows_the_full_forward():
    name = "mamba2_simple"
    mod, layer = make_layer(name)
    u = torch.randn(1, 3, layer.d_model, device=DEVICE)
    conv_state, ssm_state = layer.allocate_inference_cache(1, 3, ssm_state_dtype=torch.bfloat16)
    assert ssm_state.dtype == torch.bfloat16
    with torch.no_grad():
        outs = [layer.step(u[:, t : t + 1], conv_state, ssm_state)[0] for t in range(3)]
    err = rel_err(torch.cat(outs, dim=1), reference(name, layer, u))
    assert err < 2e-2, f"bf16 state rel err {err:.2e}"


def test_step_rejects_more_than_one_token_naming_the_fix():
    mod, layer = make_layer("mamba2_simple")
    conv_state, ssm_state = layer.allocate_inference_cache(1, 4)
    with pytest.raises(ValueError, match=r"\[batch, 1, d_model\].*inference_params"):
        layer.step(torch.randn(1, 2, layer.d_model, device=DEVICE), conv_state, ssm_state)


def test_inference_params_without_layer_idx_is_an_error_naming_the_fix():
    mod, layer = make_layer("mamba2_simple", layer_idx=None)
    params = mod.InferenceParams(max_seqlen=4, max_batch_size=1)
    with pytest.raises(ValueError, match="layer_idx="):
        layer(torch.randn(1, 2, layer.d_model, device=DEVICE), inference_params=params)


def test_the_mamba2_layer_has_mamba_ssms_arguments_and_state_dict_keys():
    mod = load_generated(pkg("mamba2_layer_dssm"))
    layer = mod.Mamba2(128, d_ssm=128, ngroups=2, D_has_hdim=True, norm_before_gate=True, layer_idx=0)
    shapes = {k: tuple(v.shape) for k, v in layer.state_dict().items()}
    # mamba_ssm Mamba2(128, d_ssm=128, headdim=32, d_state=32, ngroups=2, D_has_hdim=True):
    # d_inner 256, nheads 4, conv_dim 128 + 2*2*32, in_proj 2*256 + 2*2*32 + 4
    assert shapes == {
        "in_proj.weight": (644, 128),
        "conv1d.weight": (256, 1, 4),
        "conv1d.bias": (256,),
        "dt_bias": (4,),
        "A_log": (4,),
        "D": (128,),
        "norm.weight": (128,),
        "out_proj.weight": (128, 256),
    }
    with pytest.raises(ValueError, match=r"d_ssm=256.*generated for d_ssm=128"):
        mod.Mamba2(128, d_ssm=None)
