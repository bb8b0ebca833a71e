// The contract between the TypeScript host and the WGSL shaders, checked without a GPU:
// - every struct a shader binds as a uniform or storage buffer has exactly one host declaration
//   (wgslStruct(...), exported from src/spec/ or src/gpu/kernels/) with the same fields in the same order
//   with the same types;
// - a shared struct (StepState) is declared once, in its snippet, and no kernel file redeclares it;
// - every workgroup size is set by the host: @workgroup_size names `override` constants without a default,
//   which the kernel wrapper passes from the same TS constants its dispatch counts are computed from.
// A mismatch fails here, by name, instead of producing garbage on a GPU.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WgslStruct, wgslFieldName } from '../../src/spec/wgsl-struct';
import { reflectWgsl, structOfStoreType, type WgslReflection, type WgslStructDecl } from '../wgsl-reflect';

const ROOT = join(import.meta.dirname, '../..');
/** Where host declarations live: the contracts several layers share, and each kernel's own uniforms. */
const HOST_FOLDERS = ['src/spec', 'src/gpu/kernels'];
/** Files the loader appends to another kernel file (their module sees that file's declarations). */
const APPENDED_TO: Readonly<Record<string, string>> = { 'matmul_subgroups.wgsl': 'matmul.wgsl', 'matmul_tiled.wgsl': 'matmul.wgsl' };

interface ShaderFile {
  file: string;
  reflection: WgslReflection;
  /** Shared snippets (no entry point): src/gpu/shaders.ts prepends them, so every kernel sees their declarations. */
  snippet: boolean;
}

const shaders: ShaderFile[] = readdirSync(join(ROOT, 'shaders'))
  .filter((f) => f.endsWith('.wgsl'))
  .sort()
  .map((file) => {
    const reflection = reflectWgsl(readFileSync(join(ROOT, 'shaders', file), 'utf8'));
    return { file, reflection, snippet: reflection.entryPoints.length === 0 };
  });
const byFile = new Map(shaders.map((s) => [s.file, s]));
const snippets = shaders.filter((s) => s.snippet);

interface HostDeclaration {
  struct: WgslStruct;
  /** `src/gpu/kernels/bias.ts: BIAS_PARAMS`, for messages. */
  where: string;
}

async function hostDeclarations(): Promise<HostDeclaration[]> {
  const found: HostDeclaration[] = [];
  for (const folder of HOST_FOLDERS) {
    for (const file of readdirSync(join(ROOT, folder))
      .filter((f) => f.endsWith('.ts'))
      .sort()) {
      const exports = (await import(join(ROOT, folder, file))) as Record<string, unknown>;
      for (const [name, value] of Object.entries(exports)) {
        if (value instanceof WgslStruct) found.push({ struct: value, where: `${folder}/${file}: ${name}` });
      }
    }
  }
  return found;
}
const host = await hostDeclarations();

/** The structs a kernel file's module can see: its own, those of the file it is appended to, and the snippets'. */
function visibleStructs(s: ShaderFile): Array<{ file: string; decl: WgslStructDecl }> {
  const files = [s, ...(APPENDED_TO[s.file] ? [byFile.get(APPENDED_TO[s.file])!] : []), ...snippets.filter((x) => x !== s)];
  return files.flatMap((f) => f.reflection.structs.map((decl) => ({ file: f.file, decl })));
}

/** (file, struct) of every struct bound as a uniform or storage buffer somewhere, with the bindings that use it. */
function boundStructs(): Map<string, { file: string; decl: WgslStructDecl; usedBy: string[] }> {
  const out = new Map<string, { file: string; decl: WgslStructDecl; usedBy: string[] }>();
  for (const s of shaders) {
    const visible = visibleStructs(s);
    for (const v of s.reflection.vars) {
      if (v.addressSpace !== 'uniform' && v.addressSpace !== 'storage') continue;
      const name = structOfStoreType(v.type);
      const hit = visible.find((x) => x.decl.name === name);
      if (!hit) continue; // scalars, atomics, arrays of them
      const key = `${hit.file}:${name}`;
      const entry = out.get(key) ?? { ...hit, usedBy: [] };
      entry.usedBy.push(`${s.file} var<${v.addressSpace}> ${v.name}`);
      out.set(key, entry);
    }
  }
  return out;
}
const bound = [...boundStructs().values()];

