"""Drop-in checks against the incumbent itself (issue 10 items 2 and 3), one standalone GPU script.

    PYTHONPATH=packages/runner/python:packages/kernels/python python scripts/gpu/interop_check.py [--quick]

Needs .baseline/ (scripts/fetch-baseline.sh: mamba_ssm 2.3.2.post1 sources incl. modules/mamba2.py and
models/; causal_conv1d_cuda.so built with ../shared/baseline/build_causal_conv1d.py). The incumbent is
RUN from there (mamba2_runner.bench.baseline.load_mamba_ssm_models), never copied.

1. layer: mamba_ssm's Mamba2(d_model 768) with random weights (D, norm weight, conv bias perturbed
   from their init) -> state_dict -> our kernels-out/mamba2_130m Mamba2 with strict=True (no key
   missing or left over), and ours -> theirs the same way; outputs on one random input compared with
   each other and with our float64 reference of the block, fp32 and bf16.
2. LM: mamba_ssm's MambaLMHeadModel (MambaConfig d_model 768, n_layer 4 or 24, vocab 50277, Mamba2
   layers) <-> our MambaLMHeadModel, both ways strict; logits compared; greedy generate (top_k=1) of
   32 new tokens by both from the same prompt: the number of leading steps that agree.
3. decode-D2560-B{1,16,64,256}: one Mamba2(d_model 2560).step (ours: bench/pkgs/bench_block_2560), theirs (causal_conv1d_update +
   selective_state_update, bf16 state as they keep it) vs ours (fp32 state, our default) on the same
   weights, eager and CUDA-graphed, with the bytes floor (weights once + ssm state read and written).
4. generation: a 24-layer d_model 768 LM (mamba2-130m's shape, random weights, bf16), tokens/s at
   batch 1 and 64: theirs MambaLMHeadModel.generate(cg=False / cg=True) vs ours, same weights.
Rows print as they finish; JSON to $OUT/interop_check.json; the table is last.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for p in ("packages/runner/python", "packages/kernels/python", "scripts/gpu"):
    if str(ROOT / p) not in sys.path:
        sys.path.insert(0, str(ROOT / p))

import torch  # noqa: E402

from decode_check import cuda_time as _cuda_time, graphed  # noqa: E402  (scripts/gpu)
from mamba2_runner.bench.baseline import load_mamba_ssm_models  # noqa: E402
from mamba2_runner.checks import rel_err  # noqa: E402
from mamba2_runner.pkgload import load_generated  # noqa: E402

ROWS = []
# bf16: two different kernel stacks on bf16 weights and activations (different chunking,
# accumulation order, bf16 vs fp32 state); measured differences stay well below this.
TOL = {torch.float32: 2e-3, torch.bfloat16: 3e-2}
PKG = ROOT / "kernels-out" / "mamba2_130m"


def cuda_time(fn):
    return _cuda_time(fn, iters=100, warmup=10)


def row(**kw):
    ROWS.append(kw)
    print("  ".join(f"{k}={v}" for k, v in kw.items()), flush=True)


def perturb(module):
    """Move the parameters that init sets to constants (D = 1, norm weights = 1) off them, so a
    wrongly mapped key shows; every other weight is already random from init."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf == "D" or name.endswith("norm.weight") or name.endswith("norm_f.weight") or (
                    "conv1d" in name and leaf == "bias"):
                p.copy_(1.0 + 0.3 * torch.randn_like(p))


def transfer(src, dst):
    """dst.load_state_dict(src.state_dict(), strict=True): raises on any missing or extra key."""
    sd = src.state_dict()
    res = dst.load_state_dict(sd, strict=True)
    return len(sd), list(res.missing_keys), list(res.unexpected_keys)


def check_layer(ms, ours_mod):
    for dtype in (torch.float32, torch.bfloat16):
        torch.manual_seed(0)
        u = torch.randn(2, 512, 768, device="cuda", dtype=dtype)
        for direction in ("mamba_ssm->ours", "ours->mamba_ssm"):
            theirs = ms["Mamba2"](d_model=768, layer_idx=0, device="cuda", dtype=dtype)
            ours = ours_mod.Mamba2(d_model=768, layer_idx=0, device="cuda", dtype=dtype)
            src, dst = (theirs, ours) if direction == "mamba_ssm->ours" else (ours, theirs)
            perturb(src)
            n, missing, extra = transfer(src, dst)
            with torch.no_grad():
                yt, yo = theirs(u), ours(u)
            err = rel_err(yo, yt.float())
            row(check="layer-weights", direction=direction, dtype=str(dtype)[6:], keys=n, missing=len(missing),
                extra=len(extra), rel_err=f"{err:.2e}", tol=TOL[dtype], ok=not missing and not extra and err <= TOL[dtype])


def lm_config(ms, n_layer):
    return ms["MambaConfig"](d_model=768, n_layer=n_layer, vocab_size=50277, ssm_cfg={"layer": "Mamba2"},
                             rms_norm=True, residual_in_fp32=True, fused_add_norm=True,
                             pad_vocab_size_multiple=8, tie_embeddings=True)


