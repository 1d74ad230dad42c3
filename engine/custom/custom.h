/* custom.h - custom energies as terms: the payload a custom term carries
 * (its checked DAG, the energy info the problem layer reads, and the
 * context the element functions run from), and the CPU instances that
 * evaluate it.
 *
 * A custom energy (or residual vector, whose energy is 1/2 |r|^2 and whose
 * Jacobian feeds Gauss-Newton) is evaluated by the shared element loop like a built-in:
 * one instance per element shape (K entities of D components, from
 * LC_CUSTOM_LIST), whose element function interprets the DAG's register
 * form (custom/dag_ad.h) on the AD scalar of each mode.  The loop passes the
 * term's lc_dag_ctx where a built-in gets its parameter array: the context
 * begins with the parameters, so the pointer is both.
 *
 * Ownership: lc_custom_create copies what it needs and takes over nothing;
 * a payload is reference counted (terms retain it, lc_custom_release frees
 * it with the last reference); each term keeps its own context (its
 * parameters), so one payload may serve several terms. */
#ifndef LC_CUSTOM_H
#define LC_CUSTOM_H

#include "custom/dag.h"
#include "energies/registry.h"

/* Registers the interpreter keeps for one element (lc_dag_create refuses
 * programs that need more at once). */
#define LC_DAG_MAX_REGS 48

/* What a custom element function reads through its parameter pointer. */
typedef struct lc_dag_ctx {
  double params[LC_ENERGY_MAX_PARAMS]; /* first member: the element loop's p points here */
  const lc_dag_ins *ins;               /* register form */
  int32_t n_ins, n_regs;
  int32_t n_res;                       /* residual components; 0 for an energy */
  int32_t outs[LC_DAG_MAX_OUT];        /* the output registers (outs[0]: the energy's) */
} lc_dag_ctx;

/* The element shapes custom energies run on: X(instance, K, D); D 4 on face
 * pairs is the frame fields', D 12 the embedded deformation's. */
#define LC_CUSTOM_LIST(X)                                                               \
  X(custom_1_1, 1, 1) X(custom_1_2, 1, 2) X(custom_1_3, 1, 3) X(custom_1_4, 1, 4)        \
  X(custom_2_1, 2, 1) X(custom_2_2, 2, 2) X(custom_2_3, 2, 3)                            \
  X(custom_3_1, 3, 1) X(custom_3_2, 3, 2) X(custom_3_3, 3, 3)                            \
  X(custom_4_1, 4, 1) X(custom_4_2, 4, 2) X(custom_4_3, 4, 3)                            \
  X(custom_2_4, 2, 4) X(custom_1_12, 1, 12) X(custom_2_12, 2, 12)

#define LC_CUSTOM_ENUM_(inst, K, D) LC_CAT(LC_EC_, inst),
typedef enum { LC_CUSTOM_LIST(LC_CUSTOM_ENUM_) LC_EC_COUNT } lc_custom_id;

/* Energy ids of custom instances follow the built-ins': LC_E_COUNT + lc_custom_id. */
#define LC_E_CUSTOM_BASE LC_E_COUNT

typedef struct lc_custom lc_custom;

#if defined(__cplusplus)
extern "C" {
#endif

/* A payload for dag on elements of kind elem (lc_elem_kind) with parameter
 * names names[n_param] (the DAG's count): *out, or an error naming what
 * does not fit (no instance for the shape, too many registers). */
int lc_custom_create(const lc_dag *dag, int elem, const char *const *names, lc_custom **out, lc_error *err);

/* Adds a reference. */
lc_custom *lc_custom_retain(lc_custom *c);

/* Drops a reference; the last one frees. NULL is a no-op. */
void lc_custom_release(lc_custom *c);

/* The energy id of c's instance (LC_E_CUSTOM_BASE + lc_custom_id). */
int lc_custom_energy(const lc_custom *c);

/* The energy info of c (name "custom", kind, K, dim, constants,
 * parameters with NaN defaults: every parameter must be given). */
const lc_energy_info *lc_custom_info(const lc_custom *c);

/* Fills a term's context: c's program with the term's parameters
 * (LC_ENERGY_MAX_PARAMS values; the context points into c, which must
 * outlive it). */
void lc_custom_context(const lc_custom *c, const double *params, lc_dag_ctx *ctx);

/* The DAG (borrowed). */
const lc_dag *lc_custom_dag(const lc_custom *c);

/* Gives c constants computed from the rest shape: rest is an LC_DAG_CONSTS
 * DAG over the element's K vertices' 3D rest positions (D 3, no constants,
 * no parameters) with c's n_const outputs; c keeps a copy.  On failure c is
 * unchanged. */
int lc_custom_set_rest(lc_custom *c, const lc_dag *rest, lc_error *err);

/* The rest DAG of c (borrowed), or NULL. */
const lc_dag *lc_custom_rest(const lc_custom *c);

/* The constants k[n_const] of the element with vertices ent[K] from m's rest
 * positions; LC_EMESH with a reason in why[128] when a vertex is out of
 * range or a constant is not finite. */
int lc_custom_rest_consts(const lc_custom *c, const lc_mesh *m, const int32_t *ent, double *k, char *why);

/* The custom instance for K entities of D components, or -1. */
int lc_custom_find(int K, int D);

#if defined(__cplusplus)
}
#endif

#endif
