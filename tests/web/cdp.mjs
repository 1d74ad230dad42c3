/**
 * A minimal Chrome DevTools Protocol driver for the web editor test: starts
 * headless Chromium with a private profile, finds its DevTools WebSocket
 * (DevToolsActivePort), attaches to a page and sends commands over Node's
 * WebSocket (node --experimental-websocket on Node 20).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The Chromium binary: $CHROMIUM when set (null if it does not exist), else the first usual name that exists, else null. */
export function findChromium() {
  if (process.env.CHROMIUM) return existsSync(process.env.CHROMIUM) ? process.env.CHROMIUM : null;
  const names = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return names.find((n) => existsSync(n)) ?? null;
}

/** Resolves after ms. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts headless Chromium; resolves to {browserWs, stop, log} once DevToolsActivePort is written. */
export async function launchChromium(bin, { width = 1200, height = 800 } = {}) {
  const profile = mkdtempSync(path.join(tmpdir(), 'locad-web-chromium-'));
  const args = ['--headless=new', '--remote-debugging-port=0', `--user-data-dir=${profile}`,
    '--no-first-run', '--no-default-browser-check', '--disable-gpu-sandbox', '--no-sandbox',
    '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
    `--window-size=${width},${height}`, 'about:blank'];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(3000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    // Chromium's helper processes may still write into the profile for a moment after the browser
    // exits (ENOTEMPTY seen under load): retry, and leave a temp dir behind rather than fail a test.
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
    } catch (err) {
      console.warn(`cdp.mjs: could not remove ${profile}: ${err.message}`);
    }
  };
  const portFile = path.join(profile, 'DevToolsActivePort');
  for (let t = 0; t < 300; t++) {
    if (child.exitCode !== null) break;
    if (existsSync(portFile)) {
      const [port, wsPath] = readFileSync(portFile, 'utf8').split('\n');
      if (port && wsPath) return { browserWs: `ws://127.0.0.1:${port}${wsPath}`, stop, log: () => log };
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`chromium did not start (no DevToolsActivePort within 30 s):\n${log}`);
}

/** One CDP connection (the browser's); commands on an attached page carry its sessionId. */
export class CDP {
  /** Opens the WebSocket to url; resolves once open. */
  static async connect(url) {
    if (typeof WebSocket === 'undefined') throw new Error('no global WebSocket: run node with --experimental-websocket (Node 20) or Node >= 22');
    const cdp = new CDP(new WebSocket(url));
    await new Promise((resolve, reject) => {
      cdp.ws.addEventListener('open', resolve, { once: true });
      cdp.ws.addEventListener('error', () => reject(new Error(`cannot open the DevTools WebSocket ${url}`)), { once: true });
    });
    return cdp;
  }

  /** Wraps an opening WebSocket. */
  constructor(ws) {
    this.ws = ws;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = [];
    ws.addEventListener('message', (e) => this.onMessage(JSON.parse(e.data)));
    ws.addEventListener('close', () => {
      for (const p of this.pending.values()) p.reject(new Error(`DevTools connection closed during ${p.method}`));
      this.pending.clear();
    });
  }

  /** Routes answers to their callers and events to listeners. */
  onMessage(msg) {
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (!p) return;
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}${msg.error.data ? ` (${msg.error.data})` : ''}`));
      else p.resolve(msg.result);
      return;
    }
    for (const l of this.listeners) l(msg);
  }

  /** Sends a command (on sessionId when given); resolves to its result. */
  send(method, params = {}, sessionId = undefined) {
    const id = this.nextId++;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.ws.send(JSON.stringify(msg));
    });
  }

  /** Calls fn(event) for every event. */
  on(fn) {
    this.listeners.push(fn);
  }

  /** Closes the connection. */
  close() {
    this.ws.close();
  }
}

/** A page target: create, attach, evaluate, input, screenshot. */
export class Page {
  /** Creates a page at about:blank and attaches to it (flattened session). */
  static async open(cdp, { width = 1200, height = 800 } = {}) {
    const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(cdp, sessionId);
    page.targetId = targetId;
    await page.send('Page.enable');
    await page.send('Runtime.enable');
    await page.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    return page;
  }

  /** A session on cdp; collects console messages and exceptions. */
  constructor(cdp, sessionId) {
    this.cdp = cdp;
    this.sessionId = sessionId;
    this.console = [];
    cdp.on((msg) => {
      if (msg.sessionId !== sessionId) return;
      if (msg.method === 'Runtime.consoleAPICalled') {
        this.console.push(`${msg.params.type}: ${msg.params.args.map((a) => a.value ?? a.description).join(' ')}`);
      } else if (msg.method === 'Runtime.exceptionThrown') {
        const d = msg.params.exceptionDetails;
        this.console.push(`exception: ${d.exception?.description ?? d.text}`);
      }
    });
  }

  /** Sends a command on this page's session. */
  send(method, params) {
    return this.cdp.send(method, params, this.sessionId);
  }

  /** Navigates and waits for the load event. */
  async goto(url) {
    const loaded = new Promise((resolve) => {
      const fn = (msg) => { if (msg.sessionId === this.sessionId && msg.method === 'Page.loadEventFired') resolve(); };
      this.cdp.on(fn);
    });
    const r = await this.send('Page.navigate', { url });
    if (r.errorText) throw new Error(`cannot open ${url}: ${r.errorText}`);
    await loaded;
  }

  /** Evaluates an expression (promises awaited) and returns its JSON value; throws the page's exception. */
  async eval(expression) {
    const r = await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) {
      const d = r.exceptionDetails;
      throw new Error(`page: ${d.exception?.description ?? d.text} (in: ${expression.slice(0, 120)})`);
    }
    return r.result.value;
  }

  /** Polls expression until it is truthy; throws after ms with the last value and describe() for context. */
  async waitFor(expression, ms, describe = 'window.locadEditor?.state?.()') {
    const t0 = Date.now();
    let v;
    while (Date.now() - t0 < ms) {
      v = await this.eval(expression);
      if (v) return v;
      await sleep(50);
    }
    const ctx = await this.eval(`JSON.stringify(${describe})`).catch((e) => e.message);
    throw new Error(`timed out after ${ms} ms waiting for ${expression}\n  page state: ${ctx}\n  console: ${this.console.slice(-10).join('\n    ')}`);
  }

  /** One mouse event (type mousePressed/mouseMoved/mouseReleased) at CSS pixel (x, y). */
  mouse(type, x, y, { buttons = 0, modifiers = 0 } = {}) {
    const pressed = type !== 'mouseMoved';
    return this.send('Input.dispatchMouseEvent', {
      type, x, y, modifiers, button: pressed || buttons ? 'left' : 'none', buttons, clickCount: pressed ? 1 : 0,
    });
  }

  /** A left click at (x, y) (modifiers: 8 = shift). */
  async click(x, y, modifiers = 0) {
    await this.mouse('mouseMoved', x, y, { modifiers });
    await this.mouse('mousePressed', x, y, { buttons: 1, modifiers });
    await this.mouse('mouseReleased', x, y, { buttons: 0, modifiers });
  }

  /** A PNG screenshot of the viewport (Buffer). */
  async screenshot() {
    const { data } = await this.send('Page.captureScreenshot', { format: 'png' });
    return Buffer.from(data, 'base64');
  }
}
