/* apps.h - the five demo applications as library functions: each sets up a
 * problem (mesh, variable, terms, fixed DOFs, solver options) that a daemon
 * or client can reuse, and runs it to completion, reporting every iteration
 * through a callback and writing the result as OBJ.
 *
 *   cloth   a square cloth (n x n grid, 1 m x 1 m, horizontal) pinned at two
 *           corners drapes under gravity: StVK membrane (or springs), bending
 *           and inertia, implicit Euler (dynamics.h) until it settles;
 *   uv      Tutte layout (one Newton/CHOLMOD step on the uniform Dirichlet
 *           energy, boundary on the unit circle by arc length, scaled to the
 *           3D area), then flip-free symmetric-Dirichlet Newton;
 *   smooth  a noisy icosphere smoothed by Dirichlet energy plus a weak
 *           position target, by gradient descent and by L-BFGS;
 *   arap    ARAP on a grid (D = 2 by default) or a shared mesh (D = 3): the
 *           handle regions at both ends of the longest axis are fixed and
 *           moved (the far end pulled out and turned in the plane (D = 2) or
 *           twisted (D = 3), or both ends by one rigid motion); Newton solves
 *           the rest;
 *   sphere  spherical parameterization of a closed genus-0 mesh (spot): radial
 *           projection about the centroid, untangled on the sphere by Jacobi
 *           sweeps x_i <- normalize(sum of neighbours) until no face is
 *           flipped, then the sphere_param barrier minimised on the
 *           unit-sphere manifold (Newton, or L-BFGS);
 *   contact scene S1 of shared/reference-values.md: two icosphere shells
 *           fall onto a floor plane and onto each other under contact
 *           (engine/contact), implicit Euler; every step is checked and
 *           recorded, frames and a picture written to opts.out_dir
 *           (contact_scene.c);
 *   frames  integrable PolyVector frame field (frames.c);
 *   embedded embedded deformation with 12 variables per vertex (embedded.c).
 *
 * Nothing is printed: progress goes to opts.report.  Meshes named by
 * opts.mesh are read from opts.mesh_dir/<name>.obj. */
#ifndef LC_APPS_H
#define LC_APPS_H

#include <stdint.h>

#include "../lc_error.h"
#include "../problem.h"
#include "../solvers/solver.h"

