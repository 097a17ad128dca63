"""The bench: floor arithmetic, the naive PyTorch provider, the --check-only pass on CPU,
the forward+backward mode's gradient check, --compare-pkg and the incumbent's fused path."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from conftest import pkg_dir
from mamba2_runner.bench import cli, providers, report, rows, timing
from mamba2_runner.bench import configs as bc
from mamba2_runner.bench.checks import (check_slices, judge_grads, make_ssd_fb_inputs, make_ssd_inputs,
                                        ssd_reference_grads)
from mamba2_runner.bench.configs import SsdConfig
from mamba2_runner.bench.providers import torch_ssd
from mamba2_runner.checks import rel_err
from mamba2_runner.checks import rel_errs as grad_errors

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


def _fake_package(root: Path, name: str = "fakebench", bad_grad: str = "", fused_scale: float = 1.0) -> Path:
    """A stand-in generated package whose 'chunked' scan is wrong by 10%; with
    bad_grad, the 'fused' scan's forward is right but the gradient of that
    input comes back 1.5x too large; fused_scale scales the fused output."""
    (root / name).mkdir(parents=True)
    (root / "manifest.json").write_text(json.dumps({"name": name}))
    (root / name / "_config.py").write_text("CHUNK_SIZE = 32\nSCAN_IMPL = 'fused'\n")
    (root / name / "__init__.py").write_text(textwrap.dedent(f"""
        import torch
        from mamba2_runner.bench.providers import torch_ssd
        BAD_GRAD = {bad_grad!r}
        FUSED_SCALE = {fused_scale!r}
        class _ScaleGrad(torch.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                return t.view_as(t)
            @staticmethod
            def backward(ctx, g):
                return g * 1.5
        def mamba_chunk_scan_combined(x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None,
                                      dt_softplus=False, impl=None, **kw):
            args = dict(x=x, dt=dt, A=A, B=B, C=C, D=D, z=z, dt_bias=dt_bias)
            if impl == "fused" and BAD_GRAD and args[BAD_GRAD].requires_grad:
                args[BAD_GRAD] = _ScaleGrad.apply(args[BAD_GRAD])
            a = args
            out = torch_ssd(a["x"], a["dt"], a["A"], a["B"], a["C"], chunk_size, D=a["D"], z=a["z"],
                            dt_bias=a["dt_bias"], dt_softplus=dt_softplus)
            return out * 1.1 if impl == "chunked" else out * FUSED_SCALE
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
    pkg = pkg_dir()  # on CPU test/fixtures/pkgs/e2e_tiny (conftest): the block rows at its toy sizes
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
    pkg = _fake_package(tmp_path / "pkg")
    monkeypatch.setenv("MAMBA2_BENCH_CPU_TIMING", "1")
    times = {"fused": 1.0, "torch": 4.0, "mamba_ssm": 2.0}

    def fake_base(self):
        return {"mamba_chunk_scan_combined": lambda *a, **k: torch_ssd(*a, **k), "info": {"ref": "stub"}}

    monkeypatch.setattr(providers.Ctx, "baseline", fake_base)
    seen = {}

    def fake_time(fn, inputs, warmup, rep):
        out = fn(inputs[0])
        prov = next(p for p, f in seen.items() if f is fn)
        assert torch.isfinite(out).all()
        return times[prov]

    real_provider = rows.ssd_provider

    def spy_provider(name, ctx, cfg):
        fn, q = real_provider(name, ctx, cfg)
        seen[name] = fn
        return fn, q

    monkeypatch.setattr(rows, "ssd_provider", spy_provider)
    monkeypatch.setattr(timing, "time_fn", fake_time)
    monkeypatch.setattr(timing, "time_graph", lambda fn, inp, rep: 0.5)
    monkeypatch.setattr(bc, "GRAPH_MAX_TOKENS", 10**6)
    out = tmp_path / "t.json"
    args = cli.parse_args(["--pkg", str(pkg), "--configs", "ssd-B2-L100-H4-G2",
                           "--providers", "fused,torch,mamba_ssm", "--out", str(out)])
    doc = cli.run(args, emit=lambda d: None)
    provs = json.loads(out.read_text())["results"][0]["providers"]
    floor = doc["results"][0]["floor"]["ms"]
    assert provs["fused"]["median_ms"] == 1.0 and provs["fused"]["speedup_vs_mamba_ssm"] == 2.0
    assert provs["torch"]["speedup_vs_mamba_ssm"] == 0.5
    assert provs["fused"]["floor_fraction"] == pytest.approx(floor / 1.0)
    assert provs["fused"]["graph_ms"] == 0.5 and provs["fused"]["input_sets"] == 8
    assert provs["fused"]["memory"] is None  # peak memory is measured on CUDA only
    assert "2.00x" in report.format_table(doc)


# ---------------------------------------------------------------- forward + backward


def test_fwdbwd_configs_are_the_forward_ones_with_an_fb_suffix_and_mode():
    fb = bc.resolve("all", mode="fwdbwd")
    # issue 9's training targets, in its table's order
    assert [c.name for c in fb] == ["ssd-B2-L128-H8-fb", "ssd-B8-L2048-H64-fb", "ssd-B4-L4096-H80-fb",
                                    "ssd-B4-L4096-H64-G8-fb", "ssd-B1-L65536-H80-fb", "block-D256-B2-L128-fb",
                                    "block-D1536-B8-L2048-fb", "block-D2560-B4-L4096-fb"]
    long = bc.FB_CONFIGS["ssd-B1-L65536-H80-fb"]
    assert (long.batch, long.seqlen, long.nheads, long.mode) == (1, 65536, 80, "fwdbwd")
    assert "ssd-B1-L65536-H80" not in bc.CONFIGS  # a training row only: not in the forward table
    assert all(c.mode == "fwdbwd" for c in fb)
    big = bc.FB_CONFIGS["ssd-B4-L4096-H80-fb"]
    assert (big.batch, big.seqlen, big.nheads, big.headdim, big.dstate, big.has_z) == (4, 4096, 80, 64, 128, False)
    assert bc.resolve("all") == list(bc.CONFIGS.values())  # the default mode is unchanged
    both = bc.resolve("all", mode="both")
    assert [c.name for c in both] == list(bc.CONFIGS) + [c.name for c in fb]
    assert len({c.name for c in both}) == len(both)  # fwd and fwdbwd rows never collide
    named = bc.resolve("ssd-B1-L16384-H80-z,block-D256-B2-L128-fb", mode="both")
    assert [(c.name, c.mode) for c in named] == [("ssd-B1-L16384-H80-z", "fwd"), ("ssd-B1-L16384-H80-z-fb", "fwdbwd"),
                                                 ("block-D256-B2-L128-fb", "fwdbwd")]
    assert [c.name for c in bc.resolve("ssd-B2-L128-H8", mode="fwdbwd")] == ["ssd-B2-L128-H8-fb"]
    with pytest.raises(KeyError):
        bc.resolve("nope-fb", mode="fwdbwd")


def test_fwdbwd_floor_counts_the_backward():
    fwd, fb = bc.CONFIGS["ssd-B8-L2048-H64"], bc.FB_CONFIGS["ssd-B8-L2048-H64-fb"]
    assert bc.ssd_fb_floor(fb)["flops"] == 3 * bc.ssd_floor(fwd)["flops"]
    out = 8 * 2048 * 64 * 64 * 2
    inputs = bc.ssd_floor(fwd)["bytes"] - out
    assert bc.ssd_fb_floor(fb)["bytes"] == 3 * inputs + 2 * out
    assert bc.config_floor(fb) == bc.ssd_fb_floor(fb) and bc.config_floor(fwd) == bc.ssd_floor(fwd)


def test_the_gradient_check_catches_a_wrong_gradient_nan_and_a_missing_one():
    cfg = SsdConfig("t", 1, 70, 4, headdim=16, dstate=8, ngroups=2, chunk=32, has_z=True)
    names = ("x", "dt", "A", "B", "C", "D", "dt_bias", "z")
    inp = make_ssd_fb_inputs(cfg, "cpu")
    assert all(inp[k].requires_grad for k in names) and not inp["grad_out"].requires_grad
    ref = ssd_reference_grads(inp, names)
    out = torch_ssd(inp["x"], inp["dt"], inp["A"], inp["B"], inp["C"], 32, D=inp["D"], z=inp["z"],
                    dt_bias=inp["dt_bias"], dt_softplus=True)
    good = dict(zip(names, torch.autograd.grad(out, [inp[k] for k in names], inp["grad_out"])))
    r: dict = {}
    assert judge_grads(r, grad_errors(good, ref), 3e-2)
    assert r["err"] < 1e-2 and set(r["grad_errs"]) == set(names) and "wrong_grads" not in r

    for broken, why in [({**good, "A": good["A"] * 1.1}, "10% off"),
                        ({**good, "dt_bias": torch.full_like(good["dt_bias"], float("nan"))}, "NaN"),
                        ({**good, "C": None}, "missing"),
                        ({**good, "B": good["B"][:, :-1]}, "wrong shape")]:
        r = {}
        assert not judge_grads(r, grad_errors(broken, ref), 3e-2), why
        assert len(r["wrong_grads"]) == 1, (why, r)
    r = {}
    judge_grads(r, grad_errors({**good, "A": good["A"] * 1.1}, ref), 3e-2)
    assert r["wrong_grads"] == ["A"] and r["grad_errs"]["A"] == pytest.approx(0.1, rel=0.05)
    r = {}
    judge_grads(r, grad_errors({**good, "x": good["x"] * float("nan")}, ref), 3e-2)
    assert math.isnan(r["err"]) and r["wrong_grads"] == ["x"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU check-only path")
def test_fwdbwd_check_only_records_a_wrong_backward_and_never_times_it(tmp_path):
    pkg = _fake_package(tmp_path / "pkg", name="fakebench_fb", bad_grad="B")
    proc, doc = _run_bench(["--pkg", str(pkg), "--configs", "ssd-B2-L100-H4-G2-z", "--mode", "fwdbwd",
                            "--providers", "fused,chunked,torch"], tmp_path, timeout=300)
    assert doc is not None, proc.stderr
    assert doc["meta"]["mode"] == "fwdbwd"
    rec = doc["results"][0]
    assert rec["config"]["name"] == "ssd-B2-L100-H4-G2-z-fb" and rec["config"]["mode"] == "fwdbwd"
    assert rec["check_shape"]["batch"] == 1 and rec["check_shape"]["seqlen"] == 100
    provs = rec["providers"]
    assert "chunked" not in provs  # not benchmarked in fwdbwd
    assert provs["torch"]["status"] == "ok" and provs["torch"]["err"] < 1e-2
    assert set(provs["torch"]["grad_errs"]) == {"x", "dt", "A", "B", "C", "D", "dt_bias", "z"}
    assert provs["fused"]["status"] == "wrong" and provs["fused"]["wrong_grads"] == ["B"]
    assert provs["fused"]["grad_errs"]["B"] == pytest.approx(0.5, rel=0.05)
    assert "median_ms" not in provs["fused"]
    assert proc.returncode == 1 and "FAILED" in proc.stdout and "WRONG dB" in proc.stdout


def test_fwdbwd_check_only_runs_the_generated_package_at_tiny_shapes_on_cpu(tmp_path):
    pkg = pkg_dir()
    if not (Path(pkg) / "manifest.json").is_file():
        pytest.skip(f"{pkg} does not exist yet: run `pnpm gen` first")
    if torch.cuda.is_available():
        pytest.skip("CPU interpreter path only")
    proc, doc = _run_bench(["--pkg", str(pkg), "--configs", "tiny", "--mode", "fwdbwd",
                            "--providers", "fused,chunked,torch"], tmp_path)
    assert doc is not None, proc.stderr
    assert {r["config"]["name"] for r in doc["results"]} == set(bc.TINY_FB_CONFIGS)
    rows = {(r["config"]["name"], p): v for r in doc["results"] for p, v in r["providers"].items()}
    assert all(v["status"] in ("ok", "wrong") for v in rows.values()), (rows, proc.stderr[-3000:])
    assert rows[("ssd-B2-L100-H4-G2-fb", "torch")]["status"] == "ok"
    assert set(rows[("ssd-B2-L100-H4-G2-z-fb", "fused")]["grad_errs"]) == {"x", "dt", "A", "B", "C", "D",
                                                                         "dt_bias", "z"}
    block = rows[("block-tiny-B1-L40-fb", "generated")]
    assert {"u", "in_proj.weight", "A_log", "D", "dt_bias", "out_proj.weight"} <= set(block["grad_errs"])
    assert block["check_shape"] == {"batch": 1, "seqlen": 40}
    assert proc.returncode == (0 if all(v["status"] == "ok" for v in rows.values()) else 1)


def test_fwdbwd_timing_path_times_forward_plus_backward_with_ratios(tmp_path, monkeypatch):
    """--mode both on CPU with stub timers: the fwd row and the -fb row are
    separate; the timed fwdbwd call returns every gradient; no CUDA graphs."""
    pkg = _fake_package(tmp_path / "pkg", name="fakebench_t")
    monkeypatch.setenv("MAMBA2_BENCH_CPU_TIMING", "1")
    times = {("fwd", "fused"): 1.0, ("fwd", "mamba_ssm"): 2.0, ("fwd", "torch"): 8.0,
             ("fwdbwd", "fused"): 3.0, ("fwdbwd", "torch"): 12.0, ("fwdbwd", "mamba_ssm"): 4.0}

    def fake_base(self):
        return {"mamba_chunk_scan_combined": lambda *a, **k: torch_ssd(*a, **k), "info": {"ref": "stub"}}

    monkeypatch.setattr(providers.Ctx, "baseline", fake_base)
    current = {}
    real_provider = rows.ssd_provider

    def spy_provider(name, ctx, cfg):
        current["key"] = (cfg.mode, name)
        return real_provider(name, ctx, cfg)

    def fake_time(fn, inputs, warmup, rep):
        res = fn(inputs[1 % len(inputs)])
        if current["key"][0] == "fwdbwd":
            assert set(res) == {"x", "dt", "A", "B", "C", "D", "dt_bias"}
            assert all(torch.isfinite(g).all() for g in res.values())
            assert all(inputs[0][k].grad is None for k in res)  # nothing accumulates
        return times[current["key"]]

    monkeypatch.setattr(rows, "ssd_provider", spy_provider)
    monkeypatch.setattr(timing, "time_fn", fake_time)
    monkeypatch.setattr(timing, "time_graph", lambda fn, inp, rep: 0.5)
    monkeypatch.setattr(bc, "GRAPH_MAX_TOKENS", 10**6)
    out = tmp_path / "t.json"
    args = cli.parse_args(["--pkg", str(pkg), "--configs", "ssd-B2-L100-H4-G2", "--mode", "both",
                           "--providers", "fused,mamba_ssm,torch", "--out", str(out)])
    doc = cli.run(args, emit=lambda d: None)
    res = json.loads(out.read_text())["results"]
    assert [r["config"]["name"] for r in res] == ["ssd-B2-L100-H4-G2", "ssd-B2-L100-H4-G2-fb"]
    fwd, fb = res[0]["providers"], res[1]["providers"]
    assert fwd["fused"]["median_ms"] == 1.0 and fwd["fused"]["speedup_vs_mamba_ssm"] == 2.0
    assert fb["fused"]["median_ms"] == 3.0 and fb["fused"]["speedup_vs_mamba_ssm"] == pytest.approx(4 / 3)
    assert fb["torch"]["speedup_vs_mamba_ssm"] == pytest.approx(1 / 3)
    assert fb["fused"]["full_shape_finite"] and fb["fused"]["input_sets"] == 8
    assert "graph_ms" in fwd["fused"] and "graph_ms" not in fb["fused"]
    assert res[1]["floor"]["flops"] == 3 * res[0]["floor"]["flops"]
    assert fb["fused"]["floor_fraction"] == pytest.approx(res[1]["floor"]["ms"] / 3.0)
    table = report.format_table(doc)
    assert "ssd-B2-L100-H4-G2-fb" in table and "1.33x" in table


# ---------------------------------------------------------------- old vs new package, the incumbent's fused path


def test_a_compared_package_runs_side_by_side_under_its_own_name_and_is_checked_on_its_own(tmp_path, monkeypatch):
    """--compare-pkg old=DIR with a package of the same Python name: fused@old
    runs the old folder's code (its fused output is 5% off, so it is wrong
    while the current fused is right), right after fused; with stub timers
    speedup_of_current is t(fused@old) / t(fused)."""
    new = _fake_package(tmp_path / "new", name="fakebench_cmp")
    old = _fake_package(tmp_path / "old" / "kernels-out" / "new", name="fakebench_cmp", fused_scale=1.05)
    ok_old = _fake_package(tmp_path / "ok_old", name="fakebench_cmp")
    monkeypatch.setenv("MAMBA2_BENCH_CPU_TIMING", "1")
    out = tmp_path / "c.json"
    args = cli.parse_args(["--pkg", str(new), "--configs", "ssd-B2-L100-H4-G2", "--providers", "fused,torch",
                           "--compare-pkg", f"old={tmp_path / 'old'},same={ok_old}", "--check-only", "--out", str(out)])
    doc = cli.run(args, emit=lambda d: None)
    provs = doc["results"][0]["providers"]
    assert list(provs) == ["fused", "fused@old", "fused@same", "torch"]
    assert provs["fused"]["status"] == "ok" and provs["fused@same"]["status"] == "ok"
    assert provs["fused@old"]["status"] == "wrong" and provs["fused@old"]["err"] == pytest.approx(0.05, rel=0.2)
    assert doc["meta"]["compare_packages"] == {"old": str(tmp_path / "old"), "same": str(ok_old)}
    assert report.failures(doc) == ["ssd-B2-L100-H4-G2/fused@old: wrong"]

    times = {"fused": 2.0, "fused@same": 2.1}
    current = {}
    real_provider = rows.ssd_provider

    def spy_provider(name, ctx, cfg):
        current["name"] = name
        return real_provider(name, ctx, cfg)

    monkeypatch.setattr(rows, "ssd_provider", spy_provider)
    monkeypatch.setattr(timing, "time_fn", lambda fn, inputs, warmup, rep: times[current["name"]])
    args = cli.parse_args(["--pkg", str(new), "--configs", "ssd-B2-L100-H4-G2", "--providers", "fused",
                           "--compare-pkg", f"same={ok_old}", "--no-graph", "--out", str(out)])
    provs = cli.run(args, emit=lambda d: None)["results"][0]["providers"]
    assert provs["fused@same"]["speedup_of_current"] == pytest.approx(2.1 / 2.0)
    assert "speedup_of_current" not in provs["fused"]


def test_a_compare_label_that_is_not_there_is_skipped_with_where_it_looked(tmp_path):
    new = _fake_package(tmp_path / "new", name="fakebench_miss")
    (tmp_path / "empty").mkdir()
    args = cli.parse_args(["--pkg", str(new), "--configs", "ssd-B2-L100-H4-G2", "--providers", "fused",
                           "--compare-pkg", f"old={tmp_path / 'empty'}", "--check-only", "--out", str(tmp_path / "m.json")])
    provs = cli.run(args, emit=lambda d: None)["results"][0]["providers"]
    assert provs["fused@old"]["status"] == "skipped"
    assert "kernels-out/new" in provs["fused@old"]["reason"]
    with pytest.raises(SystemExit, match="LABEL"):
        cli.parse_args(["--compare-pkg", "a@b=dir"])


def test_without_causal_conv1d_the_fused_incumbent_is_skipped_with_the_reason_never_replaced(tmp_path, monkeypatch):
    from mamba2_runner.bench import baseline

    for k in ("causal_conv1d", "causal_conv1d_cuda"):  # restored (to absent) after the test
        monkeypatch.setitem(sys.modules, k, None)
    info = baseline.load_causal_conv1d(tmp_path)  # no .so there
    assert info["loaded"] is False and "causal_conv1d_cuda.so" in info["reason"]
    assert "build_causal_conv1d.py" in info["reason"]
    assert sys.modules["causal_conv1d"] is None  # mamba_ssm's `import causal_conv1d` raises ImportError

    class FakeCtx:
        device = "cuda"
        compare: dict = {}

        def baseline(self):
            return {"fused_unavailable": "mamba_ssm_fused needs causal-conv1d's CUDA extension: " + info["reason"]}

    ir = {"nodes": [{"kind": "Input", "features": 8}]}
    with pytest.raises(providers.Skip, match="causal-conv1d"):
        providers.block_module("mamba_ssm_fused", FakeCtx(), None, None, tmp_path, ir, {})
    assert rows.block_providers(["fused", "mamba_ssm_fused", "torch"], FakeCtx()) == ["generated", "mamba_ssm_fused"]
