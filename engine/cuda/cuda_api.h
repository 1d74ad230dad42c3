/* cuda_api.h - what host C code may ask of the CUDA runtime (internal):
 * device enumeration.  Implemented by engine/cuda/cuda_backend.cu in a CUDA
 * build and by engine/cuda/cuda_none.c otherwise, so the rest of the engine
 * never includes a CUDA header. */
#ifndef LC_CUDA_API_H
#define LC_CUDA_API_H

#include "device.h"
#include "lc_error.h"

#if defined(__cplusplus)
extern "C" {
#endif

/* Number of usable CUDA devices; 0 when there is no driver or no device,
 * with the runtime's reason in why (if not NULL). */
int lc_cuda_device_count(lc_error *why);

/* Describes CUDA device ordinal (id "cuda:N", name, memory, compute
 * capability, multiprocessors). */
int lc_cuda_device_info(int ordinal, lc_device_info *out, lc_error *err);

#if defined(__cplusplus)
}
#endif

#endif