def our_config(n_layer):
    return {"d_model": 768, "n_layer": n_layer, "vocab_size": 50277, "ssm_cfg": {"layer": "Mamba2"},
            "rms_norm": True, "residual_in_fp32": True, "fused_add_norm": True,
            "pad_vocab_size_multiple": 8, "tie_embeddings": True}


def greedy_agreement(a, b, prompt):
    same = (a[:, prompt:] == b[:, prompt:]).all(dim=0)
    n = int(same.long().cumprod(0).sum().item())
    return n, int(a.shape[1] - prompt)


def check_lm(ms, ours_mod, n_layer, gen_steps=32):
    """Weights both ways, logits, and greedy agreement. With init's embedding (std 0.02) the next-token
    logits of a random model have top-2 margins far below bf16 rounding, so greedy bf16 decoding of two
    correct stacks parts after a few steps (the incumbent's own bf16 parts from its fp32 the same way:
    the `theirs_bf16_vs_fp32` column). `peaked` scales the embedding (std 0.5) so that margins are like a
    trained model's; greedy agreement is judged there."""
    for dtype in (torch.float32, torch.bfloat16):
        for peaked in (False, True):
            for direction in ("mamba_ssm->ours", "ours->mamba_ssm"):
                torch.manual_seed(1)
                theirs = ms["MambaLMHeadModel"](lm_config(ms, n_layer), device="cuda", dtype=dtype).eval()
                ours = ours_mod.MambaLMHeadModel(our_config(n_layer), device="cuda", dtype=dtype).eval()
                src, dst = (theirs, ours) if direction == "mamba_ssm->ours" else (ours, theirs)
                perturb(src)
                if peaked:
                    with torch.no_grad():
                        src.backbone.embedding.weight.mul_(25.0)
                n, missing, extra = transfer(src, dst)
                ids = torch.randint(0, 50277, (2, 256), device="cuda")
                with torch.no_grad():
                    lt, lo = theirs(ids).logits, ours(ids).logits
                err = rel_err(lo, lt.float())
                prompt = ids[:, :16]
                st = theirs.generate(prompt, max_length=16 + gen_steps, top_k=1, cg=False)
                so = ours.generate(prompt, max_length=16 + gen_steps, top_k=1)
                agree, total = greedy_agreement(so, st, 16)
                r = dict(check="lm-weights", direction=direction, dtype=str(dtype)[6:], peaked=peaked,
                         n_layer=n_layer, keys=n, missing=len(missing), extra=len(extra),
                         logits_rel_err=f"{err:.2e}", tol=TOL[dtype], greedy_steps_equal=f"{agree}/{total}")
                if dtype != torch.float32:
                    t32 = copy.deepcopy(theirs).float()
                    s32 = t32.generate(prompt, max_length=16 + gen_steps, top_k=1, cg=False)
                    r["theirs_bf16_vs_fp32"] = "%d/%d" % greedy_agreement(st, s32, 16)
                    r["ours_bf16_vs_theirs_fp32"] = "%d/%d" % greedy_agreement(so, s32, 16)
                    del t32
                judged = dtype == torch.float32 or peaked
                r["ok"] = not missing and not extra and err <= TOL[dtype] and (
                    not judged or agree >= min(32, total))
                row(**r)


def decode_layers(ms, device="cuda", dtype=torch.bfloat16):
    """mamba_ssm's Mamba2(d_model 2560) and ours at that shape (bench/pkgs/bench_block_2560: d_state 128,
    headdim 64, one group, norm over d_inner; the same state_dict keys), theirs' weights loaded into ours."""
    torch.manual_seed(2)
    theirs = ms["Mamba2"](d_model=2560, layer_idx=0, device=device, dtype=dtype)
    mod = load_generated(ROOT / "bench" / "pkgs" / "bench_block_2560")
    ours = mod.BenchBlock2560(d_model=2560, layer_idx=0, device=device, dtype=dtype)
    perturb(theirs)
    transfer(theirs, ours)
    return theirs, ours


