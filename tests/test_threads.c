/* test_threads.c - Check suite of the thread budget (engine/threads.c): one
 * running request gets the whole budget, n share it (at least one thread
 * each), a problem's own setting wins, sharing off gives every request the
 * budget, and an evaluation gives the same numbers whatever its share. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "testutil.h"
#include "threads.h"
#include "workloads.h"

START_TEST(test_share) {
  lc_threads_set_budget(4);
  ck_assert_int_eq(lc_threads_budget(), 4);
  ck_assert_int_eq(lc_threads_share(0), 4); /* nothing running: a caller outside requests */
  lc_threads_enter();
  ck_assert_int_eq(lc_threads_share(0), 4);
  lc_threads_enter();
  ck_assert_int_eq(lc_threads_share(0), 2);
  lc_threads_enter();
  ck_assert_int_eq(lc_threads_share(0), 1); /* 4 / 3 */
  for (int i = 0; i < 5; ++i) lc_threads_enter();
  ck_assert_int_eq(lc_threads_share(0), 1); /* never 0 */
  ck_assert_int_eq(lc_threads_share(3), 3); /* the problem's own setting */
  lc_threads_set_sharing(0);
  ck_assert_int_eq(lc_threads_share(0), 4);
  lc_threads_set_sharing(1);
  for (int i = 0; i < 8; ++i) lc_threads_leave();
  ck_assert_int_eq(lc_threads_share(0), 4);
  lc_threads_set_budget(0); /* OpenMP's count again */
  ck_assert_int_ge(lc_threads_budget(), 1);
}
END_TEST

/* The W2 (StVK on spot) projected Hessian and gradient with a budget of 1
 * and of 4 threads: bit-identical. */
START_TEST(test_results_do_not_depend_on_the_share) {
  lc_workload w;
  lc_error err = {0};
  ck_assert_msg(lc_workload_setup(2, "spot", lc_test_mesh_dir(), 0, "cpu", &w, &err) == LC_OK, "%s", err.msg);
  lc_problem *p = w.p;
  const int64_t n = lc_problem_n_dofs(p);
  double E1, E4, *g1 = malloc((size_t)n * sizeof *g1), *g4 = malloc((size_t)n * sizeof *g4);
  lc_csr H;
  lc_threads_set_budget(1);
  ck_assert_int_eq(lc_problem_hessian(p, NULL, 1, &E1, g1, &H, &err), LC_OK);
  double *h1 = malloc((size_t)H.nnz * sizeof *h1);
  memcpy(h1, H.val, (size_t)H.nnz * sizeof *h1);
  lc_threads_set_budget(4);
  ck_assert_int_eq(lc_problem_hessian(p, NULL, 1, &E4, g4, &H, &err), LC_OK);
  ck_assert(E1 == E4);
  ck_assert_int_eq(memcmp(g1, g4, (size_t)n * sizeof *g1), 0);
  ck_assert_int_eq(memcmp(h1, H.val, (size_t)H.nnz * sizeof *h1), 0);
  lc_threads_set_budget(0);
  free(g1), free(g4), free(h1);
  lc_workload_free(&w);
}
END_TEST

static Suite *threads_suite(void) {
  Suite *s = suite_create("threads");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_share);
  tcase_add_test(tc, test_results_do_not_depend_on_the_share);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(threads_suite()); }
