"""The torchrun path of the sweep driver, on CPU with gloo.

The package under sweep is a fake with the generated layout whose
ssd_fused_fwd is the float64 reference (instant on CPU), so these tests are
about sharding, merging and resuming, not about kernels."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mamba2_runner import sweep
from mamba2_runner.sweep_dist import merge_into, rank_file, rank_files_here, shard
from mamba2_runner.sweep_provenance import KERNEL_DEPS

PY_ROOT = Path(__file__).resolve().parents[1]

FAKE_KERNEL = '''
from mamba2_runner.reference.scan import ref_scan


def ssd_fused_fwd(x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None,
                  seq_idx=None, dt_softplus=False, dt_limit=(0.0, float("inf")),
                  return_final_states=False, block_p=None, num_warps=None, num_stages=None, block_q=None):
    out = ref_scan(x, dt, A, B, C, D=D, z=z, dt_bias=dt_bias, dt_softplus=dt_softplus).to(x.dtype)
    return out * 1.5 if block_p == 16 else out
'''

# The fake package carries a stub of every other library file the fused scan depends on, so its kernel
# sha is the definition's: sha256 of the sorted lines "<path> <sha256 of the file>\n".
FAKE_FILES = {**{f: f"# stub of {f}\n" for f in KERNEL_DEPS["kernels/ssd_fused.py"]}, "kernels/ssd_fused.py": FAKE_KERNEL}
FAKE_SHA = hashlib.sha256("".join(f"{f} {hashlib.sha256(t.encode()).hexdigest()}\n"
                                  for f, t in sorted(FAKE_FILES.items())).encode()).hexdigest()

SHAPE = {"batch": 1, "seqlen": 32, "nheads": 2, "headdim": 4, "ngroups": 1, "d_state": 4}


def cfg(cid: str, **params) -> dict:
    p = {"chunk_size": 16, "block_p": 4, "num_warps": 4, "num_stages": 2, **params}
    return {"id": cid, "package": "4", "problem": "B1-L32-D8", "shape": SHAPE, "params": p}


def write_plan(root: Path, configs: list[dict]) -> Path:
    pkg = root / "pkgs" / "hd4"
    (pkg / "sweepfake" / "kernels").mkdir(parents=True)
    (pkg / "manifest.json").write_text(json.dumps({"name": "sweepfake"}))
    (pkg / "sweepfake" / "__init__.py").write_text("")
    (pkg / "sweepfake" / "_config.py").write_text("CHUNK_SIZE = 16\nTUNED = []\n")
    (pkg / "sweepfake" / "kernels" / "__init__.py").write_text("")
    for f, text in FAKE_FILES.items():
        (pkg / "sweepfake" / f).write_text(text)
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


def torchrun() -> str:
    here = Path(sys.executable).with_name("torchrun")
    found = str(here) if here.exists() else shutil.which("torchrun")
    if not found:
        pytest.skip("torchrun is not installed next to this Python")
    return found


def run_torchrun(nproc: int, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(PY_ROOT), TRITON_INTERPRET="1", OMP_NUM_THREADS="1")
    env.pop("RANK", None), env.pop("WORLD_SIZE", None), env.pop("LOCAL_RANK", None)
    return subprocess.run(
        [torchrun(), "--standalone", "--nproc-per-node", str(nproc), "-m", "mamba2_runner.sweep", "run", *args],
        env=env, capture_output=True, text=True, timeout=timeout,
    )


def counts(out: Path) -> dict[str, int]:
    c: dict[str, int] = {}
    for r in sweep.read_results(out)[0]:
        c[r["id"]] = c.get(r["id"], 0) + 1
    return c


# --------------------------------------------------------------------------- sharding


@pytest.mark.parametrize("n,world", [(0, 1), (1, 2), (7, 2), (10, 3), (5, 8), (64, 4)])
def test_shards_are_disjoint_and_cover_every_config(n, world):
    items = [f"c{i}" for i in range(n)]
    shards = [shard(items, r, world) for r in range(world)]
    flat = [x for s in shards for x in s]
    assert sorted(flat) == sorted(items)
    assert len(flat) == len(set(flat))


def test_a_shard_is_the_same_on_every_call_and_keeps_plan_order():
    items = [f"c{i}" for i in range(11)]
    assert shard(items, 1, 3) == shard(list(items), 1, 3) == ["c1", "c4", "c7", "c10"]
    assert shard(items, 0, 1) == items


def test_shard_sizes_differ_by_at_most_one():
    sizes = [len(shard(list(range(23)), r, 4)) for r in range(4)]
    assert max(sizes) - min(sizes) <= 1


def test_a_rank_outside_the_world_is_refused():
    with pytest.raises(ValueError):
        shard([1, 2], 2, 2)


def test_rank_files_sit_next_to_the_results():
    out = Path("/x/results.jsonl")
    assert rank_file(out, 3) == Path("/x/results.rank3.jsonl")
    assert rank_file(Path("/x/r.out"), 0) == Path("/x/r.out.rank0")


# --------------------------------------------------------------------------- merging


def test_merge_keeps_existing_lines_and_adds_each_new_id_once(tmp_path):
    out = tmp_path / "results.jsonl"
    out.write_text(json.dumps({"type": "config", "id": "a", "status": "ok", "ms": 7.0}) + "\n" + '{"id": "b", "sta')
    added, done = merge_into(out, [
        ({"rank": 0}, [{"id": "a", "status": "ok", "ms": 1.0}, {"id": "b", "status": "ok", "ms": 2.0}]),
        ({"rank": 1}, [{"id": "b", "status": "ok", "ms": 3.0}, {"id": "c", "status": "error", "rank": 9}]),
    ])
    records = sweep.read_results(out)[0]
    assert added == 2 and done == {"a", "b", "c"}
    assert [(r["id"], r.get("ms"), r.get("rank")) for r in records] == [("a", 7.0, None), ("b", 2.0, 0), ("c", None, 9)]
    assert out.read_text().endswith("\n")


# --------------------------------------------------------------------------- torchrun on CPU (gloo)


def test_two_ranks_record_every_config_exactly_once_split_the_work_and_a_rank_goes_on_after_its_child_is_killed(
        tmp_path):
    # one torchrun run for both (each run starts torchrun and two ranks, ~10 s of CPU on
    # the CI machine): config i goes to rank i % 2, so "boom" (8) kills a child of rank 0
    # and "after" (10) is rank 0's next config, run by a fresh child
    configs = [cfg(f"c{i}", chunk_size=8 * (1 + i % 3)) for i in range(7)] + [
        cfg("bad", block_p=16), cfg("boom", crash=True), cfg("c7", chunk_size=8), cfg("after", chunk_size=32)]
    plan = write_plan(tmp_path, configs)
    out = tmp_path / "results.jsonl"
    p = run_torchrun(2, "--plan", str(plan), "--out", str(out))
    assert p.returncode == 0, p.stdout + p.stderr
    assert counts(out) == {c["id"]: 1 for c in configs}
    records = {r["id"]: r for r in sweep.read_results(out)[0]}
    assert records["bad"]["status"] == "wrong" and records["c0"]["status"] == "ok"
    assert records["boom"]["status"] == "error" and "died" in records["boom"]["reason"]
    assert records["after"]["status"] == "ok" and records["after"]["rank"] == 0
    assert {r["rank"] for r in records.values() if "rank" in r} == {0, 1}
    # config i of the plan went to rank i % 2
    assert all(records[c["id"]]["rank"] == i % 2 for i, c in enumerate(configs) if c["id"] != "boom")
    assert rank_files_here(out) == []
    assert "best config" in p.stdout


def test_resume_merges_a_killed_runs_rank_files_and_runs_only_what_is_left(tmp_path):
    configs = [cfg(f"c{i}") for i in range(6)]
    plan = write_plan(tmp_path, configs)
    out = tmp_path / "results.jsonl"
    line = lambda cid, ms: json.dumps({"type": "config", "id": cid, "status": "ok", "ms": ms,  # noqa: E731
                                       "kernel_sha": FAKE_SHA}) + "\n"
    out.write_text(line("c0", 100.0))
    rank_file(out, 1).write_text(line("c3", 300.0) + '{"type": "config", "id": "c4", "st')  # torn by the kill
    refused = run_torchrun(2, "--plan", str(plan), "--out", str(out))  # no --resume
    assert refused.returncode != 0 and "pass --resume" in refused.stderr  # torchrun turns rank exit 2 into 1
    assert out.read_text() == line("c0", 100.0) and rank_file(out, 1).exists()

    p = run_torchrun(2, "--plan", str(plan), "--out", str(out), "--resume")
    assert p.returncode == 0, p.stdout + p.stderr
    assert counts(out) == {c["id"]: 1 for c in configs}
    records = {r["id"]: r for r in sweep.read_results(out)[0]}
    assert records["c0"]["ms"] == 100.0 and records["c3"]["ms"] == 300.0  # kept, not rerun
    assert records["c4"]["status"] == "ok"
    assert out.read_text().startswith(line("c0", 100.0))
    assert rank_files_here(out) == []
