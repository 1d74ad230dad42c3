#!/usr/bin/env node
/**
 * End-to-end test of the browser editor (clients/web): builds the served
 * folder, starts the real daemon with --ws and --web-root, drives headless
 * Chromium through the DevTools Protocol: loads a shared mesh, picks two
 * handles with real clicks, drags one with real mouse events, and checks the
 * mesh moved, the handle sits under the drop point, the energy fell while
 * the frames settled, the screenshot is not blank, cloth mode and the UV
 * view work; the JS client's method checks (client-in-page.js) run inside the
 * page. Exit 0 pass, 1 fail, 77 skip (no Chromium).
 *
 *   node --experimental-websocket tests/web/editor.test.mjs
 *   env: LOCAD_BIN (default build/server/locad), CHROMIUM, LOCAD_MESHES, LOCAD_WEB_OUT (default a temp
 *   dir), LOCAD_WEB_PREBUILT=1 (serve LOCAD_WEB_OUT as it is, no build), LOCAD_WEB_SCREENSHOT (save the PNG), LOCAD_WEB_FRAMES (save the drag's frames as JSON)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { CDP, Page, findChromium, launchChromium, sleep } from './cdp.mjs';
import { LOCAD_BIN, buildWeb, freePort, meshHits, startDaemon, waitMesh, waitQuiet } from './harness.mjs';
import { decodePng, imageStats } from './png.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SKIP = 77;
const W = 1200;
const H = 800;

let failures = 0;

/** Records one check: prints ok/not ok, counts failures. */
function check(cond, what, detail = '') {
  console.log(`${cond ? 'ok' : 'not ok'} - ${what}${detail ? ` (${detail})` : ''}`);
  if (!cond) failures += 1;
  return cond;
}

/** Picks an anchor and a handle with real clicks; returns {anchor, handle} vertex ids. */
async function pickHandles(page) {
  const view0 = (await page.eval('locadEditor.state()')).view;
  const hits = await meshHits(page);
  if (!check(hits.length >= 10, 'the mesh covers part of the view', `${hits.length} grid points hit`)) throw new Error('mesh not visible');
  const ys = hits.map((h) => h.y).sort((a, b) => a - b);
  const midY = ys[Math.floor(ys.length / 2)];
  const row = hits.filter((h) => h.y === midY).sort((a, b) => a.x - b.x);
  const anchorAt = hits.reduce((best, h) => (h.y < best.y ? h : best)); // topmost hit
  const handleAt = row.at(-1); // rightmost hit of the middle row
  await page.click(anchorAt.x, anchorAt.y);
  await page.click(handleAt.x, handleAt.y);
  const s = await page.eval('locadEditor.state()');
  const want = [anchorAt.v, handleAt.v].sort((a, b) => a - b);
  check(JSON.stringify(s.handles) === JSON.stringify(want) && s.groups === 2, 'two clicks made two handle groups at the picked vertices',
    `handles ${JSON.stringify(s.handles)}, expected ${JSON.stringify(want)}; view ${JSON.stringify(view0)} -> ${JSON.stringify(s.view)}`);
  return { anchor: anchorAt.v, handle: handleAt.v };
}

/** Drags vertex `handle` by (dx, dy) CSS pixels in `steps` pointer moves; returns the drop point. */
async function drag(page, handle, dx, dy, steps) {
  const q = await page.eval(`locadEditor.vertexScreenPos(${handle})`);
  const p0 = { x: Math.round(q.x), y: Math.round(q.y) }; // whole pixels, as mouse events carry them
  await page.mouse('mouseMoved', p0.x, p0.y);
  await page.mouse('mousePressed', p0.x, p0.y, { buttons: 1 });
  for (let k = 1; k <= steps; k++) {
    await page.mouse('mouseMoved', p0.x + (dx * k) / steps, p0.y + (dy * k) / steps, { buttons: 1 });
    await sleep(8);
  }
  const drop = { x: p0.x + dx, y: p0.y + dy };
  await page.mouse('mouseReleased', drop.x, drop.y);
  return drop;
}

/** The largest distance of a non-handle vertex from its rest position, in the page. */
function maxDisplacement(page) {
  return page.eval(`(() => {
    const s = locadEditor.state(), hs = new Set(s.handles);
    let m = 0;
    for (let i = 0; i < s.nv; i++) {
      if (hs.has(i)) continue;
      const p = locadEditor.position(i), q = locadEditor.restPosition(i);
      m = Math.max(m, Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
    }
    return m;
  })()`);
}

