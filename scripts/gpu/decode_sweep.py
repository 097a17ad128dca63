"""Where the decode step's time goes at d_model 2560, and which step launch is fastest per batch
(issue 10: batch 256 eager was 1.08x the incumbent, graphed steps 1.6-2.3x the bytes floor).

    PYTHONPATH=packages/runner/python:packages/kernels/python python3 scripts/gpu/decode_sweep.py --out $OUT

bench/pkgs/bench_block_2560 (bf16 weights), batches 1/16/64/256, ssm state fp32 and bf16. Per
(batch, state dtype), CUDA-graphed (host time removed), medians of 5 x 200 replays:
- the whole step (layer.step), the two GEMMs alone (in_proj, out_proj) and the ssd_step alone;
- ssd_step with each launch choice block_p in {8, 16, 32, 64} x num_warps in {2, 4, 8}: first
  checked equal to the default launch (out and both states bit for bit, from the same states),
  then timed; bytes floor of the step kernel = state read + written + in_proj row read + out written.
Prints a table; writes $OUT/decode_sweep.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import decode_check as dc  # noqa: E402  (ROOT on sys.path, cuda_time, graphed, make_layer)

import torch  # noqa: E402

from mamba2_runner.pkgload import load_generated, load_ir  # noqa: E402

BW = 4.8e12  # H200 HBM3e, bytes/s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--batches", default="1,16,64,256")
    a = ap.parse_args()
    pkg_dir = dc.ROOT / "bench" / "pkgs" / "bench_block_2560"
    mod, ir = load_generated(pkg_dir), load_ir(pkg_dir)
    pkg = mod.__name__.split(".")[0]
    dec = sys.modules[f"{pkg}.kernels.ssd_decode"]
    mdl = sys.modules[f"{pkg}.module"]
    layer = dc.make_layer(mod, ir, "cuda", torch.bfloat16)
    rows = []
    F = torch.nn.functional
    for b in [int(x) for x in a.batches.split(",")]:
        h = torch.randn(b, 1, layer.d_model, device="cuda", dtype=torch.bfloat16)
        for sdt in (torch.float32, torch.bfloat16):
            cs, ss = layer.allocate_inference_cache(b, 1, ssm_state_dtype=sdt)
            cs.normal_()
            ss.normal_()
            cs0, ss0 = cs.clone(), ss.clone()
            with torch.no_grad():
                zx = F.linear(h[:, 0], layer.in_proj.weight)
                y = torch.empty(b, layer.d_ssm, device="cuda", dtype=torch.bfloat16)

                def step_with(bp=None, nw=None):
                    return dec.ssd_step(
                        zx, cs, layer.conv1d.weight, layer.conv1d.bias, ss, layer.A_log, mdl._DECODE_LAYOUT,
                        headdim=layer.headdim, dt_bias=layer.dt_bias, D=layer.D, dt_softplus=True,
                        dt_limit=layer.dt_limit, activation="silu", norm_weight=layer.norm.weight,
                        norm_eps=layer.norm.eps, norm_group_size=layer.d_ssm, norm_gated=True,
                        norm_before_gate=False, out=y, block_p=bp, num_warps=nw)

                t_step = dc.cuda_time(dc.graphed(lambda: layer.step(h, cs, ss)))
                t_in = dc.cuda_time(dc.graphed(lambda: F.linear(h[:, 0], layer.in_proj.weight)))
                t_out = dc.cuda_time(dc.graphed(lambda: F.linear(y, layer.out_proj.weight)))
                cs.copy_(cs0); ss.copy_(ss0)
                ref = step_with().clone()
                ref_cs, ref_ss = cs.clone(), ss.clone()
                sbytes = ss.numel() * ss.element_size()
                kfloor = (2 * sbytes + zx.numel() * 2 + y.numel() * 2) / BW * 1e3
                wbytes = sum(p.numel() * p.element_size() for p in (layer.in_proj.weight, layer.out_proj.weight))
                base = dict(batch=b, state=str(sdt).split(".")[-1], step_cg_ms=round(t_step, 4),
                            in_proj_ms=round(t_in, 4), out_proj_ms=round(t_out, 4),
                            gemm_floor_ms=round(wbytes / BW * 1e3, 4), step_kernel_floor_ms=round(kfloor, 4))
                for bp in (8, 16, 32, 64):
                    for nw in (2, 4, 8):
                        cs.copy_(cs0); ss.copy_(ss0)
                        try:
                            got = step_with(bp, nw)
                            same = bool(torch.equal(got, ref) and torch.equal(cs, ref_cs) and torch.equal(ss, ref_ss))
                            t = dc.cuda_time(dc.graphed(lambda: step_with(bp, nw))) if same else float("nan")
                        except Exception as e:  # e.g. out of resources: reported, not timed
                            same, t = f"{type(e).__name__}", float("nan")
                        r = dict(base, block_p=bp, num_warps=nw, equal_default=same, ssd_step_ms=round(t, 4),
                                 over_floor=round(t / kfloor, 2))
                        rows.append(r)
                        print(json.dumps(r), flush=True)
    Path(a.out).mkdir(parents=True, exist_ok=True)
    (Path(a.out) / "decode_sweep.json").write_text(json.dumps(rows, indent=1))
    print("\nbatch state  step_cg  in_proj out_proj gemm_floor | best ssd_step (bp, nw) floor | default(16,4)")
    for b in sorted({r["batch"] for r in rows}):
        for st in ("float32", "bfloat16"):
            rs = [r for r in rows if r["batch"] == b and r["state"] == st and r["equal_default"] is True]
            if not rs:
                continue
            best = min(rs, key=lambda r: r["ssd_step_ms"])
            d = [r for r in rs if r["block_p"] == 16 and r["num_warps"] == 4]
            r0 = rs[0]
            print(f"{b:5d} {st:8s} {r0['step_cg_ms']:.4f} {r0['in_proj_ms']:.4f} {r0['out_proj_ms']:.4f} "
                  f"{r0['gemm_floor_ms']:.4f} | {best['ssd_step_ms']:.4f} ({best['block_p']},{best['num_warps']}) "
                  f"{best['step_kernel_floor_ms']:.4f} | {d[0]['ssd_step_ms'] if d else 'n/a'}")


if __name__ == "__main__":
    main()
