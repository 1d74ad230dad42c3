/**
 * Test support: starts a real locad daemon on a free TCP port, a Unix
 * socket in a temporary directory and a WebSocket port (--ws), and builds
 * small meshes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The daemon binary: $LOCAD_BIN, else ../../build/server/locad from clients/js. */
export const LOCAD_BIN = process.env.LOCAD_BIN ??
  path.resolve(HERE, '..', '..', '..', 'build', 'server', 'locad');

/**
 * Starts a daemon; resolves once it logged "ready" with its TCP and WebSocket ports.
 * @param {string[]} [extra] more command-line flags
 * @returns {Promise<{tcp: string, unix: string, ws: string, log: () => string, stop: () => Promise<void>}>}
 */
export function startDaemon(extra = []) {
  const dir = mkdtempSync(path.join(tmpdir(), 'locad-js-'));
  const sock = path.join(dir, 'locad.sock');
  const child = spawn(LOCAD_BIN, ['--listen', '127.0.0.1:0', '--unix', sock, '--ws', '127.0.0.1:0', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const stop = () => new Promise((resolve) => {
    const done = () => { rmSync(dir, { recursive: true, force: true }); resolve(); };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(kill); done(); });
    child.kill('SIGTERM');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('daemon not ready within 10 s')), 10000);
    const fail = (err) => { clearTimeout(timer); stop().then(() => reject(new Error(`${err.message}\n${log}`))); };
    const onLog = (chunk) => {
      log += chunk;
      const port = /listening on tcp 127\.0\.0\.1:(\d+)/.exec(log);
      const ws = /websocket on (ws:\/\/127\.0\.0\.1:\d+\/rpc)/.exec(log);
      if (port && ws && /ready/.test(log)) {
        clearTimeout(timer);
        resolve({ tcp: `127.0.0.1:${port[1]}`, unix: `unix:${sock}`, ws: ws[1], log: () => log, stop });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onLog);
    child.stderr.setEncoding('utf8').on('data', onLog);
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`daemon exited with ${code}`)));
  });
}

export { grid } from '../src/mesh.js';

/** A promise that rejects after ms (for bounding a wait). */
export function within(promise, ms, what = 'operation') {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}
