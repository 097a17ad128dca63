"""The bench's output: run metadata, the results JSON (strict: NaN -> null),
the text table, and the failures that set the exit code."""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import re
import subprocess
from pathlib import Path
from typing import List, Optional

from .baseline import ROOT
from .providers import BASELINES


def env_info(device: str) -> dict:
    import torch
    import triton

    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "triton": triton.__version__,
        "device": device,
        "gpu": torch.cuda.get_device_name() if device == "cuda" else None,
        "cuda": torch.version.cuda,
        "commit": os.environ.get("MAMBA2_COMMIT") or _git_commit(),
        "triton_interpret": os.environ.get("TRITON_INTERPRET") == "1",
    }


def _git_commit() -> Optional[str]:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except Exception:
        return None


def default_out(info: dict) -> Path:
    gpu = re.sub(r"[^a-z0-9]+", "-", (info["gpu"] or "cpu").lower()).strip("-")
    return ROOT / "bench" / "results" / f"{info['date'][:10]}-{gpu}.json"


def json_safe(v):
    """NaN/inf -> null (strict JSON, readable by JSON.parse); tuples -> lists."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    return v


def write_json(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(json_safe(doc), indent=1, allow_nan=False) + "\n")
    os.replace(tmp, path)


def _incumbent(rec: dict) -> Optional[str]:
    """The baseline a row's speedups are shown against: the fused block path
    when it was timed, else mamba_ssm."""
    for b in ("mamba_ssm_fused", "mamba_ssm"):
        if (rec["providers"].get(b) or {}).get("median_ms"):
            return b
    return None


def _cell(p: str, r: Optional[dict], inc: Optional[str], fb: bool) -> str:
    if r is None:
        return ""
    if r["status"] == "ok" and "median_ms" in r:
        extra = []
        if inc and p != inc and f"speedup_vs_{inc}" in r:
            extra.append(f"{r[f'speedup_vs_{inc}']:.2f}x" + ("f" if inc == "mamba_ssm_fused" else ""))
        if "speedup_of_current" in r:
            extra.append(f"cur {r['speedup_of_current']:.3f}x")
        if "floor_fraction" in r:
            extra.append(f"{100 * r['floor_fraction']:.2g}%fl")
        if "graph_ms" in r:
            extra.append(f"g{r['graph_ms']:.3f}")
        mem = r.get("memory") or {}
        if fb and mem.get("extra_bytes") is not None:
            extra.append(f"{mem['extra_bytes'] / 2**20:.0f}MiB")
        return f"{r['median_ms']:.3f}" + (" (" + ", ".join(extra) + ")" if extra else "")
    if r["status"] == "ok":
        return f"ok {r['err']:.1e}"
    if r["status"] == "wrong":
        bad = r.get("wrong_grads")
        what = f"d{bad[0]} {r['grad_errs'][bad[0]]:.1e}" if bad else f"{r.get('err', float('nan')):.1e}"
        return f"WRONG {what}"
    return r["status"]


def format_table(doc: dict) -> str:
    provs: List[str] = []
    for rec in doc["results"]:
        for p in rec["providers"]:
            if p not in provs:
                provs.append(p)
    head = ["config", "floor ms"] + provs
    rows = [head]
    for rec in doc["results"]:
        fl = (rec.get("floor") or {}).get("ms")
        inc = _incumbent(rec)
        fb = rec["config"].get("mode") == "fwdbwd"
        row = [rec["config"]["name"], f"{fl:.3g}" if fl else "-"]
        for p in provs:
            row.append(_cell(p, rec["providers"].get(p), inc, fb))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    legend = ("ms = do_bench median; Nx = speedup over mamba_ssm in this run (Nxf: over mamba_ssm_fused, "
              "the block's fused path); cur Nx = t(this package) / t(current package); %fl = floor/time; "
              "MiB = peak extra memory of one call (-fb rows); g = CUDA-graph replay ms; "
              "WRONG = err vs float64 reference over tolerance (not timed); -fb = forward+backward (err: worst gradient)")
    return "\n".join(lines + [legend])


def failures(doc: dict) -> List[str]:
    """'config/provider: status' for every wrong or failing provider of ours
    (the incumbent failing is reported in the JSON, not counted)."""
    return [f"{rec['config']['name']}/{p}: {r['status']}" for rec in doc["results"]
            for p, r in rec["providers"].items() if r["status"] in ("wrong", "error") and p not in BASELINES]


SUMMARY_KEYS = ("status", "err", "median_ms", "graph_ms", "speedup_vs_mamba_ssm", "speedup_vs_mamba_ssm_fused",
                "speedup_of_current", "floor_fraction", "reason", "error")


def summary(doc: dict) -> List[dict]:
    """One compact row per (config, provider), for the worker's response."""
    rows = []
    for rec in doc["results"]:
        for p, r in rec["providers"].items():
            mem = r.get("memory") or {}
            rows.append({"config": rec["config"]["name"], "provider": p,
                         "floor_ms": (rec.get("floor") or {}).get("ms"),
                         "peak_bytes": mem.get("peak_bytes"), "extra_bytes": mem.get("extra_bytes"),
                         **{k: r.get(k) for k in SUMMARY_KEYS}})
    return json_safe(rows)
