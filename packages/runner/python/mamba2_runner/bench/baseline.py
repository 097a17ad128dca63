"""The incumbent, imported as its users run it: mamba_ssm 2.3.2.post1 from
.baseline/mamba_ssm (scripts/fetch-baseline.sh), with causal-conv1d's CUDA
extension when it has been built (.baseline/causal_conv1d_cuda.so, sources in
.baseline/causal-conv1d/; ../shared/baseline/build_causal_conv1d.py).

The baseline is only RUN, never copied into the project. mamba_ssm's package
__init__ files import CUDA extensions we do not build (selective_scan_cuda);
we register empty parent packages whose __path__ points at the extracted
folders, so only the modules we need run. causal-conv1d is imported for real
when its extension loads; otherwise `causal_conv1d` resolves to ImportError,
mamba_ssm takes nn.Conv1d in Mamba2Simple's unfused path, and the fused path
(`mamba_ssm_fused`) is reported as skipped with the reason, never replaced.

This must run before anything imports mamba_ssm: ssd_combined.py and
mamba2_simple.py bind causal_conv1d's functions when they are imported.
"""
from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Dict

ROOT = Path(__file__).resolve().parents[5]
BASELINE_DIR = ROOT / ".baseline"
CC1D_SO = "causal_conv1d_cuda.so"
CC1D_SRC = "causal-conv1d"
_CC1D: dict = {}  # what the last load_causal_conv1d found (mamba_ssm binds it once per process)


class BaselineMissing(ImportError):
    """mamba_ssm sources are not in .baseline/ (run scripts/fetch-baseline.sh)."""


def _stub_package(name: str, path: Path) -> ModuleType:
    mod = ModuleType(name)
    mod.__path__ = [str(path)]  # a package whose __init__ never runs
    mod.__file__ = None
    mod.__package__ = name
    sys.modules[name] = mod
    return mod


def _ensure_packaging() -> None:
    """mamba_ssm compares Triton versions with packaging.version; supply a minimal
    stand-in if the machine lacks `packaging`."""
    try:
        import packaging.version  # noqa: F401
        return
    except ImportError:
        pass

    def parse(v: str):
        return tuple(int(x) for x in re.findall(r"\d+", str(v).split("+")[0])[:3])

    pkg = ModuleType("packaging")
    ver = ModuleType("packaging.version")
    ver.parse = parse
    pkg.version = ver
    pkg.__path__ = []
    sys.modules["packaging"] = pkg
    sys.modules["packaging.version"] = ver


def load_causal_conv1d(root: Path) -> dict:
    """Import causal_conv1d_cuda (the built .so in `root`) and the causal_conv1d
    package (its sources under root/causal-conv1d), the recipe of
    build_causal_conv1d.py. Returns {"loaded": True, "so", "version"} or
    {"loaded": False, "reason"}; on failure `causal_conv1d` is made to raise
    ImportError so mamba_ssm takes its pure-PyTorch conv."""
    _CC1D.clear()
    _CC1D.update(_load_causal_conv1d(root))
    return dict(_CC1D)


def _load_causal_conv1d(root: Path) -> dict:
    so, src = root / CC1D_SO, root / CC1D_SRC
    mod = sys.modules.get("causal_conv1d_cuda")
    if mod is not None and sys.modules.get("causal_conv1d") is not None:
        return {"loaded": True, "so": getattr(mod, "__file__", None),
                "version": getattr(sys.modules["causal_conv1d"], "__version__", None)}
    reason = None
    if not so.is_file():
        reason = (f"{so} does not exist: build it on the GPU machine with ../shared/baseline/build_causal_conv1d.py "
                  f"{src} --out $OUT and carry it back to .baseline/")
    elif not (src / "causal_conv1d" / "__init__.py").is_file():
        reason = f"{src}/causal_conv1d/ is missing: fetch Dao-AILab/causal-conv1d v1.6.1.post4 into {src}"
    if reason is None:
        added = [p for p in (str(so.parent), str(src)) if p not in sys.path]
        sys.path[:0] = added
        try:
            import torch  # noqa: F401  (the extension links against torch's libraries)

            for k in ("causal_conv1d", "causal_conv1d_cuda"):
                if sys.modules.get(k, 0) is None:
                    del sys.modules[k]
            cuda = importlib.import_module("causal_conv1d_cuda")
            pkg = importlib.import_module("causal_conv1d")
            importlib.import_module("causal_conv1d.cpp_functions")
            return {"loaded": True, "so": getattr(cuda, "__file__", str(so)),
                    "version": getattr(pkg, "__version__", None)}
        except Exception as e:  # recorded; the fused provider is skipped with it
            reason = f"import causal_conv1d_cuda from {so} failed: {type(e).__name__}: {e}"
            for k in [k for k in sys.modules if k == "causal_conv1d" or k.startswith("causal_conv1d.")
                      or k == "causal_conv1d_cuda"]:
                del sys.modules[k]
            for p in added:
                sys.path.remove(p)
    sys.modules["causal_conv1d"] = None  # `import causal_conv1d` -> ImportError
    sys.modules["causal_conv1d_cuda"] = None
    return {"loaded": False, "reason": reason}


