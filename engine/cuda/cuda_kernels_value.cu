/* cuda_kernels_value.cu - the energy, gradient and Jacobian kernels of every energy
 * instance (see cuda_kernels.cuh). */
#define LC_CU_PART 0
#include "cuda/cuda_kernels.cuh"
