"""A shortcut in Triton's interpreter for the CPU test runs (both test trees'
conftests install it after select_device has set TRITON_INTERPRET=1).

Triton 3.6's interpreter patches triton.language (every builtin of tl, tl.core,
tl.math and tl.tensor, found with inspect.getmembers) once per launch, in
GridExecutor.__call__, and again at every call of a @triton.jit helper inside
the launch (InterpretedFunction.__call__), for every program of the grid. The
second patch finds the language already patched by the launch and throws its
scope away; it changes nothing, but it costs ~5 ms a call, and the library's
kernels call their shared helpers (dt prologue, segment ids, walk steps) in
every program: measured, 10-15% of a backward test's CPU time.

The shortcut skips a helper's patch when every language module the helper
sees (tl and tl.core in its globals) was patched by the launch it runs in;
anything else (a helper that sees a module the launch did not patch, a
helper called outside a launch) takes Triton's own path. The launch's patch
and its restore are Triton's, unchanged, so the kernels run exactly as
before. Installed only on the Triton version it was written against, and
only when the interpreter is on; MAMBA2_INTERP_SHORTCUT=0 leaves it out (to
rule it out when a CPU result looks wrong, or to time it).
"""
from __future__ import annotations

import inspect
import os

TRITON_VERSION = "3.6.0"


def install() -> bool:
    """Install the shortcut; True when it is (or already was) in place."""
    if os.environ.get("TRITON_INTERPRET") != "1" or os.environ.get("MAMBA2_INTERP_SHORTCUT") == "0":
        return False
    import triton

    if triton.__version__ != TRITON_VERSION:
        return False
    import triton.language as tl
    import triton.runtime.interpreter as interp

    if getattr(interp, "_mamba2_helper_patch_shortcut", False):
        return True
    if not (hasattr(interp, "_patch_lang") and hasattr(interp.GridExecutor, "__call__")):
        return False
    real_patch, real_launch = interp._patch_lang, interp.GridExecutor.__call__
    # pending: the launch's own patch is the next call; patched: what it patched
    state = {"pending": False, "patched": frozenset()}

    def langs(fn):
        return frozenset(id(v) for v in fn.__globals__.values() if inspect.ismodule(v) and v in (tl, tl.core))

    def patch_lang(fn):
        if state["pending"]:  # GridExecutor.__call__ patching for its launch: Triton's own
            state["pending"] = False
            scope = real_patch(fn)
            state["patched"] = langs(fn)
            return scope
        seen = langs(fn)
        if seen and seen <= state["patched"]:
            return None  # a helper inside the launch: its caller drops the scope unused
        return real_patch(fn)

    def launch(self, *args, **kwargs):
        state["pending"], state["patched"] = True, frozenset()
        try:
            return real_launch(self, *args, **kwargs)
        finally:
            state["pending"], state["patched"] = False, frozenset()

    interp._patch_lang = patch_lang
    interp.GridExecutor.__call__ = launch
    interp._mamba2_helper_patch_shortcut = True
    return True