/** The ARAP drag on `mesh`: handles, drag, moved mesh, handle under the drop point, settling energy. */
async function arapDrag(page) {
  const { anchor, handle } = await pickHandles(page);
  const before = await page.eval('locadEditor.state()');
  const drop = await drag(page, handle, -70, -50, 15);
  await waitQuiet(page);
  const s = await page.eval('locadEditor.state()');
  check(JSON.stringify(s.view) === JSON.stringify(before.view), 'the view and camera stayed put during the drag', `${JSON.stringify(before.view)} -> ${JSON.stringify(s.view)}`);
  const frames = await page.eval('locadEditor.frames');
  if (process.env.LOCAD_WEB_FRAMES) writeFileSync(process.env.LOCAD_WEB_FRAMES, JSON.stringify(frames, null, 1));
  check(!s.lastError, 'no error during the drag', s.lastError ?? '');
  const dragFrames = frames.filter((f) => f.phase === 'drag');
  const settle = frames.filter((f) => f.phase === 'settle');
  const moves = s.dragMoves - before.dragMoves;
  check(moves === 15, 'every pointer move reached the editor', `${moves} moves`);
  check(dragFrames.length >= 1 && dragFrames.length <= moves, 'one request per pointer move at most (moves coalesced while one is in flight)',
    `${dragFrames.length} drag frames for ${moves} moves, ${s.coalesced} coalesced`);
  check(s.sent === frames.length, 'every request sent came back as a frame', `${s.sent} sent, ${frames.length} frames`);
  const lat = await page.eval('locadEditor.latency');
  const carried = lat.reduce((n, r) => n + r.moves, 0);
  check(lat.length === dragFrames.length && carried <= moves && lat.every((r) => r.moves >= 1 && r.events >= r.moves &&
      r.event_to_redraw_ms >= r.rtt_ms - 1 && r.rtt_ms >= r.daemon_ms && r.render_ms >= 0 && r.input_ms >= 0),
    'each drag frame has its latency: event to redraw, round trip, daemon time, moves carried',
    `${lat.length} records for ${dragFrames.length} drag frames, ${carried} moves carried, event to redraw p50 ${s.latency.event_to_redraw_ms.p50?.toFixed(1)} ms`);
  const hp = await page.eval(`locadEditor.vertexScreenPos(${handle})`);
  const err = Math.hypot(hp.x - drop.x, hp.y - drop.y);
  check(err < 1.5, 'the dragged handle is at the drop position', `${err.toFixed(3)} px off`);
  const a = await page.eval(`[locadEditor.position(${anchor}), locadEditor.restPosition(${anchor})]`);
  check(Math.hypot(...a[0].map((x, k) => x - a[1][k])) < 1e-9, 'the other handle stayed where it was');
  const disp = await maxDisplacement(page);
  const diag = await page.eval('(() => { const s = locadEditor.state(); return s.nv; })()');
  check(disp > 1e-3, 'free vertices moved with the handle', `max displacement ${disp.toExponential(3)} (nv ${diag})`);
  checkSettle(settle);
  return { frames, settle };
}

/** The frames after the drop: energy positive, non-increasing, lower at the end, converged. */
function checkSettle(settle) {
  const E = settle.map((f) => f.energy);
  check(settle.length >= 2, 'frames kept solving after the drop', `${settle.length} settle frames`);
  check(E.every((e) => Number.isFinite(e) && e > 0), 'the deformed energy is positive and finite', E.slice(0, 3).map((e) => e.toExponential(3)).join(' '));
  const rises = E.slice(1).filter((e, k) => e > E[k] * (1 + 1e-9) + 1e-15);
  check(rises.length === 0, 'the energy never rose while settling', `${rises.length} rises`);
  check(E.at(-1) < E[0], 'the energy dropped after the drag ended', `${E[0].toExponential(4)} -> ${E.at(-1).toExponential(4)}`);
  const last = settle.at(-1);
  const prev = settle.at(-2);
  const converged = ['gradient', 'decrement', 'ftol'].includes(last.reason) || Math.abs(prev.energy - last.energy) <= 1e-7 * last.energy;
  const drop = E[0] - E.at(-1);
  const tail = E.slice(-10);
  const tailFalls = tail.slice(1).every((e, k) => e < tail[k]);
  const tailSmall = tail[0] - tail.at(-1) <= 0.01 * drop;
  check(converged || (tailFalls && tailSmall), 'the frames converge: the solve converged, or the energy still falls over the final frames by under 1% of its drop',
    `${settle.length} frames, last reason ${last.reason}, E ${E[0].toExponential(4)} -> ${E.at(-1).toExponential(4)}, ` +
    `last 10 frames fell ${(tail[0] - tail.at(-1)).toExponential(2)}`);
}

