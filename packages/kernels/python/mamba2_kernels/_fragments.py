"""The fragments the library's wrappers use for the model path. This default
re-exports the standard ones (fragments.py), which serve every call. A
generated package replaces this file with its own `_fragments.py`: the
model's dt chain, scan epilogue and conv activation as @triton.jit functions
built from its IR, with the same names, and `*_SERVES` saying which calls
(flag values) they were built for; any other call gets the standard fragment.
"""
from .fragments import dt_chain as DT_CHAIN
from .fragments import scan_epilogue as SCAN_EPILOGUE
from .fragments import silu as CONV_ACTIVATION

DT_CHAIN_SERVES = None  # None: every call
SCAN_EPILOGUE_SERVES = None
CONV_ACTIVATION_NAME = "silu"  # the conv activation name CONV_ACTIVATION implements
