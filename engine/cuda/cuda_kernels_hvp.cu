/* cuda_kernels_hvp.cu - the Hessian-vector product kernels of every energy
 * instance (see cuda_kernels.cuh). */
#define LC_CU_PART 2
#include "cuda/cuda_kernels.cuh"
