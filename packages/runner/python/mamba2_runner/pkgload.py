"""Import a generated package from kernels-out/<name> and pick the backend.

Triton decides at decoration time whether a kernel is interpreted, so
TRITON_INTERPRET must be set before the generated package is imported: on a
machine without CUDA we set it, and the kernels run on CPU tensors.
"""
from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from types import ModuleType


def select_device() -> str:
    """'cuda' when a GPU is visible, else 'cpu' with Triton's interpreter on."""
    import torch

    if torch.cuda.is_available() and os.environ.get("TRITON_INTERPRET") != "1":
        return "cuda"
    os.environ["TRITON_INTERPRET"] = "1"
    return "cpu"


def read_manifest(pkg_dir: str | os.PathLike[str]) -> dict:
    path = Path(pkg_dir) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"no manifest.json in {pkg_dir}: this is not a generated package. "
            "Run `pnpm gen` first, or pass kernels-out/<name>."
        )
    return json.loads(path.read_text())


def load_generated(pkg_dir: str | os.PathLike[str], alias: str | None = None) -> ModuleType:
    """Import the Python package inside kernels-out/<name> (and return it).

    alias: import it under that module name instead (the package's imports of
    its own modules are relative, so they follow), so that two packages of the
    same name (an old and a new build, bench --compare-pkg) live in one process."""
    pkg_dir = Path(pkg_dir).resolve()
    name = read_manifest(pkg_dir)["name"]
    if alias is not None:
        return _load_aliased(pkg_dir / name, alias)
    if name in sys.modules:
        mod = sys.modules[name]
        if Path(mod.__file__).resolve().parent.parent == pkg_dir:
            return mod
        # another package of the same name was imported: drop it and its submodules
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]
    sys.path.insert(0, str(pkg_dir))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(pkg_dir))


def _load_aliased(src: Path, alias: str) -> ModuleType:
    import importlib.util

    mod = sys.modules.get(alias)
    if mod is not None:
        if Path(mod.__file__).resolve().parent == src.resolve():
            return mod
        raise ImportError(f"module name {alias!r} is already taken by {mod.__file__}; pick another alias for {src}")
    spec = importlib.util.spec_from_file_location(alias, src / "__init__.py", submodule_search_locations=[str(src)])
    if spec is None or spec.loader is None:
        raise ImportError(f"{src} has no __init__.py: not a generated package")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[alias] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        for key in [k for k in sys.modules if k == alias or k.startswith(alias + ".")]:
            del sys.modules[key]
        raise
    return mod


def load_ir(pkg_dir: str | os.PathLike[str]) -> dict:
    name = read_manifest(pkg_dir)["name"]
    return json.loads((Path(pkg_dir) / name / "ir.json").read_text())
