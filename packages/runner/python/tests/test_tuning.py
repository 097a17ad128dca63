"""mamba2_runner.tuning (issue 13): the model-level block's IR, the checks that gate timing, the engine's
records (noise, provenance) and its refusal to mix kernel shas. CPU, seconds."""
from __future__ import annotations

import json
import time
import sys
import textwrap
from pathlib import Path

import pytest

from mamba2_runner.tuning import engine
from mamba2_runner.tuning.block import block_ir, dims
from mamba2_runner.tuning.kernels import Case

ROOT = Path(__file__).resolve().parents[4]


@pytest.mark.parametrize("d_model", [1536, 2560])
def test_the_sweep_block_ir_is_the_graph_the_dsl_builds_for_that_model(d_model):
    committed = json.loads((ROOT / f"bench/pkgs/bench_block_{d_model}/bench_block_{d_model}/ir.json").read_text())
    ours = block_ir(d_model, 64, 128)
    assert ours["nodes"] == committed["nodes"]
    assert ours["output"] == committed["output"]


def test_every_variant_of_one_d_model_has_the_same_parameters_within_four_percent():
    import torch

    from mamba2_runner.tuning.block import library_block

    for p, n in ((32, 64), (128, 128)):
        blk = library_block(768, p, n, 32, "cpu", torch.float32, seed=0)
        assert sum(t.numel() for t in blk.parameters()) == dims(768, p, n)["params"]
    for d in (768, 1536, 2560):
        counts = [dims(d, p, n)["params"] for p in (32, 64, 128) for n in (64, 128)]
        assert max(counts) / min(counts) < 1.04


SHAPE = {"batch": 1, "seqlen": 64, "nheads": 4, "headdim": 32, "d_state": 16, "ngroups": 1}
OPTS = {"dtype": "float32", "check_seqlen": 64, "check_heads": 2}


def _cfg(kind, params=None):
    return {"id": f"{kind}:t", "kind": kind, "problem": "p", "shape": SHAPE, "params": params or {"block_q": 16}}


def test_the_forward_check_passes_the_kernel_and_fails_it_when_its_output_is_one_percent_off(device, monkeypatch):
    from mamba2_kernels.kernels import ssd_fused

    err, tol, _ = Case(_cfg("fwd"), device, OPTS).check()
    assert err <= tol
    real = ssd_fused.ssd_fused_fwd
    monkeypatch.setattr(ssd_fused, "ssd_fused_fwd", lambda *a, **k: tuple(
        t * 1.01 if i == 0 else t for i, t in enumerate(real(*a, **k))))
    err, tol, _ = Case(_cfg("fwd"), device, OPTS).check()
    assert not err <= tol


def test_the_backward_check_fails_a_backward_that_loses_the_gradient_of_B(device, monkeypatch):
    from mamba2_kernels.kernels import ssd_bwd as mod

    real = mod.ssd_bwd

    def broken(*a, **k):
        g = real(*a, **k)
        return {**g, "dB": g["dB"] * 0.0}

    monkeypatch.setattr(mod, "ssd_bwd", broken)
    err, tol, detail = Case(_cfg("bwd", {"block_q": 16}), device, OPTS).check()
    assert not err <= tol
    assert "dB 1" in detail  # the whole of dB is missing: rel err 1


FAKE = '''
"""A sweep module for the engine's tests: config `bad` is wrong, the others right; timing leaves a mark."""
import os

POISONED = False  # as a CUDA context after an illegal memory access: every later call in the process fails

def configs(opts):
    shape = {"batch": 1}
    ids = (("default", {}), ("good", {"x": 1}), ("bad", {"x": 2}))
    if opts.get("poison"):
        ids += (("poison", {"x": 3}), ("after", {"x": 4}))
    return [{"id": i, "kind": "fwd", "problem": "p", "shape": shape, "params": p, "provider": "ours"}
            for i, p in ids]

def floor(cfg, ms, gpu):
    return {"floor_ms": None, "floor_frac": None}

class Case:
    def __init__(self, cfg, device, opts):
        self.cfg, self.marks, self.opts = cfg, opts["marks"], opts

    def check(self):
        global POISONED
        if POISONED:
            raise RuntimeError("CUDA error: an illegal memory access was encountered (left by an earlier config)")
        if self.cfg["id"] == "poison":
            POISONED = True
            raise RuntimeError("Triton Error [CUDA]: an illegal memory access was encountered")
        return (float("nan") if self.cfg["id"] == "bad" else 0.0), 1e-3, "fake"

    def fn(self):
        def f():
            with open(self.marks, "a") as fh:
                fh.write(self.cfg["id"] + "\\n")
        # opts["fake_ms"]: the time a test's patched engine.time_ms reports for this config
        f.fake_ms = self.opts.get("fake_ms", {}).get(self.cfg["id"])
        return f
'''


