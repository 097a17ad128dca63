"""verify: the harness on a stand-in package (plain torch, written here), and
the real generated package once kernels-out/<name> exists."""
from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT, pkg_dir
from mamba2_runner.verify import TOLERANCES, VerifyError, run_verify

PYDIR = Path(__file__).resolve().parents[1]

# A stand-in generated package: the contract's API (ARCHITECTURE.md) in plain
# torch, computing in float64 and casting back, so it passes; BUG switches in
# one wrong term so we see verify catch it.
FAKE_INIT = '''
import json, math
from pathlib import Path
import torch
from torch import nn
from mamba2_runner.reference.ops import ref_causal_conv1d, ref_dt_transform, ref_rmsnorm_gated
from mamba2_runner.reference.scan import ref_scan
from mamba2_runner.reference.graph import ref_block

IR_PATH = Path(__file__).parent / "ir.json"
BUG = {bug!r}

def causal_conv1d(x, weight, bias=None, activation="silu"):
    return ref_causal_conv1d(x, weight, bias, activation).to(x.dtype)

def dt_transform(dt, dt_bias=None, softplus=False, limit=(0.0, math.inf)):
    return ref_dt_transform(dt, dt_bias, softplus, limit).float()

def rmsnorm_gated(y, weight, z=None, eps=1e-5, group_size=None, norm_before_gate=False):
    out = ref_rmsnorm_gated(y, weight, z, eps, group_size, norm_before_gate).to(y.dtype)
    if BUG == "nan_tail":
        out[..., -1] = float("nan")
    return out

def mamba_chunk_scan_combined(x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None,
                              seq_idx=None, dt_softplus=False, dt_limit=(0.0, math.inf),
                              return_final_states=False, *, impl=None):
    if BUG == "no_D":
        D = None
    out, final = ref_scan(x, dt, A, B, C, D=D, z=z, dt_bias=dt_bias, initial_states=initial_states,
                          seq_idx=seq_idx, dt_softplus=dt_softplus, dt_limit=dt_limit, return_final_states=True)
    out = out.to(x.dtype)
    return (out, final.float()) if return_final_states else out

class {cls}(nn.Module):
    def __init__(self, d_model=4, device=None, dtype=None):
        super().__init__()
        self.ir = json.loads(IR_PATH.read_text())
        kw = dict(device=device, dtype=dtype)
        self.in_proj = nn.Linear(4, 8 * 2 + 4 + 2, bias=False, **kw)
        self.conv1d = nn.Conv1d(12, 12, 3, groups=12, padding=2, **kw)
        self.dt_bias = nn.Parameter(torch.randn(2, **kw))
        self.A_log = nn.Parameter(torch.rand(2, **kw))
        self.D = nn.Parameter(torch.ones(2, **kw))
        self.norm = nn.Module()
        self.norm.weight = nn.Parameter(torch.ones(8, **kw))
        self.out_proj = nn.Linear(8, 4, bias=False, **kw)

    def forward(self, u, seq_idx=None):
        # the reference is differentiable: verify's grad rows see a backward through it
        sd = dict(self.state_dict())
        sd.update(dict(self.named_parameters()))
        out = ref_block(self.ir, sd, u, seq_idx)
        if BUG == "bad_grad":
            out = out + 0.5 * (out - out.detach())  # same forward, gradient scaled by 1.5
        return out.to(u.dtype)
'''


def make_fake(tmp_path: Path, bug=None, name="fake_block", cls="FakeBlock") -> Path:
    from test_reference import _tiny_ir

    ir, _ = _tiny_ir()
    ir = dict(ir, name=name, className=cls, config={"dModel": 4})
    root = tmp_path / name
    (root / name).mkdir(parents=True)
    (root / "manifest.json").write_text(json.dumps({"name": name}))
    (root / name / "ir.json").write_text(json.dumps(ir))
    (root / name / "__init__.py").write_text(FAKE_INIT.format(bug=bug, cls=cls))
    return root


def test_every_device_and_dtype_pair_has_a_tolerance_below_five_percent():
    for key, tols in TOLERANCES.items():
        assert set(tols) == {"elementwise", "dot", "block"}, key
        assert all(0 < t < 5e-2 for t in tols.values()), key


