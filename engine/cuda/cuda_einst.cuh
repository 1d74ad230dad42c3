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
 * the mode.  Instances with N = 12 local variables (LC_CU_WARP) take their
 * Hessian and projected-HVP kernels a warp per element instead (see
 * el_warp below); larger ones a thread per element, column by column
 * (LC_EL_BY_COLUMNS).  LC_CU_PART selects the modes of one translation unit (0:
 * energy, gradient, Jacobian; 1: Hessian, Gauss-Newton; 2: HVP) so that the
 * three compile in parallel. */
#include "eval/el_inst.h"

/* A thread per element: the thread's element of chunk [s0, s1), or (serial)
 * thread 0 walks them all in order; the energies go into acc. */
#define LC_CU_PER_THREAD_(fn, acc)                                                             \
  do {                                                                                       \
    if (serial) {                                                                            \
      for (int32_t s = s0; threadIdx.x == 0 && s < s1; ++s) acc += fn(&t, &o, s);            \
    } else if (s0 + (int32_t)threadIdx.x < s1) {                                             \
      acc = fn(&t, &o, s0 + (int32_t)threadIdx.x);                                           \
    }                                                                                        \
  } while (0)

#define LC_CU_KERNEL_(mode)                                                                    \
  extern "C" __global__ void __launch_bounds__(LC_CU_BLOCK)                                  \
      LC_EL_(LC_CAT(lc_k_, mode))(lc_el_term t, lc_el_out o, int32_t ch0, int serial,        \
                                  double *partials) {                                        \
    const int32_t ch = ch0 + (int32_t)blockIdx.x;                                            \
    const int32_t s0 = t.chunk_ptr[ch], s1 = t.chunk_ptr[ch + 1];                             \
    double e = 0.0;                                                                          \
    LC_CU_PER_THREAD_(LC_EL_(LC_CAT(el_, mode)), e);                                         \
    lc_cu_block_sum(e, partials + ch);                                                       \
  }
#if LC_CU_WARP(LC_EN)
/* Element s of a large instance by one warp: lane j < N runs HVP pass j of
 * the column-by-column Hessian into the warp's shared H, lane 0 weights and
 * projects it (shared workspace ws), then lane r < N adds row r (Hessian
 * mode) or row r of H v (hvp) and lane 0 the gradient.  Every lane returns
 * the weighted energy.  Per-thread stack holds one HVP pass instead of the
 * element Hessian and the projection workspace. */
__device__ static double LC_EL_(el_warp)(const lc_el_term *t, const lc_el_out *o, int32_t s, int hvp,
                                         double *H, double *ws, double *g, double *e_sh, int lane) {
  double xl[LC_EN], vl[LC_EN];
  int64_t dof[LC_EN];
  uint8_t fl[LC_EN];
  lc_el_gather(t, o, s, LC_EK, LC_EDIM, xl, vl, dof, fl);
  if (lane < LC_EN) {
    const double e = LC_EL_(elk_hesscol)(xl, t->consts + (int64_t)s * t->n_const, t->params, lane,
                                         lane == 0 ? g : NULL, H);
    if (lane == 0) *e_sh = e;
  }
  __syncwarp();
  const double e = *e_sh;
  if (isfinite(e)) {
    if (lane == 0) lc_el_weight_project(H, LC_EK, LC_EDIM, t->weight, t->project, ws);
    __syncwarp();
    if (lane < LC_EN && hvp && !fl[lane]) o->hv[dof[lane]] += lc_el_matvec_row(H, vl, LC_EN, lane);
    if (lane < LC_EN && !hvp)
      lc_el_scatter_hess_row(o, t->slots + (int64_t)s * LC_EK * LC_EK, LC_EK, LC_EDIM, H, dof, fl, lane);
    if (lane == 0 && o->g) lc_el_scatter_vec(o->g, LC_EN, t->weight, g, dof, fl);
  }
  __syncwarp(); /* H, g and e are reused by the warp's next element */
  return t->weight * e;
}

/* Warp-per-element kernel of a large instance (hvp: H v; exact HVPs take
 * the thread-per-element path, they need no element Hessian).  Warps take
 * the chunk's elements round robin (the serial colour: warp 0 takes them
 * all, in order); each warp's lane 0 adds its elements' energies in order
 * and the block adds the warps' sums in a fixed tree. */
#define LC_CU_WARP_KERNEL_(mode, hvpflag)                                                       \
  extern "C" __global__ void __launch_bounds__(LC_CU_BLOCK)                                  \
      LC_EL_(LC_CAT(lc_k_, mode))(lc_el_term t, lc_el_out o, int32_t ch0, int serial,        \
                                  double *partials) {                                        \
    __shared__ double Hs[LC_CU_WARPS][LC_EN * LC_EN];                                        \
    __shared__ double Ws[LC_CU_WARPS][LC_PSD_ELEM_WS(LC_EK, LC_EDIM)];                      \
    __shared__ double Gs[LC_CU_WARPS][LC_EN];                                                \
    __shared__ double Es[LC_CU_WARPS];                                                       \
    const int warp = (int)threadIdx.x / 32, lane = (int)threadIdx.x % 32;                    \
    const int32_t ch = ch0 + (int32_t)blockIdx.x;                                            \
    const int32_t s0 = t.chunk_ptr[ch], s1 = t.chunk_ptr[ch + 1];                             \
    double acc = 0.0;                                                                        \
    if ((hvpflag) && !t.project) { /* uniform over the block */                             \
      LC_CU_PER_THREAD_(LC_EL_(el_hvp_exact), acc);                                          \
      lc_cu_block_sum(acc, partials + ch);                                                   \
      return;                                                                                \
    }                                                                                        \
    if (!serial || warp == 0)                                                                \
      for (int32_t s = s0 + (serial ? 0 : warp); s < s1; s += serial ? 1 : LC_CU_WARPS)      \
        acc += LC_EL_(el_warp)(&t, &o, s, (hvpflag), Hs[warp], Ws[warp], Gs[warp], &Es[warp], lane); \
    lc_cu_block_sum(lane == 0 ? acc : 0.0, partials + ch);                                   \
  }
#endif

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
#if LC_CU_WARP(LC_EN)
LC_CU_WARP_KERNEL_(hess, 0)
#else
LC_CU_KERNEL_(hess)
#endif
#if LC_ERESID > 0
LC_CU_KERNEL_(gn)
#endif
#else /* Hessian-vector products */
#if LC_CU_WARP(LC_EN)
LC_CU_WARP_KERNEL_(hvp, 1)
#else
LC_CU_KERNEL_(hvp)
#endif
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
#undef LC_CU_PER_THREAD_
#undef LC_CU_CASE_
#if LC_CU_WARP(LC_EN)
#undef LC_CU_WARP_KERNEL_
#endif

#include "eval/el_inst_end.h"
