"""The sweep supervisor (mamba2_runner.sweep run) on CPU: outcomes, crash safety,
resume, the results file's rules and provenance.

The package under sweep is a fake with the generated layout whose
ssd_fused_fwd is the float64 reference, except for tile configs that are made
to fail in each of the ways a real kernel can. Configs with `sleep_s` hang
for that long (so a kill lands mid-config) and `crash` kills its worker."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mamba2_runner import sweep, sweep_supervisor
from mamba2_runner.sweep_provenance import KERNEL_DEPS
from mamba2_runner.sweep_results import ResultsLock, read_results

PY_ROOT = Path(__file__).resolve().parents[1]
REPO = Path(__file__).resolve().parents[4]

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
# The fake package carries a stub of every other library file the fused scan depends on, so its kernel
# sha is the definition's: sha256 of the sorted lines "<path> <sha256 of the file>\n".
FAKE_FILES = {**{f: f"# stub of {f}\n" for f in KERNEL_DEPS["kernels/ssd_fused.py"]}, "kernels/ssd_fused.py": FAKE_KERNEL}
FAKE_SHA = hashlib.sha256("".join(f"{f} {hashlib.sha256(t.encode()).hexdigest()}\n"
                                  for f, t in sorted(FAKE_FILES.items())).encode()).hexdigest()

SHAPE = {"batch": 1, "seqlen": 32, "nheads": 2, "headdim": 4, "ngroups": 1, "d_state": 4}


def make_fake_package(root: Path) -> Path:
    pkg = root / "pkgs" / "hd4"
    (pkg / "sweepfake" / "kernels").mkdir(parents=True)
    (pkg / "manifest.json").write_text(json.dumps({"name": "sweepfake"}))
    (pkg / "sweepfake" / "__init__.py").write_text("")
    (pkg / "sweepfake" / "_config.py").write_text("CHUNK_SIZE = 16\nTUNED = []\n")
    (pkg / "sweepfake" / "kernels" / "__init__.py").write_text("")
    for f, text in FAKE_FILES.items():
        (pkg / "sweepfake" / f).write_text(text)
    return pkg


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


def cli_env() -> dict:
    return dict(os.environ, PYTHONPATH=str(PY_ROOT), TRITON_INTERPRET="1", OMP_NUM_THREADS="1")


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mamba2_runner.sweep", *args], env=cli_env(),
                          capture_output=True, text=True, timeout=timeout)


def line(cid: str, **kw) -> str:
    return json.dumps({"type": "config", "id": cid, "status": "ok", "ms": 1.0, "kernel_sha": FAKE_SHA, **kw}) + "\n"


def by_id(out: Path) -> dict[str, list[dict]]:
    res: dict[str, list[dict]] = {}
    for r in read_results(out).records:
        res.setdefault(r["id"], []).append(r)
    return res


def counts(out: Path) -> dict[str, int]:
    return {k: len(v) for k, v in by_id(out).items()}


# --------------------------------------------------------------------------- the results file


def test_a_truncated_last_line_is_cut_and_the_next_append_starts_a_line_of_its_own(tmp_path):
    out = tmp_path / "r.jsonl"
    out.write_text('{"id": "a", "status": "ok"}\n{"id": "b", "status": "ok"}\n{"id": "c", "sta')
    res = read_results(out)
    assert [r["id"] for r in res.records] == ["a", "b"] and res.corrupt == []
    w = sweep.ResultsWriter(out)
    w.append({"id": "c", "status": "ok"})
    w.close()
    assert [r["id"] for r in read_results(out).records] == ["a", "b", "c"]
    assert not (tmp_path / "r.jsonl.corrupt").exists()


def test_a_corrupt_line_in_the_middle_is_quarantined_and_every_valid_record_kept(tmp_path, capfd):
    out = tmp_path / "r.jsonl"
    out.write_text('{"id": "a"}\n{"id": "b", garbage\n{"id": "c"}\n[1, 2]\n{"id": "d"}')
    res = read_results(out)
    assert [r["id"] for r in res.records] == ["a", "c", "d"]  # d: complete, only its newline missing
    assert [n for n, _ in res.corrupt] == [2, 4]
    w = sweep.ResultsWriter(out)
    w.append({"id": "e"})
    w.close()
    assert [r["id"] for r in read_results(out).records] == ["a", "c", "d", "e"]
    assert (tmp_path / "r.jsonl.corrupt").read_text() == '{"id": "b", garbage\n[1, 2]\n'
    err = capfd.readouterr().err
    assert "line(s) 2, 4" in err and "r.jsonl.corrupt" in err and "kept all 3 valid records" in err


def test_resume_after_a_corrupt_middle_line_reruns_nothing_that_was_recorded(tmp_path):
    plan = write_plan(tmp_path, [cfg("a"), cfg("b", chunk_size=8), cfg("c", chunk_size=32)])
    out = tmp_path / "results.jsonl"
    out.write_text(line("a", ms=111.0) + "\x00\x00 torn sector\n" + line("c", ms=333.0))
    p = run_cli("run", "--plan", str(plan), "--out", str(out), "--resume")
    assert p.returncode == 0, p.stderr
    recs = {k: v[0] for k, v in by_id(out).items()}
    assert counts(out) == {"a": 1, "b": 1, "c": 1}
    assert recs["a"]["ms"] == 111.0 and recs["c"]["ms"] == 333.0  # kept, not rerun
    assert "results.jsonl.corrupt" in p.stderr
    assert "torn sector" in (tmp_path / "results.jsonl.corrupt").read_text()


def test_a_second_sweep_on_a_locked_results_file_is_refused_naming_the_file_and_the_holder(tmp_path):
    plan = write_plan(tmp_path, [cfg("a")])
    out = tmp_path / "results.jsonl"
    with ResultsLock(out):
        p = run_cli("run", "--plan", str(plan), "--out", str(out))
    assert p.returncode == 2
    msg = p.stderr.strip().splitlines()
    assert len(msg) == 1 and str(out) in msg[0] and f"pid {os.getpid()}" in msg[0]
    assert not out.exists()


@pytest.mark.parametrize("flag,value", [("--timeout-s", "abc"), ("--timeout-s", "nan"), ("--budget-s", "-5"),
                                        ("--timeout-s", "0"), ("--events-fd", "x")])
def test_a_bad_numeric_flag_is_a_one_line_error_with_exit_2(tmp_path, flag, value):
    plan = write_plan(tmp_path, [cfg("a")])
    out = tmp_path / "results.jsonl"
    with pytest.raises(SystemExit) as e:
        sweep.main(["run", "--plan", str(plan), "--out", str(out), flag, value])
    assert e.value.code == 2
    assert not out.exists()


def test_the_numeric_flag_error_names_the_value_and_the_fix(tmp_path, capsys):
    with pytest.raises(SystemExit):
        sweep.main(["run", "--plan", "p.json", "--out", "o.jsonl", "--timeout-s", "abc"])
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'abc'" in err[0] and "--timeout-s 120" in err[0]


# --------------------------------------------------------------------------- kernel sha and provenance


def test_kernel_sha_is_the_library_file_sha_and_a_generated_copy_hashes_the_same():
    lib = REPO / "packages/kernels/python/mamba2_kernels/kernels/ssd_fused.py"
    copy = REPO / "kernels-out/mamba2_simple/mamba2_simple/kernels/ssd_fused.py"
    want = hashlib.sha256(lib.read_bytes()).hexdigest()
    assert copy.read_text().splitlines()[2].startswith("# copied from ")
    assert sweep.kernel_sha(lib.read_text()) == want
    assert sweep.kernel_sha(copy.read_text()) == want


def test_a_resume_onto_results_of_another_kernel_sha_is_refused(tmp_path):
    plan = write_plan(tmp_path, [cfg("a"), cfg("b")])
    out = tmp_path / "results.jsonl"
    out.write_text(line("a", kernel_sha="0" * 64))
    p = run_cli("run", "--plan", str(plan), "--out", str(out), "--resume")
    assert p.returncode == 2
    assert "000000000000" in p.stderr and FAKE_SHA[:12] in p.stderr and "never mixes kernels" in p.stderr
    out.write_text(json.dumps({"type": "config", "id": "a", "status": "ok"}) + "\n")  # an older sweep's line
    p = run_cli("run", "--plan", str(plan), "--out", str(out), "--resume")
    assert p.returncode == 2 and "carry no kernel_sha" in p.stderr
    assert counts(out) == {"a": 1}


# --------------------------------------------------------------------------- outcomes


def test_run_records_every_outcome_once_with_provenance_and_never_times_a_wrong_config(tmp_path):
    import torch
    import triton

    # one sweep process for every outcome (each run starts a supervisor and a worker, ~7 s of CPU on
    # the CI machine): a config that kills every worker it is given ("boom", tried twice), and one
    # whose package is missing ("nopkg") among them, each followed by one that must still run
    plan = write_plan(tmp_path, [
        cfg("ok"), cfg("wrong", block_p=16), cfg("oor", num_warps=16), cfg("cerr", num_warps=1),
        cfg("hang", sleep_s=600), cfg("after", chunk_size=8), cfg("boom", crash=True), cfg("after_boom"),
    ])
    data = json.loads(plan.read_text())
    data["packages"]["9"] = {"dir": "pkgs/missing", "headdim": 4}
    data["configs"] += [{**cfg("nopkg"), "package": "9"}, cfg("after_nopkg", chunk_size=32)]
    plan.write_text(json.dumps(data))
    out = tmp_path / "results.jsonl"
    p = run_cli("run", "--plan", str(plan), "--out", str(out), "--timeout-s", "8")
    assert p.returncode == 0, p.stderr
    res = {k: v[0] for k, v in by_id(out).items()}
    assert counts(out) == {c["id"]: 1 for c in data["configs"]}
    assert res["boom"]["status"] == "error" and "died on this config 2 times" in res["boom"]["reason"]
    assert p.stderr.count("died during boom") == 2
    assert res["after_boom"]["status"] == "ok"
    assert res["nopkg"]["status"] == "error" and "manifest.json" in res["nopkg"]["reason"]
    assert res["after_nopkg"]["status"] == "ok"
    assert res["ok"]["status"] == "ok" and res["ok"]["ms"] > 0 and res["ok"]["rel_err"] < 1e-6
    assert res["ok"]["baseline_ms"] > 0
    assert res["wrong"]["status"] == "wrong" and res["wrong"]["ms"] is None
    assert res["oor"]["status"] == "out_of_resources"
    assert res["cerr"]["status"] == "compile_error" and "block_p" in res["cerr"]["reason"]
    assert res["hang"]["status"] == "timeout" and res["after"]["status"] == "ok"
    for r in (res[k] for k in ("ok", "wrong", "oor", "cerr", "hang", "after")):  # the supervisor's timeout record too
        prov = r["provenance"]
        assert r["kernel_sha"] == prov["kernel_sha"] == FAKE_SHA
        assert prov["torch"] == torch.__version__ and prov["triton"] == triton.__version__
        assert prov["gpu_model"].startswith("cpu") and prov["date"] == r["t"]
        assert {"driver", "commit", "cuda"} <= set(prov)
    assert "best config" in p.stdout


def test_run_refuses_to_overwrite_results_without_resume(tmp_path):
    plan = write_plan(tmp_path, [cfg("ok")])
    out = tmp_path / "results.jsonl"
    out.write_text('{"id": "x"}\n')
    p = run_cli("run", "--plan", str(plan), "--out", str(out))
    assert p.returncode == 2 and "--resume" in p.stderr


def test_resume_skips_done_configs_and_rewrites_a_torn_last_line(tmp_path):
    plan = write_plan(tmp_path, [cfg("a"), cfg("b", chunk_size=8), cfg("c", chunk_size=32)])
    out = tmp_path / "results.jsonl"
    out.write_text(line("a", ms=123.0) + '{"type": "config", "id": "b", "stat')
    p = run_cli("run", "--plan", str(plan), "--out", str(out), "--resume")
    assert p.returncode == 0, p.stderr
    res = by_id(out)
    assert counts(out) == {"a": 1, "b": 1, "c": 1}
    assert res["a"][0]["ms"] == 123.0  # not rerun
    assert res["b"][0]["status"] == "ok"
    assert out.read_text().endswith("\n")


def test_a_plan_that_cannot_be_read_is_a_one_line_refusal(tmp_path):
    plan = write_plan(tmp_path, [cfg("a")])
    plan.write_text("{not json")
    p = run_cli("run", "--plan", str(plan), "--out", str(tmp_path / "r.jsonl"), "--timeout-s", "30")
    assert p.returncode == 2 and "cannot read the plan" in p.stderr


def test_classify_names_each_failure_kind():
    import torch
    from triton.runtime.errors import OutOfResources

    assert sweep.classify(OutOfResources(300000, 232448, "shared memory"))[0] == "out_of_resources"
    assert sweep.classify(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried"))[0] == "oom"
    assert sweep.classify(ValueError("block_p 128 > headdim 64"))[0] == "error"


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


# --------------------------------------------------------------------------- kills


def test_a_worker_killed_mid_config_costs_only_that_config_which_a_fresh_worker_reruns(tmp_path):
    configs = [cfg("c0"), cfg("c1", chunk_size=8), cfg("c2", sleep_s=3), cfg("c3", chunk_size=32), cfg("c4", block_p=16)]
    plan = write_plan(tmp_path, configs)
    out = tmp_path / "results.jsonl"
    events: list[dict] = []
    killed: list[int] = []

    def on_event(e: dict) -> None:
        events.append(e)
        if e["event"] == "config" and e["id"] == "c2" and not killed:
            killed.append(e["pid"])
            threading.Timer(1.0, os.kill, (e["pid"], signal.SIGKILL)).start()

    rc = sweep.run(str(plan), str(out), False, None, 60.0, on_event=on_event, print_summary=False,
                   child_env={"OMP_NUM_THREADS": "1"})
    assert rc == 0
    assert counts(out) == {c["id"]: 1 for c in configs}
    status = {k: v[0]["status"] for k, v in by_id(out).items()}
    assert status == {"c0": "ok", "c1": "ok", "c2": "ok", "c3": "ok", "c4": "wrong"}
    restarts = [e["why"] for e in events if e["event"] == "restart"]
    assert len(restarts) == 1 and "died during c2 (signal 9)" in restarts[0]
    pids = [e["pid"] for e in events if e["event"] == "config" and e["id"] == "c2"]
    assert len(pids) == 2 and pids[0] == killed[0] and pids[1] != pids[0]


def test_a_killed_sweep_keeps_every_finished_config_and_resume_completes_the_rest_once_each(tmp_path):
    configs = [cfg("c0"), cfg("c1", chunk_size=8), cfg("c2", sleep_s=30), cfg("c3", chunk_size=32)]
    plan = write_plan(tmp_path, configs)
    out = tmp_path / "results.jsonl"
    child = subprocess.Popen([sys.executable, "-m", "mamba2_runner.sweep", "run", "--plan", str(plan), "--out", str(out)],
                             env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    t0 = time.time()
    while len(read_results(out).records) < 2:
        assert time.time() - t0 < 120, "the sweep wrote nothing in 120 s"
        assert child.poll() is None, "the sweep ended before it was killed"
        time.sleep(0.1)
    os.killpg(child.pid, signal.SIGKILL)  # the supervisor and its worker
    child.wait()
    before = [r["id"] for r in read_results(out).records]
    assert before == ["c0", "c1"]

    data = json.loads(plan.read_text())
    data["configs"][2]["params"]["sleep_s"] = 0  # the config that was in flight, now quick
    plan.write_text(json.dumps(data))
    p = run_cli("run", "--plan", str(plan), "--out", str(out), "--resume")  # the dead holder's lock is free
    assert p.returncode == 0, p.stderr
    assert counts(out) == {c["id"]: 1 for c in configs}
    assert [r["id"] for r in read_results(out).records][:2] == before


# --------------------------------------------------------------------------- several GPUs: one queue


class FakeChild:
    """Stands in for a worker process: answers after a short wait, or fails as scripted per config id."""

    script: dict[str, list[str]] = {}
    calls: list[tuple[str, str]] = []
    starts: dict[str, int] = {}
    fail_start: set[str] = set()
    pid_next = [1000]

    def __init__(self, plan_path: str, env: dict):
        self.gpu = env.get("CUDA_VISIBLE_DEVICES", "-")
        FakeChild.starts[self.gpu] = FakeChild.starts.get(self.gpu, 0) + 1
        if self.gpu in FakeChild.fail_start:
            raise sweep_supervisor.ChildDied("exit code 1")
        self.pid = FakeChild.pid_next[0] = FakeChild.pid_next[0] + 1
        self.hello = {"gpu_model": f"fake {self.gpu}"}

    def ask(self, cid: str, timeout_s: float) -> dict:
        FakeChild.calls.append((cid, self.gpu))
        time.sleep(0.005)
        left = FakeChild.script.get(cid)
        what = left.pop(0) if left else None
        if what == "crash":
            raise sweep_supervisor.ChildDied("signal 9")
        if what == "hang":
            raise sweep_supervisor.ChildTimeout()
        return {"type": "config", "id": cid, "status": "ok", "ms": 1.0}

    def kill(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def fleet(monkeypatch):
    FakeChild.script, FakeChild.calls, FakeChild.starts, FakeChild.fail_start = {}, [], {}, set()
    monkeypatch.setattr(sweep_supervisor, "Child", FakeChild)
    return FakeChild


def run_fleet(tmp_path: Path, n: int, gpus: list[str], **kw) -> tuple[int, Path]:
    plan = write_plan(tmp_path, [cfg(f"c{i}") for i in range(n)])
    out = tmp_path / "results.jsonl"
    return sweep.run(str(plan), str(out), False, None, 60.0, gpus=gpus, print_summary=False, **kw), out


def test_one_queue_over_several_gpus_records_every_config_once_tagged_with_its_worker(tmp_path, fleet):
    rc, out = run_fleet(tmp_path, 12, ["0", "1", "2"])
    assert rc == 0 and counts(out) == {f"c{i}": 1 for i in range(12)}
    recs = read_results(out).records
    assert {r["gpu"] for r in recs} == {"0", "1", "2"}
    assert all(r["gpu"] == str(r["worker"]) and r["provenance"]["gpu_model"] == f"fake {r['gpu']}" for r in recs)


def test_a_dead_workers_config_is_retried_on_another_gpu_and_the_dead_one_restarted(tmp_path, fleet):
    fleet.script = {"c1": ["crash"]}
    rc, out = run_fleet(tmp_path, 6, ["0", "1"])
    assert rc == 0 and counts(out) == {f"c{i}": 1 for i in range(6)}
    tries = [g for cid, g in fleet.calls if cid == "c1"]
    assert len(tries) == 2 and tries[1] != tries[0]
    assert by_id(out)["c1"][0]["gpu"] == tries[1] and by_id(out)["c1"][0]["status"] == "ok"
    assert fleet.starts[tries[0]] == 2


def test_a_config_that_kills_two_workers_is_recorded_as_error_and_the_rest_go_on(tmp_path, fleet):
    fleet.script = {"c2": ["crash", "crash", "crash"]}
    rc, out = run_fleet(tmp_path, 4, ["0", "1", "2"])
    assert rc == 0 and counts(out) == {f"c{i}": 1 for i in range(4)}
    tries = [g for cid, g in fleet.calls if cid == "c2"]
    assert len(tries) == 2 and tries[1] != tries[0]
    assert "died on this config 2 times" in by_id(out)["c2"][0]["reason"]


def test_with_one_gpu_a_dead_workers_config_is_retried_on_that_gpus_fresh_worker(tmp_path, fleet):
    fleet.script = {"c0": ["crash"]}
    rc, out = run_fleet(tmp_path, 2, ["3"])
    assert rc == 0 and by_id(out)["c0"][0]["status"] == "ok" and fleet.starts["3"] == 2


def test_a_timeout_is_recorded_once_and_only_that_worker_replaced(tmp_path, fleet):
    fleet.script = {"c0": ["hang"]}
    rc, out = run_fleet(tmp_path, 3, ["0", "1"])
    assert rc == 0 and by_id(out)["c0"][0]["status"] == "timeout"
    assert sorted(cid for cid, _ in fleet.calls) == ["c0", "c1", "c2"]


def test_the_other_gpus_finish_the_grid_when_one_gpus_worker_does_not_start(tmp_path, fleet):
    fleet.fail_start = {"1"}
    rc, out = run_fleet(tmp_path, 5, ["0", "1"])
    assert rc == 0 and {r["gpu"] for r in read_results(out).records} == {"0"}
    assert counts(out) == {f"c{i}": 1 for i in range(5)}


def test_the_sweep_fails_when_no_worker_starts(tmp_path, fleet):
    fleet.fail_start = {"0", "1"}
    rc, out = run_fleet(tmp_path, 2, ["0", "1"])
    assert rc == 1 and read_results(out).records == []


def test_gpus_are_parsed_and_empty_entries_and_repeats_refused():
    assert sweep.parse_gpus("0,1, 3") == ["0", "1", "3"]
    with pytest.raises(ValueError, match="empty entry"):
        sweep.parse_gpus("0,,1")
    with pytest.raises(ValueError, match="lists 0 twice"):
        sweep.parse_gpus("0,1,0")


def test_real_workers_on_fake_gpus_survive_one_killed_mid_config_and_each_sees_only_its_gpu(tmp_path):
    configs = [cfg(f"c{i}", sleep_s=1.5, chunk_size=4 * (1 + i % 4)) for i in range(5)] + [cfg("bad", block_p=16)]
    plan = write_plan(tmp_path, configs)
    out = tmp_path / "results.jsonl"
    killed: dict[str, str] = {}
    visible: dict[str, list[str]] = {}

    def on_event(e: dict) -> None:
        if e["event"] != "config":
            return
        environ = Path(f"/proc/{e['pid']}/environ")
        if environ.exists():
            visible[e["gpu"]] = [v for v in environ.read_text().split("\0") if v.startswith("CUDA_VISIBLE_DEVICES=")]
        if not killed and e["gpu"] == "6":
            killed["id"] = e["id"]
            threading.Timer(0.7, os.kill, (e["pid"], signal.SIGKILL)).start()

    rc = sweep.run(str(plan), str(out), False, None, 60.0, gpus=["5", "6"], on_event=on_event,
                   print_summary=False, child_env={"OMP_NUM_THREADS": "1"})
    assert rc == 0
    assert counts(out) == {c["id"]: 1 for c in configs}
    recs = {k: v[0] for k, v in by_id(out).items()}
    assert recs[killed["id"]]["status"] == "ok" and recs[killed["id"]]["gpu"] == "5"  # retried on the other worker
    assert recs["bad"]["status"] == "wrong"
    if sys.platform.startswith("linux"):
        assert visible == {g: [f"CUDA_VISIBLE_DEVICES={g}"] for g in ("5", "6")}
