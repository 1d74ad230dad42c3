/**
 * Editor settings in one place: the solve method of editor frames, iteration
 * budgets and the cloth material.
 */

/**
 * problem.solve method of ARAP editor frames (drag and settle): local-global,
 * whose Laplacian factor the daemon keeps while the handle set stays, so a
 * drag frame costs a few triangular solves ('newton' is the other choice).
 */
export const FRAME_METHOD = 'local_global';

/** Method of cloth frames: StVK, bending and gravity need Newton (local_global takes arap terms only). */
export const CLOTH_METHOD = 'newton';

/** Solver options of one drag frame: a small budget keeps frames interactive (gtol 0: spend it). */
export const FRAME_OPTIONS = { max_iters: 4, gtol: 0, progress_every: 0 };

/** Solver options of one settle frame (after the drop): more iterations, bounded in time. */
export const SETTLE_OPTIONS = { max_iters: 50, time_budget: 0.1, progress_every: 0 };

/**
 * A settle frame whose time budget ran out before its first iteration (the
 * daemon's setup, e.g. the first factorization of a new problem, took it all)
 * is followed by one with exactly one iteration and no budget, so settling
 * always progresses.
 */
export const STEP_OPTIONS = { max_iters: 1, progress_every: 0 };

/** Frames solved after a drop, at most, until the energy settles. */
export const SETTLE_MAX_FRAMES = 60;

/** Relative energy change below which settling stops. */
export const SETTLE_RTOL = 1e-7;

/** Solve reasons that mean the frame converged. */
export const CONVERGED_REASONS = new Set(['gradient', 'decrement', 'ftol']);

/** Cloth material (as engine/apps/apps.c's cloth): StVK membrane, bending, gravity along -y. */
export const CLOTH = {
  stvk: { mu: 500, lambda: 200 },
  bending: { k: 1e-3 },
  gravity: { gx: 0, gy: -9.81, gz: 0, density: 0.2 },
};

/** Symmetric-Dirichlet UV solve after the Tutte layout (locad-demo uv's tolerances, fewer iterations). */
export const UV_OPTIONS = { max_iters: 60, gtol: 1e-9, ftol: 1e-12, progress_every: 0 };

/** Frames kept for the energy / frame-time plot. */
export const PLOT_FRAMES = 200;
