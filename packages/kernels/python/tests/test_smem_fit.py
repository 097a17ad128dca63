"""Shared memory of the scan launches (kernels/smem.py) against sm_90 builds.

The H200 model sweep (bench/sweeps/h200-2026-12-01b/model.jsonl, the block at
chunk 128, headdim 128, d_state 128, d_model 768 / 1536 / 2560) stopped in
ssd_bwd._ssd_bwd_v4's chunk-kernel launch: "OutOfResources: out of resource:
shared memory, Required: 245760, Hardware limit: 232448". The wrappers now
take tiles and stages from smem.fit_*; here:
- the bound is at least every recorded sm_90 build
  (bench/results/2026-12-01c-sm90-smem.csv, scripts/gpu/smem.py), so a launch
  it passes fits wherever those builds were measured;
- every block_q / headdim / d_state / stages / dtype / z the model DSL
  accepts gets tiles, no larger than asked, whose bound fits 232448 bytes,
  each of them measured there (or inside a larger measured build) under the
  limit, and the default launches keep their settings;
- the recorded launch at the 2 stages the fit picks, built for sm_90
  (compile-only: skipped, with the reason, where Triton's ptxas cannot run),
  is under the limit (at 3 stages the CSV has the record's 245760);
- ssd_bwd and ssd_fused_fwd at tiles the fit shrinks still match the float64
  reference (CPU: Triton's interpreter, fp32, relative L2 error 1e-4).
"""
from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mamba2_kernels.kernels import smem
from mamba2_kernels.kernels import ssd_bwd as bwd
from mamba2_kernels.kernels import ssd_fused as fused
from mamba2_runner.checks import rel_err
from mamba2_runner.reference.scan import ref_scan

ROOT = Path(__file__).resolve().parents[4]
BUILDS = ROOT / "bench" / "results" / "2026-12-01c-sm90-smem.csv"
LIMIT = 232448  # H100 / H200: the record's "Hardware limit"
CPU = torch.device("cpu")
POW2 = (16, 32, 64, 128, 256)


def _kernel_class(row):
    """(kernel name for smem.bound, stages) of a recorded build, or None where
    the wrappers never launch it (bwd_chunk at 1 stage: fit_bwd picks 3 or 2;
    fused_T at 1 stage: fit_fused moves it to 2)."""
    k, s = row["kernel"], int(row["stages"])
    if (k == "bwd_chunk" or k == "fused_T") and s == 1:
        return None  # the T walk at 1 stage is moved to 2 by fit_fused
    return k, s


def test_the_bound_is_at_least_every_recorded_sm90_build():
    rows = list(csv.DictReader(BUILDS.open()))
    assert len(rows) > 3000, f"{BUILDS} has {len(rows)} rows"
    checked, below = 0, []
    for r in rows:
        kc = _kernel_class(r)
        if kc is None:
            continue
        k, s = kc
        q, p, n, v = (int(r[c]) for c in ("Q", "P", "N", "shared"))
        b = smem.bound(k, q, p, n, s, 4 if r["dtype"] == "fp32" else 2, int(r["z"]))
        checked += 1
        if not b >= v:
            below.append((r, b))
    assert checked > 3000
    assert not below, f"{len(below)} builds above their bound, e.g. {below[:3]}"


def test_the_recorded_chunk_128_backward_gets_two_stages_and_fits():
    # the record: Q 128, block_p min(64, next_pow2(headdim 128)) = 64, N next_pow2(d_state 128), bf16, no z
    assert smem.bound("bwd_chunk", 128, 64, 128, 3, 2) == 245760 > LIMIT
    assert smem.fit_bwd(128, 64, 128, 2, False, CPU) == (128, 64, 2)
    assert smem.bound("bwd_chunk", 128, 64, 128, 2, 2) == 180224 <= LIMIT