def load_mamba_ssm(root: Path | str = BASELINE_DIR) -> Dict[str, object]:
    """mamba_ssm's Triton SSD, gated RMSNorm, Mamba2Simple and the fused
    block path, with causal-conv1d when it loads (see the module docstring)."""
    root = Path(root)
    src = root / "mamba_ssm"
    if not (src / "ops" / "triton" / "ssd_combined.py").is_file():
        raise BaselineMissing(f"no mamba_ssm sources under {root}. Run scripts/fetch-baseline.sh.")
    if "mamba_ssm.ops.triton.ssd_combined" in sys.modules:  # imported before: it bound what was found then
        cc1d = dict(_CC1D) or {"loaded": False, "reason": "mamba_ssm was imported before causal-conv1d was tried"}
    else:
        _ensure_packaging()
        cc1d = load_causal_conv1d(root)
        for ext in ("selective_scan_cuda", "selective_scan", "mamba_ssm.ops.selective_scan_interface"):
            sys.modules.setdefault(ext, None)  # `import ext` -> ImportError
        for name, sub in [("mamba_ssm", ""), ("mamba_ssm.ops", "ops"), ("mamba_ssm.ops.triton", "ops/triton"),
                          ("mamba_ssm.utils", "utils"), ("mamba_ssm.modules", "modules")]:
            existing = sys.modules.get(name)
            if existing is None or getattr(existing, "__file__", None) is not None:
                _stub_package(name, src / sub if sub else src)
    ssd = importlib.import_module("mamba_ssm.ops.triton.ssd_combined")
    norm = importlib.import_module("mamba_ssm.ops.triton.layernorm_gated")
    simple = importlib.import_module("mamba_ssm.modules.mamba2_simple")
    fused_ready = getattr(ssd, "causal_conv1d_fwd_function", None) is not None
    info = {}
    meta = src / "BASELINE.json"
    if meta.is_file():
        info = json.loads(meta.read_text())
    info["causal_conv1d"] = cc1d
    return {
        "mamba_chunk_scan_combined": ssd.mamba_chunk_scan_combined,
        "mamba_split_conv1d_scan_combined": ssd.mamba_split_conv1d_scan_combined,
        "layernorm_gated": norm,
        "Mamba2Simple": simple.Mamba2Simple,
        # why Mamba2Simple(use_mem_eff_path=True) cannot run here, or None
        "fused_unavailable": None if fused_ready else (
            f"mamba_ssm_fused needs causal-conv1d's CUDA extension: {cc1d.get('reason')}"),
        "info": info,
    }


def load_mamba_ssm_models(root: Path | str = BASELINE_DIR) -> Dict[str, object]:
    """mamba_ssm's full layer (modules/mamba2.py: Mamba2, whose step uses
    causal-conv1d's update kernel and selective_state_update) and its language
    model (models/mixer_seq_simple.py: MambaLMHeadModel, MambaConfig,
    utils/generation.py: InferenceParams), for the interop check of issue 10.

    Mamba1 (modules/mamba_simple.py, needs selective_scan_cuda) and the hub
    loaders (utils/hf.py, downloads) are never used with a Mamba2 config; they
    are registered as modules that raise if called, so the rest imports as its
    users run it."""
    base = load_mamba_ssm(root)
    src = Path(root) / "mamba_ssm"
    if not (src / "models" / "mixer_seq_simple.py").is_file():
        raise BaselineMissing(f"no mamba_ssm/models under {root}. Run scripts/fetch-baseline.sh again.")
    for name, sub in [("mamba_ssm.models", "models"), ("mamba_ssm.distributed", "distributed")]:
        if name not in sys.modules:
            _stub_package(name, src / sub)

    def _unused(what):
        def fail(*a, **k):
            raise RuntimeError(f"{what} is not part of the baseline loaded here (Mamba2 configs only, no downloads)")
        return fail

    for name, attrs in [("mamba_ssm.modules.mamba_simple", {"Mamba": _unused("Mamba (Mamba1)")}),
                        ("mamba_ssm.utils.hf", {"load_config_hf": _unused("load_config_hf"),
                                                "load_state_dict_hf": _unused("load_state_dict_hf")})]:
        if name not in sys.modules:
            mod = ModuleType(name)
            mod.__dict__.update(attrs)
            sys.modules[name] = mod
    layer = importlib.import_module("mamba_ssm.modules.mamba2")
    lm = importlib.import_module("mamba_ssm.models.mixer_seq_simple")
    cfg = importlib.import_module("mamba_ssm.models.config_mamba")
    gen = importlib.import_module("mamba_ssm.utils.generation")
    return {**base, "Mamba2": layer.Mamba2, "MambaLMHeadModel": lm.MambaLMHeadModel,
            "MambaConfig": cfg.MambaConfig, "InferenceParams": gen.InferenceParams}
