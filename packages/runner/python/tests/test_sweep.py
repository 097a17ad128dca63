"""The sweep driver on CPU: resume, torn lines, and failure recording.

The package under sweep is a fake with the generated layout whose
ssd_fused_fwd is the float64 reference, except for tile configs that are made
to fail in each of the ways a real kernel can."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mamba2_runner import sweep

PY_ROOT = Path(__file__).resolve().parents[1]

FAKE_KERNEL = '''
from triton.compiler.errors import CompilationError
from triton.runtime.errors import OutOfResources
from mamba2_runner.reference.scan import ref_scan


def ssd_fused_fwd(x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None,
                  seq_idx=None, dt_softplus=False, dt_limit=(0.0, float("inf")),
                  return_final_states=False, block_p=None, block_q=None, num_warps=None, num_stages=None):
    if num_warps == 16:
        raise OutOfResources(300000, 232448, "shared memory")
    if num_warps == 1:
        raise CompilationError("src", None, "block_p must divide headdim")
    out = ref_scan(x, dt, A, B, C, D=D, z=z, dt_bias=dt_bias, dt_softplus=dt_softplus).to(x.dtype)
    if block_p == 16:
        out = out * 1.5
    return out
'''


def make_fake_package(root: Path) -> Path:
    pkg = root / "pkgs" / "hd4"
    (pkg / "sweepfake" / "kernels").mkdir(parents=True)
    (pkg / "manifest.json").write_text(json.dumps({"name": "sweepfake"}))
    (pkg / "sweepfake" / "__init__.py").write_text("")
    (pkg / "sweepfake" / "_config.py").write_text("CHUNK_SIZE = 16\nTUNED = []\n")
    (pkg / "sweepfake" / "kernels" / "__init__.py").write_text("")
    (pkg / "sweepfake" / "kernels" / "ssd_fused.py").write_text(FAKE_KERNEL)
    return pkg


SHAPE = {"batch": 1, "seqlen": 32, "nheads": 2, "headdim": 4, "ngroups": 1, "d_state": 4}


def cfg(cid: str, **params) -> dict:
    p = {"chunk_size": 16, "block_p": 4, "num_warps": 4, "num_stages": 2, **params}
    return {"id": cid, "package": "4", "problem": "B1-L32-D8", "shape": SHAPE, "params": p}


def write_plan(root: Path, configs: list[dict]) -> Path:
    make_fake_package(root)
    plan = {
        "version": 1, "sweep": "test",
        "options": {"dtype": "float32", "tol": 1e-4, "check_seqlen": 32, "timeout_s": 60},
        "packages": {"4": {"dir": "pkgs/hd4", "headdim": 4}},
        "baselines": {"B1-L32-D8": {"package": "4", "shape": SHAPE}},
        "configs": configs,
    }
    path = root / "plan.json"
    path.write_text(json.dumps(plan))
    return path


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(PY_ROOT), TRITON_INTERPRET="1")
    return subprocess.run([sys.executable, "-m", "mamba2_runner.sweep", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def by_id(out: Path) -> dict[str, list[dict]]:
    records, _ = sweep.read_results(out)
    res: dict[str, list[dict]] = {}
    for r in records:
        res.setdefault(r["id"], []).append(r)
    return res


def test_read_results_ignores_a_truncated_last_line(tmp_path):
    out = tmp_path / "r.jsonl"
    out.write_text('{"id": "a", "status": "ok"}\n{"id": "b", "status": "ok"}\n{"id": "c", "sta')
    records, good = sweep.read_results(out)
    assert [r["id"] for r in records] == ["a", "b"]
    w = sweep.ResultsWriter(out)
    w.append({"id": "c", "status": "ok"})
    w.close()
    assert [r["id"] for r in sweep.read_results(out)[0]] == ["a", "b", "c"]
    assert good == len('{"id": "a", "status": "ok"}\n{"id": "b", "status": "ok"}\n')


def test_read_results_drops_a_torn_line_and_what_follows(tmp_path):
    out = tmp_path / "r.jsonl"
    out.write_text('{"id": "a"}\n{"id": "b\n')
    assert [r["id"] for r in sweep.read_results(out)[0]] == ["a"]


def test_classify_names_each_failure_kind():
    import torch
    from triton.runtime.errors import OutOfResources

    assert sweep.classify(OutOfResources(300000, 232448, "shared memory"))[0] == "out_of_resources"
    assert sweep.classify(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried"))[0] == "oom"
    assert sweep.classify(ValueError("block_p 128 > headdim 64"))[0] == "error"


def test_run_records_every_outcome_once_and_never_times_a_wrong_config(tmp_path):
    plan = write_plan(tmp_path, [
        cfg("ok"), cfg("wrong", block_p=16), cfg("oor", num_warps=16), cfg("cerr", num_warps=1),
    ])
    out = tmp_path / "results.jsonl"
    p = run_cli("run", "--plan", str(plan), "--out", str(out))
    assert p.returncode == 0, p.stderr
    res = by_id(out)
    assert {k: len(v) for k, v in res.items()} == {"ok": 1, "wrong": 1, "oor": 1, "cerr": 1}
    assert res["ok"][0]["status"] == "ok" and res["ok"][0]["ms"] > 0 and res["ok"][0]["rel_err"] < 1e-6
    assert res["ok"][0]["baseline_ms"] > 0
    assert res["wrong"][0]["status"] == "wrong" and res["wrong"][0]["ms"] is None
    assert res["oor"][0]["status"] == "out_of_resources"
    assert res["cerr"][0]["status"] == "compile_error" and "block_p" in res["cerr"][0]["reason"]


def test_run_refuses_to_overwrite_results_without_resume(tmp_path):
    plan = write_plan(tmp_path, [cfg("ok")])
    out = tmp_path / "results.jsonl"
    out.write_text('{"id": "x"}\n')
    p = run_cli("run", "--plan", str(plan), "--out", str(out))
    assert p.returncode == 2 and "--resume" in p.stderr


def test_resume_skips_done_configs_and_rewrites_a_torn_last_line(tmp_path):
    plan = write_plan(tmp_path, [cfg("a"), cfg("b", chunk_size=8), cfg("c", chunk_size=32)])
    out = tmp_path / "results.jsonl"
    out.write_text(json.dumps({"type": "config", "id": "a", "status": "ok", "ms": 123.0}) + "\n"
                   + '{"type": "config", "id": "b", "stat')
    p = run_cli("run", "--plan", str(plan), "--out", str(out), "--resume")
    assert p.returncode == 0, p.stderr
    res = by_id(out)
    assert {k: len(v) for k, v in res.items()} == {"a": 1, "b": 1, "c": 1}
    assert res["a"][0]["ms"] == 123.0  # not rerun
    assert res["b"][0]["status"] == "ok"
    assert out.read_text().endswith("\n")


def test_a_hanging_config_is_recorded_as_timeout_and_the_sweep_goes_on(tmp_path):
    plan = write_plan(tmp_path, [cfg("before"), cfg("hang", sleep_s=600), cfg("after", chunk_size=8)])
    out = tmp_path / "results.jsonl"
    p = run_cli("run", "--plan", str(plan), "--out", str(out), "--timeout-s", "8")
    assert p.returncode == 0, p.stderr
    res = by_id(out)
    assert {k: len(v) for k, v in res.items()} == {"before": 1, "hang": 1, "after": 1}
    assert res["hang"][0]["status"] == "timeout"
    assert res["after"][0]["status"] == "ok"
    assert not (tmp_path / "results.jsonl.inflight").exists()


def test_a_config_that_kills_the_process_is_recorded_and_the_sweep_goes_on(tmp_path):
    plan = write_plan(tmp_path, [cfg("boom", crash=True), cfg("after")])
    out = tmp_path / "results.jsonl"
    p = run_cli("run", "--plan", str(plan), "--out", str(out))
    assert p.returncode == 0, p.stderr
    res = by_id(out)
    assert res["boom"][0]["status"] == "error" and "died" in res["boom"][0]["reason"]
    assert res["after"][0]["status"] == "ok"


def test_sweep_point_returns_the_record_without_writing(tmp_path):
    plan = write_plan(tmp_path, [cfg("one"), cfg("bad", block_p=16)])
    rec = sweep.sweep_point({"plan": str(plan), "id": "one"})
    assert rec["status"] == "ok" and rec["id"] == "one" and rec["ms"] > 0
    assert sweep.sweep_point({"plan": str(plan), "id": "bad"})["status"] == "wrong"
    assert not (tmp_path / "results.jsonl").exists()


def test_pick_tuned_takes_the_smallest_covering_bucket_of_the_same_nheads():
    tuned = [
        {"nheads": 80, "max_seqlen": 8192, "chunk_size": 256},
        {"nheads": 80, "max_seqlen": 2048, "chunk_size": 64},
        {"nheads": 64, "max_seqlen": 4096, "chunk_size": 128},
    ]
    assert sweep.pick_tuned(tuned, 80, 1000)["chunk_size"] == 64
    assert sweep.pick_tuned(tuned, 80, 4096)["chunk_size"] == 256
    assert sweep.pick_tuned(tuned, 80, 100000)["chunk_size"] == 256
    assert sweep.pick_tuned(tuned, 40, 1000) is None


def test_run_gives_up_at_once_when_the_driver_fails_before_any_config(tmp_path):
    plan = write_plan(tmp_path, [cfg("a")])
    plan.write_text("{not json")
    p = run_cli("run", "--plan", str(plan), "--out", str(tmp_path / "r.jsonl"), "--timeout-s", "30")
    assert p.returncode != 0
    assert "restarting (2)" not in p.stderr


def test_a_config_whose_package_is_missing_is_recorded_as_error(tmp_path):
    plan = write_plan(tmp_path, [cfg("a")])
    data = json.loads(plan.read_text())
    data["packages"]["9"] = {"dir": "pkgs/missing", "headdim": 4}
    data["configs"].append({**cfg("b"), "package": "9"})
    plan.write_text(json.dumps(data))
    out = tmp_path / "r.jsonl"
    p = run_cli("run", "--plan", str(plan), "--out", str(out))
    assert p.returncode == 0, p.stderr
    res = by_id(out)
    assert res["a"][0]["status"] == "ok"
    assert res["b"][0]["status"] == "error" and "manifest.json" in res["b"][0]["reason"]


def test_kernel_sha_ignores_the_generated_header_and_matches_codegen():
    """codegen's kernelSha (packages/codegen/src/tuned.ts) must agree: the
    expected value is sha256 of the body alone, computed here independently."""
    import hashlib

    from mamba2_runner.sweep import kernel_sha

    body = "import triton\n\ndef f():\n    return 1\n"
    src = "# generated from examples/a.ts by @mamba2/codegen 0.1.0 -- do not edit\n# ir-hash: aaaa\n" + body
    assert kernel_sha(src) == hashlib.sha256(body.encode()).hexdigest()
