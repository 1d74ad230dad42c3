/* cuda_kernels_hess.cu - the Hessian and Gauss-Newton kernels of every energy
 * instance (see cuda_kernels.cuh). */
#define LC_CU_PART 1
#include "cuda/cuda_kernels.cuh"
