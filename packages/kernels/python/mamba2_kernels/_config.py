"""Launch configuration of the library itself (used when it is imported
directly, as its tests do). A generated package replaces this file with its
model's `_config.py`, which builds LAUNCH from the values codegen chose (and
its tuned rows) and adds the model's dimensions.
"""
from .launch import LaunchConfig

LAUNCH = LaunchConfig()

# the name the runner reads for the module's default chunk (LAUNCH holds it)
CHUNK_SIZE = LAUNCH.chunked.chunk_size