#if defined(__cplusplus)
extern "C" {
#endif

typedef enum {
  LC_APP_CLOTH = 0,
  LC_APP_UV = 1,
  LC_APP_SMOOTH = 2,
  LC_APP_ARAP = 3,
  LC_APP_SPHERE = 4,
  LC_APP_CONTACT = 5,
  LC_APP_FRAMES = 6,
  LC_APP_EMBEDDED = 7,
  LC_APP_COUNT
} lc_app_kind;

/* One iteration (or one time step) of an app, for the report callback. */
typedef struct lc_app_event {
  const char *app;    /* "cloth", "uv", ... */
  const char *phase;  /* "step", "tutte", "newton", "gd", "lbfgs" */
  int iter;           /* iteration (cloth: time step) within the phase, from 1 */
  double energy;      /* energy after it (cloth: kinetic + potential, J) */
  double gnorm;       /* |g|_inf before it (cloth: static force residual, N) */
  double step;        /* accepted line-search step (cloth: Newton iterations) */
  double speed;       /* cloth: max vertex speed (m/s); else 0 */
  double t;           /* seconds since the app started */
  double smooth;      /* frames: the smoothness residuals' 1/2 |r|^2 (unweighted by w_s) */
  double curl;        /* frames: the curl term's energy */
  double handle_err;  /* embedded: max |p + t - q| over the handle vertices */
  double orth_err;    /* embedded: max |A^T A - I| (entrywise) over the nodes */
} lc_app_event;

/* Report callback: return non-zero to stop the app after this event. */
typedef int (*lc_app_report_fn)(void *user, const lc_app_event *ev);

/* Options (lc_app_opts_default, then override). */
typedef struct lc_app_opts {
  const char *mesh_dir; /* shared meshes (uv, sphere, arap with a mesh) */
  const char *mesh;     /* mesh name; NULL: app default (uv camelhead, sphere spot, arap grid) */
  const char *out;      /* OBJ path for the result, NULL: none */
  int n;                /* cloth/arap grid n x n (default 30 / 20), smooth icosphere level (4) */
  int max_iters;        /* iteration budget per phase (cloth: time steps); 0: app default */
  double tol;           /* 0: default; cloth: settle speed (m/s, 1e-3); uv: ftol (1e-12);
                           smooth, arap, sphere: gtol (1e-7, 1e-10, 1e-6) */
  int method;           /* sphere: LC_SOLVE_NEWTON (default) or LC_SOLVE_LBFGS; -1: default */
  int cloth_springs;    /* cloth: mass-spring membrane instead of StVK */
  double h;             /* cloth: time step (s); 0: default 1/60 */
  double damping;       /* cloth: mass-proportional damping (1/s); 0: default, < 0: none */
  int arap_rigid;       /* arap: move both handles by one rigid motion (zero energy expected) */
  int dim;              /* arap: 2 (flat mesh, (x, y)) or 3; 0: 2 on the grid, 3 on a named mesh */
  int threads;          /* evaluation threads, 0: OpenMP default */
  const char *device;   /* "cpu", "cuda:N", NULL: "auto" (see device.h) */
  double dhat, kappa;   /* contact: activation distance (0.01) and stiffness (1e3); 0: default */
  double reserve;       /* contact: Hessian pattern reserve (lc_contact_opts.reserve); 0: none */
  double mu;            /* contact: friction coefficient (lc_contact_opts.mu); 0: none */
  const int32_t *constrain; /* frames: the constrained faces (n_constrain; 0: face 0) */
  int32_t n_constrain;
  lc_lin_kind linear;   /* embedded: LC_LIN_CHOLMOD (default) or LC_LIN_PCG */
  int no_condense;      /* embedded: solve the full system instead of eliminating the nodes'
                           matrices first by static condensation (the default) */
  const char *out_dir;  /* contact: frames/, steps.jsonl and final.png go here; frames:
                           field.rawfield, iters.jsonl, final.png; NULL: none */
  lc_app_report_fn report;
  void *user;
} lc_app_opts;

/* Summary of one solver phase. */
typedef struct lc_app_phase {
  const char *name;   /* as in lc_app_event.phase */
  int iters;          /* iterations (cloth: time steps) */
  double energy0, energy, gnorm;
  lc_stop_reason reason;
  int monotone;       /* the energy never increased from one iterate to the next */
  int finite;         /* the energy was finite at every iterate */
  double t;           /* seconds */
} lc_app_phase;

#define LC_APP_MAX_PHASES 4

/* What an app did. */
typedef struct lc_app_result {
  lc_app_phase phase[LC_APP_MAX_PHASES];
  int n_phases;
  int converged;      /* cloth: settled; others: the last phase met its tolerance */
  int32_t nv, nf;     /* mesh size */
  int32_t n_flipped;  /* uv: faces with det <= 0; sphere: det[x0,x1,x2] <= 0; arap/cloth: 0 */
  int32_t n_flipped0; /* sphere: flipped faces of the radial projection (before untangling) */
  int untangle_sweeps;/* sphere: Jacobi sweeps x_i <- normalize(sum of neighbours) to untangle it */
  double speed;       /* cloth: final max speed (m/s) */
  int newton_iters;   /* cloth: Newton iterations over all steps */
  double tutte_diff;  /* uv: max |Tutte - mesh_dir/<mesh>.tutte_uv.txt| (NaN: no file) */
  double rigid_err;   /* arap rigid: max |x_i - (R p_i + t)| (NaN otherwise) */
  double roughness0, roughness; /* smooth: RMS of |x_i|/mean|x| - 1 before/after (L-BFGS result) */
  double min_dist;    /* contact: smallest distance of any pair or vertex-plane over all steps */
  int64_t intersections; /* contact: edge-face crossings summed over all steps (0 expected) */
  int32_t n_handles;  /* embedded: handle vertices */
  double handle_err;  /* embedded: final max |p + t - q| over the handles */
  double orth_err;    /* embedded: final max |A^T A - I| over the nodes */
  double t_total;
} lc_app_result;

/* A problem set up by an app, ready to solve (owned references). */
typedef struct lc_app_scene {
  lc_mesh *mesh;
  lc_problem *p;
  int var;            /* the optimised variable (vertex positions or UVs) */
  int inertia_term;   /* cloth: the inertia term; -1 otherwise */
  double h;           /* cloth: time step; 0 otherwise */
  double damping;     /* cloth: mass-proportional damping (1/s) */
  lc_solve_opts solve;/* recommended solver options (no callback set) */
} lc_app_scene;

/* Runs the contact scene S1 (contact_scene.c); converged: every step kept a
 * positive distance and no crossing. */
int lc_app_contact(const lc_app_opts *o, lc_app_result *r, lc_error *err);

/* Runs the frame-field app (frames.c): integrable PolyVector field on
 * <mesh_dir>/<mesh>.obj from <mesh>.rawfield (default cheburashka), 60
 * Gauss-Newton iterations of the reference schedule (max_iters overrides);
 * n_flipped: faces whose Im(beta conj(alpha)) <= 0 at the end; converged:
 * none and every energy finite.  With out_dir: field.rawfield,
 * iters.jsonl and final.png there. */
int lc_app_frames(const lc_app_opts *o, lc_app_result *r, lc_error *err);

/* Runs the embedded-deformation app (embedded.c): 12 variables per vertex
 * of <mesh_dir>/<mesh>.obj (default armadillo), four handle regions moved
 * (arap_rigid: by one rigid motion), Gauss-Newton with CHOLMOD or PCG
 * (opts.linear) until |g|_inf <= tol; converged: the tolerance was met.
 * With out_dir: iters.jsonl, before.png, after.png; with out: the deformed
 * mesh. */
int lc_app_embedded(const lc_app_opts *o, lc_app_result *r, lc_error *err);

/* Creates directory path unless it exists. */
int lc_app_make_dir(const char *path, lc_error *err);

/* Fills o with the defaults (no mesh dir, no output, no report, method -1). */
void lc_app_opts_default(lc_app_opts *o);

/* Name of an app ("cloth", ...), and back (the kind or LC_ENOTFOUND). */
const char *lc_app_name(lc_app_kind k);
int lc_app_parse(const char *name);

/* Frees what a setup function put in s (safe on a zeroed scene). */
void lc_app_scene_free(lc_app_scene *s);

/* Makes an n x n grid on [0, size]^2 in z = 0 (vertex j*n + i at (i, j)). */
int lc_app_grid(int n, double size, lc_mesh **out, lc_error *err);

/* Makes a unit icosphere with `level` subdivisions (12 vertices at level 0). */
int lc_app_icosphere(int level, lc_mesh **out, lc_error *err);

/* Boundary loop of a disk mesh from its smallest-index boundary vertex in
 * the faces' orientation into loop (nv capacity); its length into *n. */
int lc_app_boundary_loop(const lc_mesh *m, int32_t *loop, int32_t *n, lc_error *err);

/* Tutte layout of a disk mesh into uv (nv x 2): uniform weights, boundary on
 * the unit circle by 3D arc length, scaled so the UV area is the 3D area. */
int lc_app_tutte(const lc_mesh *m, double *uv, lc_error *err);

/* Set up each app's problem from o (see the header comment). */
int lc_app_cloth_setup(const lc_app_opts *o, lc_app_scene *s, lc_error *err);
int lc_app_uv_setup(const lc_app_opts *o, lc_app_scene *s, lc_error *err);
int lc_app_smooth_setup(const lc_app_opts *o, lc_app_scene *s, lc_error *err);
int lc_app_arap_setup(const lc_app_opts *o, lc_app_scene *s, lc_error *err);
int lc_app_sphere_setup(const lc_app_opts *o, lc_app_scene *s, lc_error *err);

/* Runs an app end to end (setup, solve, OBJ); fills r (zeroed first). */
int lc_app_cloth(const lc_app_opts *o, lc_app_result *r, lc_error *err);
int lc_app_uv(const lc_app_opts *o, lc_app_result *r, lc_error *err);
int lc_app_smooth(const lc_app_opts *o, lc_app_result *r, lc_error *err);
int lc_app_arap(const lc_app_opts *o, lc_app_result *r, lc_error *err);
int lc_app_sphere(const lc_app_opts *o, lc_app_result *r, lc_error *err);

/* Runs app k (dispatch to the functions above). */
int lc_app_run(lc_app_kind k, const lc_app_opts *o, lc_app_result *r, lc_error *err);

#if defined(__cplusplus)
}
#endif

#endif
