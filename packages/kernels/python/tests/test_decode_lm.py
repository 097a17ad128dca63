"""The generated language model (lm.py) on a checkpoint this test writes.

The checkpoint is written key by key in mamba_ssm's layout (config.json +
pytorch_model.bin, MAMBA2.md), never from our model's own state_dict, and
the logits are checked against a float64 LM assembled here from
mamba2_runner.reference's ref_block per layer. Package: mamba2_layer_dssm
(mamba_ssm's Mamba2 with d_ssm < d_inner, d_model 128). fp32 tolerance 2e-4.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mamba2_runner.checks import rel_err  # the one helper: NaN/inf give NaN, which never passes

from mamba2_runner.pkgload import load_generated, load_ir, select_device
from mamba2_runner.reference.graph import ref_block

DEVICE = select_device()
ROOT = Path(__file__).resolve().parents[4]
PKG = ROOT / "kernels-out" / "mamba2_layer_dssm"
N_LAYER, VOCAB, VOCAB_PADDED = 2, 50, 56  # padded up to a multiple of 8

pytestmark = pytest.mark.usefixtures("poison")


def write_checkpoint(folder: Path, ir: dict):
    """Random weights under mamba_ssm's keys, shapes read from the IR."""
    nodes = {n["id"]: n for n in ir["nodes"]}
    d_model = nodes["u"]["features"]
    scan = nodes["scan"]
    nheads, conv = scan["nheads"], nodes["conv"]
    d_ssm = nheads * scan["headdim"]
    d_inner = nodes["out_proj"]["inFeatures"]
    mixer = {
        "in_proj.weight": torch.randn(nodes["in_proj"]["outFeatures"], d_model) / d_model**0.5,
        "conv1d.weight": torch.randn(conv["channels"], 1, conv["width"]) * 0.5,
        "conv1d.bias": torch.randn(conv["channels"]) * 0.1,
        "dt_bias": torch.rand(nheads) - 4.0,
        "A_log": torch.log(torch.rand(nheads) * 15 + 1),
        "D": 1.0 + 0.5 * torch.randn(d_ssm if nodes["dskip"]["perChannel"] else nheads),
        "norm.weight": 1.0 + 0.5 * torch.randn(d_ssm),
        "out_proj.weight": torch.randn(d_model, d_inner) / d_inner**0.5,
    }
    emb = torch.randn(VOCAB_PADDED, d_model)
    sd = {"backbone.embedding.weight": emb, "lm_head.weight": emb, "backbone.norm_f.weight": 1 + 0.1 * torch.randn(d_model)}
    for i in range(N_LAYER):
        sd[f"backbone.layers.{i}.norm.weight"] = 1 + 0.1 * torch.randn(d_model)
        for k, v in mixer.items():
            sd[f"backbone.layers.{i}.mixer.{k}"] = v + 0.05 * torch.randn_like(v)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(sd, folder / "pytorch_model.bin")
    config = {
        "d_model": d_model, "d_intermediate": 0, "n_layer": N_LAYER, "vocab_size": VOCAB,
        "ssm_cfg": {"layer": "Mamba2", "d_state": scan["dState"], "headdim": scan["headdim"],
                    "ngroups": scan["ngroups"], "d_ssm": d_ssm, "D_has_hdim": True, "norm_before_gate": True,
                    "chunk_size": 256},  # a launch setting (the package's LAUNCH), not in the IR
        "attn_layer_idx": [], "attn_cfg": {}, "rms_norm": True, "residual_in_fp32": True,
        "fused_add_norm": True, "pad_vocab_size_multiple": 8, "tie_embeddings": True,
    }
    (folder / "config.json").write_text(json.dumps(config))
    return sd


def ref_rmsnorm(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w.double()


def ref_logits(ir, sd, ids):
    """float64: embedding, pre-norm residual blocks (ref_block), norm_f, tied head."""
    emb = sd["backbone.embedding.weight"].double()
    h, residual = emb[ids], None
    for i in range(N_LAYER):
        residual = h if residual is None else h + residual
        x = ref_rmsnorm(residual, sd[f"backbone.layers.{i}.norm.weight"])
        prefix = f"backbone.layers.{i}.mixer."
        h = ref_block(ir, {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}, x)
    return ref_rmsnorm(h + residual, sd["backbone.norm_f.weight"]) @ emb.T




@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mamba2-lm")
    return folder, write_checkpoint(folder, load_ir(PKG))


def test_from_pretrained_loads_every_key_and_gives_the_reference_logits(checkpoint):
    folder, sd = checkpoint
    mod = load_generated(PKG)
    model = mod.MambaLMHeadModel.from_pretrained(str(folder), device=DEVICE)
    assert set(model.state_dict()) == set(sd)  # nothing left over either way
    assert model.lm_head.weight.data_ptr() == model.backbone.embedding.weight.data_ptr()
    ids = torch.randint(0, VOCAB, (2, 7), device=DEVICE)
    with torch.no_grad():
        logits = model(ids).logits
    assert logits.shape == (2, 7, VOCAB_PADDED)
    err = rel_err(logits, ref_logits(load_ir(PKG), sd, ids.cpu()))
    assert err < 2e-4, f"LM logits rel err {err:.2e}"


def test_greedy_generation_with_the_decode_cache_follows_the_reference(checkpoint):
    folder, sd = checkpoint
    mod = load_generated(PKG)
    model = mod.MambaLMHeadModel.from_pretrained(str(folder), device=DEVICE)
    prompt = torch.randint(0, VOCAB, (2, 4), device=DEVICE)
    out = model.generate(prompt, max_length=7, return_dict_in_generate=True, output_scores=True)
    seq = out.sequences
    assert seq.shape == (2, 7) and torch.equal(seq[:, :4], prompt)
    # every new token is the argmax of the float64 full forward over the tokens before it,
    # and the cached logits equal that forward's last position
    ir = load_ir(PKG)
    ref = ref_logits(ir, sd, seq[:, :-1].cpu())
    for j, scores in enumerate(out.scores):
        t = 3 + j
        assert rel_err(scores, ref[:, t]) < 2e-4, f"decode logits at position {t}"
        assert torch.equal(seq[:, t + 1].cpu(), ref[:, t].argmax(-1)), f"token {t + 1}"


def test_sampling_with_top_k_keeps_to_the_k_most_likely_tokens():
    mod = load_generated(PKG)
    logits = torch.randn(64, 30)
    tokens = mod.lm.sample(logits, top_k=3, temperature=0.7)
    top3 = logits.topk(3, dim=-1).indices
    assert (tokens[:, None] == top3).any(dim=-1).all()
    nucleus = mod.lm.sample(logits, top_k=0, top_p=1e-6)  # only the most likely token survives
    assert torch.equal(nucleus, logits.argmax(-1))


def test_a_config_for_another_layer_is_refused_naming_the_fix(tmp_path):
    mod = load_generated(PKG)
    with pytest.raises(ValueError, match="d_intermediate is 4.*d_intermediate 0"):
        mod.MambaLMHeadModel({"d_model": 128, "n_layer": 1, "vocab_size": 8, "d_intermediate": 4,
                              "ssm_cfg": {"layer": "Mamba2"}})
    with pytest.raises(FileNotFoundError, match="config.json.*nothing is downloaded"):
        mod.MambaLMHeadModel.from_pretrained(str(tmp_path))
