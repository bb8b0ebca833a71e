// The image the Dockerfile describes, read without a docker engine: its stages, what each copies and runs, and the
// environment its npm commands see. The image must hold the package as `npm pack` builds it (compiled JavaScript,
// runtime dependencies only), so that bin/deadunits.mjs runs lib/cli.js; a stage that builds must have the dev
// dependencies (npm ci leaves them out when NODE_ENV=production is set, as the image's last stage sets it).
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = posix.join(import.meta.dirname, '../..');

interface Instruction {
  op: string;
  args: string;
}

interface Stage {
  name: string | null;
  instructions: Instruction[];
}

/** The Dockerfile's stages: continuation lines joined, comments dropped. */
function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    if (op.toUpperCase() === 'FROM') {
      stages.push({ name: /\bAS\s+(\S+)/i.exec(args)?.[1] ?? null, instructions: [] });
      continue;
    }
    const stage = stages.at(-1)!;
    stage.instructions.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

/** The ENV in effect at each instruction of `stage` (ENV name=value pairs). */
function envAt(stage: Stage, index: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { op, args } of stage.instructions.slice(0, index))
    if (op === 'ENV') for (const [, name, value] of args.matchAll(/(\w+)=(\S+)/g)) env[name] = value;
  return env;
}

/** Whether the npm command in `run` leaves the dev dependencies out, with `env` in effect. */
function omitsDev(run: string, env: Record<string, string>): boolean {
  return /--omit[= ]dev|--production\b/.test(run) || (env.NODE_ENV === 'production' && !/--include[= ]dev/.test(run));
}

let stages: Stage[];
beforeAll(async () => {
  stages = parseDockerfile(await readFile(posix.join(ROOT, 'Dockerfile'), 'utf8'));
});

describe('Dockerfile', () => {
  it('the image holds the package npm pack built (bin/, lib/), not the sources: bin/deadunits.mjs runs lib/cli.js', () => {
    const image = stages.at(-1)!;
    const copies = image.instructions.filter((i) => i.op === 'COPY').map((i) => i.args);
    // With src/ beside bin/, bin/deadunits.mjs would run the TypeScript through tsx, a dev dependency.
    expect(copies.filter((c) => /(^|\s)(\.\/)?src\/?(\s|$)/.test(c))).toEqual([]);
    const fromBuild = copies.map((c) => /^--from=(\S+)\s+(\S+)\s+(\S+)$/.exec(c)).filter((m) => m !== null);
    expect(fromBuild.length, 'a COPY --from=<the build stage>').toBeGreaterThan(0);
    const [, from] = fromBuild[0]!;
    const build = stages.find((s) => s.name === from);
    expect(build, `stage ${from}`).toBeDefined();
    expect(build!.instructions.some((i) => i.op === 'RUN' && /\bnpm pack\b/.test(i.args))).toBe(true);
  });

  it('the stage that builds the package installs the dev dependencies; the image installs the runtime ones only', () => {
    for (const stage of stages) {
      stage.instructions.forEach(({ op, args }, k) => {
        if (op !== 'RUN' || !/\bnpm (ci|install)\b/.test(args)) return;
        const builds = stage.instructions.slice(k).some((i) => i.op === 'RUN' && /\bnpm (pack|run)\b/.test(i.args));
        const omits = omitsDev(args, envAt(stage, k));
        if (builds) expect(omits, `${stage.name ?? 'the image'}: \`${args}\` leaves out the dev dependencies its build needs`).toBe(false);
        if (stage === stages.at(-1)) expect(omits, `the image: \`${args}\` installs the dev dependencies`).toBe(true);
      });
    }
  });

  it('the entrypoint runs the bin of the package in the folder the image put it in', async () => {
    const image = stages.at(-1)!;
    const entrypoint = await readFile(posix.join(ROOT, 'docker/entrypoint.sh'), 'utf8');
    const [, bin] = /^exec node (\S+) "\$@"$/m.exec(entrypoint)!;
    const workdir = image.instructions.filter((i) => i.op === 'WORKDIR').at(-1)!.args;
    // The package is copied into the working folder ("./"), so its bin is <WORKDIR>/bin/deadunits.mjs.
    expect(image.instructions.some((i) => i.op === 'COPY' && /^--from=\S+\s+\S+\s+\.\/?$/.test(i.args))).toBe(true);
    expect(bin).toBe(posix.join(workdir, 'bin/deadunits.mjs'));
  });
});
