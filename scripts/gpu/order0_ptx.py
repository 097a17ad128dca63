"""The plain scan's kernels (ORDER 0, the defaults a launch without an order
gets) built for sm_90 with Triton's own toolchain, no GPU needed, from two
library roots, and their PTX compared with the debug bytes (file paths, line
numbers) stripped: evidence that adding scan orders (issue 12) left the
normal scan's code as it was.

    git archive <old-commit> packages/kernels/python | tar -x -C /tmp/old
    .venv/bin/python scripts/gpu/order0_ptx.py /tmp/old/packages/kernels/python packages/kernels/python
Prints one line per kernel (IDENTICAL / DIFFERENT); exit status 1 if any differs.
(2026-12-01, 28b38d3 vs the cross-scan commit: all eight IDENTICAL. The plain walk + re-walk
build, EXACT=False, was added 2026-12-02.)
"""
import hashlib, os, re, subprocess, sys, tempfile
if len(sys.argv) == 3:  # the driver: one process per root (each imports its own mamba2_kernels)
    outs = []
    for root in sys.argv[1:]:
        d = tempfile.mkdtemp()
        subprocess.run([sys.executable, __file__, root, "--dump", d], check=True)
        outs.append(d)
    bad = 0
    for name in sorted(os.listdir(outs[0])):
        a, b = (open(os.path.join(d, name)).read() for d in outs)
        same = a == b
        bad += not same
        print(f"{name:40s} {'IDENTICAL' if same else 'DIFFERENT'} ({a.count(chr(10))} PTX lines)")
    sys.exit(1 if bad else 0)
root, _, dump = sys.argv[1:4]
sys.path.insert(0, root)
import triton.language as tl
sys.path.insert(1, os.path.dirname(os.path.abspath(__file__)))
import sm90  # scripts/gpu: imports no mamba2_kernels
from mamba2_kernels.kernels import ssd_fused as F, ssd_bwd as W
from mamba2_kernels import fragments as FR
from mamba2_kernels import _fragments as UF
def build(fn, ptrs, consts, num_warps=4, num_stages=2, maxnreg=None):
    consts = dict(consts)
    for n in fn.arg_names:  # other defaulted args (dt cumsum) left at their defaults
        if n in ("seq_idx", "stride_sb", "stride_sl") and n not in ptrs and fn is F._ssd_dt_cumsum_kernel:
            consts[n] = None if n == "seq_idx" else 0
    for prm in fn.params:  # a pointer a plain launch leaves at its default None is the constant None, as the JIT makes it
        if not prm.is_constexpr and prm.default is None and prm.name not in ptrs:
            consts.setdefault(prm.name, None)
    # the other constexprs at their defaults, HI / WI as the 1 a plain launch passes (sm90.signature)
    k = sm90.build(fn, ptrs, consts, num_warps=num_warps, num_stages=num_stages, maxnreg=maxnreg, ones=("HI", "WI"))
    # the DWARF sections at the end (file names, lengths, offsets) say where code came from, not what it is
    ptx = re.split(r"^\s*\.section\s+\.debug", k.asm["ptx"], maxsplit=1, flags=re.M)[0]
    body = "\n".join(l for l in ptx.split("\n")
                     if not l.strip().startswith((".loc", ".file", "//", ".b8")) and "debug" not in l)
    tag = "".join(f"_{k}={consts[k]}" for k in ("REVERSE", "HAS_Z", "EXACT") if k in consts)
    open(os.path.join(dump, fn.__name__ + tag), "w").write(body)
    return hashlib.sha256(body.encode()).hexdigest()[:16], len(body)
bf = "bf16"
epi = FR.scan_epilogue if hasattr(FR, "scan_epilogue") else None
chain = FR.dt_chain
common = dict(DOT_DTYPE=tl.bfloat16, HAS_D=True, D_PER_CHANNEL=False, HAS_Z=True, HAS_INIT=False, HAS_SEQ_IDX=False, STORE_FINAL=False, SCAN_EPILOGUE=epi)
fp = {n: bf for n in ("x", "B", "C", "z", "out")}; fp.update(dt="fp32", A="fp32", D="fp32", dt_bias="fp32", init="fp32", seq_idx="i32", final="fp32", dtp="fp32", csp="fp32", sseg="fp32", dseg="fp32")
rows = []
rows.append(("fused one-launch", build(F._ssd_fused_fwd_kernel, fp, dict(common, CHUNK=32, BLOCK_P=64, BLOCK_N=128, HAS_DT_BIAS=True, DT_SOFTPLUS=True, DT_CHAIN=chain))))
rows.append(("fused T", build(F._ssd_fused_T_kernel, fp, dict(common, CHUNK=32, BLOCK_P=64, BLOCK_N=128, SPLIT=True), maxnreg=168, num_stages=3)))
# the launch every large forward makes: the plain walk, then the exact re-walk of flagged programs (a noinline call)
rows.append(("fused T plain+rewalk", build(F._ssd_fused_T_kernel, dict(fp, flags="i32"), dict(common, CHUNK=32, BLOCK_P=64, BLOCK_N=128, SPLIT=True, EXACT=False), maxnreg=168, num_stages=3)))
rows.append(("state T", build(F._ssd_state_T_kernel, fp, dict(CHUNK=32, BLOCK_P=64, BLOCK_N=128, DOT_DTYPE=tl.bfloat16, HAS_SEQ_IDX=False))))
rows.append(("dt cumsum", build(F._ssd_dt_cumsum_kernel, dict(dt="fp32", A="fp32", dt_bias="fp32", dtp="fp32", csp="fp32"), dict(CHUNK=32, BLOCK_H=64, HAS_DT_BIAS=True, DT_SOFTPLUS=True, DT_CHAIN=chain, HAS_SEQ_IDX=False))))
wp = dict(lt=bf, rt=bf, z=bf, dtp="fp32", csp="fp32", seq_idx="i32", start="fp32", out_states=bf, last="fp32")
for rev in (False, True):
    rows.append((f"bwd walk rev={rev}", build(W._ssd_bwd_walk_kernel, wp, dict(CHUNK=32, BLOCK_P=64, BLOCK_N=128, DOT_DTYPE=tl.bfloat16, DOT_PRECISION="tf32", REVERSE=rev, HAS_Z=rev, HAS_START=False, HAS_SEQ_IDX=False, STORE_LAST=False), maxnreg=168)))
cp = dict(x=bf, dt="fp32", A="fp32", B=bf, C=bf, D="fp32", z=bf, dt_bias="fp32", dtp="fp32", csp="fp32", seq_idx="i32", states=bf, dstates=bf, dout=bf, dx=bf, dz=bf, ddt="fp32", dB_part="fp32", dC_part="fp32", dA_part="fp32", dD_part="fp32")
for hz in (False, True):
    rows.append((f"bwd chunk v4 z={hz}", build(W._ssd_bwd_chunk_v4_kernel, cp, dict(CHUNK=32, BLOCK_P=64, BLOCK_N=128, DOT_DTYPE=tl.bfloat16, DOT_PRECISION="tf32", HAS_D=True, D_PER_CHANNEL=False, HAS_Z=hz, HAS_DT_BIAS=True, DT_SOFTPLUS=True, HAS_SEQ_IDX=False, DO_X=True, DO_BC=True), num_warps=8)))
