/* test_el_cols_einst.h - test instantiation template (no include guard): the
 * shared element loop of one instance compiled on the host with every
 * instance taken column by column (LC_EL_BY_COLUMNS, set by
 * tests/test_el_cols.c), the path the CUDA backend takes for elements of
 * more than 12 local variables; its kernels and chunk functions go into
 * tables shaped like the CPU backend's (cpu/cpu_einst.h). */
#include "eval/el_inst.h"

static const lc_elem_kernel LC_EL_(kern) = {
    LC_EL_(elk_value), LC_EL_(elk_grad), LC_EL_(elk_hvp), LC_EL_(elk_hess),
#if LC_ERESID > 0
    LC_EL_(elk_resid)
#else
    0
#endif
};

static const lc_el_chunk_fn LC_EL_(chunks)[LC_EL_NPASSES] = {
    LC_EL_(elc_energy), LC_EL_(elc_grad), LC_EL_(elc_hess),
    LC_EL_(elc_gn),     LC_EL_(elc_hvp),  LC_EL_(elc_jac),
    LC_EL_(elc_hvp_store), LC_EL_(elc_hvp_use)};

#include "eval/el_inst_end.h"
