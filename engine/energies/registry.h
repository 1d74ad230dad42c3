/* registry.h - the table of built-in energies (host side).
 *
 * An energy instance is one element function for one element shape: K
 * entities (vertices or faces) of a variable of dimension D, so N = K*D local
 * variables.  The element source (e_<name>.h) is shared by every backend and
 * every AD mode; this table holds what only the host needs: names, element
 * kind, parameters with defaults, how per-element constants are computed from
 * the rest mesh, and a one-line formula.
 *
 * The list LC_ENERGY_LIST below is the single list of instances; the enum,
 * the registry table and each backend's kernel table are generated from it.
 * engine/energies/instances.h instantiates the element sources in the same
 * order. */
#ifndef LC_ENERGY_REGISTRY_H
#define LC_ENERGY_REGISTRY_H

#include <stdint.h>

#include "../lc_error.h"
#include "../ad/lc_ad_base.h"
#include "../mesh/mesh.h"
#include "max_step.h"

/* Element kinds. */
typedef enum {
  LC_ELEM_VERTEX = 0,  /* K = 1: one vertex */
  LC_ELEM_EDGE,        /* K = 2: an undirected edge (i < j) */
  LC_ELEM_FACE,        /* K = 3: a face (counter-clockwise) */
  LC_ELEM_FLAP,        /* K = 4: interior edge x0,x1 and opposite vertices x2,x3 */
  LC_ELEM_FACE_PAIR,   /* K = 2: two faces sharing an edge (face variables) */
  LC_ELEM_LIST,        /* K entities given explicitly (vertex pairs, contacts) */
  LC_ELEM_COUNT
} lc_elem_kind;

/* Where a variable lives. */
typedef enum { LC_LOC_VERTEX = 0, LC_LOC_FACE = 1 } lc_var_loc;

/* X(instance, name, dim): every energy instance, in registry order. */
#define LC_ENERGY_LIST(X)                                   \
  X(spring_2, "spring", 2)                                  \
  X(spring_3, "spring", 3)                                  \
  X(inertia_2, "inertia", 2)                                \
  X(inertia_3, "inertia", 3)                                \
  X(gravity_3, "gravity", 3)                                \
  X(target_1, "target", 1)                                  \
  X(target_2, "target", 2)                                  \
  X(target_3, "target", 3)                                  \
  X(target_4, "target", 4)                                  \
  X(stvk_3, "stvk", 3)                                      \
  X(neohookean_3, "neohookean", 3)                          \
  X(bending_3, "bending", 3)                                \
  X(symdir_2, "symmetric_dirichlet", 2)                     \
  X(arap_2, "arap", 2)                                      \
  X(arap_3, "arap", 3)                                      \
  X(dirichlet_1, "dirichlet", 1)                            \
  X(dirichlet_2, "dirichlet", 2)                            \
  X(dirichlet_3, "dirichlet", 3)                            \
  X(dirichlet_4, "dirichlet", 4)                            \
  X(cot_dirichlet_1, "cot_dirichlet", 1)                    \
  X(cot_dirichlet_2, "cot_dirichlet", 2)                    \
  X(cot_dirichlet_3, "cot_dirichlet", 3)                    \
  X(area_2, "area", 2)                                      \
  X(area_3, "area", 3)                                      \
  X(sphere_param_3, "sphere_param", 3)                      \
  X(res_position_2, "res_position", 2)                      \
  X(res_position_3, "res_position", 3)                      \
  X(res_edge_length_2, "res_edge_length", 2)                \
  X(res_edge_length_3, "res_edge_length", 3)               \
  X(contact_pt_3, "contact_pt", 3)                          \
  X(contact_ee_3, "contact_ee", 3)                          \
  X(contact_margin_3, "contact_margin", 3)                  \
  X(contact_plane_3, "contact_plane", 3)                    \
  X(friction_pair_3, "friction_pair", 3)                    \
  X(friction_point_3, "friction_point", 3)                  \
  X(ff_smooth_4, "ff_smooth", 4)                            \
  X(ff_curl_4, "ff_curl", 4)                                \
  X(ff_close_4, "ff_close", 4)                              \
  X(ff_barrier_4, "ff_barrier", 4)                          \
  X(ed_fit_12, "ed_fit", 12)                                \
  X(ed_rot_12, "ed_rot", 12)                                \
  X(ed_reg_12, "ed_reg", 12)

