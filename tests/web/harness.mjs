/**
 * Shared helpers of the web editor's end-to-end test and benchmark
 * (tests/web/editor.test.mjs, bench/editor_e2e.mjs): the served folder's
 * build, a free port, the daemon started with --ws and --web-root, and waits
 * on the editor's test hook (window.locadEditor).
 */
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { sleep } from './cdp.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The daemon binary: $LOCAD_BIN, else build/server/locad. */
export const LOCAD_BIN = process.env.LOCAD_BIN ?? path.join(ROOT, 'build', 'server', 'locad');

/** Builds the editor's served folder into out (clients/web/build.mjs; meshes from $LOCAD_MESHES or ../shared/meshes). */
export function buildWeb(out) {
  execFileSync(process.execPath, [path.join(ROOT, 'clients', 'web', 'build.mjs'), out], { stdio: 'inherit' });
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts locad with --ws on port and --web-root out (env: more variables; bin, workers);
 * resolves to {stop, log} once it answers HTTP GET /.
 */
export async function startDaemon(port, out, env = {}, { bin = LOCAD_BIN, workers = 2 } = {}) {
  const args = ['--listen', '127.0.0.1:0', '--ws', `127.0.0.1:${port}`, '--web-root', out, '--workers', String(workers)];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([gone, sleep(5000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  for (let t = 0; t < 100; t++) {
    if (child.exitCode !== null) throw new Error(`locad exited with ${child.exitCode}: ${bin} ${args.join(' ')}\n${log}`);
    const ok = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.ok, () => false);
    if (ok) return { stop, log: () => log };
    await sleep(100);
  }
  await stop();
  throw new Error(`locad did not serve http://127.0.0.1:${port}/ within 10 s\n${log}`);
}

/** Waits until the editor shows mesh `name`, ready, with nothing in flight. */
export async function waitMesh(page, name, ms = 60000) {
  const ok = await page.waitFor(`(() => { const s = window.locadEditor?.state();
    return s && (s.lastError ? 'error: ' + s.lastError : s.ready && s.mesh === ${JSON.stringify(name)}); })()`, ms);
  if (typeof ok === 'string') throw new Error(`loading ${name}: the page reported ${ok}`);
}

/** Waits until no drag, settle or request is pending. */
export function waitQuiet(page, ms = 60000) {
  return page.waitFor('(() => { const s = locadEditor.state(); return !s.dragging && !s.settling && !s.inFlight; })()', ms);
}

/** Client coordinates of points where the mesh is hit, with their vertices (pickAt over a grid of the view). */
export async function meshHits(page) {
  return page.eval(`(() => {
    const r = document.getElementById('view').getBoundingClientRect();
    const hits = [];
    for (let j = 1; j < 20; j++) for (let i = 1; i < 30; i++) {
      const x = Math.round(r.left + r.width * i / 30), y = Math.round(r.top + r.height * j / 20);
      const v = locadEditor.pickAt(x, y);
      if (v >= 0) hits.push({ x, y, v });
    }
    return hits;
  })()`);
}
