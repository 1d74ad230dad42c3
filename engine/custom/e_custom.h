/* e_custom.h - the element functions of custom energies (no include guard:
 * instantiated once per custom instance and AD mode, like the built-in
 * sources; engine/cpu/cpu_custom.c).
 *
 *   energy DAG:   E = the DAG's output
 *   residual DAG: r = the DAG's n_res outputs (zeros up to LC_ERESID),
 *                 E = 1/2 |r|^2, summed in the order einst_mode.h sums a
 *                 built-in residual source
 * both run by the interpreter of custom/dag_ad.h.
 * element: K entities of a variable of dimension LC_EDIM, as the DAG says;
 * p: the term's lc_dag_ctx (custom/custom.h), whose first member is the
 * parameter array the element loop would pass to a built-in. */
#define LC_DAG_RUN LC_CAT(lc_dag_run_, LC_CAT(LC_EINST, LC_CAT(_, LC_AD_T)))
#include "custom/dag_ad.h"
#define LC_EFN_OWN 1
/* Residuals r[LC_ERESID] of the element: the DAG's outputs, then zeros. */
LC_HD void LC_RFN(LC_EINST)(S *r, const S *x, const double *k, const double *p) {
  const lc_dag_ctx *c = (const lc_dag_ctx *)(const void *)p;
  S w[LC_DAG_MAX_REGS];
  LC_DAG_RUN(c->ins, c->n_ins, w, x, k, c->params);
  for (int i = 0; i < LC_ERESID; ++i) r[i] = i < c->n_res ? w[c->outs[i]] : s_c(0.0);
}
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  const lc_dag_ctx *c = (const lc_dag_ctx *)(const void *)p;
  S r[LC_DAG_MAX_REGS];
  LC_DAG_RUN(c->ins, c->n_ins, r, x, k, c->params);
  if (c->n_res == 0) return r[c->outs[0]];
  S e = s_sq(r[c->outs[0]]);
  for (int i = 1; i < c->n_res; ++i) e = s_add(e, s_sq(r[c->outs[i]]));
  return s_mulc(e, 0.5);
}
#undef LC_DAG_RUN
