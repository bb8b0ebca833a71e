// The container's entrypoint (docker/entrypoint.sh), run with stand-ins for `ldconfig` and `node`: it adds an ICD
// file for the NVIDIA Vulkan driver only when the driver's library is mounted and no ICD file names it, and
// otherwise leaves the Vulkan loader alone (lavapipe, or the toolkit's own ICD file). No docker engine is needed.
import { execFile } from 'node:child_process';
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ENTRYPOINT = resolve(import.meta.dirname, '../../docker/entrypoint.sh');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deadunits-entrypoint-'));
  // A `node` that reports what it was started with instead of running the CLI.
  await mkdir(join(dir, 'bin'));
  await writeFile(join(dir, 'bin', 'node'), '#!/bin/sh\necho "args=$*"\necho "VK_ADD_DRIVER_FILES=${VK_ADD_DRIVER_FILES:-}"\n');
  await chmod(join(dir, 'bin', 'node'), 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the entrypoint with a fake ldconfig that lists `libraries`. */
async function entrypoint(libraries: string[], env: Record<string, string> = {}): Promise<{ stdout: string; runtime: string }> {
  const runtime = await mkdtemp(join(dir, 'run-'));
  const fakeBin = await mkdtemp(join(dir, 'path-'));
  const listing = libraries.map((l) => `\t${l} (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/${l}`).join('\\n');
  await writeFile(join(fakeBin, 'ldconfig'), `#!/bin/sh\nprintf '${listing}\\n'\n`);
  await chmod(join(fakeBin, 'ldconfig'), 0o755);
  const stdout = await new Promise<string>((done, fail) =>
    execFile(
      'sh',
      [ENTRYPOINT, 'sweep', 'status', '/sweeps/x'],
      { env: { PATH: `${fakeBin}:${join(dir, 'bin')}:/usr/bin:/bin`, XDG_RUNTIME_DIR: runtime, ...env } },
      (error, out) => (error ? fail(error) : done(out)),
    ),
  );
  return { stdout, runtime };
}

describe('docker/entrypoint.sh', () => {
  beforeAll(async () => {
    // The check looks at the real ICD folders too: on a machine with the NVIDIA driver installed this test means nothing.
    for (const f of ['/etc/vulkan/icd.d/nvidia_icd.json', '/usr/share/vulkan/icd.d/nvidia_icd.json'])
      await expect(access(f), `${f} exists on this machine`).rejects.toThrow();
  });

  it('runs the CLI with the arguments given', async () => {
    const { stdout } = await entrypoint([]);
    expect(stdout).toContain('args=/opt/deadunits/bin/deadunits.mjs sweep status /sweeps/x');
  });

  it('without the NVIDIA driver, adds nothing: Dawn finds lavapipe', async () => {
    const { stdout } = await entrypoint(['libvulkan.so.1']);
    expect(stdout).toContain('VK_ADD_DRIVER_FILES=\n');
  });

  it('with the driver mounted but no ICD file naming it, writes one and adds it to the loader', async () => {
    const { stdout, runtime } = await entrypoint(['libvulkan.so.1', 'libGLX_nvidia.so.0']);
    const icd = join(runtime, 'nvidia_icd.json');
    expect(stdout).toContain(`VK_ADD_DRIVER_FILES=${icd}\n`);
    expect(JSON.parse(await readFile(icd, 'utf8'))).toEqual({
      file_format_version: '1.0.0',
      ICD: { library_path: 'libGLX_nvidia.so.0', api_version: '1.3.0' },
    });
    // Files added by someone else stay, after ours.
    expect((await entrypoint(['libGLX_nvidia.so.0'], { VK_ADD_DRIVER_FILES: '/x.json' })).stdout).toMatch(
      /VK_ADD_DRIVER_FILES=\/.*nvidia_icd\.json:\/x\.json\n/,
    );
  });

  it('leaves an explicit driver choice alone', async () => {
    const { stdout } = await entrypoint(['libGLX_nvidia.so.0'], { VK_ICD_FILENAMES: '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json' });
    expect(stdout).toContain('VK_ADD_DRIVER_FILES=\n');
  });
});
