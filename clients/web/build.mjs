#!/usr/bin/env node
/**
 * Builds the servable browser editor into OUTDIR:
 *   index.html, editor.css, js/ (the editor's modules), client/ (copies of
 *   clients/js/src/*.js), vendor/three (three.module.js, three.core.js,
 *   addons/controls/OrbitControls.js), vendor/msgpack (@msgpack/msgpack's
 *   dist.esm) and meshes/ with meshes.json (the shared OBJ meshes of at most
 *   MAX_VERTICES vertices).
 *
 *   node clients/web/build.mjs OUTDIR [--meshes DIR]
 *   (mesh folder: --meshes, else $LOCAD_MESHES, else ../shared/meshes beside the checkout)
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseObj } from './src/obj.js';
import { boundaryLoops } from './src/topology.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const MAX_VERTICES = 60000;

/** OUTDIR and the mesh folder from argv / env; exits with usage on bad arguments. */
function parseArgs(argv) {
  const args = { out: null, meshes: process.env.LOCAD_MESHES || path.resolve(ROOT, '..', 'shared', 'meshes') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--meshes' && i + 1 < argv.length) args.meshes = argv[++i];
    else if (!argv[i].startsWith('-') && !args.out) args.out = argv[i];
    else usage(`unknown argument "${argv[i]}"`);
  }
  if (!args.out) usage('OUTDIR is required');
  return args;
}

/** Prints usage and the problem, exits 64. */
function usage(why) {
  console.error(`build.mjs: ${why}\nusage: node clients/web/build.mjs OUTDIR [--meshes DIR]`);
  process.exit(64);
}

/** Copies file src to dst, creating dst's folder. */
function copy(src, dst) {
  mkdirSync(path.dirname(dst), { recursive: true });
  copyFileSync(src, dst);
}

/** The folder of an npm package, from clients/web's node_modules, else clients/js's; throws naming what to run. */
function packageDir(name) {
  for (const base of [path.join(HERE, 'node_modules'), path.join(ROOT, 'clients', 'js', 'node_modules')]) {
    if (existsSync(path.join(base, name, 'package.json'))) return path.join(base, name);
  }
  throw new Error(`npm package ${name} is not installed: run "npm ci" in ${HERE}`);
}

/** The editor's page, style and modules. */
function copyEditor(out) {
  const src = path.join(HERE, 'src');
  rmSync(path.join(out, 'js'), { recursive: true, force: true });
  for (const f of readdirSync(src)) {
    const dst = f.endsWith('.js') ? path.join(out, 'js', f) : path.join(out, f);
    copy(path.join(src, f), dst);
  }
}

/** The JS client's sources (clients/js/src/*.js). */
function copyClient(out) {
  const src = path.join(ROOT, 'clients', 'js', 'src');
  rmSync(path.join(out, 'client'), { recursive: true, force: true });
  for (const f of readdirSync(src).filter((n) => n.endsWith('.js'))) copy(path.join(src, f), path.join(out, 'client', f));
}

/** three's ESM build and OrbitControls, msgpack's dist.esm. */
function copyVendor(out) {
  const three = packageDir('three');
  const v3 = path.join(out, 'vendor', 'three');
  rmSync(path.join(out, 'vendor'), { recursive: true, force: true });
  for (const f of ['three.module.js', 'three.core.js']) copy(path.join(three, 'build', f), path.join(v3, f));
  copy(path.join(three, 'LICENSE'), path.join(v3, 'LICENSE'));
  copy(path.join(three, 'examples', 'jsm', 'controls', 'OrbitControls.js'), path.join(v3, 'addons', 'controls', 'OrbitControls.js'));
  copyTree(path.join(packageDir('@msgpack/msgpack'), 'dist.esm'), path.join(out, 'vendor', 'msgpack'), '.mjs');
}

/** Copies the files of src ending in ext, with its subfolders, to dst. */
function copyTree(src, dst, ext) {
  for (const e of readdirSync(src, { withFileTypes: true })) {
    if (e.isDirectory()) copyTree(path.join(src, e.name), path.join(dst, e.name), ext);
    else if (e.name.endsWith(ext)) copy(path.join(src, e.name), path.join(dst, e.name));
  }
}

/** Copies the shared OBJ meshes up to MAX_VERTICES into out/meshes and writes meshes.json; returns the entries. */
function copyMeshes(out, dir) {
  const entries = [];
  if (!existsSync(dir)) {
    console.error(`build.mjs: warning: no mesh folder ${dir}; meshes.json is empty (drop OBJ files on the page instead)`);
  } else {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.obj')).sort()) {
      const entry = meshEntry(path.join(dir, f), out);
      if (entry) entries.push(entry);
    }
  }
  entries.sort((a, b) => a.nv - b.nv);
  writeFileSync(path.join(out, 'meshes.json'), `${JSON.stringify(entries, null, 1)}\n`);
  return entries;
}

/** One mesh's meshes.json entry (copied when it is small enough), or null when it is too large. */
function meshEntry(file, out) {
  const text = readFileSync(file, 'utf8');
  const nv = (text.match(/^v\s/gm) ?? []).length;
  if (nv > MAX_VERTICES) return null;
  const m = parseObj(text);
  const dst = path.join(out, 'meshes', path.basename(file));
  if (!existsSync(dst) || statSync(dst).size !== statSync(file).size) copy(file, dst);
  const loops = boundaryLoops(m.F, m.nv).length;
  return { name: path.basename(file, '.obj'), file: path.basename(file), nv: m.nv, nf: m.nf, boundary_loops: loops, boundary: loops === 1 };
}

/** Builds everything and reports what went where. */
function main() {
  const args = parseArgs(process.argv.slice(2));
  const out = path.resolve(args.out);
  mkdirSync(out, { recursive: true });
  copyEditor(out);
  copyClient(out);
  copyVendor(out);
  const meshes = copyMeshes(out, args.meshes);
  console.log(`built the editor in ${out} (${meshes.length} meshes: ${meshes.map((m) => m.name).join(', ')})`);
}

try {
  main();
} catch (err) {
  console.error(`build.mjs: ${err.message}`);
  process.exit(1);
}