def _dsl_requests():
    """(block_q, block_p, block_n) the model DSL can ask for: blockQ / chunkSize a power of
    two in 16..256; blockP auto (min(64, next_pow2(headdim))) or 16..min(128, next_pow2(headdim))
    for headdim 16..256; BLOCK_N = next_pow2(d_state), d_state a multiple of 8 in 16..256."""
    ns = sorted({max(16, 1 << (d - 1).bit_length()) for d in range(16, 257, 8)})
    assert ns == list(POW2)
    for q in POW2:
        for p in (16, 32, 64, 128):
            for n in ns:
                yield q, p, n


@pytest.mark.parametrize("elt", [2, 4], ids=["bf16-fp16", "fp32"])
@pytest.mark.parametrize("z", [False, True], ids=["no-z", "z"])
def test_every_launch_the_dsl_allows_gets_tiles_whose_bound_fits_the_h200(elt, z):
    def ok(req, got, need):
        (q, p, s), (bq, bp, bs) = req, got
        assert bq in POW2 and bp in POW2 and bq <= q and bp <= p, (req, got)
        assert bs == s or 2 <= bs < s or (s == 1 and bs == 2), (req, got)
        assert need(bq, bp, bs) <= LIMIT, (req, got, need(bq, bp, bs))

    for q, p, n in _dsl_requests():
        if p <= 64:  # the backward's block_p is min(64, next_pow2(headdim)); any block_q (sweeps, explicit)
            got = smem.fit_bwd(q, p, n, elt, z, CPU)
            ok((q, p, 3), got, lambda a, b, s: max(
                smem.bound("bwd_walk_fwd", a, b, n, s, elt), smem.bound("bwd_walk_rev", a, b, n, s, elt),
                smem.bound("bwd_chunk", a, b, n, s, elt, z)))
        for s in (1, 2, 3, 4):  # scanStages 1..4 reach the one-launch kernel
            ok((q, p, s), smem.fit_fused(False, q, p, n, s, elt, z, CPU),
               lambda a, b, t: smem.bound("fused", a, b, n, t, elt, z))
        for s in (2, 3):  # the T walk: t_num_stages 3, tuned rows 2 or 3
            ok((q, p, s), smem.fit_fused(True, q, p, n, s, elt, z, CPU),
               lambda a, b, t: max(smem.bound("fused_T", a, b, n, t, elt, z), smem.bound("state_T", a, b, n, t, elt)))
        bp = smem.fit_chunked(q, p, n, elt, z, CPU)  # chunkSize is the chunked scan's CHUNK
        assert bp in POW2 and bp <= p
        assert max(smem.bound("chunk_state", q, bp, n, 3, elt), smem.bound("chunk_scan", q, bp, n, 3, elt, z)) <= LIMIT


def _builds():
    """(kernel, mode, dtype, z, seq, split, warps, stages) -> {(Q, P, N): shared} of the recorded builds."""
    out = {}
    for r in csv.DictReader(BUILDS.open()):
        key = (r["kernel"], r["mode"], r["dtype"], int(r["z"]), int(r["seq"]), int(r["split"]), int(r["warps"]),
               int(r["stages"]))
        out.setdefault(key, {})[(int(r["Q"]), int(r["P"]), int(r["N"]))] = int(r["shared"])
    return out