#define LC_ENERGY_ENUM_(inst, name, dim) LC_CAT(LC_E_, inst),
typedef enum {
  LC_ENERGY_LIST(LC_ENERGY_ENUM_) LC_E_COUNT
} lc_energy_id;

/* LC_EDIMOF_<inst>: the dimension D of each instance, for compile-time checks
 * (instances.h asserts that its stanzas agree with this list). */
#define LC_ENERGY_DIMOF_(inst, name, dim) LC_CAT(LC_EDIMOF_, inst) = (dim),
enum { LC_ENERGY_LIST(LC_ENERGY_DIMOF_) LC_EDIMOF_END_ };

/* A compile-time assertion usable in C11 and in CUDA C++ at file scope. */
#if defined(__cplusplus)
#define LC_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define LC_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

#define LC_ENERGY_MAX_PARAMS 8
#define LC_ENERGY_MAX_CONSTS 16
#define LC_ENERGY_MAX_K 4
#define LC_ENERGY_MAX_N 24
#define LC_ENERGY_MAX_RESID 6

/* Computes the n_const constants k of one element from the rest mesh.
 * elem: the element's index in the natural element list of its kind (vertex,
 * edge, face or flap index), or -1 for an explicit element list; ent: the
 * element's K entity indices; p: the term's parameters.  Returns LC_OK, or an
 * error code with a reason in why[128] (e.g. zero rest area). */
typedef int (*lc_energy_setup_fn)(const lc_mesh *m, int32_t elem, const int32_t *ent,
                                  const double *p, double *k, char *why);

/* Largest alpha > 0 such that the element stays admissible (finite energy)
 * for every step in [0, alpha) along direction d from x (both N local
 * values); +inf when no step makes it inadmissible.  k, p as for kernels. */
typedef double (*lc_energy_max_step_fn)(const double *x, const double *d, const double *k,
                                        const double *p);

/* What the host knows of an energy instance. */
typedef struct lc_energy_info {
  const char *inst;            /* instance name, "spring_3" */
  const char *name;            /* energy name, "spring" */
  lc_elem_kind kind;           /* natural element kind (LC_ELEM_LIST allowed too) */
  lc_var_loc loc;              /* where its variable lives */
  int K;                       /* entities per element */
  int dim;                     /* variable dimension D */
  int n_const;                 /* per-element constants */
  int n_resid;                 /* residual components; 0 for plain energies */
  int n_param;                 /* parameters */
  const char *param_names[LC_ENERGY_MAX_PARAMS];
  double param_defaults[LC_ENERGY_MAX_PARAMS];
  const char *const_doc;       /* what the constants are, in order */
  lc_energy_setup_fn setup;    /* NULL: constants must be supplied */
  lc_energy_max_step_fn max_step; /* NULL: any step keeps the element admissible */
  lc_step_bound bound;         /* the same bound by kind, for device backends (max_step.h) */
  const char *formula;         /* one line, for docs and server.info */
} lc_energy_info;

#if defined(__cplusplus)
extern "C" {
#endif

/* The info of energy id (0 <= id < LC_E_COUNT), or NULL. */
const lc_energy_info *lc_energy_get(int id);

/* Finds the instance of energy `name` for variables of dimension dim;
 * returns its id or LC_ENOTFOUND. */
int lc_energy_find(const char *name, int dim);

/* Index of parameter pname of energy id, or LC_ENOTFOUND. */
int lc_energy_param_index(int id, const char *pname);

/* Index of parameter pname in info e (a built-in's or a custom energy's), or LC_ENOTFOUND. */
int lc_energy_info_param_index(const lc_energy_info *e, const char *pname);

#if defined(__cplusplus)
}
#endif

#endif
