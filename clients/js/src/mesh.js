/**
 * Small mesh helpers for examples and tests.
 * @module locad/mesh
 */

/**
 * A regular n × n grid of the unit square in the z = 0 plane.
 * @param {number} n vertices per side
 * @returns {{V: Float64Array, F: Int32Array}} flat arrays ([nv*3], [nf*3])
 */
export function grid(n) {
  const V = new Float64Array(n * n * 3);
  const F = new Int32Array((n - 1) * (n - 1) * 6);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      V.set([i / (n - 1), j / (n - 1), 0], (j * n + i) * 3);
    }
  }
  let f = 0;
  for (let j = 0; j < n - 1; j++) {
    for (let i = 0; i < n - 1; i++) {
      const a = j * n + i;
      F.set([a, a + 1, a + n + 1, a, a + n + 1, a + n], f);
      f += 6;
    }
  }
  return { V, F };
}
