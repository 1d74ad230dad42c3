#!/usr/bin/env node
/**
 * editor_e2e.mjs - the browser editor end to end: from the mouse event of a drag to the redraw that
 * shows its solve, over loopback WebSocket, in headless Chromium.
 *
 *   node --experimental-websocket bench/editor_e2e.mjs [--meshes camelhead,face] [--moves 60] [--interval 16]
 *        [--dx -240] [--dy -120] [--radius 3] [--renders 20] [--workers 2] [--bin build/server/locad]
 *        [--width 1200] [--height 800]
 *   env: CHROMIUM, LOCAD_MESHES (default ../shared/meshes), LOCAD_WEB_OUT (served folder; default a temp dir)
 *   (Node >= 22 needs no --experimental-websocket.)
 *
 * It builds the editor's served folder (clients/web/build.mjs), starts the daemon with --ws and
 * --web-root (tests/web/harness.mjs) and headless Chromium (tests/web/cdp.mjs: --use-angle=swiftshader,
 * so WebGL is rasterized in software). For each mesh it opens the editor on a fresh page, sets the
 * handle region radius (--radius, % of the bounding-box diagonal), clicks the leftmost and the
 * rightmost point of the mesh in the view (two handle groups at its two ends), presses on the right
 * one and drags it by (--dx, --dy) CSS pixels with --moves Input.dispatchMouseEvent moves, one every
 * --interval ms on a fixed schedule (a 60 Hz mouse; a move is sent when due, not after the previous
 * one is handled), then releases and waits for the settle frames to finish.
 *
 * The editor's frames are ARAP drag frames: one problem.solve per pointer move with the moves
 * that arrive while one is in flight coalesced (clients/web/src/config.js: FRAME_METHOD,
 * FRAME_OPTIONS). The editor records per drag frame (window.locadEditor.latency, main.js
 * recordLatency), from the latest mouse event the request carries (event.timeStamp):
 *   event_to_redraw_ms      to the end of renderer.render in the animation frame that shows the result
 *   event_to_next_frame_ms  to the start of the animation frame after it (the browser has rasterized
 *                           and composited in between: an upper bound of what the user waits)
 *   input_ms, wait_ms       event to handler; handler to send (a request was in flight)
 *   rtt_ms, daemon_ms       the request's round trip; the daemon's t_total
 *   event_to_result_ms      to the answer decoded: the path without drawing
 *   draw_ms, render_ms      answer to render end; renderer.render alone (issuing the WebGL commands)
 * The first drag frame also factors the Laplacian (a new handle set): it is reported apart
 * (first_*) and the percentiles are over the others. render_alone times rendering without the
 * daemon (locadEditor.timeRender: new positions and normals, renderer.render, then a 1-pixel
 * readPixels that waits for the rasterizer), so rendering can be told from the solve; --width/--height set the page (and so the canvas) size,
 * which software rasterization time follows.
 *
 * One JSON line per mesh: p50/p95 of the figures above, moves dispatched, pointermove events the
 * page saw, requests sent, moves coalesced by the frame loop and mouse events by the browser, the
 * WebGL renderer the page reports, and the target (33 ms event to redraw at 10k vertices).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { CDP, Page, findChromium, launchChromium, sleep } from '../tests/web/cdp.mjs';
import { LOCAD_BIN, buildWeb, freePort, meshHits, startDaemon, waitMesh, waitQuiet } from '../tests/web/harness.mjs';

const TARGET_MS = 33;

/** --name value options over the defaults. */
function parseArgs(argv) {
  const o = { meshes: 'camelhead,face', moves: 60, interval: 16, dx: -240, dy: -120, radius: 3, renders: 20, workers: 2, width: 1200, height: 800, bin: LOCAD_BIN };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (!argv[i].startsWith('--') || !(key in o) || i + 1 >= argv.length) {
      console.error(`usage: node --experimental-websocket bench/editor_e2e.mjs [--meshes a,b] [--moves N] [--interval MS] [--dx PX] [--dy PX] [--radius PCT] [--renders N] [--workers N] [--width PX] [--height PX] [--bin PATH]`);
      process.exit(2);
    }
    const v = argv[++i];
    o[key] = typeof o[key] === 'number' ? Number(v) : v;
  }
  return o;
}

/** Nearest-rank percentile p (0..1) of numbers; null for none. */
function pct(values, p) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil(p * v.length) - 1))];
}

/** x rounded to 0.1 (null stays). */
const r1 = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);

/** {p50, p95} of records' key, rounded to 0.1 ms. */
function stat(recs, key) {
  const v = recs.map((x) => x[key]);
  return { p50: r1(pct(v, 0.5)), p95: r1(pct(v, 0.95)) };
}

/** Clicks the leftmost and rightmost mesh points of the middle band: two handle groups at the mesh's two ends. */
async function pickEnds(page, radius) {
  await page.eval(`(() => { const r = document.getElementById('radius'); r.value = '${radius}'; r.dispatchEvent(new Event('input')); })()`);
  const hits = await meshHits(page);
  if (hits.length < 10) throw new Error(`the mesh covers too little of the view (${hits.length} grid points hit)`);
  const left = hits.reduce((b, h) => (h.x < b.x || (h.x === b.x && h.y < b.y) ? h : b));
  const right = hits.reduce((b, h) => (h.x > b.x || (h.x === b.x && h.y < b.y) ? h : b));
  await page.click(left.x, left.y);
  await page.click(right.x, right.y);
  const s = await page.eval('locadEditor.state()');
  if (s.groups !== 2) throw new Error(`expected two handle groups, got ${s.groups}`);
  return { anchor: left.v, handle: right.v, handleVertices: s.handles.length };
}

