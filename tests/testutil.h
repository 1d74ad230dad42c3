/* testutil.h - small helpers shared by the Check suites. */
#ifndef LC_TESTUTIL_H
#define LC_TESTUTIL_H

#include <stddef.h>

/* Directory of the shared test meshes: LOCAD_MESHES, else the build's default. */
const char *lc_test_mesh_dir(void);

/* Path of a shared test mesh file (in lc_test_mesh_dir()), in a static buffer. */
const char *lc_test_mesh_path(const char *file);

/* Relative difference |a - b| / max(|a|, |b|, floor). */
double lc_test_reldiff(double a, double b, double floor);

/* Deterministic uniform random number in [lo, hi) from a 64-bit state. */
double lc_test_rand(unsigned long long *state, double lo, double hi);

/* 0 when cuda:0 is usable; else prints "NAME: skipped: why" and returns 77
 * (CTest's skip code for the gpu-labelled suites). */
int lc_test_require_cuda(const char *name);

/* Runs a Check suite with CK_NORMAL output; returns the process exit code. */
int lc_test_run_suite(void *suite);

#endif
