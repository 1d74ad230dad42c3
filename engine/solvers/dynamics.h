/* dynamics.h - implicit-Euler time stepping on a problem: positions x (one
 * vertex variable of the problem, dimension 2 or 3) and velocities v (owned
 * by the dynamics handle).
 *
 * One step from (x_n, v_n) with time step h:
 *   v'   = v_n / (1 + c h)                    (mass-proportional damping c >= 0,
 *                                              default 0: plain implicit Euler)
 *   x~   = x_n + h v' + h^2 M^-1 f_ext        (f_ext: optional per-vertex force)
 *   x_{n+1} = argmin_x  1/2 |x - x~|^2_M + h^2 W(x)
 *   v_{n+1} = (x_{n+1} - x_n) / h              (0 on fixed vertices)
 * The minimisation is one lc_solver_solve with the caller's options (Newton
 * advised), started from x~ (or from x_n when x~ is infeasible, e.g. a
 * barrier energy is +inf there).
 *
 * Convention (the caller's part): the problem's terms ARE that functional.
 * Its inertia term (energy "inertia" on the variable, every vertex, added
 * with elems = NULL so that element i is vertex i) supplies 1/2 m |x - x~|^2
 * with weight 1; the dynamics handle rewrites its constants [m, x~(D)] each
 * step (masses m are read from it once, at creation).  Every other term is a
 * potential W (gravity, springs, StVK, bending ...) and must carry the weight
 * h^2 times its physical weight.  Fixed DOFs (lc_problem_fix) are pinned:
 * they keep their value and have zero velocity.
 *
 * The problem is borrowed: it must outlive the handle, and its variable and
 * inertia term must stay in place. */
#ifndef LC_DYNAMICS_H
#define LC_DYNAMICS_H

#include "../lc_error.h"
#include "../problem.h"
#include "solver.h"

#if defined(__cplusplus)
extern "C" {
#endif

typedef struct lc_dynamics lc_dynamics;

/* Creates a stepper for variable var of p with inertia term inertia_term and step h > 0; v = 0. */
int lc_dynamics_create(lc_problem *p, int var, int inertia_term, double h, lc_dynamics **out,
                       lc_error *err);

/* Destroys the stepper (the problem is untouched). NULL is a no-op. */
void lc_dynamics_destroy(lc_dynamics *d);

/* Advances one implicit-Euler step with solver s (of the same problem) and options o (r may
 * be NULL); on failure x is rolled back to x_n and v is unchanged. */
int lc_dynamics_step(lc_dynamics *d, lc_solver *s, const lc_solve_opts *o, lc_solve_result *r,
                     lc_error *err);

/* The velocities (borrowed, n_vertices x D), valid until the next step or set. */
const double *lc_dynamics_velocity(const lc_dynamics *d);

/* Replaces the velocities (n_vertices x D, finite; fixed DOFs are set to 0). */
int lc_dynamics_set_velocity(lc_dynamics *d, const double *v, lc_error *err);

/* Sets the external per-vertex force (n_vertices x D, finite) or clears it (f = NULL). */
int lc_dynamics_set_force(lc_dynamics *d, const double *f, lc_error *err);

/* Steps under contact c (NULL: none; borrowed, on the same problem and
 * variable): each step starts from x_n moved toward the prediction x~ as
 * far as CCD allows (lc_contact_advance: a plain jump to x~ could pass
 * through a surface) and minimises with lc_contact_solve. */
struct lc_contact;
void lc_dynamics_set_contact(lc_dynamics *d, struct lc_contact *c);

/* Sets the mass-proportional damping rate c >= 0 (1/s). */
int lc_dynamics_set_damping(lc_dynamics *d, double c, lc_error *err);

/* The time step h. */
double lc_dynamics_h(const lc_dynamics *d);

/* The mass-proportional damping rate (1/s). */
double lc_dynamics_damping(const lc_dynamics *d);

/* Number of steps taken and simulated time (steps x h). */
long lc_dynamics_steps(const lc_dynamics *d);
double lc_dynamics_time(const lc_dynamics *d);

/* Largest speed max_i |v_i| over the vertices. */
double lc_dynamics_max_speed(const lc_dynamics *d);

/* Kinetic energy 1/2 sum_i m_i |v_i|^2. */
double lc_dynamics_kinetic(const lc_dynamics *d);

/* Potential energy W(x) - f_ext.x and static force imbalance |grad W(x) - f_ext|_inf
 * (free DOFs; 0 at rest) at the current state; either output may be NULL. */
int lc_dynamics_potential(lc_dynamics *d, double *W, double *res, lc_error *err);

#if defined(__cplusplus)
}
#endif

#endif
