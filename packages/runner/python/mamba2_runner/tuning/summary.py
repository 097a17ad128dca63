"""A short text summary of a tuning results file: per problem, the default, the best of ours, the incumbent."""
from __future__ import annotations


def _fmt(v, d=4):
    return "-" if v is None else f"{v:.{d}f}"


def summary(records: list[dict], title: str = "") -> str:
    recs = [r for r in records if r.get("type", "config") == "config"]
    by: dict[str, list[dict]] = {}
    for r in recs:
        by.setdefault(r.get("problem", "?"), []).append(r)
    lines = [f"== {title}: {len(recs)} configs, "
             f"{sum(r.get('status') == 'ok' for r in recs)} ok, {sum(r.get('status') == 'wrong' for r in recs)} wrong"]
    lines.append(f"{'problem':<34} {'default ms':>10} {'best ms':>9} {'speedup':>7} {'noise':>6} {'mamba_ssm':>9} "
                 f"{'floor%':>6}  best config")
    for prob, rs in sorted(by.items()):
        ours = [r for r in rs if r.get("provider", "ours") == "ours" and r.get("ms") is not None]
        inc = next((r for r in rs if r.get("provider") == "mamba_ssm"), None)
        best = min(ours, key=lambda r: r["ms"], default=None)
        d = next((r for r in rs if not r.get("params") and r.get("provider", "ours") == "ours"), None)
        frac = best.get("floor_frac") if best else None
        lines.append(f"{prob:<34} {_fmt(d and d.get('ms')):>10} {_fmt(best and best['ms']):>9} "
                     f"{_fmt(best and best.get('speedup'), 2):>7} {_fmt(d and d.get('noise'), 3):>6} "
                     f"{_fmt(inc and inc.get('ms')):>9} {'-' if frac is None else f'{100 * frac:.0f}':>6}  "
                     f"{best['id'].split('@')[0] if best else 'none ok'}")
    return "\n".join(lines)
