/**
 * The locad browser editor: connects to the daemon over WebSocket, loads a
 * shared mesh or a dropped OBJ, lets the user pick handle groups and drag
 * them (one problem.solve per pointer move, coalesced while one is in
 * flight), settles after a drop, plots energy and frame times, computes UV
 * layouts, and exposes window.locadEditor for tests.
 */
import { CONVERGED_REASONS, PLOT_FRAMES, SETTLE_MAX_FRAMES, SETTLE_RTOL } from './config.js';
import { FrameLoop } from './frameloop.js';
import { Handles } from './handles.js';
import { parseObj } from './obj.js';
import { drawPlot } from './plot.js';
import { Session } from './session.js';
import { FrameHistory, percentile } from './stats.js';
import { bbox, verticesWithin } from './topology.js';
import { drawUV, drawUVMessage } from './uvview.js';
import { View3D } from './view3d.js';

const $ = (id) => document.getElementById(id);
const CLICK_SLOP_PX = 4;
const HANDLE_HIT_PX = 12;
/** Drag-frame latency records kept (the oldest dropped beyond). */
const LATENCY_KEEP = 2000;

class Editor {
  /** Builds the views and wires the controls; call start() next. */
  constructor() {
    const params = new URLSearchParams(location.search);
    this.address = params.get('daemon') ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rpc`;
    this.token = params.get('token') ?? undefined;
    this.initialMesh = params.get('mesh');
    this.view = new View3D($('view'));
    this.handles = new Handles();
    this.history = new FrameHistory(PLOT_FRAMES);
    this.frames = [];
    this.connection = 'connecting';
    this.lastError = null;
    this.errorCount = 0;
    this.generation = 0;
    this.dragMoves = 0;
    this.latency = [];
    this.unsent = { moves: 0, events: 0 };
    this.settling = false;
    this.wirePointer();
    this.view.attachControls();
    this.wireControls();
    this.loop = new FrameLoop((p) => this.sendFrame(p), {
      onResult: (p, r, ms) => this.onFrame(p, r, ms),
      onError: (err) => this.fail('solve failed', err),
    });
  }

  /** Connects, lists the meshes, loads the first (or ?mesh=) one. */
  async start() {
    await this.connect();
    await this.listMeshes();
    const pick = this.initialMesh ?? $('mesh').value;
    if (pick) await this.loadShared(pick);
    else this.setStatus('no shared meshes (meshes.json is empty): drop an OBJ file on the page');
  }

  /** Opens the daemon connection (status line shows the state). */
  async connect() {
    this.setStatus(`connecting to ${this.address}…`);
    let Client;
    try {
      ({ Client, ErrorCode: this.ErrorCode } = await import('../client/index.js'));
    } catch (err) {
      this.connection = 'error';
      throw new Error(`cannot load the locad JS client (client/index.js): ${err.message}`);
    }
    this.client = new Client(this.address, { token: this.token });
    try {
      await this.client.ready;
    } catch (err) {
      this.connection = 'error';
      throw new Error(err.message.includes(this.address) ? err.message : `cannot connect to the daemon at ${this.address}: ${err.message}`);
    }
    await this.checkAuth();
    this.connection = 'connected';
    this.client.on?.('close', () => this.onDisconnect());
    this.session = new Session(this.client);
    this.setStatus(`connected to ${this.address}`);
  }

  /** Asks server.info; an AUTH answer becomes an error that says how to pass the token. */
  async checkAuth() {
    try {
      this.serverInfo = await this.client.info();
    } catch (err) {
      this.connection = 'error';
      if (err.code === this.ErrorCode.AUTH) {
        throw new Error(`the daemon at ${this.address} requires a token: open the page with ?token=TOKEN (${err.message})`);
      }
      throw new Error(`the daemon at ${this.address} did not answer server.info: ${err.message}`);
    }
  }

  /** Marks the connection lost. */
  onDisconnect() {
    this.connection = 'closed';
    this.setStatus(`disconnected from ${this.address}: reload the page to reconnect`, true);
  }

  /** Fills the mesh dropdown from meshes.json. */
  async listMeshes() {
    const res = await fetch('meshes.json');
    if (!res.ok) throw new Error(`cannot read meshes.json: HTTP ${res.status}`);
    this.meshList = await res.json();
    const sel = $('mesh');
    sel.replaceChildren(...this.meshList.map((m) => new Option(`${m.name} (${m.nv} V${m.boundary ? ', disk' : ''})`, m.name)));
  }

  /** Loads a shared mesh by name. */
  async loadShared(name) {
    const entry = this.meshList.find((m) => m.name === name);
    if (!entry) throw new Error(`no shared mesh named "${name}" (known: ${this.meshList.map((m) => m.name).join(', ')})`);
    $('mesh').value = name;
    this.setStatus(`loading ${name}…`);
    const res = await fetch(`meshes/${entry.file}`);
    if (!res.ok) throw new Error(`cannot fetch meshes/${entry.file}: HTTP ${res.status}`);
    await this.loadText(await res.text(), name);
  }

  /** Parses OBJ text and makes it the edited mesh. */
  async loadText(text, name) {
    let mesh;
    try {
      mesh = parseObj(text);
    } catch (err) {
      throw new Error(`${name}: ${err.message}`);
    }
    await this.loadParsed(mesh.V, mesh.F, name);
  }

  /** Uploads V/F to the daemon, creates the problem and shows the mesh. */
  async loadParsed(V, F, name) {
    this.generation += 1;
    this.epoch = (this.epoch ?? 0) + 1;
    this.loop.discardWaiting();
    await this.loop.idle();
    this.ready = false;
    this.rest = V;
    this.F = F;
    this.X = Float64Array.from(V);
    this.handles.clear();
    this.view.setMesh(V, F, $('flat').checked);
    this.view.setHandles(new Float64Array(0));
    this.diag = bbox(V).diag;
    this.meshName = name;
    const r = await this.session.setMesh(V, F, name);
    await this.session.setMode($('mode').value);
    this.resetFrames();
    drawUVMessage($('uv'), 'press "UV layout" to parameterize this mesh');
    this.ready = true;
    this.setStatus(`${name}: ${r.nv} vertices, ${r.nf} faces, mode ${this.session.mode}; click the mesh to add handles`);
  }

  /** Switches ARAP / cloth: a new problem from the rest shape, handles kept at their targets. */
  async setMode(mode) {
    this.generation += 1;
    this.epoch += 1;
    this.loop.discardWaiting();
    await this.loop.idle();
    this.ready = false;
    await this.session.setMode(mode);
    this.X = Float64Array.from(this.rest);
    this.view.setPositions(this.X);
    this.resetFrames();
    this.ready = true;
    this.setStatus(`mode ${mode}`);
    if (this.handles.size) this.settle();
  }

  /** Clears the frame history and plot. */
  resetFrames() {
    this.frames = [];
    this.latency = [];
    this.unsent = { moves: 0, events: 0 };
    this.history.clear();
    this.redrawPlot();
  }

  // ---- pointer interaction ---------------------------------------------

  /** Pointer listeners on the canvas; attached before OrbitControls so they run first. */
  wirePointer() {
    const c = this.view.canvas;
    c.addEventListener('pointerdown', (e) => this.onDown(e));
    c.addEventListener('pointermove', (e) => this.onMove(e));
    c.addEventListener('pointerup', (e) => this.onUp(e));
  }

  /** Starts a drag on a handle (the camera stays), or remembers a possible click. */
  onDown(e) {
    if (e.button !== 0 || !this.ready) return;
    this.down = { x: e.clientX, y: e.clientY };
    const v = this.handleAt(e.clientX, e.clientY);
    if (v < 0) return;
    this.view.controls.enabled = false;
    const gid = this.handles.groupOf(v);
    const snap = this.handles.snapshot(gid);
    const through = Handles.centroid(snap);
    this.drag = { v, gid, snap, through, start: this.view.unprojectOnViewPlane(e.clientX, e.clientY, through), moved: false };
    this.view.canvas.setPointerCapture?.(e.pointerId);
    this.unsent = { moves: 0, events: 0 }; // moves of an earlier drag that a settle frame superseded
    this.generation += 1; // stops a running settle
  }

  /** During a drag: moves the group in the view plane and asks for one frame. */
  onMove(e) {
    const d = this.drag;
    if (!d || !d.start) return;
    const p = this.view.unprojectOnViewPlane(e.clientX, e.clientY, d.through);
    if (!p) return;
    this.handles.moveFrom(d.snap, [p[0] - d.start[0], p[1] - d.start[1], p[2] - d.start[2]]);
    d.moved = true;
    this.dragMoves += 1;
    this.drawHandles();
    // latency is counted from the latest mouse event this move carries (the browser may have coalesced several)
    const merged = e.getCoalescedEvents?.() ?? [];
    const tEvent = merged.reduce((t, c) => Math.max(t, c.timeStamp), e.timeStamp);
    this.unsent.moves += 1;
    this.unsent.events += Math.max(1, merged.length);
    this.requestFrame('drag', 'drag', { tEvent, tHandler: performance.now() });
  }

  /** Ends a drag (then settles), or treats a short press as a click that toggles handles. */
  onUp(e) {
    const d = this.drag;
    this.drag = null;
    this.view.controls.enabled = true;
    if (d) {
      this.drawHandles();
      if (d.moved) this.settle();
      else this.removeHandleGroup(d.v);
      return;
    }
    if (!this.down || e.button !== 0) return;
    const moved = Math.hypot(e.clientX - this.down.x, e.clientY - this.down.y);
    this.down = null;
    if (moved <= CLICK_SLOP_PX) this.click(e.clientX, e.clientY, e.shiftKey);
  }

  /** A click on the mesh: adds the nearest vertex (and its region) as a handle group; shift extends the last group. */
  click(x, y, extend) {
    const v = this.view.pick(x, y);
    if (v < 0) return;
    if (this.handles.groupOf(v) !== undefined) {
      this.removeHandleGroup(v);
      return;
    }
    const radius = (Number($('radius').value) / 100) * this.diag;
    this.handles.add(radius > 0 ? verticesWithin(this.X, v, radius) : [v], this.X, extend);
    this.drawHandles();
    this.setStatus(`${this.handles.size} handle vertices in ${this.handles.groups.size} groups; drag one to deform`);
  }

  /** Removes the handle group of vertex v and re-solves with the remaining handles. */
  removeHandleGroup(v) {
    this.handles.removeGroupOf(v);
    this.drawHandles();
    if (this.handles.size) this.settle();
  }

  /** The handle vertex drawn within HANDLE_HIT_PX of client (x, y), nearest first; -1 when none. */
  handleAt(x, y) {
    let best = -1;
    let bestD = HANDLE_HIT_PX;
    for (const [v, p] of this.handles.targets) {
      const s = this.view.project(p);
      const dist = Math.hypot(s.x - x, s.y - y);
      if (dist <= bestD) {
        best = v;
        bestD = dist;
      }
    }
    return best;
  }

  /** Redraws the handle spheres (the dragged group highlighted). */
  drawHandles() {
    const e = this.handles.entities();
    const active = [...e].map((v) => this.drag && this.handles.groupOf(v) === this.drag.gid);
    this.view.setHandles(this.handles.values(), active);
  }

  // ---- frames ------------------------------------------------------------

  /** Asks the frame loop for a solve with the current handle targets (kind: drag, settle or step; move: the pointer move's times). */
  requestFrame(phase, kind = phase, move = undefined) {
    if (!this.handles.size) return;
    this.loop.request({ phase, kind, move, epoch: this.epoch, entities: this.handles.entities(), values: this.handles.values() });
  }

  /** Sends one frame's solve; a drag frame notes when, and how many pointer moves (and mouse events) it carries. */
  sendFrame(p) {
    if (p.move) {
      p.move.tSend = performance.now();
      p.move.moves = this.unsent.moves;
      p.move.events = this.unsent.events;
      this.unsent = { moves: 0, events: 0 };
    }
    return this.session.frame(p.entities, p.values, p.kind);
  }

  /** Shows a frame's result (unless the mesh or mode changed since it was sent: epoch). */
  onFrame(p, r, ms) {
    if (p.epoch !== this.epoch || r.x.length !== this.X.length) return;
    this.X = Float64Array.from(r.x);
    this.view.setPositions(this.X);
    const f = { n: this.history.total, phase: p.phase, kind: p.kind, energy: r.energy, ms, daemonMs: r.t_total * 1e3, reason: r.reason, iters: r.iters };
    this.frames.push(f);
    this.history.push(f);
    this.redrawPlot();
    if (p.move) this.recordLatency(f, p.move);
  }

  /**
   * A drag frame's latency, once the frame that shows it is rendered: from the
   * latest mouse event it carries to the end of that render (event_to_redraw_ms:
   * WebGL commands issued) and to the start of the animation frame after it
   * (event_to_next_frame_ms: the browser has had a frame to rasterize and
   * composite), with the parts: input_ms (event to handler), wait_ms (handler to
   * send: a request was in flight), rtt_ms (round trip), daemon_ms (t_total),
   * event_to_result_ms (event to answer decoded: everything but the drawing),
   * draw_ms (answer to render end), render_ms (renderer.render alone); moves:
   * pointer moves the request carries (moves - 1 coalesced by the frame loop),
   * events: mouse events in them (the browser coalesces too).
   */
  recordLatency(f, m) {
    const tResult = performance.now();
    const rec = {
      n: f.n, moves: m.moves, events: m.events, rtt_ms: f.ms, daemon_ms: f.daemonMs,
      input_ms: m.tHandler - m.tEvent, wait_ms: m.tSend - m.tHandler, event_to_result_ms: tResult - m.tEvent,
    };
    const epoch = this.epoch;
    this.view.afterNextRender((t) => {
      if (epoch !== this.epoch) return;
      rec.event_to_redraw_ms = t.renderEnd - m.tEvent;
      rec.draw_ms = t.renderEnd - tResult;
      rec.render_ms = t.renderEnd - t.renderStart;
      this.latency.push(rec);
      if (this.latency.length > LATENCY_KEEP) this.latency.shift();
      requestAnimationFrame(() => { rec.event_to_next_frame_ms = performance.now() - m.tEvent; });
    });
  }

  /** p50 / p95 of the kept drag frames' latencies (ms), and the moves they carried. */
  latencySummary() {
    const L = this.latency;
    const pct = (key) => {
      const v = L.map((r) => r[key]).filter((x) => x !== undefined);
      return { p50: percentile(v, 0.5), p95: percentile(v, 0.95) };
    };
    const moves = L.reduce((a, r) => a + r.moves, 0);
    return {
      frames: L.length, moves, coalesced: moves - L.length, events: L.reduce((a, r) => a + r.events, 0),
      event_to_redraw_ms: pct('event_to_redraw_ms'), event_to_next_frame_ms: pct('event_to_next_frame_ms'), event_to_result_ms: pct('event_to_result_ms'),
      rtt_ms: pct('rtt_ms'), daemon_ms: pct('daemon_ms'), render_ms: pct('render_ms'),
    };
  }

  /** After a drop: solves frames with fixed targets until the solve converges or an iterating frame leaves the energy unchanged (or a new drag starts). */
  async settle() {
    const gen = this.generation;
    const errors = this.errorCount;
    this.settling = true;
    try {
      let kind = 'settle';
      for (let k = 0; k < SETTLE_MAX_FRAMES && gen === this.generation; k++) {
        const before = this.frames.at(-1)?.energy;
        this.requestFrame('settle', kind);
        await this.loop.idle();
        const last = this.frames.at(-1);
        if (!last || this.errorCount !== errors) break;
        if (CONVERGED_REASONS.has(last.reason)) break;
        kind = last.iters > 0 ? 'settle' : 'step'; // no iteration fitted the time budget: force one
        if (last.iters > 0 && before !== undefined && Math.abs(before - last.energy) <= SETTLE_RTOL * Math.max(Math.abs(last.energy), 1e-300)) break;
      }
    } finally {
      if (gen === this.generation) this.settling = false;
    }
  }

  /** Redraws the energy / frame-time plot. */
  redrawPlot() {
    drawPlot($('plot'), this.history.items, this.history.times(), $('plot-label'));
  }

  // ---- UV ----------------------------------------------------------------

  /** Computes and draws the UV layout of the rest mesh (or a message why not). */
  async uvLayout() {
    drawUVMessage($('uv'), 'computing the UV layout…');
    try {
      const t0 = performance.now();
      const r = await this.session.uvLayout(this.rest, this.F);
      this.uv = r;
      drawUV($('uv'), r.uv, this.F);
      $('uv-label').textContent = `symmetric Dirichlet E ${r.energy.toFixed(4)}, ${r.iters} iters, ${r.flips} flipped, ${(performance.now() - t0).toFixed(0)} ms`;
    } catch (err) {
      this.uv = { error: err.message };
      drawUVMessage($('uv'), err.message);
      $('uv-label').textContent = '';
    }
  }

  // ---- controls, status ---------------------------------------------------

  /** Dropdown, mode, shading, UV button, clear button, file drop. */
  wireControls() {
    $('mesh').addEventListener('change', (e) => this.guard(this.loadShared(e.target.value)));
    $('mode').addEventListener('change', (e) => this.guard(this.setMode(e.target.value)));
    $('flat').addEventListener('change', (e) => this.view.setFlat(e.target.checked));
    $('uv-button').addEventListener('click', () => this.guard(this.uvLayout()));
    $('clear').addEventListener('click', () => {
      this.handles.clear();
      this.drawHandles();
    });
    document.addEventListener('dragover', (e) => e.preventDefault());
    document.addEventListener('drop', (e) => {
      e.preventDefault();
      const file = e.dataTransfer?.files?.[0];
      if (file) this.guard(file.text().then((t) => this.loadText(t, file.name)));
    });
  }

  /** Runs a promise, reporting its failure on the status line. */
  guard(promise) {
    return promise.catch((err) => this.fail('error', err));
  }

  /** Records and shows an error. */
  fail(what, err) {
    this.lastError = `${what}: ${err?.message ?? err}`;
    this.errorCount += 1;
    this.setStatus(this.lastError, true);
  }

  /** Writes the status line (connection state first). */
  setStatus(text, isError = false) {
    $('status').textContent = `[${this.connection}] ${text}`;
    $('status').title = $('status').textContent; // the whole text when the line is cut
    $('status').classList.toggle('error', isError);
  }

  /** The 3D view's client rectangle and the camera position (to tell a moved view from a moved mesh). */
  viewRect() {
    const r = this.view.canvas.getBoundingClientRect();
    const c = this.view.camera.position;
    return { x: r.left, y: r.top, w: r.width, h: r.height, camera: [c.x, c.y, c.z] };
  }

  /** State for tests and debugging. */
  state() {
    return {
      ready: !!this.ready, connection: this.connection, address: this.address, mesh: this.meshName ?? null,
      nv: this.rest ? this.rest.length / 3 : 0, nf: this.F ? this.F.length / 3 : 0, mode: this.session?.mode ?? null, handles: [...this.handles.entities()],
      groups: this.handles.groups.size, dragging: !!this.drag, settling: this.settling, inFlight: this.loop.inFlight,
      sent: this.loop.sent, coalesced: this.loop.coalesced, dragMoves: this.dragMoves, frames: this.history.total,
      latency: this.latencySummary(), lastError: this.lastError, status: $('status').textContent, view: this.viewRect(), uv: this.uv ? { error: this.uv.error, flips: this.uv.flips, energy: this.uv.energy } : null,
    };
  }
}

/** Installs window.locadEditor, the test hook. */
function installHook(editor, started) {
  window.locadEditor = {
    ready: started,
    state: () => editor.state(),
    get lastEnergy() { return editor.frames.at(-1)?.energy ?? null; },
    get frames() { return editor.frames.map((f) => ({ ...f })); },
    get latency() { return editor.latency.map((r) => ({ ...r })); },
    glInfo: () => editor.view.glInfo(),
    timeRender: (n) => editor.view.timeRender(editor.X, n),
    position: (i) => Array.from(editor.X.subarray(3 * i, 3 * i + 3)),
    restPosition: (i) => Array.from(editor.rest.subarray(3 * i, 3 * i + 3)),
    vertexScreenPos: (i) => editor.view.project(Array.from(editor.X.subarray(3 * i, 3 * i + 3))),
    pickAt: (x, y) => editor.view.pick(x, y),
    loadMesh: (name) => editor.loadShared(name),
    setMode: (mode) => { $('mode').value = mode; return editor.setMode(mode); },
    uvLayout: () => editor.uvLayout(),
    clearError: () => { editor.lastError = null; },
    idle: () => editor.loop.idle(),
  };
}

const editor = new Editor();
const started = editor.start().catch((err) => {
  editor.fail('start', err);
  throw err;
});
started.catch(() => {});
installHook(editor, started);
