"""Launch defaults of the library itself (used when it is imported directly,
as its tests do). A generated package replaces this file with its model's
`_config.py`, which defines the same names with the values codegen chose.
"""

# launch settings
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