/** Drags vertex `handle` by (dx, dy) in `moves` mouse moves due every `interval` ms from the press; returns the pacing seen. */
async function paceDrag(page, handle, { dx, dy, moves, interval }) {
  const q = await page.eval(`locadEditor.vertexScreenPos(${handle})`);
  const p0 = { x: Math.round(q.x), y: Math.round(q.y) };
  await page.mouse('mouseMoved', p0.x, p0.y);
  await page.mouse('mousePressed', p0.x, p0.y, { buttons: 1 });
  const t0 = performance.now();
  const sent = [];
  let late = 0;
  for (let k = 1; k <= moves; k++) {
    const due = t0 + k * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    else late += 1;
    sent.push(page.mouse('mouseMoved', Math.round(p0.x + (dx * k) / moves), Math.round(p0.y + (dy * k) / moves), { buttons: 1 }));
  }
  await Promise.all(sent);
  const span = performance.now() - t0;
  await page.mouse('mouseReleased', Math.round(p0.x + dx), Math.round(p0.y + dy));
  return { span_ms: Math.round(span), late };
}

/** One mesh: open, pick, drag, collect. */
async function benchMesh(page, port, mesh, o) {
  await page.goto(`http://127.0.0.1:${port}/?mesh=${encodeURIComponent(mesh)}`);
  await waitMesh(page, mesh, 120000);
  const { handle, handleVertices } = await pickEnds(page, o.radius);
  const before = await page.eval('locadEditor.state()');
  const pacing = await paceDrag(page, handle, o);
  await waitQuiet(page, 180000);
  await sleep(300); // the last records' next animation frame
  const s = await page.eval('locadEditor.state()');
  if (s.lastError) throw new Error(`${mesh}: the page reported ${s.lastError}`);
  const lat = await page.eval('locadEditor.latency');
  const frames = await page.eval('locadEditor.frames');
  const drags = frames.filter((f) => f.phase === 'drag');
  const first = lat[0] ?? {};
  const rest = lat.slice(1);
  const renders = await page.eval(`locadEditor.timeRender(${o.renders})`);
  const gl = await page.eval('locadEditor.glInfo()');
  const e2r = stat(rest, 'event_to_redraw_ms');
  const carried = lat.reduce((n, r) => n + r.moves, 0);
  return {
    mesh, nv: s.nv, nf: s.nf, handle_vertices: handleVertices, page: `${o.width}x${o.height}`, view: `${Math.round(s.view.w)}x${Math.round(s.view.h)}`,
    moves_dispatched: o.moves, interval_ms: o.interval, drag_span_ms: pacing.span_ms, moves_late: pacing.late,
    pointer_moves: s.dragMoves - before.dragMoves, requests: drags.length,
    moves_coalesced: carried - lat.length, moves_superseded_by_settle: s.dragMoves - before.dragMoves - carried,
    mouse_events: lat.reduce((n, r) => n + r.events, 0),
    event_to_redraw_ms: e2r, event_to_next_frame_ms: stat(rest, 'event_to_next_frame_ms'), event_to_result_ms: stat(rest, 'event_to_result_ms'),
    rtt_ms: stat(rest, 'rtt_ms'), daemon_ms: stat(rest, 'daemon_ms'),
    input_ms: stat(rest, 'input_ms'), wait_ms: stat(rest, 'wait_ms'), draw_ms: stat(rest, 'draw_ms'), render_ms: stat(rest, 'render_ms'),
    first: { event_to_redraw_ms: r1(first.event_to_redraw_ms), rtt_ms: r1(first.rtt_ms), daemon_ms: r1(first.daemon_ms) },
    render_alone: { update_ms: stat(renders, 'update_ms'), submit_ms: stat(renders, 'submit_ms'), finish_ms: stat(renders, 'finish_ms'), total_ms: stat(renders, 'total_ms') },
    settle_frames: frames.length - drags.length,
    webgl: gl, target_ms: TARGET_MS, meets_target_p50: e2r.p50 !== null && e2r.p50 <= TARGET_MS, meets_target_p95: e2r.p95 !== null && e2r.p95 <= TARGET_MS,
  };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const chromium = findChromium();
  if (!chromium) throw new Error('no Chromium (set CHROMIUM, or install the Debian package chromium)');
  if (typeof WebSocket === 'undefined') throw new Error('no global WebSocket: run node with --experimental-websocket (Node 20) or Node >= 22');
  const tmp = process.env.LOCAD_WEB_OUT ? null : mkdtempSync(path.join(tmpdir(), 'locad-e2e-'));
  const out = process.env.LOCAD_WEB_OUT ?? tmp;
  let daemon;
  let browser;
  let cdp;
  try {
    buildWeb(out);
    const port = await freePort();
    daemon = await startDaemon(port, out, {}, { bin: o.bin, workers: o.workers });
    browser = await launchChromium(chromium, { width: o.width, height: o.height });
    cdp = await CDP.connect(browser.browserWs);
    const version = await cdp.send('Browser.getVersion');
    for (const mesh of o.meshes.split(',').filter(Boolean)) {
      const page = await Page.open(cdp, { width: o.width, height: o.height });
      try {
        const r = await benchMesh(page, port, mesh, o);
        console.log(JSON.stringify({ ...r, browser: version.product }));
      } finally {
        await cdp.send('Target.closeTarget', { targetId: page.targetId }).catch(() => {});
      }
    }
  } catch (err) {
    if (daemon) console.error(`# daemon log:\n${daemon.log().split('\n').slice(-20).join('\n')}`);
    throw err;
  } finally {
    cdp?.close();
    await browser?.stop();
    await daemon?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`editor_e2e.mjs: ${err.message}`);
  process.exit(1);
});
