"""A sweep over several GPUs (and hosts) under torchrun.

    torchrun --nproc-per-node N -m mamba2_runner.sweep run --plan plan.json --out R [--resume]

`python -m mamba2_runner.sweep run` comes here when torchrun's RANK, WORLD_SIZE
and LOCAL_RANK are set. Every rank:

1. joins the process group (nccl when CUDA is usable, gloo on CPU) and pins
   cuda:LOCAL_RANK;
2. sends rank 0 what its `R.rank<k>.jsonl` holds from an earlier, killed run;
   rank 0 merges that into R (each id once, existing lines kept) and sends
   every rank the ids now done;
3. takes its shard of the configs left (config i of the plan's remaining list
   goes to rank i % world) and runs it with the single-GPU supervisor (child
   process, watchdog, restarts) into its own `R.rank<k>.jsonl`, fsync'ed line
   by line: a killed rank loses only its in-flight config;
4. sends its records to rank 0, which appends the ids R lacks, fsyncs, and
   the rank files are removed.

Results travel over torch.distributed, not the filesystem, so R may live on
rank 0's host only; the plan and its packages must exist on every host.
Ranks wait for each other in collectives, so the process group's timeout is
set from --budget-s (or MAMBA2_SWEEP_DIST_TIMEOUT_S, default 7 days).
"""
from __future__ import annotations

import glob
import os
import socket
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Optional, Sequence, TypeVar

from .sweep_plan import Plan
from .sweep_provenance import MixedKernelsError, check_one_kernel
from .sweep_results import ResultsLock, ResultsLockedError, ResultsWriter, done_ids, log, read_results, summary
from .sweep_supervisor import run

T = TypeVar("T")


def shard(items: Sequence[T], rank: int, world: int) -> list[T]:
    """Item i goes to rank i % world: disjoint across ranks, covering, and the
    same on every rank for the same input (the order of `items` is kept)."""
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"rank {rank} is not in a world of {world}")
    return [x for i, x in enumerate(items) if i % world == rank]


def rank_file(out: Path, rank: int) -> Path:
    """R.jsonl -> R.rank<k>.jsonl (R.rank<k> when R has no .jsonl suffix)."""
    if out.suffix == ".jsonl":
        return out.with_name(f"{out.stem}.rank{rank}.jsonl")
    return out.with_name(f"{out.name}.rank{rank}")


def rank_files_here(out: Path) -> list[Path]:
    """Rank files of `out` on this host (leftovers of a killed run, any world size)."""
    pat = f"{out.stem}.rank*.jsonl" if out.suffix == ".jsonl" else f"{out.name}.rank*"
    return sorted(Path(p) for p in glob.glob(str(out.with_name(pat))) if not p.endswith((".inflight", ".ids.json")))


def merge_into(out: Path, batches: Sequence[tuple[dict, list[dict]]]) -> tuple[int, set[str]]:
    """Appends to `out` each record whose id `out` lacks (first one wins), fsync'ed.

    `batches` are (tags, records): the tags (rank, host, gpu) are added to each
    record that lacks them. Existing lines are never rewritten; a torn last
    line is cut first. Returns (lines appended, ids now done)."""
    w = ResultsWriter(out)  # truncates a torn last line
    try:
        done = done_ids(read_results(out)[0])
        added = 0
        for tags, records in batches:
            for r in records:
                if r.get("type", "config") != "config" or "id" not in r or r["id"] in done:
                    continue
                w.append({**r, **{k: v for k, v in tags.items() if k not in r}})
                done.add(r["id"])
                added += 1
        return added, done
    finally:
        w.close()


def _dist_timeout(budget_s: Optional[float], timeout_s: float) -> timedelta:
    env = os.environ.get("MAMBA2_SWEEP_DIST_TIMEOUT_S")
    if env:
        return timedelta(seconds=float(env))
    if budget_s is not None:  # the budget, the last config's watchdog, and slack for the merge
        return timedelta(seconds=budget_s + 2 * timeout_s + 600)
    return timedelta(days=7)


def _child_env(local_rank: int, cuda: bool) -> dict:
    """The rank's child sees only its GPU (as cuda:0)."""
    if not cuda:
        return {}
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = [v.strip() for v in visible.split(",") if v.strip()] if visible else []
    return {"CUDA_VISIBLE_DEVICES": ids[local_rank] if local_rank < len(ids) else str(local_rank)}


