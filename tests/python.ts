// Runs Python scripts for the interoperability tests (NumPy writes the .npy files the loader reads; PyTorch loads
// what `deadunits export --torch` writes). The interpreter: $DEADUNITS_PYTHON, else Debian's /usr/bin/python3
// (where scripts/setup-python.sh installs python3-numpy and python3-torch), else python3 on the PATH: the first
// that imports every module asked for. None: the test fails with what to install (never skips).
import { execFileSync, spawnSync } from 'node:child_process';

const found = new Map<string, string>();

export function pythonWith(modules: string[]): string {
  const key = modules.join(',');
  const cached = found.get(key);
  if (cached) return cached;
  const candidates = [process.env.DEADUNITS_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
    if (r.status === 0) {
      found.set(key, python);
      return python;
    }
  }
  throw new Error(
    `no Python with ${modules.join(' and ')} (tried ${candidates.join(', ')}): run scripts/setup-python.sh as root on Debian, ` +
      `or pip install ${modules.join(' ')} and set DEADUNITS_PYTHON`,
  );
}

/** Runs `script` (Python source) with `args`, in `cwd`; returns stdout; throws with stderr on failure. */
export function runPython(modules: string[], script: string, args: string[] = [], cwd?: string): string {
  const python = pythonWith(modules);
  try {
    return execFileSync(python, ['-c', script, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 * 2 ** 20, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`python failed: ${e.stderr || e.message}`);
  }
}