def test_every_launch_the_fit_picks_for_the_dsl_is_a_build_measured_under_the_limit_or_inside_one():
    """Each kernel of each pick (default warps, seq_idx off) was built at those tiles and fits, or
    a build that fits has tiles at least as large (the same side of P 64, where the dot layout
    changes), at least as many stages (from 1 only where 1 never took more: the one-launch, chunked
    and walk kernels), z where this has none, or fp32 where this is bf16: so the bound is not
    trusted alone anywhere the dispatch can land."""
    builds, warps = _builds(), {"bwd_chunk": 8}
    more_stages_ok = ("fused", "chunk_scan", "chunk_state", "state_T", "bwd_walk_fwd", "bwd_walk_rev")

    def measured_fit(kernel, mode, dtype, z, q, p, n, s, split=0):
        w = warps.get(kernel, 4)
        got = builds.get((kernel, mode, dtype, z, 0, split, w, s), {}).get((q, p, n))
        if got is not None:
            return got <= LIMIT
        for dt in [dtype] + (["fp32"] if dtype == "bf16" else []):
            for z2 in sorted({z, 1}):
                for s2 in (1, 2, 3, 4):
                    if not (s2 == s or (s2 > s and (s >= 2 or kernel in more_stages_ok))):
                        continue
                    for (Q, P, N), v in builds.get((kernel, mode, dt, z2, 0, split, w, s2), {}).items():
                        if Q >= q and P >= p and N >= n and (P >= 64) == (p >= 64) and v <= LIMIT:
                            return True
        return False

    missing = []
    for dtype, elt in (("bf16", 2), ("fp32", 4)):
        for z in (0, 1):
            for q, p, n in _dsl_requests():
                picks = []
                if p <= 64:
                    bq, bp, s = smem.fit_bwd(q, p, n, elt, z, CPU)
                    picks += [("bwd_walk_fwd", "", 0, bq, bp, s, 0), ("bwd_walk_rev", "", 1, bq, bp, s, 0),
                              ("bwd_chunk", "", z, bq, bp, s, 0)]
                for st in (1, 2, 3, 4):
                    bq, bp, s = smem.fit_fused(False, q, p, n, st, elt, z, CPU)
                    picks.append(("fused", "", z, bq, bp, s, 0))
                for st in (2, 3):
                    bq, bp, s = smem.fit_fused(True, q, p, n, st, elt, z, CPU)
                    picks += [("fused_T", m, z, bq, bp, s, sp) for m in ("default", "exact") for sp in (0, 1)
                              if not sp or s == 3]
                    picks.append(("state_T", "", 0, bq, bp, s, 0))
                bp = smem.fit_chunked(q, p, n, elt, z, CPU)
                picks += [("chunk_state", "", 0, q, bp, 3, 0), ("chunk_scan", "", z, q, bp, 3, 0)]
                for k, mode, kz, bq, bp, s, sp in picks:
                    if not measured_fit(k, mode, dtype, kz, bq, bp, n, s, sp):
                        missing.append((k, mode, dtype, kz, bq, bp, n, s, sp))
    assert not missing, f"{len(missing)} picks neither measured nor inside a measured build, e.g. {missing[:5]}"


def test_the_default_launches_keep_their_settings():
    # headdim 64 (block_p 64), d_state 16..256, bf16: backward Q 32 at Triton's 3 stages, the one-launch
    # forward Q 32 at 2 stages, the T walk at 3, the chunked scan's p-block 64 at chunk_size 256
    for n in POW2:
        for z in (False, True):
            assert smem.fit_bwd(32, 64, n, 2, z, CPU) == (32, 64, 3)
            assert smem.fit_fused(False, 32, 64, n, 2, 2, z, CPU) == (32, 64, 2)
            assert smem.fit_fused(True, 32, 64, n, 3, 2, z, CPU) == (32, 64, 3)
            assert smem.fit_chunked(256, 64, n, 2, z, CPU) == 64


