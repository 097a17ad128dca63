"""Host time of the generated Mamba2 layer, eager vs torch.compile, on CPU with the Triton launches stubbed.

The layer of scripts/gpu/compile_check.py (kernels-out/mamba2_130m's Mamba2, d_model 768), bf16, on CPU
tensors at a tiny shape (default (1, 8): the aten work left is two small GEMMs and a few elementwise ops),
with every Triton launch (JITFunction.run) replaced by a no-op: so the time per call is host time (Python,
torch dispatch, Dynamo guards, AOTAutograd / Inductor wrappers, custom-op dispatch) minus Triton's own
launcher, which is the same in eager and compiled (the same kernel wrappers run inside the custom ops).
Rows: forward (no grad), fwd+bwd (loss = out.square().mean()), decode step (inference_params,
seqlen_offset > 0), for eager, torch.compile (inductor, default) and fullgraph=True; and the same for the
block alone (mamba_split_conv1d_scan from in_proj's output, with the layer's parameters) to separate the
block's ops from the GEMMs. Also the ops of every compiled graph (Inductor's output code: custom-op calls,
extern kernels, generated kernels) and Triton launches per call (the stub counts them).

    .venv/bin/python scripts/compile_host.py [--shape 1 8] [--calls 100] [--rounds 5] [--code DIR] [--dtype float32]
    MAMBA2_BLOCK_FUSED=0 ... : the block as the composition of the per-kernel ops (the old compiled graph)

Inductor on CPU needs a C++ compiler (g++) for its glue kernels. Timings: perf_counter, best of --rounds
medians of --calls calls (a shared 2-core machine is noisy: compare rows of one run).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

os.environ.pop("TRITON_INTERPRET", None)  # the compiled kernels' host path, launches stubbed below
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "packages/runner/python")]

import torch  # noqa: E402
import torch._dynamo  # noqa: E402
from torch._dynamo.utils import counters  # noqa: E402

from mamba2_runner.pkgload import load_generated  # noqa: E402

LAUNCHES = [0]


def stub_launches():
    from triton.runtime.jit import JITFunction

    def run(self, *args, grid, warmup, **kwargs):
        LAUNCHES[0] += 1
        return None
    JITFunction.run = run


def per_call(fn, calls, rounds):
    """(best median us per call, Triton launches per call)."""
    fn()
    fn()
    best = None
    n0 = LAUNCHES[0]
    for _ in range(rounds):
        ts = []
        for _ in range(calls):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        m = statistics.median(ts)
        best = m if best is None else min(best, m)
    return best * 1e6, (LAUNCHES[0] - n0) / (calls * rounds)


def code_ops(codes, ns):
    """Ops per compiled graph in Inductor's output code: custom ops, extern kernels, generated kernels."""
    out = []
    for code in codes:
        call = code[code.find("def call(") if "def call(" in code else 0:]
        out.append({
            "custom_ops": re.findall(rf"torch\.ops\.{ns}\.(\w+)\.default\(", call),
            "extern": re.findall(r"extern_kernels\.(\w+)\(", call),
            "aten": re.findall(r"torch\.ops\.aten\.(\w+)\.\w+\(", call),
            "generated": len(re.findall(r"^\s+(?:cpp_fused_\w+|triton_\w+\.run)\(", call, re.M)),
            "copies": len(re.findall(r"\.copy_\(|copy_misaligned|reinterpret_tensor\(.*clone", call)),
        })
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pkg", default=str(ROOT / "kernels-out/mamba2_130m"))
    ap.add_argument("--shape", type=int, nargs=2, default=(1, 8))
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--code", help="write each compiled graph's output code here")
    ap.add_argument("--only", default="forward,fwd+bwd,decode,block")
    ap.add_argument("--dtype", default="bfloat16", help="bfloat16 | float32 (CPU bf16 GEMMs are slow: noisier rows)")
    ap.add_argument("--json")
    a = ap.parse_args()
    stub_launches()
    torch.set_num_threads(1)
    mod = load_generated(a.pkg)
    ns = mod.custom_ops.NAMESPACE
    dtype = getattr(torch, a.dtype)
    torch.manual_seed(0)
    layer = mod.Mamba2(768, layer_idx=0, device="cpu", dtype=dtype)
    b, l = a.shape
    u = torch.randn(b, l, 768, dtype=dtype)
    only = a.only.split(",")
    rows = []

    def fwd(m):
        with torch.no_grad():
            return m(u)

    def fwdbwd(m):
        layer.zero_grad(set_to_none=True)
        m(u).float().square().mean().backward()

    blk_args = None

    def block(m):  # the block alone, from in_proj's output (no grad)
        with torch.no_grad():
            return m(blk_args)

    class Block(torch.nn.Module):
        def forward(self, zxbcdt):
            return mod.module.mamba_split_conv1d_scan(
                zxbcdt, layer.conv1d.weight[:, 0, :], layer.conv1d.bias, -torch.exp(layer.A_log.float()),
                mod.module._DECODE_LAYOUT, layer.chunk_size, headdim=layer.headdim, d_state=layer.d_state,
                D=layer.D, dt_bias=layer.dt_bias, dt_softplus=True, dt_limit=layer.dt_limit,
                norm_weight=layer.norm.weight, norm_eps=layer.norm.eps, norm_gated=True)

    with torch.no_grad():
        blk_args = layer.in_proj(u)
    blk = Block()

    def decode_setup(m):
        params = mod.InferenceParams(max_seqlen=64, max_batch_size=b)
        with torch.inference_mode():  # the cache as compile_check.py allocates it (inference tensors)
            params.key_value_memory_dict[0] = layer.allocate_inference_cache(b, 64)
            m(u, inference_params=params)
            step_u = u[:, :1].clone()
            params.seqlen_offset = l

            def step():
                with torch.inference_mode():
                    return m(step_u, inference_params=params)
            for _ in range(3):
                params.seqlen_offset += 1
                step()
        return step

    from torch._inductor.utils import run_and_get_code

    for what, fn, model in (("forward", fwd, layer), ("fwd+bwd", fwdbwd, layer), ("decode", None, layer),
                            ("block", block, blk)):
        if what not in only:
            continue
        for mode in ("eager", "default", "fullgraph"):
            torch._dynamo.reset()
            m = model if mode == "eager" else torch.compile(model, fullgraph=(mode == "fullgraph"))
            codes = []
            if mode != "eager":
                if what == "decode":
                    _, codes = run_and_get_code(lambda: decode_setup(m))
                else:
                    _, codes = run_and_get_code(lambda: fn(m))
            call = decode_setup(m) if what == "decode" else (lambda: fn(m))
            g0 = counters["stats"]["unique_graphs"]
            us, launches = per_call(call, a.calls, a.rounds)
            rec = counters["stats"]["unique_graphs"] - g0
            r = {"what": what, "mode": mode, "us_per_call": round(us, 1), "launches_per_call": launches,
                 "recompiles": rec, "graphs": code_ops(codes, ns)}
            rows.append(r)
            print(json.dumps(r), flush=True)
            if a.code and codes:
                Path(a.code).mkdir(parents=True, exist_ok=True)
                for i, c in enumerate(codes):
                    Path(a.code, f"{what.replace('+', '_')}-{mode}-{i}.py").write_text(c)
    print(f"\n{'what':9} {'mode':10} {'us/call':>9} {'launches':>8}  ops per graph (custom | extern | generated)")
    for r in rows:
        g = "; ".join(f"{len(x['custom_ops'])}|{len(x['extern'])}|{x['generated']}" for x in r["graphs"])
        print(f"{r['what']:9} {r['mode']:10} {r['us_per_call']:9.1f} {r['launches_per_call']:8.1f}  {g}")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
