/* device.h - where problems live: the CPU or one CUDA device.
 *
 * A device is named by a short string:
 *   "cpu"     the CPU backend (OpenMP), always present;
 *   "cuda:N"  CUDA device N (0-based), when this build has the CUDA backend
 *             and the device is usable (a driver, enough compute capability);
 *   "auto"    the first usable CUDA device, else the CPU.  NULL means "auto".
 * A problem is bound to one device when it is created (lc_problem_create) and
 * stays there.  A device that was asked for by name and cannot be used is an
 * error that says why; nothing silently falls back to the CPU.  Only "auto"
 * chooses, and it says what it chose (lc_problem_device). */
#ifndef LC_DEVICE_H
#define LC_DEVICE_H

#include <stdint.h>

#include "lc_error.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define LC_DEVICE_MAX 16

/* One device, as listed by lc_device_list. */
typedef struct lc_device_info {
  char id[16];        /* "cpu", "cuda:0", ... */
  char name[128];     /* "AMD EPYC ...", "NVIDIA H200" */
  int64_t memory;     /* bytes: device memory (CUDA), physical memory (CPU) */
  int cc_major;       /* compute capability (CUDA), 0 for the CPU */
  int cc_minor;
  int cores;          /* CPU threads, or CUDA multiprocessors */
} lc_device_info;

/* Kinds of device. */
typedef enum { LC_DEV_CPU = 0, LC_DEV_CUDA = 1 } lc_device_kind;

/* Lists the usable devices, the CPU first: up to cap entries into out, the
 * count into *n.  Never fails: a CUDA runtime without devices lists the CPU
 * only. */
void lc_device_list(lc_device_info *out, int cap, int *n);

/* Resolves spec (NULL, "auto", "cpu", "cuda:N") to a usable device: kind and
 * ordinal into *kind and *ordinal.  Fails with LC_EINVAL for a malformed
 * spec and LC_ENOTSUP, naming why, for a device that cannot be used (a build
 * without CUDA, no driver, no such device). */
int lc_device_resolve(const char *spec, lc_device_kind *kind, int *ordinal, lc_error *err);

/* 1 if this build contains the CUDA backend. */
int lc_device_have_cuda(void);

#if defined(__cplusplus)
}
#endif

#endif
