"""Benchmark the generated SSD scan and block against the incumbent (mamba_ssm).

    python -m mamba2_runner.bench [--pkg kernels-out/mamba2_simple] [--configs all|tiny|NAME,...]
        [--mode fwd|fwdbwd|both] [--providers fused,chunked,torch,mamba_ssm,mamba_ssm_fused]
        [--block-pkgs 1536=DIR,2560=DIR] [--compare-pkg old=DIR] [--chunk-size Q]
        [--out bench/results/<date>-<gpu>.json] [--check-only] [--budget-s S]

For every (config, provider): check on fresh random inputs against the float64
reference (mamba2_runner.reference), on a slice for big shapes; a wrong or
failing provider is recorded and never timed. Then time with
triton.testing.do_bench (median), rotating input sets, and for the seed shape
also under CUDA-graph replay (after all the plain timings). Each timed row
also records the peak memory of one call. The JSON is rewritten after every
config.

--mode fwdbwd (configs NAME-fb; --mode both runs the forward table, then
these): the timed call is the forward on inputs that require grad followed by
torch.autograd.grad(out, inputs, grad_out) with a fixed random grad_out (no
.grad accumulation, the same for every provider). The gradients of every
input (SSD) or of u and every parameter (block) are checked first at
batch 1 and seqlen min(L, 512) against torch autograd through the float64
references.

--compare-pkg LABEL=DIR runs our providers a second time from another
generated package (fused@LABEL, chunked@LABEL, generated@LABEL), each right
after the current one, so old and new are measured side by side in one run
(speedup_of_current on the @LABEL rows).

Modules (none imports another in a circle; tests/test_imports.py checks):
  configs.py    named shapes (BENCH_TARGETS) and their floors
  baseline.py   importing mamba_ssm (+ causal-conv1d's CUDA extension)
  providers.py  what is timed: generated packages, torch_ssd, mamba_ssm, mamba_ssm_fused
  checks.py     inputs and the check against the float64 reference
  timing.py     do_bench medians, CUDA-graph replay, peak memory
  rows.py       one config -> one record (check, then time), ratios
  report.py     metadata, JSON, table, failures
  cli.py        flags, the loop over configs, the worker op `bench`
"""
from .baseline import load_mamba_ssm  # noqa: E402,F401  (scripts/gpu/bwd_bench.py imports it from here)
