/**
 * The 3D view: a three.js scene with the mesh (indexed BufferGeometry, flat
 * or smooth shading), handle spheres, OrbitControls for the camera, vertex
 * picking (raycast, nearest vertex of the hit face), screen projection of
 * vertices and view-plane drags.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

import { bbox } from './topology.js';

export class View3D {
  /** Creates the renderer inside container (an element sized by CSS). */
  constructor(container) {
    this.container = container;
    this.renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    container.appendChild(this.renderer.domElement);
    this.canvas = this.renderer.domElement;
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(0x20242b);
    this.camera = new THREE.PerspectiveCamera(40, 1, 0.01, 1000);
    this.addLights();
    this.raycaster = new THREE.Raycaster();
    this.mesh = null;
    this.handles = null;
    this.renderWaiters = [];
    this.resize();
    new ResizeObserver(() => this.resize()).observe(container);
  }

  /** Creates the OrbitControls; call after attaching pointer listeners that must run first. */
  attachControls() {
    this.controls = new OrbitControls(this.camera, this.canvas);
    this.controls.addEventListener('change', () => this.render());
  }

  /** Ambient sky light plus a headlight that follows the camera. */
  addLights() {
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x445566, 1.2));
    const head = new THREE.DirectionalLight(0xffffff, 1.6);
    head.position.set(0.3, 0.5, 1);
    this.camera.add(head);
    this.scene.add(this.camera);
  }

  /** Matches the renderer and camera to the container's size. */
  resize() {
    const w = Math.max(1, this.container.clientWidth);
    const h = Math.max(1, this.container.clientHeight);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.render();
  }

  /** Shows a new mesh (V flat [nv*3], F flat [nf*3]) and frames the camera on it. */
  setMesh(V, F, flat) {
    if (this.mesh) {
      this.scene.remove(this.mesh);
      this.mesh.geometry.dispose();
    }
    const g = new THREE.BufferGeometry();
    g.setAttribute('position', new THREE.BufferAttribute(Float32Array.from(V), 3));
    g.setIndex(new THREE.BufferAttribute(Uint32Array.from(F), 1));
    g.computeVertexNormals();
    this.material = new THREE.MeshStandardMaterial({ color: 0xc9b48f, roughness: 0.7, flatShading: flat, side: THREE.DoubleSide });
    this.mesh = new THREE.Mesh(g, this.material);
    this.scene.add(this.mesh);
    this.frameCamera(V);
    this.render();
  }

  /** Points the camera at the bounding box of V from the +z side. */
  frameCamera(V) {
    const b = bbox(V);
    const c = new THREE.Vector3(...b.min.map((m, k) => (m + b.max[k]) / 2));
    const dist = (0.5 * b.diag) / Math.tan((this.camera.fov * Math.PI) / 360) * 1.15;
    this.camera.near = b.diag * 1e-3;
    this.camera.far = b.diag * 20;
    this.camera.position.copy(c).add(new THREE.Vector3(0, 0, dist));
    this.camera.lookAt(c);
    this.camera.updateProjectionMatrix();
    this.scale = b.diag;
    if (this.controls) {
      this.controls.target.copy(c);
      this.controls.update();
    }
  }

  /** Replaces the mesh's positions (x flat [nv*3], float64 or float32) and asks for a render. */
  setPositions(x) {
    this.updatePositions(x);
    this.render();
  }

  /** Replaces the mesh's positions and recomputes normals and bounds, without rendering. */
  updatePositions(x) {
    const g = this.mesh.geometry;
    g.attributes.position.array.set(x);
    g.attributes.position.needsUpdate = true;
    g.computeVertexNormals();
    g.computeBoundingSphere();
    g.computeBoundingBox();
  }

  /** Switches between flat and smooth shading. */
  setFlat(flat) {
    if (!this.material) return;
    this.material.flatShading = flat;
    this.material.needsUpdate = true;
    this.render();
  }

  /** Draws a sphere at each handle position (flat [m*3]); colours: 'drag' group highlighted. */
  setHandles(points, active) {
    if (this.handles) {
      this.scene.remove(this.handles);
      this.handles.dispose(); // the instance buffers; geometry and material are shared
    }
    const m = points.length / 3;
    if (this.handleScale !== this.scale) {
      this.handleGeometry = new THREE.SphereGeometry((this.scale ?? 1) * 0.008, 12, 8);
      this.handleMaterial ??= new THREE.MeshBasicMaterial({ color: 0xffffff });
      this.handleScale = this.scale;
    }
    this.handles = new THREE.InstancedMesh(this.handleGeometry, this.handleMaterial, Math.max(1, m));
    this.handles.count = m;
    const mx = new THREE.Matrix4();
    for (let i = 0; i < m; i++) {
      mx.makeTranslation(points[3 * i], points[3 * i + 1], points[3 * i + 2]);
      this.handles.setMatrixAt(i, mx);
      this.handles.setColorAt(i, new THREE.Color(active?.[i] ? 0xff5040 : 0x40a0ff));
    }
    this.scene.add(this.handles);
    this.render();
  }

  /** The vertex nearest to the ray's hit point on the mesh at client (x, y), or -1 on a miss. */
  pick(clientX, clientY) {
    if (!this.mesh) return -1;
    this.raycaster.setFromCamera(this.ndc(clientX, clientY), this.camera);
    const hit = this.raycaster.intersectObject(this.mesh, false)[0];
    if (!hit) return -1;
    const pos = this.mesh.geometry.attributes.position;
    const { a, b, c } = hit.face;
    const d = [a, b, c].map((i) => new THREE.Vector3().fromBufferAttribute(pos, i).distanceToSquared(hit.point));
    return [a, b, c][d.indexOf(Math.min(...d))];
  }

  /** Normalised device coordinates of a client point. */
  ndc(clientX, clientY) {
    const r = this.canvas.getBoundingClientRect();
    return new THREE.Vector2(((clientX - r.left) / r.width) * 2 - 1, -((clientY - r.top) / r.height) * 2 + 1);
  }

  /** Client (CSS pixel) coordinates of a 3D point p = [x, y, z]. */
  project(p) {
    const v = new THREE.Vector3(...p).project(this.camera);
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + ((v.x + 1) / 2) * r.width, y: r.top + ((1 - v.y) / 2) * r.height, depth: v.z };
  }

  /** Client (x, y) to the point on the plane through `through` facing the camera ([x, y, z] or null). */
  unprojectOnViewPlane(clientX, clientY, through) {
    const o = new THREE.Vector3(...through);
    const n = new THREE.Vector3();
    this.camera.getWorldDirection(n);
    const plane = new THREE.Plane().setFromNormalAndCoplanarPoint(n, o);
    this.raycaster.setFromCamera(this.ndc(clientX, clientY), this.camera);
    const hit = this.raycaster.ray.intersectPlane(plane, new THREE.Vector3());
    return hit ? [hit.x, hit.y, hit.z] : null;
  }

  /** Asks for a render at the next animation frame (many changes in one tick render once). */
  render() {
    if (this.renderPending) return;
    this.renderPending = true;
    requestAnimationFrame((frameStart) => {
      this.renderPending = false;
      const renderStart = performance.now();
      this.renderer.render(this.scene, this.camera);
      const renderEnd = performance.now();
      if (this.renderWaiters.length === 0) return;
      const t = { frameStart, renderStart, renderEnd };
      for (const fn of this.renderWaiters.splice(0)) fn(t);
    });
  }

  /**
   * Calls fn({frameStart, renderStart, renderEnd}) (performance.now() times)
   * right after the next render, which shows every change made so far; asks
   * for that render. renderEnd is when the WebGL commands were issued: the
   * browser rasterizes and composites them afterwards.
   */
  afterNextRender(fn) {
    this.renderWaiters.push(fn);
    this.render();
  }

  /** The WebGL context's vendor, renderer and version (unmasked when the browser tells). */
  glInfo() {
    const gl = this.renderer.getContext();
    const dbg = gl.getExtension('WEBGL_debug_renderer_info');
    return {
      vendor: gl.getParameter(dbg ? dbg.UNMASKED_VENDOR_WEBGL : gl.VENDOR),
      renderer: gl.getParameter(dbg ? dbg.UNMASKED_RENDERER_WEBGL : gl.RENDERER),
      version: gl.getParameter(gl.VERSION),
    };
  }

  /**
   * Times rendering alone, n times with positions x (no daemon): updatePositions
   * (normals, bounds), renderer.render (issuing the commands) and a 1-pixel
   * readPixels that waits until the GPU (or software rasterizer) has drawn the
   * frame. Returns one {update_ms, submit_ms, finish_ms, total_ms} per render.
   */
  timeRender(x, n = 20) {
    const gl = this.renderer.getContext();
    const px = new Uint8Array(4);
    const out = [];
    for (let k = 0; k < n; k++) {
      const t0 = performance.now();
      this.updatePositions(x);
      const t1 = performance.now();
      this.renderer.render(this.scene, this.camera);
      const t2 = performance.now();
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
      const t3 = performance.now();
      out.push({ update_ms: t1 - t0, submit_ms: t2 - t1, finish_ms: t3 - t2, total_ms: t3 - t0 });
    }
    return out;
  }
}
