"""The tuned and the default package side by side on every forward shape a kernel sweep measured.

    python -m mamba2_runner.tuning tuned --default bench/pkgs --tuned bench/pkgs-tuned \
        --sweep bench/sweeps/h200-13/kernels.jsonl --out bench/results/<date>-h200-tuned-vs-default.json

For each (batch, seqlen, nheads, headdim) of the sweep's `fwd` records, the
package of that nheads and headdim in each folder (same model file, the tuned
one generated with `pnpm gen --tuned`) runs its own mamba_chunk_scan_combined
(impl fused, the module's chunk 256), exactly as the module calls it: the
tuned package takes its LAUNCH.tuned row for (nheads, seqlen), the default its
heuristics. Both are checked against the float64 reference first, then timed
alternately `--repeats` times (do_bench medians; the order flips every
repeat), and the medians compared. The file is bench JSON ({meta, results:
[{config, floor, providers: {default, tuned}}]}), providers `default` and `tuned`.

Refused (exit 2): a tuned package whose table was measured on another kernel
sha than the default package's fused scan (ssd_fused.py and what it imports), or on another GPU model than this one.
"""
from __future__ import annotations

import importlib
import json
import math
import os
import time
from pathlib import Path
from typing import Optional

from ..sweep_provenance import kernel_set_text
from ..sweep_results import log, read_results, utc_now


def _packages(folder: str) -> list[Path]:
    root = Path(folder)
    return sorted(p.parent for p in root.glob("*/manifest.json"))


def _load(path: Path, alias: Optional[str]):
    from ..pkgload import load_generated

    pkg = load_generated(path, alias=alias)
    cfg = importlib.import_module(pkg.__name__ + "._config")
    fused = importlib.import_module(pkg.__name__ + ".kernels.ssd_fused")
    from ..sweep_provenance import kernel_set_sha

    return {"pkg": pkg, "cfg": cfg, "name": path.name,
            "sha": kernel_set_sha(Path(fused.__file__).parents[1], "kernels/ssd_fused.py")}