/** The screenshot is not blank: the view has shading and many colours. */
async function checkScreenshot(page, file) {
  const png = await page.screenshot();
  if (file) writeFileSync(file, png);
  const img = decodePng(png);
  check(img.width === W && img.height === H, 'screenshot size', `${img.width}x${img.height}`);
  const view = await page.eval(`(() => { const r = document.getElementById('view').getBoundingClientRect(); return { x: Math.round(r.left), y: Math.round(r.top), w: Math.round(r.width), h: Math.round(r.height) }; })()`);
  const st = imageStats(img, view);
  check(st.variance > 100 && st.colours > 50, 'the 3D view in the screenshot is not blank', `luminance variance ${st.variance.toFixed(1)}, ${st.colours} colours`);
}

/** Switches to cloth with the same handles: frames settle without error and the handles hold. */
async function clothMode(page) {
  await page.eval(`(() => { const m = document.getElementById('mode'); m.value = 'cloth'; m.dispatchEvent(new Event('change')); })()`);
  await page.waitFor(`locadEditor.state().mode === 'cloth' && locadEditor.state().ready`, 30000);
  await sleep(100);
  await waitQuiet(page, 120000);
  const s = await page.eval('locadEditor.state()');
  const frames = (await page.eval('locadEditor.frames')).filter((f) => f.phase === 'settle');
  check(!s.lastError && frames.length >= 1 && frames.every((f) => Number.isFinite(f.energy)), 'cloth mode solves frames (StVK, bending, gravity)',
    `${frames.length} frames, last E ${frames.at(-1)?.energy}, error ${s.lastError}`);
  const g = await maxDisplacement(page);
  check(g > 0 && frames.some((f) => f.iters > 0), 'the cloth moved under gravity and the handles', `max displacement ${g.toExponential(3)}, iterations ${frames.map((f) => f.iters).join(' ')}`);
  check(frames.length < 2 || frames.at(-1).energy < frames[0].energy, 'the cloth energy fell while settling',
    `${frames[0]?.energy} -> ${frames.at(-1)?.energy}`);
}

/** UV layout: a disk mesh gets a flip-free layout drawn; a closed mesh a clear message. */
async function uvView(page) {
  await page.eval(`(() => { const m = document.getElementById('mesh'); m.value = 'camelhead'; m.dispatchEvent(new Event('change')); })()`);
  await waitMesh(page, 'camelhead');
  const b = await page.eval(`(() => { const r = document.getElementById('uv-button').getBoundingClientRect(); return { x: r.left + r.width / 2, y: r.top + r.height / 2 }; })()`);
  await page.click(b.x, b.y);
  await page.waitFor('locadEditor.state().uv !== null && locadEditor.state().uv.flips !== undefined || !!locadEditor.state().uv?.error', 120000);
  const uv = (await page.eval('locadEditor.state()')).uv;
  check(!uv.error && uv.flips === 0 && uv.energy >= 4 * 0.99 && Number.isFinite(uv.energy), 'camelhead: flip-free symmetric-Dirichlet UV layout', JSON.stringify(uv));
  const img = decodePng(await page.screenshot());
  const rect = await page.eval(`(() => { const r = document.getElementById('uv').getBoundingClientRect(); return { x: Math.round(r.left), y: Math.round(r.top), w: Math.round(r.width), h: Math.round(r.height) }; })()`);
  const st = imageStats(img, rect);
  check(st.variance > 50, 'the UV view shows the layout', `luminance variance ${st.variance.toFixed(1)}`);
  await page.eval(`(() => { const m = document.getElementById('mesh'); m.value = 'spot'; m.dispatchEvent(new Event('change')); })()`);
  await waitMesh(page, 'spot');
  await page.click(b.x, b.y);
  await page.waitFor('!!locadEditor.state().uv?.error', 30000);
  const e = (await page.eval('locadEditor.state()')).uv.error;
  check(/closed/.test(e), 'spot (closed): the UV view says why there is no layout', e);
}

