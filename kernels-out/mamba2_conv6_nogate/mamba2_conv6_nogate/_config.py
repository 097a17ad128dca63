# generated from examples/mamba2-conv6-nogate.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 9480897ab90b05dc27f89b9585bf4bf6042ed363de54c0be71ccbd479f275773
"""Codegen parameters and model dimensions of mamba2_conv6_nogate.

The kernels read their defaults from here; `pnpm gen` flags change them.
TUNED holds dispatch entries from `pnpm gen --tuned` (empty otherwise).
"""

# codegen parameters
CHUNK_SIZE = 256
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
D_MODEL = 256
D_INNER = 512
NHEADS = 8
HEADDIM = 64
D_STATE = 128
NGROUPS = 1
D_CONV = 6
CONV_DIM = 768
D_IN_PROJ = 776
CONV_ACTIVATION = "identity"
DT_SOFTPLUS = True
DT_LIMIT = (0.0, float("inf"))
HAS_D = True
D_PER_CHANNEL = False
GATE_IN_SCAN = False
HAS_NORM = True
NORM_GATED = False
NORM_BEFORE_GATE = False
NORM_GROUP_SIZE = 512
NORM_EPS = 0.00001
LEARNABLE_INIT_STATES = False
KERNELS = ("conv", "conv_bwd", "dt", "norm", "norm_bwd", "ssd_bwd", "ssd_chunked", "ssd_fused")