def test_verify_passes_a_correct_stand_in_package_on_every_op_and_the_block(tmp_path):
    rows = []
    report = run_verify(str(make_fake(tmp_path, name="fake_ok")), device="cpu", shapes="quick",
                        on_row=rows.append)
    ops = {r.op.split()[0] for r in report.rows}
    assert {"conv", "dt", "norm", "block"} <= ops and any(o.startswith("scan") for o in ops)
    assert rows == report.rows
    assert not report.failed, [(r.op, r.shape, r.rel_err, r.note) for r in report.failed]


def test_verify_grad_rows_on_the_stand_in_pass_and_name_each_tensor(tmp_path):
    report = run_verify(str(make_fake(tmp_path, name="fake_grads")), device="cpu", ops=["grads"])
    ops = [r.op for r in report.rows]
    assert "grad block u" in ops and "grad scan x" in ops and "grad scan A" in ops
    assert {"grad block in_proj.weight", "grad block out_proj.weight", "grad block D"} <= set(ops)
    assert all(r.tol == 1e-4 for r in report.rows)
    assert not report.failed, [(r.op, r.shape, r.rel_err, r.note) for r in report.failed]


def test_verify_grad_rows_catch_a_wrong_block_backward(tmp_path):
    report = run_verify(str(make_fake(tmp_path, bug="bad_grad", name="fake_bad_grad")), device="cpu",
                        ops=["grads"])
    failed = {r.op for r in report.failed}
    assert "grad block u" in failed and "grad block out_proj.weight" in failed
    assert not any(op.startswith("grad scan") for op in failed)


def test_no_grads_drops_the_gradient_rows(tmp_path):
    report = run_verify(str(make_fake(tmp_path, name="fake_nograds")), device="cpu", shapes="quick",
                        ops=None, grads=False)
    assert report.rows and not any(r.op.startswith("grad ") for r in report.rows)


def test_verify_fails_a_package_that_drops_the_D_term(tmp_path):
    report = run_verify(str(make_fake(tmp_path, bug="no_D", name="fake_no_d")), device="cpu", shapes="quick",
                        ops=["scan"])
    assert report.failed and all(r.op.startswith("scan") for r in report.failed)
    assert any(r.op.endswith("out") for r in report.failed)


def test_verify_fails_an_output_with_nan_and_says_so(tmp_path):
    report = run_verify(str(make_fake(tmp_path, bug="nan_tail", name="fake_nan")), device="cpu",
                        shapes="quick", ops=["norm"])
    assert report.rows and all(not r.passed and "NaN" in r.note for r in report.rows)


def test_verify_of_a_directory_without_a_package_names_the_fix(tmp_path):
    with pytest.raises(VerifyError, match="pnpm gen"):
        run_verify(str(tmp_path / "nothing"), device="cpu")


