"""mamba2_kernels: the one source of every Triton kernel that `pnpm gen`
copies into a generated package. Importable and testable on its own (CPU:
set TRITON_INTERPRET=1 before importing)."""
from .cross_scan import cross_scan_combined
from .functional import mamba_chunk_scan_combined
from .kernels.conv import causal_conv1d
from .kernels.dt import dt_transform
from .kernels.norm import rmsnorm_gated

__all__ = ["causal_conv1d", "cross_scan_combined", "dt_transform", "mamba_chunk_scan_combined", "rmsnorm_gated"]
