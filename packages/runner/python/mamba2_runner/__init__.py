"""The runner's Python side: worker, reference backend, verify, bench, sweeps."""
