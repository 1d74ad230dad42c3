/* e_custom.h - the element function of custom energies (no include guard:
 * instantiated once per custom instance and AD mode, like the built-in
 * sources; engine/cpu/cpu_custom.c).
 *
 *   E = the DAG's output, run by the interpreter of custom/dag_ad.h
 * element: K entities of a variable of dimension LC_EDIM, as the DAG says;
 * p: the term's lc_dag_ctx (custom/custom.h), whose first member is the
 * parameter array the element loop would pass to a built-in. */
#define LC_DAG_RUN LC_CAT(lc_dag_run_, LC_CAT(LC_EINST, LC_CAT(_, LC_AD_T)))
#include "custom/dag_ad.h"
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  const lc_dag_ctx *c = (const lc_dag_ctx *)(const void *)p;
  S r[LC_DAG_MAX_REGS];
  LC_DAG_RUN(c->ins, c->n_ins, r, x, k, c->params);
  return r[c->out];
}
#undef LC_DAG_RUN