def bench_decode(ms, batches):
    dtype = torch.bfloat16
    theirs, ours = decode_layers(ms)
    weight_bytes = sum(p.numel() * p.element_size() for p in ours.parameters())
    for b in batches:
        h = torch.randn(b, 1, 2560, device="cuda", dtype=dtype)
        cs_o, ss_o = ours.allocate_inference_cache(b, 1)
        cs_t, ss_t = theirs.allocate_inference_cache(b, 1)  # bf16 state, as mamba_ssm keeps it
        with torch.no_grad():
            for t in (cs_o, ss_o, cs_t, ss_t):
                t.normal_()
            ss_t.copy_(ss_o)
            cs_t.copy_(cs_o)
            yo = ours.step(h, cs_o, ss_o)[0]
            yt = theirs.step(h, cs_t, ss_t)[0]
            err = rel_err(yo, yt.float())
            eo = cuda_time(lambda: ours.step(h, cs_o, ss_o))
            et = cuda_time(lambda: theirs.step(h, cs_t, ss_t))
            go = cuda_time(graphed(lambda: ours.step(h, cs_o, ss_o)))
            gt = cuda_time(graphed(lambda: theirs.step(h, cs_t, ss_t)))
        floor = (weight_bytes + 2 * ss_o.numel() * ss_o.element_size()
                 + 2 * cs_o.numel() * cs_o.element_size()) / 4.8e12 * 1e3
        row(name=f"decode-D2560-B{b}", kind="decode", generated_eager_ms=round(eo, 4),
            mamba_ssm_eager_ms=round(et, 4), speedup_eager=round(et / eo, 2),
            generated_cg_ms=round(go, 4), mamba_ssm_cg_ms=round(gt, 4), speedup_cg=round(gt / go, 2),
            bytes_floor_ms=round(floor, 4), cg_over_floor=round(go / floor, 2), rel_err_vs_mamba_ssm=f"{err:.2e}",
            target="B1 eager>=2.0x, B16-256 >=1.3x, cg within 1.5x of floor")


def bench_generate(ms, ours_mod, batches, prompt=32, new=128):
    dtype = torch.bfloat16
    torch.manual_seed(3)
    theirs = ms["MambaLMHeadModel"](lm_config(ms, 24), device="cuda", dtype=dtype).eval()
    ours = ours_mod.MambaLMHeadModel(our_config(24), device="cuda", dtype=dtype).eval()
    perturb(theirs)
    transfer(theirs, ours)
    for b in batches:
        ids = torch.randint(0, 50277, (b, prompt), device="cuda")
        res = {}
        for label, model in (("generated", ours), ("mamba_ssm", theirs)):
            for cg in (False, True):
                model.generate(ids, max_length=prompt + 4, top_k=1, cg=cg)  # warm up: compile, capture
                torch.cuda.synchronize()
                t = time.perf_counter()
                seq = model.generate(ids, max_length=prompt + new, top_k=1, cg=cg)
                torch.cuda.synchronize()
                res[(label, cg)] = (b * new / (time.perf_counter() - t), seq)
        agree, total = greedy_agreement(res[("generated", True)][1], res[("mamba_ssm", True)][1], prompt)
        r = dict(name=f"generate-130m-B{b}", kind="generate", new_tokens=new)
        for (label, cg), (tps, _) in res.items():
            r[f"{label}_{'cg' if cg else 'eager'}_tok_s"] = round(tps)
        r["speedup_cg"] = round(res[("generated", True)][0] / res[("mamba_ssm", True)][0], 2)
        r["speedup_eager"] = round(res[("generated", False)][0] / res[("mamba_ssm", False)][0], 2)
        r["greedy_steps_equal_cg"] = f"{agree}/{total}"
        row(**r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="4-layer LM check, no benchmarks")
    ap.add_argument("--no-bench", action="store_true", help="checks only (24-layer LM), no decode/generation timing")
    ap.add_argument("--decode-only", action="store_true", help="only the decode bench (vs mamba_ssm's Mamba2.step)")
    a = ap.parse_args()
    ms = load_mamba_ssm_models()
    row(check="baseline", causal_conv1d=ms["info"].get("causal_conv1d"), mamba_ssm=ms["info"].get("ref"),
        ok=bool(ms["info"].get("causal_conv1d", {}).get("loaded")))
    ours_mod = load_generated(PKG)
    steps = [("layer", lambda: check_layer(ms, ours_mod)),
             ("lm", lambda: check_lm(ms, ours_mod, 4 if a.quick else 24))]
    if a.decode_only:
        steps = [("decode bench", lambda: bench_decode(ms, [1, 16, 64, 256]))]
    elif not (a.quick or a.no_bench):
        steps += [("decode bench", lambda: bench_decode(ms, [1, 16, 64, 256])),
                  ("generate bench", lambda: bench_generate(ms, ours_mod, [1, 64]))]
    for what, fn in steps:
        t = time.time()
        try:
            fn()
        except Exception:
            row(check=what, ok=False, error=traceback.format_exc(limit=4).replace("\n", " | "))
        print(f"[{what}: {time.time() - t:.0f} s]", flush=True)
    out_dir = Path(os.environ.get("OUT", "."))
    out_dir.mkdir(parents=True, exist_ok=True)
    bad = [r for r in ROWS if r.get("ok") is False]
    (out_dir / "interop_check.json").write_text(json.dumps({"rows": ROWS, "failed": len(bad)}, indent=1, default=str))
    print("\n== summary")
    for r in ROWS:
        print("  ".join(f"{k}={v}" for k, v in r.items() if k not in ("error", "target")))
    print(f"{len(ROWS)} rows, {len(bad)} failed; JSON: {out_dir / 'interop_check.json'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