/** Drops OBJ text on the page as a file (a DragEvent carrying a DataTransfer with the File). */
function dropObj(page, name, text) {
  return page.eval(`(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([${JSON.stringify(text)}], ${JSON.stringify(name)}, { type: 'text/plain' }));
    document.getElementById('view').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  })()`);
}

/** Dropped OBJ files: a bad one is refused naming its line; quads with negative indices load. */
async function dropFiles(page) {
  await dropObj(page, 'bad.obj', 'v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 7\n');
  const err = await page.waitFor('locadEditor.state().lastError', 10000);
  check(/bad\.obj: OBJ line 4: face index 7 is out of range/.test(err), 'a dropped bad OBJ is refused, naming the line', err);
  const n = 6;
  const lines = [];
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) lines.push(`v ${i / (n - 1)} ${j / (n - 1)} 0`);
  for (let j = 0; j + 1 < n; j++) {
    for (let i = 0; i + 1 < n; i++) {
      const a = j * n + i - n * n; // negative: relative to the last vertex
      lines.push(`f ${a} ${a + 1} ${a + n + 1} ${a + n}`);
    }
  }
  await page.eval(`locadEditor.clearError()`);
  await dropObj(page, 'quads.obj', `${lines.join('\n')}\n`);
  await waitMesh(page, 'quads.obj');
  const s = await page.eval('locadEditor.state()');
  check(s.nv === n * n && s.nf === 2 * (n - 1) * (n - 1), 'a dropped OBJ of quads with negative indices loads, fan-triangulated', `nv ${s.nv}, nf ${s.nf}`);
}

/** Region radius and shift-click: one click picks a region group, shift-click extends it, a click on a handle removes it. */
async function regionSelect(page) {
  await page.eval(`(() => { const r = document.getElementById('radius'); r.value = '4'; r.dispatchEvent(new Event('input')); })()`);
  const hits = await meshHits(page);
  const a = hits[Math.floor(hits.length / 3)];
  const b = hits[Math.floor((2 * hits.length) / 3)];
  await page.click(a.x, a.y);
  const s1 = await page.eval('locadEditor.state()');
  check(s1.groups === 1 && s1.handles.length > 1 && s1.handles.includes(a.v), 'a click with a region radius picks a group of vertices', `${s1.handles.length} vertices`);
  await page.click(b.x, b.y, 8);
  const s2 = await page.eval('locadEditor.state()');
  check(s2.groups === 1 && s2.handles.length > s1.handles.length && s2.handles.includes(b.v), 'shift-click adds to the same group', `${s2.handles.length} vertices`);
  const p = await page.eval(`locadEditor.vertexScreenPos(${a.v})`);
  await page.click(p.x, p.y);
  const s3 = await page.eval('locadEditor.state()');
  check(s3.groups === 0 && s3.handles.length === 0, 'a click on a handle removes its group', `${s3.handles.length} vertices left`);
}

/** The daemon URL parameter: an address nobody serves gives a status naming it. */
async function badAddress(page, port) {
  await page.goto(`http://127.0.0.1:${port}/?daemon=${encodeURIComponent('ws://127.0.0.1:1/rpc')}`);
  const err = await page.waitFor('locadEditor.state().lastError', 20000);
  const s = await page.eval('locadEditor.state()');
  check(s.connection === 'error' && /cannot connect to (the daemon at )?ws:\/\/127\.0\.0\.1:1\/rpc/.test(err) && s.status.includes(err),
    'a daemon address that does not answer is named on the status line', s.status);
}

/** With a token on the daemon: no token is refused with an auth error, ?token= connects. */
async function tokenScenario(page, out) {
  const token = 'web-editor-test-token-0123456789';
  const port = await freePort();
  const daemon = await startDaemon(port, out, { LOCAD_TOKEN: token });
  try {
    await page.goto(`http://127.0.0.1:${port}/?mesh=spot`);
    const err = await page.waitFor('locadEditor.state().lastError', 20000);
    check(/requires a token: open the page with \?token=/.test(err), 'without the token the status line says a token is needed', err);
    await page.goto(`http://127.0.0.1:${port}/?mesh=spot&token=${token}`);
    await waitMesh(page, 'spot');
    check((await page.eval('locadEditor.state().connection')) === 'connected', 'with ?token= the editor connects and loads the mesh');
    await regionSelect(page);
  } finally {
    await daemon.stop();
  }
}