def test_the_verify_command_exits_non_zero_when_a_check_fails_and_writes_the_rows_and_grad_counts_to_json(tmp_path):
    pkg = make_fake(tmp_path, bug="bad_grad", name="fake_cli_grads")
    out = tmp_path / "rows.json"
    env = {"PYTHONPATH": str(PYDIR), "TRITON_INTERPRET": "1", "PATH": "/usr/bin:/bin"}
    p = subprocess.run([sys.executable, "-m", "mamba2_runner.verify", str(pkg), "--device", "cpu",
                        "--ops", "dt,grads", "--json", str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "FAIL" in p.stdout and "rel err" in p.stdout
    assert "of which gradients" in p.stdout
    data = json.loads(out.read_text())
    assert data["passed"] is False and data["n_failed"] > 0
    grad_rows = [r for r in data["rows"] if r["op"].startswith("grad ")]
    assert grad_rows and data["n_grad_rows"] == len(grad_rows)
    assert data["n_grad_failed"] == sum(1 for r in grad_rows if not r["passed"]) > 0
    p = subprocess.run([sys.executable, "-m", "mamba2_runner.verify", str(pkg), "--device", "cpu",
                        "--ops", "dt,grads", "--no-grads", "--json", str(out)], capture_output=True, text=True,
                       env=env, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    data = json.loads(out.read_text())
    assert data["n_grad_rows"] == 0 and data["n_rows"] > 0


GEN = pkg_dir()


@pytest.mark.skipif(not (GEN / "manifest.json").is_file(),
                    reason=f"{GEN} has not been generated yet (run `pnpm gen`); the lead removes this skip")
def test_the_generated_package_matches_the_reference_on_every_op_and_the_block():
    """verify's rows on the real package (conftest.pkg_dir: on CPU the seed's
    structure at toy sizes, test/fixtures/pkgs/e2e_tiny, chunk 32; on a GPU
    mamba2_simple; the rows' paths are the same on both, the sizes are the
    kernel tests'), one per distinct path: the CPU
    interpreter makes `run_verify(shapes="quick")` (85 s) repeat paths. Kept:
    conv, dt and norm at seqlen 1, 37 and the longest shape; the fused scan at
    1 and 37 without flags; both impls at the longest shape (it crosses the
    default chunk) with each public flag (z, seq_idx, initial states), the
    three in one call (each changes the output, so a wrong one fails the row);
    the block at seqlen 1, the seed check (2, 128) and, with seq_idx, at
    the shortest length that crosses the conv's row block and two of the
    fused walk's tiles and ends in a partial one (the block runs the fused
    scan, whose tile is LAUNCH.fused.block_q whatever the chunk: a longer
    sequence takes the same path, one launch, at 4x the interpreter's time;
    the chunk-crossing chunked path is the scan rows' at the longest shape).
    Dropped as repeats: the fused scan at 128 (the 37 and longest
    rows take the same multi-tile path), both impls at the longest without
    flags (the flagged rows' multi-chunk path; without flags on every impl:
    test_scan.py's "plain" rows), the block without seq_idx at 37 and the
    longest (the seed row's path). The kernels'
    own shapes and flags: packages/kernels/python/tests (test_scan.py); verify's
    own loop over shapes and ops: the stand-in tests above, and
    test/e2e/model-to-verify.test.ts (the command on a generated package)."""
    import importlib

    from mamba2_runner.pkgload import load_generated, load_ir
    from mamba2_runner.verify import Checker, Report, pkg_chunk, resolve_device, shapes_for

    from conftest import SEED

    report = Report(package=GEN.name, device=resolve_device("auto"), seed=SEED)  # conftest seeds torch with it
    pkg, ir = load_generated(GEN), load_ir(GEN)
    chk = Checker(pkg, ir, report.device, report, lambda r: None)
    dtype = "float32"
    bl = shapes_for(ir, "quick", pkg_chunk(pkg, ir))
    longest = max(bl, key=lambda s: (s[1], s[0]))
    short = [s for s in bl if s[1] < 64]  # seqlen 1 and 37
    impls = chk.scan_impls()
    assert "fused" in impls and "chunked" in impls, impls
    for b, l in short + [longest]:
        chk.conv(dtype, b, l)
        chk.dt(dtype, b, l)
        chk.norm(dtype, b, l)
    for b, l in short:
        chk.scan(dtype, b, l, "fused")
    b, l = longest
    for impl in impls:
        chk.scan(dtype, b, l, impl, with_z=True, with_seq_idx=True, with_init=True)
    chk.block(dtype, *short[0])
    chk.block(dtype, 2, 128, seed_check=ir["className"] == "Mamba2Simple")
    launch = importlib.import_module(pkg.__name__ + "._config").LAUNCH
    l_seq = max(launch.conv.block_l, 2 * launch.fused.block_q) + 5  # 69: seq_idx starts at 34, mid-tile
    if launch.scan_impl != "fused" or l_seq >= l:  # a package whose block runs the chunked scan: the longest
        l_seq = l
    chk.block(dtype, 1, l_seq, with_seq_idx=True)
    ops = {r.op.split()[0] for r in report.rows}
    assert {"conv", "dt", "norm", "block", "scan[fused]", "scan[chunked]"} <= ops, ops
    assert not report.failed, "\n".join(f"{r.op} {r.shape} {r.dtype}: {r.rel_err} > {r.tol} {r.note}"
                                        for r in report.failed)
