"""GPU checks of torch.compile (issue 10 item 4), one standalone script.

    PYTHONPATH=packages/runner/python:packages/kernels/python python scripts/gpu/compile_check.py
    # options: --quick (small shapes, fewer modes), --device cpu (with --quick: a smoke run, backend aot_eager)

For the layer (kernels-out/mamba2_130m's Mamba2, d_model 768, bf16 weights) and
the LM (the same package's MambaLMHeadModel, --n-layer layers, vocab 50280), in
the modes eager, compile (default), compile fullgraph=True and
compile mode="reduce-overhead" (CUDA graphs):
- forward (no grad) and fwd+bwd (loss on the output): median time per call,
  compiled / eager, max relative error of the output (and of every parameter
  gradient) vs eager, and recompiles on a second call with the same shapes
  (Dynamo's unique-graph count before / after);
- decode: prefill + 8 steps through InferenceParams (inference_mode), the
  logits of every step vs eager, time per step, recompiles after the step
  graph is built (steps 3..8 must add none).
ok = no exception, rel err < 2e-2 (bf16; fp32 on --device cpu: 1e-4), no
recompile on the second call. Writes $OUT/compile_check.json; the table is last.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for p in ("packages/runner/python", "packages/kernels/python"):
    if str(ROOT / p) not in sys.path:
        sys.path.insert(0, str(ROOT / p))

if "--device" in sys.argv and sys.argv[sys.argv.index("--device") + 1:][:1] == ["cpu"]:
    os.environ["TRITON_INTERPRET"] = "1"  # before anything imports Triton (torch._dynamo does)

import torch  # noqa: E402
import torch._dynamo  # noqa: E402
from torch._dynamo.utils import counters  # noqa: E402

from mamba2_runner.pkgload import load_generated  # noqa: E402

ROWS: list[dict] = []
PKG = ROOT / "kernels-out" / "mamba2_130m"


def row(**kw):
    ROWS.append(kw)
    print(json.dumps(kw, default=str), flush=True)


def sync(dev):
    if dev == "cuda":
        torch.cuda.synchronize()


def timed(fn, dev, reps):
    ts = []
    for _ in range(reps):
        sync(dev)
        t = time.perf_counter()
        fn()
        sync(dev)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def rel(a, b):
    a, b = a.detach().double(), b.detach().double()
    if not torch.isfinite(a).all():
        return float("inf")
    return ((a - b).norm() / b.norm().clamp_min(1e-30)).item()


def graphs():
    return counters["stats"]["unique_graphs"]


def make(what, dev, dtype, n_layer):
    mod = load_generated(PKG)
    torch.manual_seed(0)
    if what == "layer":
        m = mod.Mamba2(768, layer_idx=0, device=dev, dtype=dtype)
    else:
        m = mod.MambaLMHeadModel({"d_model": 768, "n_layer": n_layer, "vocab_size": 50280,
                                  "ssm_cfg": {"layer": "Mamba2"}}, device=dev, dtype=dtype)
    with torch.no_grad():  # not the constant inits
        for name, p in m.named_parameters():
            if name.endswith(("D", "norm.weight", "conv1d.bias")):
                p.copy_(1 + 0.3 * torch.randn_like(p))
    return mod, m


def compiled(model, mode, backend):
    if mode == "eager":
        return model
    kw = {"backend": backend}
    if mode == "fullgraph":
        kw["fullgraph"] = True
    if mode == "reduce-overhead":
        kw = {"mode": "reduce-overhead"} if backend == "inductor" else kw
    return torch.compile(model, **kw)


def check_train(what, mode, a, dtype, tol):
    mod, model = make(what, a.device, dtype, a.n_layer)
    torch._dynamo.reset()
    b, l = (1, 16 if a.device == "cpu" else 64) if a.quick else (4, 1024)
    if what == "layer":
        inp = torch.randn(b, l, 768, device=a.device, dtype=dtype)
        out_of = lambda o: o  # noqa: E731
    else:
        inp = torch.randint(0, 50280, (b, l), device=a.device)
        out_of = lambda o: o.logits  # noqa: E731
    cm = compiled(model, mode, a.backend)
    eager_model = model
    res = {}
    for phase in ("forward", "fwd+bwd"):
        def run(m):
            if phase == "forward":
                with torch.no_grad():
                    return out_of(m(inp)), {}
            model.zero_grad(set_to_none=True)
            o = out_of(m(inp))
            o.float().square().mean().backward()
            return o, {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

        if mode == "reduce-overhead" and a.device == "cuda":
            torch.compiler.cudagraph_mark_step_begin()
        ref_out, ref_g = run(eager_model)
        t0 = time.perf_counter()
        out, g = run(cm)  # compiles
        out = out.detach().clone()  # CUDA-graph outputs are overwritten by the next replay
        compile_s = time.perf_counter() - t0
        before = graphs()
        run(cm)
        recompiles = graphs() - before
        err = rel(out, ref_out)
        gerr = max((rel(g[n], ref_g[n]) for n in ref_g), default=0.0)
        t_eager = timed(lambda: run(eager_model), a.device, a.reps)
        t_comp = timed(lambda: run(cm), a.device, a.reps)
        ok = err < tol and gerr < tol and recompiles == 0 and set(g) == set(ref_g)
        row(check=f"{what} {phase}", mode=mode, ok=ok, shape=[b, l], rel_err=err, grad_rel_err=gerr,
            recompiles_second_call=recompiles, compile_s=round(compile_s, 1),
            eager_ms=round(t_eager * 1e3, 3), compiled_ms=round(t_comp * 1e3, 3),
            compiled_over_eager=round(t_comp / t_eager, 3))
        res[phase] = ok
    return res


def check_decode(what, mode, a, dtype, tol):
    mod, model = make(what, a.device, dtype, a.n_layer)
    torch._dynamo.reset()
    b, prompt, steps = (1, 4, 5) if a.device == "cpu" else (2, 16, 8)
    cm = compiled(model, mode, a.backend)
    if what == "layer":
        inp = torch.randn(b, prompt + steps, 768, device=a.device, dtype=dtype)
        out_of = lambda o: o  # noqa: E731
    else:
        inp = torch.randint(0, 50280, (b, prompt + steps), device=a.device)
        out_of = lambda o: o.logits  # noqa: E731
    outs, times, graph_counts = {}, {}, []
    with torch.inference_mode():
        for kind, m in (("eager", model), ("compiled", cm)):
            params = mod.InferenceParams(max_seqlen=prompt + steps, max_batch_size=b)
            # the cache is allocated outside the compiled call (as a server does): a state allocated
            # inside a CUDA-graphed region lives in the graph's pool and is overwritten by the next replay
            cache = model.allocate_inference_cache(b, prompt + steps)
            params.key_value_memory_dict.update(cache if what != "layer" else {model.layer_idx: cache})
            if mode == "reduce-overhead" and a.device == "cuda":
                torch.compiler.cudagraph_mark_step_begin()
            seq = [out_of(m(inp[:, :prompt], inference_params=params))[:, -1:].float().clone()]
            ts = []
            for t in range(prompt, prompt + steps):
                params.seqlen_offset = t
                if mode == "reduce-overhead" and a.device == "cuda":
                    torch.compiler.cudagraph_mark_step_begin()
                sync(a.device)
                t0 = time.perf_counter()
                o = out_of(m(inp[:, t:t + 1], inference_params=params))
                sync(a.device)
                ts.append(time.perf_counter() - t0)
                seq.append(o.float().clone())
                if kind == "compiled":
                    graph_counts.append(graphs())
            outs[kind] = torch.cat(seq, 1)
            times[kind] = statistics.median(ts[3:])
    err = rel(outs["compiled"], outs["eager"])
    late = graph_counts[-1] - graph_counts[2]
    ok = err < tol and late == 0
    row(check=f"{what} decode", mode=mode, ok=ok, batch=b, rel_err=err, recompiles_after_step_3=late,
        eager_ms=round(times["eager"] * 1e3, 3), compiled_ms=round(times["compiled"] * 1e3, 3),
        compiled_over_eager=round(times["compiled"] / times["eager"], 3))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--reps", type=int, default=10)
    a = ap.parse_args()
    if a.device == "cpu":
        os.environ["TRITON_INTERPRET"] = "1"
        a.reps, a.n_layer = 1, 1
    a.backend = "inductor" if a.device == "cuda" else "aot_eager"
    dtype = torch.bfloat16 if a.device == "cuda" else torch.float32
    tol = 2e-2 if a.device == "cuda" else 1e-4
    modes = ["default", "fullgraph", "reduce-overhead"]
    if a.quick:
        modes = ["fullgraph"] if a.device == "cpu" else ["default", "fullgraph"]
    for what in ("layer", "lm"):
        for mode in modes:
            for name, fn in (("train", check_train), ("decode", check_decode)):
                try:
                    fn(what, mode, a, dtype, tol)
                except Exception:
                    row(check=f"{what} {name}", mode=mode, ok=False,
                        error=traceback.format_exc(limit=4).replace("\n", " | "))
    bad = [r for r in ROWS if not r.get("ok")]
    out_dir = Path(os.environ.get("OUT", "."))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "compile_check.json").write_text(json.dumps({"rows": ROWS, "failed": len(bad)}, indent=1, default=str))
    print(f"\n{'check':16} {'mode':16} {'ok':5} {'rel_err':>9} {'grad_err':>9} {'recomp':>6} "
          f"{'eager ms':>10} {'comp ms':>10} {'comp/eager':>10}")
    for r in ROWS:
        rec = r.get("recompiles_second_call", r.get("recompiles_after_step_3", ""))
        print(f"{r['check']:16} {r.get('mode', ''):16} {str(r.get('ok')):5} {r.get('rel_err', float('nan')):9.2e} "
              f"{r.get('grad_rel_err', float('nan')):9.2e} {str(rec):>6} {r.get('eager_ms', ''):>10} "
              f"{r.get('compiled_ms', ''):>10} {r.get('compiled_over_eager', ''):>10}"
              + (f"  ERROR {r['error'][-300:]}" if "error" in r else ""))
    print(f"\n{len(ROWS)} rows, {len(bad)} failed; JSON: {out_dir / 'compile_check.json'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
