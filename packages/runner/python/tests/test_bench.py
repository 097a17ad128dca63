"""The bench: floor arithmetic, the naive PyTorch provider, and the --check-only pass on CPU."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from conftest import pkg_dir
from mamba2_runner import bench_configs as bc
from mamba2_runner.bench import check_slices, make_ssd_inputs, rel_err, torch_ssd
from mamba2_runner.bench_configs import SsdConfig

PY_DIR = Path(__file__).resolve().parents[1]


def test_floor_of_b8_l2048_h64_matches_a_hand_count():
    cfg = bc.CONFIGS["ssd-B8-L2048-H64"]
    fl = bc.ssd_floor(cfg)
    # bytes: x and out bf16 8*2048*64*64*2 each, B and C bf16 8*2048*128*2 each,
    # dt fp32 8*2048*64*4, A/D/dt_bias fp32 3*64*4
    x = 8 * 2048 * 64 * 64 * 2
    assert fl["bytes"] == 2 * x + 2 * (8 * 2048 * 128 * 2) + 8 * 2048 * 64 * 4 + 3 * 64 * 4 == 281_019_136
    # flops at Q=256: b*L*h*(2*Q*P + 4*N*P) + b*L*g*2*Q*N
    assert fl["flops"] == 8 * 2048 * 64 * (2 * 256 * 64 + 4 * 128 * 64) + 8 * 2048 * 2 * 256 * 128 == 69_793_218_560
    assert fl["ms_bytes"] == pytest.approx(281_019_136 / 4.27e12 * 1e3)
    assert fl["ms"] == pytest.approx(69_793_218_560 / 687e12 * 1e3)  # 0.1016 ms, flop-bound
    assert fl["bound"] == "flops"
    assert round(fl["ms"], 2) == 0.10  # BENCH_TARGETS.md's floor for this shape


def test_z_gate_adds_one_read_of_x_to_the_floor_bytes():
    plain, gated = bc.CONFIGS["ssd-B4-L4096-H80"], bc.CONFIGS["ssd-B4-L4096-H80-z"]
    assert bc.ssd_floor(gated)["bytes"] - bc.ssd_floor(plain)["bytes"] == 4 * 4096 * 80 * 64 * 2


def test_every_bench_target_shape_is_named_with_and_without_z():
    names = set(bc.CONFIGS)
    for base in ["ssd-B2-L128-H8", "ssd-B8-L2048-H64", "ssd-B4-L4096-H80", "ssd-B1-L16384-H80", "ssd-B4-L4096-H64-G8"]:
        assert {base, base + "-z"} <= names
    assert {"block-D256-B2-L128", "block-D1536-B8-L2048", "block-D2560-B4-L4096"} <= names


@pytest.mark.parametrize("chunk", [16, 32, 64])
@pytest.mark.parametrize("has_z", [False, True], ids=["noz", "z"])
def test_naive_torch_ssd_matches_ref_scan(chunk, has_z):
    from mamba2_runner.reference.scan import ref_scan

    cfg = SsdConfig("t", 2, 70, 4, headdim=16, dstate=8, ngroups=2, has_z=has_z)
    i = make_ssd_inputs(cfg, "cpu")
    init = torch.randn(2, 4, 16, 8)
    tri_out, tri_final = torch_ssd(i["x"], i["dt"], i["A"], i["B"], i["C"], chunk, D=i["D"], z=i["z"],
                                   dt_bias=i["dt_bias"], initial_states=init, dt_softplus=True,
                                   return_final_states=True)
    ref_out, ref_final = ref_scan(i["x"], i["dt"], i["A"], i["B"], i["C"], D=i["D"], z=i["z"],
                                  dt_bias=i["dt_bias"], initial_states=init, dt_softplus=True,
                                  return_final_states=True)
    assert tri_out.dtype == torch.bfloat16 and tri_out.shape == ref_out.shape
    assert rel_err(tri_out, ref_out) < 5e-3  # bf16 output rounding
    assert rel_err(tri_final, ref_final) < 1e-5  # fp32 state


def test_big_shapes_are_checked_on_a_slice_that_keeps_the_head_to_group_map():
    rows, heads, groups = check_slices(bc.CONFIGS["ssd-B4-L4096-H64-G8"])
    assert rows == [0, 3] and groups == [0, 7] and heads == [0, 7, 56, 63]
    rows, heads, groups = check_slices(bc.CONFIGS["ssd-B2-L128-H8"])
    assert rows == [0, 1] and heads == list(range(8)) and groups == [0]


def _run_bench(args, tmp_path, timeout=900):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PY_DIR), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "mamba2_runner.bench", *args, "--check-only", "--out", str(out)],
                          cwd=PY_DIR, env=env, capture_output=True, text=True, timeout=timeout)
    return proc, (json.loads(out.read_text()) if out.is_file() else None)


def _fake_package(root: Path) -> Path:
    """A stand-in generated package whose 'chunked' scan is wrong by 10%."""
    (root / "fakebench").mkdir(parents=True)
    (root / "manifest.json").write_text(json.dumps({"name": "fakebench"}))
    (root / "fakebench" / "_config.py").write_text("CHUNK_SIZE = 32\nSCAN_IMPL = 'fused'\n")
    (root / "fakebench" / "__init__.py").write_text(textwrap.dedent("""
        from mamba2_runner.bench import torch_ssd
        def mamba_chunk_scan_combined(x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None,
                                      dt_softplus=False, impl=None, **kw):
            out = torch_ssd(x, dt, A, B, C, chunk_size, D=D, z=z, dt_bias=dt_bias, dt_softplus=dt_softplus)
            return out * 1.1 if impl == "chunked" else out
    """))
    return root


@pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU check-only path")
def test_check_only_records_a_wrong_provider_and_never_times_it(tmp_path):
    pkg = _fake_package(tmp_path / "pkg")
    proc, doc = _run_bench(["--pkg", str(pkg), "--configs", "ssd-B2-L100-H4-G2", "--providers", "fused,chunked"],
                           tmp_path, timeout=300)
    assert doc is not None, proc.stderr
    provs = doc["results"][0]["providers"]
    assert provs["fused"]["status"] == "ok" and provs["fused"]["err"] < 1e-2
    assert provs["chunked"]["status"] == "wrong" and provs["chunked"]["err"] > 5e-2
    assert "median_ms" not in provs["chunked"]
    assert proc.returncode == 1 and "FAILED" in proc.stdout


def test_check_only_runs_the_generated_package_at_tiny_shapes_on_cpu(tmp_path):
    pkg = pkg_dir()
    if not (Path(pkg) / "manifest.json").is_file():
        pytest.skip(f"{pkg} does not exist yet: run `pnpm gen` first")
    if torch.cuda.is_available():
        pytest.skip("CPU interpreter path only")
    proc, doc = _run_bench(["--pkg", str(pkg), "--configs", "tiny", "--providers", "fused,chunked,torch"], tmp_path)
    assert doc is not None, proc.stderr
    statuses = {(r["config"]["name"], p): v["status"] for r in doc["results"] for p, v in r["providers"].items()}
    assert {r["config"]["name"] for r in doc["results"]} == set(bc.TINY_CONFIGS)
    # the bench ran every check to a verdict; whether the kernels are right is
    # test_verify's business (a wrong kernel shows here as 'wrong', exit code 1)
    assert all(s in ("ok", "wrong") for s in statuses.values()), (statuses, proc.stderr[-3000:])
    assert statuses[("ssd-B2-L100-H4-G2", "torch")] == "ok"
    assert statuses[("block-tiny-B1-L40", "generated")] in ("ok", "wrong")
    assert proc.returncode == (0 if all(s == "ok" for s in statuses.values()) else 1)


def test_timing_path_records_median_speedup_floor_fraction_and_graph_time(tmp_path, monkeypatch):
    """The GPU-only half of the bench, driven on CPU with stub timers: the
    'baseline' is the naive SSD, so the ratios are checked as plain arithmetic."""
    from mamba2_runner import bench

    pkg = _fake_package(tmp_path / "pkg")
    monkeypatch.setenv("MAMBA2_BENCH_CPU_TIMING", "1")
    times = {"fused": 1.0, "torch": 4.0, "mamba_ssm": 2.0}

    def fake_base(self):
        return {"mamba_chunk_scan_combined": lambda *a, **k: torch_ssd(*a, **k), "info": {"ref": "stub"}}

    monkeypatch.setattr(bench.Ctx, "baseline", fake_base)
    seen = {}

    def fake_time(fn, inputs, warmup, rep):
        out = fn(inputs[0])
        prov = next(p for p, f in seen.items() if f is fn)
        assert torch.isfinite(out).all()
        return times[prov]

    real_provider = bench.ssd_provider

    def spy_provider(name, ctx, cfg):
        fn, q = real_provider(name, ctx, cfg)
        seen[name] = fn
        return fn, q

    monkeypatch.setattr(bench, "ssd_provider", spy_provider)
    monkeypatch.setattr(bench, "time_fn", fake_time)
    monkeypatch.setattr(bench, "time_graph", lambda fn, inp, rep: 0.5)
    monkeypatch.setattr(bc, "GRAPH_MAX_TOKENS", 10**6)
    out = tmp_path / "t.json"
    args = bench.parse_args(["--pkg", str(pkg), "--configs", "ssd-B2-L100-H4-G2",
                             "--providers", "fused,torch,mamba_ssm", "--out", str(out)])
    doc = bench.run(args, emit=lambda d: None)
    provs = json.loads(out.read_text())["results"][0]["providers"]
    floor = doc["results"][0]["floor"]["ms"]
    assert provs["fused"]["median_ms"] == 1.0 and provs["fused"]["speedup_vs_mamba_ssm"] == 2.0
    assert provs["torch"]["speedup_vs_mamba_ssm"] == 0.5
    assert provs["fused"]["floor_fraction"] == pytest.approx(floor / 1.0)
    assert provs["fused"]["graph_ms"] == 0.5 and provs["fused"]["input_sets"] == 8
    assert "2.00x" in bench.format_table(doc)
