/**
 * The generated package installs into a fresh venv as a user would install
 * it: CPU torch by hand (the one thing pip cannot choose for you), then
 * `pip install <package>` and nothing else. Its pyproject.toml must bring
 * what it imports (triton, numpy), and it must import and run on CPU under
 * Triton's interpreter.
 *
 * Needs pip to reach an index; it skips (saying why) only when pip reports no
 * network. About a minute on an idle 2-core machine (--no-compile: byte-compiling
 * torch alone would double that).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const PKG = join(ROOT, 'kernels-out/mamba2_simple');
const NO_NETWORK = /NewConnectionError|Network is unreachable|Temporary failure in name resolution|Failed to establish a new connection|ProxyError/;

const REPO_PY = join(ROOT, '.venv/bin/python');

/**
 * "Installs" CPU torch by hand into the fresh venv's site-packages (argv[1]) the
 * cheap way: hard-links (copies across filesystems) the files of the repo
 * .venv's torch 2.13.0 and of the distributions it requires, .dist-info
 * included so pip sees them installed; nothing else: not triton, not numpy.
 * The same files pip would unpack from the same wheels, without unpacking
 * ~1 GB again (a third of this test's time on a 2-core CI machine). Links to
 * files, never to folders, so a pip uninstall in the fresh venv cannot reach
 * into the repo's. Exits 3 when the repo venv has no torch 2.13.0 (then pip
 * installs it).
 */
const LINK_TORCH = `
import importlib.metadata as md, os, shutil, sys
from packaging.requirements import Requirement
site = sys.argv[1]
try:
    if md.version("torch").split("+")[0] != "2.13.0":
        sys.exit(3)
except md.PackageNotFoundError:
    sys.exit(3)
def put(src, dst):
    if os.path.lexists(dst):
        return
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
todo, seen = ["torch"], set()
while todo:
    d = md.distribution(todo.pop())
    key = d.metadata["Name"].lower().replace("_", "-")
    if key in seen:
        continue
    seen.add(key)
    todo += [r.name for r in map(Requirement, d.requires or []) if not r.marker or r.marker.evaluate({"extra": ""})]
    files = [f for f in d.files or [] if f.parts[0] != ".."]
    for f in files:  # what its RECORD lists
        put(os.path.realpath(d.locate_file(f)), os.path.join(site, *f.parts))
    # and the byte-code compileall wrote into its own folders (RECORD predates it)
    for top in sorted({f.parts[0] for f in files if len(f.parts) > 1 and f.parts[0] != "__pycache__"}):
        src = os.path.realpath(d.locate_file(top))
        for dirpath, _, names in os.walk(src):
            for n in names:
                put(os.path.join(dirpath, n), os.path.join(site, top, os.path.relpath(dirpath, src), n))
print(" ".join(sorted(seen)))
`;

/** The interpreter the repo's .venv was made from (python3 when there is none). */
function basePython(): string {
  const venv = join(ROOT, '.venv/bin/python');
  if (!existsSync(venv)) return 'python3';
  return execFileSync(venv, ['-c', 'import sys; print(sys._base_executable)'], { encoding: 'utf8' }).trim();
}

function run(cmd: string, args: string[], cwd: string): { code: number; out: string } {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    // Nothing of the repo's Python setup leaks in.
    env: { ...process.env, PYTHONPATH: '', VIRTUAL_ENV: '', PIP_REQUIRE_VIRTUALENV: '' },
    timeout: 240_000,
  });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

describe('a fresh venv', () => {
  it('installs the generated package with only CPU torch installed by hand, imports it and runs it under the interpreter', { timeout: 300_000 }, (ctx) => {
    const work = mkdtempSync(join(tmpdir(), 'mamba2-fresh-venv-'));
    try {
      // A copy: pip builds in the source folder (build/, *.egg-info), which must not land in kernels-out/.
      const src = join(work, 'mamba2_simple');
      cpSync(PKG, src, { recursive: true });
      const venv = join(work, 'venv');
      const made = run(basePython(), ['-m', 'venv', venv], work);
      expect(made.code, made.out).toBe(0);
      const pip = join(venv, 'bin/pip');
      const py = join(venv, 'bin/python');

      const site = run(py, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], work).out.trim();
      const linked = existsSync(REPO_PY) ? run(REPO_PY, ['-c', LINK_TORCH, site], work) : { code: 3, out: '' };
      if (linked.code === 3) {
        const torch = run(pip, ['install', '--quiet', '--no-compile', 'torch==2.13.0'], work);
        if (torch.code !== 0 && NO_NETWORK.test(torch.out)) ctx.skip(`pip has no network: ${torch.out.split('\n').find((l) => NO_NETWORK.test(l))}`);
        expect(torch.code, torch.out).toBe(0);
      } else {
        expect(linked.code, linked.out).toBe(0);
        expect(linked.out.split(' ')).toContain('torch');
      }
      const torchOk = run(pip, ['show', 'torch'], work);
      expect(torchOk.out, 'torch must be installed (pip show) before the package is').toMatch(/^Version: 2\.13\.0/m);
      const bare = run(py, ['-c', 'import triton'], work);
      expect(bare.code, 'CPU torch alone must not bring triton, or this test checks nothing').not.toBe(0);

      const inst = run(pip, ['install', '--quiet', '--no-compile', src], work);
      if (inst.code !== 0 && NO_NETWORK.test(inst.out)) ctx.skip(`pip has no network: ${inst.out.split('\n').find((l) => NO_NETWORK.test(l))}`);
      expect(inst.code, inst.out).toBe(0);
      const check = run(pip, ['check'], work);
      expect(check.code, check.out).toBe(0);

      // Run from the temp folder, so `import mamba2_simple` is the installed copy.
      const script = [
        'import os, sys',
        'os.environ["TRITON_INTERPRET"] = "1"',
        'import importlib.metadata as md, pathlib',
        'import torch, mamba2_simple',
        'from mamba2_simple import Mamba2Simple',
        'assert "site-packages" in mamba2_simple.__file__, mamba2_simple.__file__',
        'assert (pathlib.Path(mamba2_simple.__file__).parent / "py.typed").exists(), "py.typed not installed"',
        'torch.manual_seed(int.from_bytes(os.urandom(4), "little"))',
        'block = Mamba2Simple(256)',
        'u = torch.randn(1, 24, 256)',
        'y = block(u)',
        'assert y.shape == (1, 24, 256), y.shape',
        'assert torch.isfinite(y).all(), "non-finite output"',
        'assert y.abs().sum() > 0',
        'print("versions", sys.version.split()[0], *(d + "=" + md.version(d) for d in ("torch", "triton", "numpy")))',
      ].join('\n');
      const ran = run(py, ['-c', script], work);
      expect(ran.code, ran.out).toBe(0);
      expect(ran.out).toMatch(/versions 3\.\d+\.\d+ torch=2\.13\.\d+\S* triton=3\.6\.\d+ numpy=2\.\d+/);
      // requires-python says what the README says (Python 3.10+).
      expect(readFileSync(join(PKG, 'pyproject.toml'), 'utf8')).toMatch(/requires-python = ">=3\.10"/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