def _ptxas_reason():
    """None when Triton's ptxas for sm_90 runs here, else why not."""
    import triton

    ptxas = os.environ.get("TRITON_PTXAS_PATH") or os.path.join(
        os.path.dirname(triton.__file__), "backends", "nvidia", "bin", "ptxas")
    try:
        r = subprocess.run([ptxas, "--version"], capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        return f"Triton's ptxas for sm_90 cannot run ({ptxas}: {e})"
    return None if r.returncode == 0 else f"Triton's ptxas for sm_90 failed ({ptxas} --version: rc {r.returncode})"


def test_the_recorded_backward_launch_built_for_sm90_fits_at_the_stages_the_fit_picks():
    """Compile-only (no GPU): scripts/gpu/smem.py builds the chunk kernel for sm_90 up to the
    stage where Triton sets metadata.shared (the number the launcher compares with the limit)."""
    reason = _ptxas_reason()
    if reason:
        pytest.skip(reason)
    q, p, s = smem.fit_bwd(128, 64, 128, 2, False, CPU)
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    cmd = [sys.executable, str(ROOT / "scripts" / "gpu" / "smem.py"), "--json", "--fast", "bwd_chunk",
           f"Q={q}", f"P={p}", "N=128", f"stages={s}"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    shared = json.loads(out.stdout.strip().splitlines()[-1])["shared"]
    # at 3 stages the same build needs the record's 245760 (bench/results/2026-12-01c-sm90-smem.csv)
    assert shared <= LIMIT, f"{shared} bytes at Q {q}, P {p}, {s} stages"
    assert shared <= smem.bound("bwd_chunk", q, p, 128, s, 2)


F64 = torch.float64


def _scan_inputs(b, l, h, p, n, z):
    return {
        "x": torch.randn(b, l, h, p), "dt": torch.rand(b, l, h) * 0.2 + 0.005,
        "A": -torch.exp(torch.empty(h).uniform_(math.log(0.05), math.log(2.0))),
        "B": torch.randn(b, l, 1, n), "C": torch.randn(b, l, 1, n), "D": torch.randn(h),
        **({"z": torch.randn(b, l, h, p)} if z else {}),
    }


def test_the_backward_at_tiles_the_fit_shrinks_matches_float64_autograd(device, poison, monkeypatch):
    # d_state 256 with z in fp32 at block_q 256: the fit shrinks the tiles (smem.fit_bwd)
    picked = []
    real = bwd.fit_bwd
    monkeypatch.setattr(bwd, "fit_bwd", lambda *a: picked.append(real(*a)) or picked[-1])
    inp = _scan_inputs(1, 80, 2, 64, 256, z=True)
    ref_in = {k: v.to(device=device, dtype=F64).requires_grad_() for k, v in inp.items()}
    out = ref_scan(**ref_in)
    dout = torch.randn_like(out)
    (out * dout).sum().backward()
    low = {k: v.to(device) for k, v in inp.items()}
    g = bwd.ssd_bwd(dout.float(), low["x"], low["dt"], low["A"], low["B"], low["C"], D=low["D"], z=low["z"],
                    impl="v4", block_q=256)
    assert picked and picked[0][:2] != (256, 64), f"the fit kept the requested tiles: {picked}"
    for k, name in (("x", "dx"), ("dt", "ddt"), ("A", "dA"), ("B", "dB"), ("C", "dC"), ("D", "dD"), ("z", "dz")):
        err = rel_err(g[name].detach().to(F64).cpu(), ref_in[k].grad.cpu())
        assert err <= 1e-4, f"{name}: relative error {err:.2e} at tiles {picked[0]}"


def test_the_one_launch_forward_at_tiles_the_fit_shrinks_matches_the_float64_scan(device, poison, monkeypatch):
    picked = []
    real = fused.fit_fused
    monkeypatch.setattr(fused, "fit_fused", lambda *a: picked.append(real(*a)) or picked[-1])
    monkeypatch.setattr(fused.dispatch, "use_pre", lambda *a: False)
    inp = _scan_inputs(1, 80, 2, 64, 256, z=True)
    ref = ref_scan(**{k: v.to(F64) for k, v in inp.items()})
    low = {k: v.to(device) for k, v in inp.items()}
    out, _ = fused.ssd_fused_fwd(low["x"], low["dt"], low["A"], low["B"], low["C"], 256, D=low["D"], z=low["z"],
                                 block_q=256, block_p=64, num_stages=4)
    assert picked and picked[0] != (256, 64, 4), f"the fit kept the requested launch: {picked}"
    err = rel_err(out.to(F64).cpu(), ref)
    tol = 3e-3 if device == "cuda" else 1e-4  # the fused forward's fp32 dots run in tf32 on the GPU
    assert err <= tol, f"relative error {err:.2e} at {picked[0]}"
