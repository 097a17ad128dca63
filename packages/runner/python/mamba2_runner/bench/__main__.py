"""python -m mamba2_runner.bench (see the package docstring)."""
import sys

from .cli import main

sys.exit(main())