/** Every difference between the WGSL struct and its host declaration, as sentences naming the field. */
function structDifferences(decl: WgslStructDecl, struct: WgslStruct): string[] {
  const problems: string[] = [];
  const wgsl = decl.fields;
  const ts = struct.fieldNames.map((name) => ({ name, wgslName: wgslFieldName(name), type: struct.fields[name] }));
  for (let i = 0; i < Math.max(wgsl.length, ts.length); i++) {
    const w = wgsl[i];
    const t = ts[i];
    const showW = w ? `${w.name}: ${w.type}` : '(none)';
    const showT = t ? `${t.name}: ${t.type}` : '(none)';
    if (!w || !t || w.name !== t.wgslName || w.type !== t.type) problems.push(`field ${i}: WGSL has ${showW}, TS has ${showT}`);
    if (w?.attributes.length) problems.push(`field ${i} (${w.name}): @${w.attributes[0].name} changes the layout; the host packs 4-byte fields back to back`);
  }
  return problems;
}

describe('WGSL structs shared with the host', () => {
  it('every bound struct has a host declaration', () => {
    const missing = bound
      .filter((b) => !host.some((h) => h.struct.shader === b.file && h.struct.name === b.decl.name))
      .map(
        (b) =>
          `shaders/${b.file} struct ${b.decl.name} (bound by ${b.usedBy.join(', ')}) has no wgslStruct('${b.file}', '${b.decl.name}', ...) in ${HOST_FOLDERS.join(' or ')}`,
      );
    expect(missing).toEqual([]);
  });

  it('every host declaration names a struct of its shader, once', () => {
    const problems: string[] = [];
    host.forEach((h, i) => {
      const shader = byFile.get(h.struct.shader);
      if (!shader) problems.push(`${h.where}: shaders/${h.struct.shader} does not exist`);
      else if (!shader.reflection.structs.some((s) => s.name === h.struct.name))
        problems.push(`${h.where}: shaders/${h.struct.shader} declares no struct ${h.struct.name}`);
      const twin = host.findIndex((o) => o.struct.shader === h.struct.shader && o.struct.name === h.struct.name);
      if (twin !== i) problems.push(`${h.where}: ${h.struct.shader} struct ${h.struct.name} is already declared by ${host[twin].where}`);
    });
    expect(problems).toEqual([]);
  });

  it.each(host.map((h) => [`${h.struct.shader} struct ${h.struct.name}`, h] as const))('%s matches its host declaration field by field', (_, h) => {
    const decl = byFile.get(h.struct.shader)?.reflection.structs.find((s) => s.name === h.struct.name);
    expect(decl, `shaders/${h.struct.shader} struct ${h.struct.name}`).toBeDefined();
    const problems = structDifferences(decl!, h.struct);
    expect(problems, `shaders/${h.struct.shader} struct ${h.struct.name} vs ${h.where}:\n  ${problems.join('\n  ')}\n`).toEqual([]);
  });

  it('a kernel file never redeclares a shared snippet struct (StepState is declared once)', () => {
    const shared = new Map(snippets.flatMap((s) => s.reflection.structs.map((d) => [d.name, s.file] as const)));
    const redeclared = shaders
      .filter((s) => !s.snippet)
      .flatMap((s) => s.reflection.structs.filter((d) => shared.has(d.name)).map((d) => `${s.file} redeclares struct ${d.name} of ${shared.get(d.name)}`));
    expect(redeclared).toEqual([]);
  });
});

describe('workgroup sizes', () => {
  it('are override constants without a default, so the host sets them from its own dispatch constants', () => {
    const problems: string[] = [];
    for (const s of shaders) {
      const overrides = [s, ...(APPENDED_TO[s.file] ? [byFile.get(APPENDED_TO[s.file])!] : [])].flatMap((f) => f.reflection.overrides);
      for (const ep of s.reflection.entryPoints.filter((e) => e.stage === 'compute')) {
        if (ep.workgroupSize.every((arg) => arg === '1' || arg === '1u')) continue; // a single invocation: nothing to keep in step
        for (const name of new Set(ep.workgroupSize.join(' ').match(/[A-Za-z_]\w*|\d\w*/g))) {
          const o = overrides.find((x) => x.name === name);
          if (!o) problems.push(`${s.file} ${ep.name}: @workgroup_size(${ep.workgroupSize.join(', ')}) uses ${name}, not an override constant`);
          else if (o.init !== undefined) problems.push(`${s.file} ${ep.name}: override ${name} has a default (${o.init}); the host must set it`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
