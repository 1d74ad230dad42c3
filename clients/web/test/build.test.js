/** Tests build.mjs: the served folder holds the page, modules, vendor files and a mesh index of small meshes. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BUILD = path.join(HERE, '..', 'build.mjs');

test('build.mjs assembles OUTDIR with meshes.json of the small meshes only', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'locad-web-build-'));
  try {
    const meshes = path.join(dir, 'meshes-src');
    mkdirSync(meshes);
    writeFileSync(path.join(meshes, 'tri.obj'), 'v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n');
    const big = ['v 0 0 0', 'v 1 0 0', 'v 0 1 0'];
    for (let i = 0; i < 60001; i++) big.push(`v ${i} 1 1`);
    writeFileSync(path.join(meshes, 'big.obj'), `${big.join('\n')}\nf 1 2 3\n`);
    const out = path.join(dir, 'out');
    execFileSync(process.execPath, [BUILD, out, '--meshes', meshes]);
    for (const f of ['index.html', 'editor.css', 'js/main.js', 'js/config.js', 'client/index.js', 'client/client.js',
      'vendor/three/three.module.js', 'vendor/three/three.core.js', 'vendor/three/addons/controls/OrbitControls.js',
      'vendor/msgpack/index.mjs', 'vendor/msgpack/utils/utf8.mjs', 'meshes/tri.obj']) {
      assert.ok(existsSync(path.join(out, f)), `${f} missing`);
    }
    assert.ok(!existsSync(path.join(out, 'meshes/big.obj')));
    const list = JSON.parse(readFileSync(path.join(out, 'meshes.json'), 'utf8'));
    assert.deepEqual(list, [{ name: 'tri', file: 'tri.obj', nv: 3, nf: 1, boundary_loops: 1, boundary: true }]);
    // every import-map target exists
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    const map = JSON.parse(/<script type="importmap">([\s\S]*?)<\/script>/.exec(html)[1]);
    for (const target of Object.values(map.imports)) assert.ok(existsSync(path.join(out, target)), `import map target ${target} missing`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('build.mjs without OUTDIR exits 64 with usage', () => {
  assert.throws(() => execFileSync(process.execPath, [BUILD], { stdio: 'pipe' }), (e) => e.status === 64 && /OUTDIR is required/.test(e.stderr));
});