def run_tuned(default_dir: str, tuned_dir: str, sweep: str, out: str, *, repeats: int = 5, rep_ms: int = 25) -> int:
    from ..checks import passes, rel_err
    from ..reference.scan import ref_scan
    from ..verify import TOLERANCES
    from .engine import _provenance, select_device, time_ms
    from .kernels import check_slice, inputs

    device = select_device()
    prov = _provenance(device)
    recs = [r for r in read_results(Path(sweep)).records if r.get("kind") == "fwd" and r.get("provider", "ours") == "ours"]
    shapes = []
    for r in recs:
        if r["shape"] not in shapes:
            shapes.append(r["shape"])
    defaults = {p.name: p for p in _packages(default_dir)}
    tuneds = {p.name: p for p in _packages(tuned_dir)}
    pairs = {}
    for name in sorted(set(defaults) & set(tuneds)):
        d, t = _load(defaults[name], None), _load(tuneds[name], f"{name}__tuned")
        table = t["cfg"].LAUNCH.tuned
        if table is None:
            log(f"tuned: {tuneds[name]} has no tuned table (LAUNCH.tuned is None): it runs the defaults")
        elif table.kernel_sha and table.kernel_sha != d["sha"]:
            log(f"tuned: {tuneds[name]}'s table was measured on fused-scan kernel {table.kernel_sha[:12]}, the default "
                f"package has {str(d['sha'])[:12]} (the sha covers {kernel_set_text('kernels/ssd_fused.py')}). "
                "Regenerate both from one checkout (pnpm gen:all; pnpm gen:tuned).")
            return 2
        elif table.gpu and device == "cuda" and table.gpu != prov.get("gpu_model"):
            log(f"tuned: {tuneds[name]}'s table is for {table.gpu!r}, this is {prov.get('gpu_model')!r}: it says nothing here.")
            return 2
        pairs[(int(d["cfg"].NHEADS), int(d["cfg"].HEADDIM))] = (d, t)
    if not pairs:
        log(f"tuned: no package is in both {default_dir} ({sorted(defaults) or 'none'}) and {tuned_dir} "
            f"({sorted(tuneds) or 'none'}). Generate the tuned packages first (pnpm gen:tuned) and commit them.")
        return 2
    dtype = "bfloat16" if device == "cuda" else "float32"
    opts = {"rep_ms": rep_ms, "warmup_ms": 5, "check_seqlen": 512 if device == "cuda" else 64, "check_heads": 4}
    results = []
    for shape in shapes:
        key = (shape["nheads"], shape["headdim"])
        by_p = [k for k in pairs if k[1] == shape["headdim"]]
        pair = pairs.get(key) or (pairs[by_p[0]] if by_p else None)
        name = f"ssd-B{shape['batch']}-L{shape['seqlen']}-H{shape['nheads']}-P{shape['headdim']}-N{shape['d_state']}"
        config = {"name": name, "batch": shape["batch"], "seqlen": shape["seqlen"], "nheads": shape["nheads"],
                  "headdim": shape["headdim"], "dstate": shape["d_state"], "ngroups": shape.get("ngroups", 1),
                  "has_z": False, "chunk": None, "mode": "fwd", "kind": "ssd"}
        from .floor import kernel_floor

        rec: dict = {"config": config, "floor": kernel_floor("fwd", shape, None, prov.get("gpu_model")), "providers": {}}
        results.append(rec)
        if pair is None:
            for p in ("default", "tuned"):
                rec["providers"][p] = {"status": "skipped", "reason": f"no package of headdim {shape['headdim']} in both folders"}
            continue
        i = inputs(shape, device, dtype)
        lc, hc = check_slice(shape, opts)
        ref = ref_scan(i["x"][:1, :lc, :hc].double(), i["dt"][:1, :lc, :hc].double(), i["A"][:hc].double(), i["B"][:1, :lc].double(), i["C"][:1, :lc].double(),
                       D=i["D"][:hc].double(), dt_bias=i["dt_bias"][:hc].double(), dt_softplus=True)
        ref = ref[0] if isinstance(ref, tuple) else ref
        fns = {}
        for prov_name, p in zip(("default", "tuned"), pair):
            op, chunk = p["pkg"].mamba_chunk_scan_combined, int(p["cfg"].CHUNK_SIZE)
            fn = (lambda op=op, chunk=chunk: op(i["x"], i["dt"], i["A"], i["B"], i["C"], chunk, D=i["D"],
                                                dt_bias=i["dt_bias"], dt_softplus=True, impl="fused"))
            row = p["cfg"].LAUNCH.tuned_row(shape["nheads"], shape["seqlen"])
            r = {"package": str(p["pkg"].__name__), "chunk_size": chunk,
                 "tuned_row": None if row is None else {k: getattr(row, k) for k in row.__dataclass_fields__}}
            try:
                got = fn()
                err = rel_err((got[0] if isinstance(got, tuple) else got)[:1, :lc, :hc], ref)
                tol = float(TOLERANCES[(device, dtype)]["dot"])
                r.update(err=err if math.isfinite(err) else None, tol=tol,
                         status="ok" if passes(err, tol) else "wrong")
            except Exception as exc:
                r.update(status="error", error=f"{type(exc).__name__}: {exc}")
            rec["providers"][prov_name] = r
            if r["status"] == "ok":
                fns[prov_name] = fn
        runs: dict[str, list[float]] = {k: [] for k in fns}
        for rep in range(repeats if device == "cuda" else 1):
            for k in (sorted(fns) if rep % 2 == 0 else sorted(fns, reverse=True)):
                runs[k].append(time_ms(fns[k], device, opts))
        for k, ts in runs.items():
            ts = sorted(ts)
            rec["providers"][k].update(median_ms=ts[len(ts) // 2], repeats_ms=ts,
                                       spread=(ts[-1] - ts[0]) / ts[len(ts) // 2] if len(ts) > 1 else None)
            if rec["floor"].get("floor_ms"):
                rec["providers"][k]["floor_fraction"] = rec["floor"]["floor_ms"] / ts[len(ts) // 2]
        d, t = rec["providers"].get("default", {}), rec["providers"].get("tuned", {})
        if d.get("median_ms") and t.get("median_ms"):
            t["speedup_vs_default"] = d["median_ms"] / t["median_ms"]
        log(f"tuned: {name}: default {d.get('median_ms')} ms, tuned {t.get('median_ms')} ms "
            f"(x{t.get('speedup_vs_default', float('nan')):.3f}; row {t.get('tuned_row')})")
    sp = [r["providers"]["tuned"].get("speedup_vs_default") for r in results if "tuned" in r["providers"]]
    sp = [x for x in sp if x]
    with_row = sum(1 for r in results if r["providers"].get("tuned", {}).get("tuned_row"))
    summary = {"shapes": len(results), "shapes_with_a_tuned_row": with_row,
               "note": "a shape without a tuned row runs the default settings in both packages: its ratio is noise",
               "min_speedup": min(sp, default=None), "max_speedup": max(sp, default=None),
               "rule": "tuned >= 0.98x default on every shape, >= 1.05x on at least one (issue 13)",
               "passes": bool(sp) and min(sp) >= 0.98 and max(sp) >= 1.05}
    doc = {"meta": {**prov, "date": utc_now(), "device": device, "dtype": dtype, "sweep": sweep, "default": default_dir,
                    "tuned": tuned_dir, "repeats": repeats, "rep_ms": rep_ms, "timer": "triton.testing.do_bench median",
                    "host_pid": os.getpid(), "t": time.time()},
           "results": results, "summary": summary}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(doc, indent=1, default=str) + "\n")
    print(f"tuned vs default: {len(results)} shapes, speedup min {summary['min_speedup']}, max {summary['max_speedup']}; "
          f"issue-13 rule {'met' if summary['passes'] else 'NOT met'} -> {out}")
    return 0
