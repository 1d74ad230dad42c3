/* cuda_kernels.cuh - one part of the element kernels (no include guard;
 * included once by each of cuda_kernels_{value,hess,hvp}.cu with LC_CU_PART
 * set): the shared element loop (eval/el_inst.h) compiled as device code
 * once per energy instance by cuda_einst.cuh, and this part's launcher
 * table indexed by energy id (generated from LC_ENERGY_LIST, so the order
 * matches the registry).
 *
 * The Hessian of instances with 9 or more local variables (triangles in 3D,
 * the 12-variable bending flap) is assembled column by column from HVP
 * passes (LC_EL_HESS_BY_COLUMNS): a Hessian-mode AD scalar of N variables
 * holds 1 + N + N(N+1)/2 doubles (91 for N = 12, whose temporaries spilled
 * to a 28 KB stack frame), an HVP scalar 2N + 2.  Measured with the
 * projection (sm_90, CUDA 13.0): StVK Hessian 2640 -> 1696 bytes of stack,
 * neo-Hookean 2400 -> 1792. */
#include <math.h>
#include <stddef.h>

#include "cuda/cuda_impl.h"
#include "eval/el_common.h"

#define LC_EL_HESS_BY_COLUMNS(n) ((n) >= 9)
/* Instances of more than 12 local variables (the 24-variable embedded
 * deformation edge) take every mode column by column, streaming their
 * results (eval/el_inst_cols.h): an HVP scalar of 24 variables is 400 bytes
 * and the element's inputs alone would fill the registers. */
#define LC_EL_BY_COLUMNS(n) ((n) > 12)
/* Instances whose projected Hessian runs a warp per element (cuda_einst.cuh):
 * per thread, the 12 x 12 Hessian, the projection workspace and an HVP pass
 * need 4.7 KB of stack; a warp keeps the first two in shared memory. */
#define LC_CU_WARP(n) ((n) >= 12 && !LC_EL_BY_COLUMNS(n))
#define LC_CU_WARPS (LC_CU_BLOCK / 32)

#include "ad/lc_ad.h"

#define LC_EINST_TEMPLATE "cuda/cuda_einst.cuh"
#include "energies/instances.h"

#define LC_LAUNCH_ENTRY_(inst, name, dim) LC_CAT(lc_launch_, inst),
static const lc_cu_launch_fn lc_launchers[LC_E_COUNT] = {LC_ENERGY_LIST(LC_LAUNCH_ENTRY_)};

/* Launches this part's element kernel of energy id in mode m. */
cudaError_t LC_CAT(lc_cu_launch_part, LC_CU_PART)(int id, lc_el_mode m, const lc_el_term *t,
                                                  const lc_el_out *o, int32_t ch0, int32_t nch,
                                                  int serial, double *partials, cudaStream_t st) {
  if (id < 0 || id >= LC_E_COUNT || nch <= 0) return cudaErrorInvalidValue;
  return lc_launchers[id](m, t, o, ch0, nch, serial, partials, st);
}
