"""plan.json of a sweep, as the supervisor and its workers read it.

Written by `pnpm bench --sweep` (packages/runner/src/sweep/plan.ts): generated
packages (one per headdim, dirs relative to the plan file), options, one
baseline per problem, and configs {id, package, problem, shape, params}.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .sweep_provenance import kernel_set_sha


@dataclass
class Plan:
    path: Path
    data: dict

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Plan":
        p = Path(path).resolve()
        return cls(p, json.loads(p.read_text()))

    @property
    def configs(self) -> list[dict]:
        return self.data["configs"]

    def config(self, cid: str) -> dict:
        for c in self.configs:
            if c["id"] == cid:
                return c
        raise KeyError(f"config {cid!r} is not in the plan {self.path}")

    def package_dir(self, key: str) -> Path:
        d = Path(self.data["packages"][key]["dir"])
        return d if d.is_absolute() else (self.path.parent / d).resolve()

    def kernel_file(self, key: str) -> Optional[Path]:
        """The package's kernels/ssd_fused.py, or None when the package is missing."""
        d = self.package_dir(key)
        try:
            name = json.loads((d / "manifest.json").read_text())["name"]
        except (OSError, ValueError, KeyError):
            return None
        f = d / name / "kernels" / "ssd_fused.py"
        return f if f.is_file() else None

    def kernel_shas(self) -> dict[str, Optional[str]]:
        """Kernel sha of each package's fused scan, over the package's copies of every library file it depends
        on (kernel_set_sha; None for a missing package: its configs record the error)."""
        out: dict[str, Optional[str]] = {}
        for key in self.data.get("packages", {}):
            f = self.kernel_file(key)
            out[key] = kernel_set_sha(f.parents[1], "kernels/ssd_fused.py") if f is not None else None
        return out

    def opt(self, name: str, default: Any) -> Any:
        return self.data.get("options", {}).get(name, default)
