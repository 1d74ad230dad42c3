/* cpu_einst.h - host instantiation template for one energy instance (no
 * include guard; see energies/instances.h for the macros it consumes).
 *
 * Instantiates the shared element loop (eval/el_inst.h) on the host and
 * records the instance in two tables: the plain-array element kernels
 * (lc_elem_kernel, for tests and host-side checks) and the chunk functions
 * of every evaluation mode and cache pass that the OpenMP loop of
 * cpu_eval.c calls. */
/* The 12-variable element kernels stay out of line: inlined into the chunk
 * loop, clang's code for the bending flap was 1.2x (gradient) and 1.15x
 * (HVP) slower than the call (bench/ab.sh, W4 armadillo, 2 threads). */
#if LC_EN >= 12 && defined(__GNUC__)
#define LC_EL_KFN static __attribute__((noinline))
#endif
/* Host loops project element Hessians LC_PSD_LANES at a time (el_inst.h). */
#define LC_EL_BATCH
#include "eval/el_inst.h"
#undef LC_EL_BATCH
#undef LC_EL_KFN

/* The tables' linkage: file-local for the built-ins; the custom instances
 * (cpu_custom_inst.h) define it empty, for cpu_custom.c to gather them. */
#ifndef LC_EINST_TABLE
#define LC_EINST_TABLE static
#endif

LC_EINST_TABLE const lc_elem_kernel LC_EL_(kern) = {
    LC_EL_(elk_value), LC_EL_(elk_grad), LC_EL_(elk_hvp), LC_EL_(elk_hess),
#if LC_ERESID > 0
    LC_EL_(elk_resid)
#else
    0
#endif
};

LC_EINST_TABLE const lc_el_chunk_fn LC_EL_(chunks)[LC_EL_NPASSES] = {
    LC_EL_(elc_energy), LC_EL_(elc_grad), LC_EL_(elc_hess),
    LC_EL_(elc_gn),     LC_EL_(elc_hvp),  LC_EL_(elc_jac),
    LC_EL_(elc_hvp_store), LC_EL_(elc_hvp_use)};

#undef LC_EINST_TABLE
#include "eval/el_inst_end.h"