def run_distributed(plan_path: str, out_path: str, resume: bool, budget_s: Optional[float], timeout_s: float) -> int:
    import torch
    import torch.distributed as dist

    rank, world, local = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"])
    deadline = None if budget_s is None else time.time() + budget_s
    cuda = torch.cuda.is_available() and os.environ.get("TRITON_INTERPRET") != "1"
    if cuda:
        torch.cuda.set_device(local)
    backend = "nccl" if cuda else "gloo"
    dist.init_process_group(backend=backend, timeout=_dist_timeout(budget_s, timeout_s))
    out = Path(out_path).resolve()
    mine = rank_file(out, rank)
    tags = {"rank": rank, "host": socket.gethostname(), "gpu": _child_env(local, cuda).get("CUDA_VISIBLE_DEVICES", f"cpu{local}")}

    def gather(obj: Any) -> list[Any]:
        objs: list[Any] = [None] * world
        dist.all_gather_object(objs, obj)
        return objs

    def from_rank0(obj: Any) -> Any:
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    lock: Optional[ResultsLock] = None
    try:
        # 1. refuse to mix with results unless --resume, to share the results file with another
        #    sweep, or to mix kernels (every rank must agree on the exit)
        has = mine.exists() and mine.stat().st_size > 0
        refusal: Optional[str] = None
        if rank == 0:
            has = has or (out.exists() and out.stat().st_size > 0) or any(p.stat().st_size > 0 for p in rank_files_here(out))
            try:
                lock = ResultsLock(out)
                earlier = [r for f in [out, *rank_files_here(out)] for r in read_results(f).records]
                check_one_kernel(Plan.load(plan_path), earlier, out)
            except (ResultsLockedError, MixedKernelsError) as exc:
                refusal = str(exc)
        if has and not resume:
            refusal = refusal or (f"{out} (or its rank files) already has results: pass --resume to continue it, "
                                  "or remove them to start over")
        refusals = [x for x in gather(refusal) if x]
        if refusals:
            if rank == 0:
                log(f"sweep: {refusals[0]}")
            return 2

        # 2. leftovers of a killed run -> R; every rank learns what is done
        leftovers = gather((tags, read_results(mine)[0]))
        if rank == 0:
            local_files = [({"host": tags["host"]}, read_results(p)[0]) for p in rank_files_here(out)]
            added, done = merge_into(out, [*leftovers, *local_files])
            if added:
                log(f"sweep: merged {added} records of an earlier run's rank files into {out}")
            for p in rank_files_here(out):
                p.unlink(missing_ok=True)
            done_list: Optional[list[str]] = sorted(done)
        else:
            done_list = None
        done_set = set(from_rank0(done_list))
        mine.unlink(missing_ok=True)

        # 3. this rank's shard, run like a single-GPU sweep into its own file
        plan = Plan.load(plan_path)
        todo = [c["id"] for c in plan.configs if c["id"] not in done_set]
        ids = shard(todo, rank, world)
        log(f"sweep rank {rank}/{world} ({backend}, {tags['gpu']} on {tags['host']}): "
            f"{len(ids)} of {len(todo)} configs left")
        rc = 0
        if ids:
            rc = run(plan_path, str(mine), True, None, timeout_s, ids=ids, deadline=deadline,
                     child_env=_child_env(local, cuda), print_summary=False)

        # 4. everything to rank 0, merged once per id
        batches = gather((tags, read_results(mine)[0]))
        rcs = gather(rc)
        if rank == 0:
            added, done = merge_into(out, batches)
            left = len({c["id"] for c in plan.configs} - done)
            log(f"sweep: {len(plan.configs) - left}/{len(plan.configs)} configs recorded in {out} "
                f"({added} from {world} ranks)")
            print(summary(read_results(out)[0]), flush=True)
            final = 1 if any(r != 0 for r in rcs) or (left and deadline is None) else 0
        else:
            final = None
        final = from_rank0(final)  # rank 0 has merged: the rank files can go
        mine.unlink(missing_ok=True)
        return int(final)
    finally:
        if lock is not None:
            lock.release()
        dist.destroy_process_group()
