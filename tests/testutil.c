/* testutil.c - small helpers shared by the Check suites. */
#include "testutil.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "device.h"

#ifndef LC_TEST_MESH_DIR
#define LC_TEST_MESH_DIR "../shared/meshes"
#endif

/* Directory of the shared test meshes: LOCAD_MESHES, else the build's default. */
const char *lc_test_mesh_dir(void) {
  const char *dir = getenv("LOCAD_MESHES");
  return dir && *dir ? dir : LC_TEST_MESH_DIR;
}

/* Path of a shared test mesh file (in lc_test_mesh_dir()), in a static buffer. */
const char *lc_test_mesh_path(const char *file) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s", lc_test_mesh_dir(), file);
  return buf;
}

/* Relative difference |a - b| / max(|a|, |b|, floor). */
double lc_test_reldiff(double a, double b, double floor) {
  double s = fmax(fmax(fabs(a), fabs(b)), floor);
  return fabs(a - b) / s;
}

/* Deterministic uniform random number in [lo, hi) from a 64-bit state (splitmix64). */
double lc_test_rand(unsigned long long *state, double lo, double hi) {
  unsigned long long z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return lo + (hi - lo) * (double)(z >> 11) / 9007199254740992.0;
}

/* Runs a Check suite with CK_NORMAL output; returns the process exit code. */
int lc_test_run_suite(void *suite) {
  SRunner *sr = srunner_create((Suite *)suite);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* 0 when cuda:0 is usable; else prints why and returns 77 (skipped). */
int lc_test_require_cuda(const char *name) {
  lc_device_kind kind;
  int ord;
  lc_error err;
  if (lc_device_resolve("cuda:0", &kind, &ord, &err) == LC_OK) return 0;
  printf("%s: skipped: %s\n", name, err.msg);
  return 77;
}
