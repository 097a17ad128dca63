"""Issue 13's tuning: kernel sweeps (forward and backward), the model-level sweep, tuned vs default.

    python -m mamba2_runner.tuning kernels --out K.jsonl [--smoke] [--budget-s 120] [--workers 15]
    python -m mamba2_runner.tuning model   --out M.jsonl [--smoke] [--budget-s 120] [--workers 15]
    python -m mamba2_runner.tuning tuned   --default bench/pkgs --tuned bench/pkgs-tuned --sweep K.jsonl --out T.json
    python -m mamba2_runner.tuning summary K.jsonl M.jsonl

engine.py: check in parallel processes, then time one by one; kernels.py and
model.py: the grids, inputs and float64 checks; floor.py: fraction of the
roofline; block.py: a Mamba-2 block built from the kernel library at any
(d_model, headdim, d_state) (the GPU box has no Node to generate packages);
tuned_bench.py: the tuned and the default package side by side.
"""
