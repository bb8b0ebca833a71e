// Reads the WGSL declarations the host has to agree with: structs, uniform and storage bindings, override
// constants and compute entry points with their workgroup sizes. A small reader for this project's shaders
// (what webgpu-utils' makeShaderDataDefinitions does for the same purpose), not a full WGSL parser.

export interface WgslAttribute {
  name: string;
  /** The text between the parentheses, if any. */
  args?: string;
}

export interface WgslStructField {
  name: string;
  /** The type as written, whitespace removed: `u32`, `vec4<f32>`, `array<u32,4>`. */
  type: string;
  attributes: WgslAttribute[];
}

export interface WgslStructDecl {
  name: string;
  fields: WgslStructField[];
}

export interface WgslVarDecl {
  name: string;
  addressSpace: string;
  /** The store type, whitespace removed. */
  type: string;
  attributes: WgslAttribute[];
}

export interface WgslOverrideDecl {
  name: string;
  type?: string;
  /** The default value's expression, when it has one. */
  init?: string;
}

export interface WgslEntryPoint {
  name: string;
  stage: 'compute' | 'vertex' | 'fragment';
  /** @workgroup_size's arguments (compute only), trimmed. */
  workgroupSize: string[];
}

export interface WgslReflection {
  structs: WgslStructDecl[];
  vars: WgslVarDecl[];
  overrides: WgslOverrideDecl[];
  entryPoints: WgslEntryPoint[];
}

/** Comments replaced by spaces (newlines kept, so offsets and line numbers stay put). Block comments may nest. */
export function stripComments(source: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const two = source.slice(i, i + 2);
    if (depth === 0 && two === '//') {
      while (i < source.length && source[i] !== '\n') {
        out += ' ';
        i++;
      }
      if (i < source.length) out += '\n';
    } else if (two === '/*') {
      depth++;
      out += '  ';
      i++;
    } else if (depth > 0 && two === '*/') {
      depth--;
      out += '  ';
      i++;
    } else {
      out += depth > 0 && source[i] !== '\n' ? ' ' : source[i];
    }
  }
  return out;
}

/** Splits on commas outside <...> and (...). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '<' || c === '(') depth++;
    else if (c === '>' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

// An attribute list: `@name` or `@name(args)`, args holding at most one level of nested parentheses.
const ATTRIBUTES = String.raw`((?:@\w+\s*(?:\((?:[^()]|\([^()]*\))*\))?\s*)*)`;

function parseAttributes(text: string): WgslAttribute[] {
  const out: WgslAttribute[] = [];
  for (const m of text.matchAll(/@(\w+)\s*(?:\(((?:[^()]|\([^()]*\))*)\))?/g))
    out.push(m[2] === undefined ? { name: m[1] } : { name: m[1], args: m[2].trim() });
  return out;
}

const noSpace = (s: string) => s.replace(/\s+/g, '');

/** The declarations of one WGSL source (a whole module, or one file of one). */
export function reflectWgsl(source: string): WgslReflection {
  const code = stripComments(source);
  const structs: WgslStructDecl[] = [];
  for (const m of code.matchAll(/\bstruct\s+(\w+)\s*\{([^}]*)\}/g)) {
    const fields = splitTopLevel(m[2]).map((member) => {
      const f = new RegExp(String.raw`^${ATTRIBUTES}(\w+)\s*:\s*([\s\S]+)$`).exec(member);
      if (!f) throw new Error(`struct ${m[1]}: cannot read member "${member}"`);
      return { name: f[2], type: noSpace(f[3]), attributes: parseAttributes(f[1]) };
    });
    structs.push({ name: m[1], fields });
  }
  const vars: WgslVarDecl[] = [];
  for (const m of code.matchAll(new RegExp(String.raw`${ATTRIBUTES}\bvar\s*<\s*(\w+)\s*(?:,\s*\w+\s*)?>\s*(\w+)\s*:\s*([^;=]+);`, 'g'))) {
    vars.push({ name: m[3], addressSpace: m[2], type: noSpace(m[4]), attributes: parseAttributes(m[1]) });
  }
  const overrides: WgslOverrideDecl[] = [];
  for (const m of code.matchAll(/\boverride\s+(\w+)\s*(?::\s*([\w<>\s]+?))?\s*(?:=\s*([^;]+))?;/g)) {
    overrides.push({ name: m[1], ...(m[2] ? { type: noSpace(m[2]) } : {}), ...(m[3] ? { init: m[3].trim() } : {}) });
  }
  const entryPoints: WgslEntryPoint[] = [];
  for (const m of code.matchAll(new RegExp(String.raw`${ATTRIBUTES}\bfn\s+(\w+)`, 'g'))) {
    const attributes = parseAttributes(m[1]);
    const stage = attributes.find((a) => a.name === 'compute' || a.name === 'vertex' || a.name === 'fragment');
    if (!stage) continue;
    const size = attributes.find((a) => a.name === 'workgroup_size');
    entryPoints.push({ name: m[2], stage: stage.name as WgslEntryPoint['stage'], workgroupSize: size?.args ? splitTopLevel(size.args) : [] });
  }
  return { structs, vars, overrides, entryPoints };
}

/** The struct a binding's store type names, directly or as the element of a runtime-sized array: `array<UnitHistory>`. */
export function structOfStoreType(type: string): string {
  const array = /^array<(\w+)(?:,.*)?>$/.exec(type);
  return array ? array[1] : type;
}
