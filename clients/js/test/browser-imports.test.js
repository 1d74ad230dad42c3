// The client loads in a browser as plain ESM without a bundler: src/index.js and every module it
// imports statically use only relative specifiers and '@msgpack/msgpack' (mapped by the page's
// import map); node: modules are reached only through a dynamic import() at connect time.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
const STATIC = /^\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

/** The static import specifiers of a module's source. */
function staticImports(file) {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(STATIC)].map((m) => m[1] ?? m[2]);
}

test('src/index.js statically imports no node: module and no bare specifier but @msgpack/msgpack', () => {
  const seen = new Set();
  const todo = [path.join(SRC, 'index.js')];
  while (todo.length) {
    const file = todo.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) todo.push(path.resolve(path.dirname(file), spec));
      else assert.equal(spec, '@msgpack/msgpack', `${path.basename(file)} imports '${spec}'`);
    }
  }
  for (const f of ['client.js', 'transport.js', 'emitter.js']) assert.ok(seen.has(path.join(SRC, f)), f);
  assert.match(readFileSync(path.join(SRC, 'transport.js'), 'utf8'), /import\('node:net'\)/);
});
