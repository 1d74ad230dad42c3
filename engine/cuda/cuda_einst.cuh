/* cuda_einst.cuh - device instantiation template for one energy instance (no
 * include guard; see energies/instances.h for the macros it consumes).
 *
 * Instantiates the shared element loop (eval/el_inst.h) as device code and
 * wraps each mode in a kernel: one block per chunk of elements, one thread
 * per element (the serial colour: thread 0 walks its single chunk in element
 * order), and a fixed-shape tree sum of the block's energies into the
 * chunk's partial.  Kernels are extern "C" so that the per-kernel register
 * and stack report of the build (cmake/kernel_budget.sh) names them
 * plainly: lc_k_<mode>_<instance>.  A launcher per instance dispatches on
 * the mode.  LC_CU_PART selects the modes of one translation unit (0:
 * energy, gradient, Jacobian; 1: Hessian, Gauss-Newton; 2: HVP) so that the
 * three compile in parallel. */
#include "eval/el_inst.h"

#define LC_CU_KERNEL_(mode)                                                                    \
  extern "C" __global__ void __launch_bounds__(LC_CU_BLOCK)                                  \
      LC_EL_(LC_CAT(lc_k_, mode))(lc_el_term t, lc_el_out o, int32_t ch0, int serial,        \
                                  double *partials) {                                        \
    const int32_t ch = ch0 + (int32_t)blockIdx.x;                                            \
    const int32_t s0 = t.chunk_ptr[ch], s1 = t.chunk_ptr[ch + 1];                             \
    double e = 0.0;                                                                          \
    if (serial) {                                                                            \
      if (threadIdx.x == 0) e = LC_EL_(LC_CAT(elc_, mode))(&t, &o, s0, s1);                  \
    } else if (s0 + (int32_t)threadIdx.x < s1) {                                             \
      e = LC_EL_(LC_CAT(el_, mode))(&t, &o, s0 + (int32_t)threadIdx.x);                      \
    }                                                                                        \
    lc_cu_block_sum(e, partials + ch);                                                       \
  }
#define LC_CU_CASE_(M, mode)                                                                   \
  case M:                                                                                    \
    LC_EL_(LC_CAT(lc_k_, mode))<<<grid, block, 0, st>>>(*t, *o, ch0, serial, partials);      \
    break;

#if LC_CU_PART == 0 /* energy, gradient, Jacobian */
LC_CU_KERNEL_(energy)
LC_CU_KERNEL_(grad)
#if LC_ERESID > 0
LC_CU_KERNEL_(jac)
#endif
#elif LC_CU_PART == 1 /* Hessian, Gauss-Newton (plain energies: the Hessian kernel) */
LC_CU_KERNEL_(hess)
#if LC_ERESID > 0
LC_CU_KERNEL_(gn)
#endif
#else /* Hessian-vector products */
LC_CU_KERNEL_(hvp)
#endif

/* Launches this part's kernel of mode m over nch chunks from ch0. */
static cudaError_t LC_EL_(lc_launch)(lc_el_mode m, const lc_el_term *t, const lc_el_out *o,
                                     int32_t ch0, int32_t nch, int serial, double *partials,
                                     cudaStream_t st) {
  const dim3 grid((unsigned)nch), block(LC_CU_BLOCK);
  switch (m) {
#if LC_CU_PART == 0
    LC_CU_CASE_(LC_EL_ENERGY, energy)
    LC_CU_CASE_(LC_EL_GRAD, grad)
#if LC_ERESID > 0
    LC_CU_CASE_(LC_EL_JAC, jac)
#endif
#elif LC_CU_PART == 1
    LC_CU_CASE_(LC_EL_HESS, hess)
#if LC_ERESID > 0
    LC_CU_CASE_(LC_EL_GN, gn)
#else
    LC_CU_CASE_(LC_EL_GN, hess)
#endif
#else
    LC_CU_CASE_(LC_EL_HVP, hvp)
#endif
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}
#undef LC_CU_KERNEL_
#undef LC_CU_CASE_

#undef LC_EL_
#undef LC_EK
#undef LC_EINST
#undef LC_ESRC
#undef LC_EDIM
#undef LC_EN
#undef LC_ERESID
