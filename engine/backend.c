/* backend.c - binding problems to devices: device names, the device list,
 * opening and closing a backend instance, and the counted scalar read.
 * The platform parts live in engine/cpu and engine/cuda; a build without
 * CUDA links engine/cuda_none.c instead of the CUDA backend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "cuda/cuda_api.h"

/* The CPU's entry of the device list. */
static void cpu_info(lc_device_info *d) {
  memset(d, 0, sizeof *d);
  snprintf(d->id, sizeof d->id, "cpu");
  snprintf(d->name, sizeof d->name, "cpu");
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512];
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
      char *s = strchr(line, ':') + 1;
      s += strspn(s, " \t");
      s[strcspn(s, "\n")] = 0;
      snprintf(d->name, sizeof d->name, "%s", s);
      break;
    }
  if (f) fclose(f);
  const long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
  d->memory = pages > 0 && psz > 0 ? (int64_t)pages * psz : 0;
  const long nc = sysconf(_SC_NPROCESSORS_ONLN);
  d->cores = nc > 0 ? (int)nc : 1;
}

/* Lists the usable devices, the CPU first. */
void lc_device_list(lc_device_info *out, int cap, int *n) {
  int k = 0;
  if (cap > 0) cpu_info(&out[k++]);
  const int nc = lc_cuda_device_count(NULL);
  for (int i = 0; i < nc && k < cap; ++i)
    if (lc_cuda_device_info(i, &out[k], NULL) == LC_OK) ++k;
  *n = k;
}

/* Parses "cuda:N" into *ordinal; returns 1 on success. */
static int parse_cuda(const char *spec, int *ordinal) {
  if (strncmp(spec, "cuda:", 5) || !spec[5]) return 0;
  char *end = NULL;
  const long v = strtol(spec + 5, &end, 10);
  if (*end || v < 0 || v >= LC_DEVICE_MAX * 64) return 0;
  *ordinal = (int)v;
  return 1;
}

/* Resolves spec to a usable device (see device.h). */
int lc_device_resolve(const char *spec, lc_device_kind *kind, int *ordinal, lc_error *err) {
  *kind = LC_DEV_CPU;
  *ordinal = 0;
  if (!spec || !strcmp(spec, "auto")) {
    if (lc_cuda_device_count(NULL) > 0) *kind = LC_DEV_CUDA;
    return LC_OK;
  }
  if (!strcmp(spec, "cpu")) return LC_OK;
  int ord;
  if (!strcmp(spec, "cuda")) spec = "cuda:0";
  if (!parse_cuda(spec, &ord))
    return lc_error_set(err, LC_EINVAL, "device '%.40s': expected cpu, cuda:N or auto", spec);
  if (!lc_device_have_cuda())
    return lc_error_set(err, LC_ENOTSUP, "device '%s': this build of locad has no CUDA backend", spec);
  lc_error why = {0};
  const int n = lc_cuda_device_count(&why);
  if (n <= 0)
    return lc_error_set(err, LC_ENOTSUP, "device '%s': no usable CUDA device (%s)", spec,
                        why.msg[0] ? why.msg : "none found");
  if (ord >= n)
    return lc_error_set(err, LC_ENOTSUP, "device '%s': only %d CUDA device%s (cuda:0..cuda:%d)", spec, n,
                        n == 1 ? "" : "s", n - 1);
  *kind = LC_DEV_CUDA;
  *ordinal = ord;
  return LC_OK;
}

/* Binds b to the device named by spec. */
int lc_backend_open(lc_backend *b, const char *spec, lc_error *err) {
  memset(b, 0, sizeof *b);
  lc_device_kind kind;
  int ord;
  int rc = lc_device_resolve(spec, &kind, &ord, err);
  if (rc) return rc;
  const lc_backend_ops *ops = kind == LC_DEV_CUDA ? lc_backend_cuda_ops() : lc_backend_cpu_ops();
  if (!ops) return lc_error_set(err, LC_ENOTSUP, "device '%s': no backend for it in this build", spec);
  b->kind = kind;
  b->ordinal = ord;
  if (kind == LC_DEV_CUDA) snprintf(b->id, sizeof b->id, "cuda:%d", ord);
  else snprintf(b->id, sizeof b->id, "cpu");
  if ((rc = ops->init(b, err))) {
    memset(b, 0, sizeof *b);
    return rc;
  }
  b->ops = ops;
  return LC_OK;
}

/* Frees b's context. */
void lc_backend_close(lc_backend *b) {
  if (!b->ops) return;
  b->ops->fini(b);
  b->ops = NULL;
  b->ctx = NULL;
}

/* Downloads bytes of backend memory and counts the read (a device-to-host
 * synchronisation: reads of the CPU backend are host copies, not counted). */
int lc_backend_download(lc_backend *b, void *host, const void *src, size_t bytes, lc_error *err) {
  if (b->kind != LC_DEV_CPU) b->n_reads++;
  return b->ops->download(b, host, src, bytes, err);
}

/* Reads n scalars of backend memory and counts the read. */
int lc_backend_read_scalars(lc_backend *b, double *host, const double *src, int n, lc_error *err) {
  if (b->kind != LC_DEV_CPU) b->n_reads++;
  return b->ops->read_scalars(b, host, src, n, err);
}

/* Downloads n blocks with one wait, counted as one read. */
int lc_backend_download_many(lc_backend *b, int n, void *const *dst, const void *const *src,
                             const size_t *bytes, lc_error *err) {
  int rc = LC_OK;
  for (int i = 0; rc == LC_OK && i + 1 < n; ++i) rc = b->ops->download_async(b, dst[i], src[i], bytes[i], err);
  if (rc == LC_OK && n > 0) rc = lc_backend_download(b, dst[n - 1], src[n - 1], bytes[n - 1], err);
  return rc;
}
