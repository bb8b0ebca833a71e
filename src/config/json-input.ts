// JSON from outside (a config file, a sweep spec, a run folder's files, a checkpoint's metadata, a URL), checked
// before anything else walks it. Browser-safe, no imports (the schema uses it). JSON.parse copes with any nesting,
// but what comes after it (structuredClone, zod, JSON.stringify) recurses and overflows the stack on a document
// nested 100,000 deep; and a key "__proto__", "constructor" or "prototype" reaches Object.prototype through code
// that copies or walks a tree by assignment. No configuration needs either, so both are refused.

/** Keys that can reach an object's prototype when used as a path or copied by assignment. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Deepest nesting of objects and arrays accepted. A run configuration nests 5 deep (hidden[l].init.weights.std)
 * and a sweep spec 7 (base.hidden[l].init.weights); this leaves room and stays far from any stack limit.
 */
export const MAX_JSON_DEPTH = 32;

/** The message for a forbidden key, or null for an allowed one. */
export function forbiddenKeyMessage(key: string): string | null {
  return FORBIDDEN_KEYS.has(key) ? `"${key}" is not allowed as a field name (no configuration has it, and it could reach Object.prototype)` : null;
}

function child(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

/**
 * Walks a parsed JSON value without recursion: the first place nested deeper than `maxDepth`, or holding a
 * forbidden key, as { path, message }; null when the tree is fine.
 */
export function jsonTreeIssue(value: unknown, maxDepth = MAX_JSON_DEPTH): { path: string; message: string } | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  while (stack.length) {
    const { value: v, path, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > maxDepth) return { path, message: `nests deeper than ${maxDepth} levels; no configuration is nested that deep` };
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ value: item, path: child(path, i), depth: depth + 1 }));
      continue;
    }
    for (const key of Object.keys(v)) {
      const message = forbiddenKeyMessage(key);
      if (message) return { path: child(path, key), message: `${message}: remove it` };
      stack.push({ value: (v as Record<string, unknown>)[key], path: child(path, key), depth: depth + 1 });
    }
  }
  return null;
}