/** Runs tests/web/client-in-page.js (the JS client's method checks) inside the page over ws://. */
async function clientInPage(page, port) {
  const body = readFileSync(path.join(HERE, 'client-in-page.js'), 'utf8');
  const results = await page.eval(`(async (address) => {\n${body}\n})(${JSON.stringify(`ws://127.0.0.1:${port}/rpc`)})`);
  for (const [name, ok, detail] of results) check(ok, `in the browser: ${name}`, detail);
  check(results.length >= 12, 'every in-browser client check ran', `${results.length} checks`);
}

/** Runs every scenario against a daemon and a browser. */
async function run(out, chromium) {
  const port = await freePort();
  const daemon = await startDaemon(port, out);
  const browser = await launchChromium(chromium, { width: W, height: H });
  let cdp;
  try {
    cdp = await CDP.connect(browser.browserWs);
    const page = await Page.open(cdp, { width: W, height: H });
    await page.goto(`http://127.0.0.1:${port}/?mesh=spot`);
    await waitMesh(page, 'spot');
    const s = await page.eval('locadEditor.state()');
    check(s.connection === 'connected' && s.address === `ws://127.0.0.1:${port}/rpc`, 'connected to the daemon at ws://<same host>/rpc', s.status);
    await clientInPage(page, port);
    const { frames } = await arapDrag(page);
    const label = await page.eval(`document.getElementById('plot-label').textContent`);
    check(/p50 [\d.]+ ms\s+p95 [\d.]+ ms/.test(label), 'the plot shows p50 / p95 frame times', label);
    const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    console.log(`# ${frames.length} frames on spot: round trip p50 ${med(frames.map((f) => f.ms)).toFixed(1)} ms, ` +
      `daemon p50 ${med(frames.map((f) => f.daemonMs)).toFixed(1)} ms, iterations p50 ${med(frames.map((f) => f.iters))}`);
    await checkScreenshot(page, process.env.LOCAD_WEB_SCREENSHOT);
    await clothMode(page);
    await uvView(page);
    await dropFiles(page);
    await badAddress(page, port);
    await tokenScenario(page, out);
    const errors = page.console.filter((l) => /^(error|exception)/.test(l) && !/bad\.obj/.test(l));
    check(errors.length === 0, 'no errors or exceptions on the page console', errors.join(' | '));
  } catch (err) {
    check(false, `scenario ran to the end: ${err.message}`);
    console.log(`# daemon log:\n${daemon.log().split('\n').slice(-20).join('\n')}`);
  } finally {
    cdp?.close();
    await browser.stop();
    await daemon.stop();
  }
}

/** Builds the served folder, runs, exits 0 / 1 / 77. */
async function main() {
  const chromium = findChromium();
  if (!chromium) {
    console.log(`SKIP: no Chromium${process.env.CHROMIUM ? ` at CHROMIUM=${process.env.CHROMIUM}` : ''} (set CHROMIUM, or install the Debian package chromium)`);
    process.exit(SKIP);
  }
  if (typeof WebSocket === 'undefined') {
    console.log('SKIP: this node has no global WebSocket for the DevTools Protocol (Node 20: run it with --experimental-websocket; Node >= 22 has it)');
    process.exit(SKIP);
  }
  if (!existsSync(LOCAD_BIN)) throw new Error(`no daemon binary at ${LOCAD_BIN} (build it, or set LOCAD_BIN)`);
  const tmp = process.env.LOCAD_WEB_OUT ? null : mkdtempSync(path.join(tmpdir(), 'locad-web-'));
  const out = process.env.LOCAD_WEB_OUT ?? tmp;
  try {
    if (process.env.LOCAD_WEB_PREBUILT !== '1') {
      buildWeb(out);
    }
    await run(out, chromium);
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
  console.log(failures ? `FAIL: ${failures} checks failed` : 'PASS');
  process.exit(failures ? 1 : 0);
}

main().catch((err) => {
  console.error(`editor.test.mjs: ${err.message}`);
  process.exit(1);
});
