# generated from examples/mamba2-builder-gate.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 01a4d70e009f36db6958a2bfc0484cbee5f23ac65cb30c1ce3d4fa4a6ee50f59
"""Codegen parameters and model dimensions of mamba2_builder_gate.

The kernels read their defaults from here; `pnpm gen` flags change them.
TUNED holds dispatch entries from `pnpm gen --tuned` (empty otherwise).
"""

# codegen parameters
CHUNK_SIZE = 64
SCAN_IMPL = "fused"
SCAN_BLOCK_P = 0
SCAN_WARPS = 4
SCAN_STAGES = 2
CONV_BLOCK_L = 64
CONV_BLOCK_C = 64
CONV_WARPS = 4
NORM_WARPS = 4
TUNED = []

# model dimensions and structure
D_MODEL = 128
D_INNER = 256
NHEADS = 8
HEADDIM = 32
D_STATE = 64
NGROUPS = 1
D_CONV = 4
CONV_DIM = 384
D_IN_PROJ = 648
CONV_ACTIVATION = "silu"
DT_SOFTPLUS = True
DT_LIMIT = (0.0, float("inf"))
HAS_D = True
D_PER_CHANNEL = False
GATE_IN_SCAN = True
HAS_NORM = False
NORM_GATED = False
NORM_BEFORE_GATE = False
NORM_GROUP_SIZE = None
NORM_EPS = None
LEARNABLE_INIT_STATES = False
KERNELS = ("conv", "conv_bwd", "dt", "ssd_bwd", "ssd_chunked", "ssd_fused")