@pytest.fixture()
def fake_module(tmp_path, monkeypatch):
    (tmp_path / "fake_sweep13.py").write_text(textwrap.dedent(FAKE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}:{ROOT}/packages/runner/python:{ROOT}/packages/kernels/python")
    yield "fake_sweep13"
    sys.modules.pop("fake_sweep13", None)


def test_a_config_that_fails_its_check_is_recorded_and_never_timed_and_the_default_gives_the_noise(tmp_path, fake_module):
    import importlib

    marks = tmp_path / "marks.txt"
    opts = {"marks": str(marks)}
    out = tmp_path / "r.jsonl"
    cfgs = importlib.import_module(fake_module).configs(opts)
    assert engine.run(fake_module, cfgs, opts, out, workers=1, budget_s=120) == 0
    recs = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert recs["bad"]["status"] == "wrong" and recs["bad"]["ms"] is None
    assert recs["good"]["status"] == "ok" and recs["good"]["ms"] is not None
    timed = marks.read_text().split()
    assert "bad" not in timed
    assert timed.count("default") >= 3 + 3  # run once to warm, then timed: first, middle and last
    assert len(recs["default"]["default_repeats_ms"]) == 3 and recs["good"]["noise"] is not None
    for r in recs.values():
        assert r["kernel_sha"] == engine.record_sha("fwd", engine.kernel_shas()) == r["provenance"]["kernel_sha"]
        assert r["kernel_shas"] == engine.kernel_shas()
        assert {"gpu_model", "driver", "torch", "triton", "commit", "kernel_sha", "date"} <= set(r["provenance"])


def test_a_config_that_poisons_the_cuda_context_fails_alone_and_the_configs_after_it_are_checked_in_a_fresh_process(
        tmp_path, fake_module):
    import importlib

    opts = {"marks": str(tmp_path / "marks.txt"), "poison": True}
    cfgs = [{**c, "module": fake_module} for c in importlib.import_module(fake_module).configs(opts)]
    res = engine.check_all(cfgs, {fake_module: opts}, tmp_path / "work", workers=1, deadline=time.time() + 120)
    assert res["poison"]["status"] == "error" and "illegal memory access" in res["poison"]["reason"]
    assert res["after"]["status"] == "ok", res["after"]
    assert res["good"]["status"] == "ok" and res["bad"]["status"] == "wrong"
    assert "restarting after a fatal CUDA error: 1 configs left" in (tmp_path / "work" / "check.0.log").read_text()


def test_a_config_that_beat_the_default_is_timed_again_alternating_with_it_and_carries_the_median_ratio(
        tmp_path, fake_module, monkeypatch):
    import importlib

    # times are the fake module's, not the clock's: the default 2 ms at every timing, "good" 1 ms
    # in the timing pass, then 1, 4 and 0.5 ms in the confirm rounds (median ratio 2)
    good_ms = iter([1.0, 1.0, 4.0, 0.5])
    monkeypatch.setattr(engine, "time_ms",
                        lambda fn, device, opts: next(good_ms) if fn.fake_ms == "good" else fn.fake_ms)
    marks = tmp_path / "marks.txt"
    opts = {"marks": str(marks), "fake_ms": {"default": 2.0, "good": "good"}}
    out = tmp_path / "r.jsonl"
    cfgs = importlib.import_module(fake_module).configs(opts)
    assert engine.run(fake_module, cfgs, opts, out, workers=1, budget_s=120) == 0
    recs = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    good = recs["good"]
    assert good["noise"] == 0.0 and good["speedup"] == 2.0
    assert good["confirm_ratios"] == [2.0, 0.5, 4.0] and good["confirm_speedup"] == 2.0
    assert "confirm_speedup" not in recs["default"] and "confirm_speedup" not in recs["bad"]
    # the confirm rounds alternate default and candidate after the timing pass (each timing runs the
    # function once to warm it; the patched time_ms runs nothing)
    rounds = ["default", "good"] * engine.CONFIRM_ROUNDS
    assert marks.read_text().split()[-len(rounds):] == rounds


def test_records_of_another_kernel_sha_are_refused_before_anything_runs(tmp_path, fake_module):
    import importlib

    out = tmp_path / "r.jsonl"
    out.write_text(json.dumps({"type": "config", "id": "old", "kind": "fwd", "kernel_sha": "f" * 64}) + "\n")
    marks = tmp_path / "marks.txt"
    opts = {"marks": str(marks)}
    cfgs = importlib.import_module(fake_module).configs(opts)
    assert engine.run(fake_module, cfgs, opts, out, workers=1, budget_s=60, resume=True) == 2
    assert not marks.exists()
    with pytest.raises(engine.MixedKernels, match="never mixes kernels"):
        engine.refuse_mixed([{"id": "x", "kind": "bwd", "kernel_sha": None}], engine.kernel_shas())
