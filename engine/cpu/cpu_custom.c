/* cpu_custom.c - the tables of the host instances of custom energies
 * (cpu_custom_{a,b,c,d}.c instantiate them, one per element shape of
 * LC_CUSTOM_LIST): lc_cpu_custom_kernel and lc_cpu_custom_chunk_fn, which
 * lc_cpu_kernel / lc_cpu_chunk_fn use for ids from LC_E_CUSTOM_BASE on. */
#include <stddef.h>

#include "cpu/cpu_impl.h"
#include "custom/custom.h"

#define LC_CUSTOM_DECL_(inst, K, D)                                                      \
  extern const lc_elem_kernel LC_CAT(kern_, inst);                                      \
  extern const lc_el_chunk_fn LC_CAT(chunks_, inst)[LC_EL_NPASSES];
LC_CUSTOM_LIST(LC_CUSTOM_DECL_)

#define LC_CUSTOM_KERNEL_(inst, K, D) &LC_CAT(kern_, inst),
static const lc_elem_kernel *const custom_kernels[LC_EC_COUNT] = {LC_CUSTOM_LIST(LC_CUSTOM_KERNEL_)};

#define LC_CUSTOM_CHUNKS_(inst, K, D) LC_CAT(chunks_, inst),
static const lc_el_chunk_fn *const custom_chunks[LC_EC_COUNT] = {LC_CUSTOM_LIST(LC_CUSTOM_CHUNKS_)};

/* The host kernels of custom instance i (their p is a term's lc_dag_ctx). */
const lc_elem_kernel *lc_cpu_custom_kernel(int i) { return i >= 0 && i < LC_EC_COUNT ? custom_kernels[i] : NULL; }

/* The chunk function of custom instance i in mode or cache pass m. */
lc_el_chunk_fn lc_cpu_custom_chunk_fn(int i, lc_el_mode m) {
  return i >= 0 && i < LC_EC_COUNT && m >= 0 && m < LC_EL_NPASSES ? custom_chunks[i][m] : NULL;
}
