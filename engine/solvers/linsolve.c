/* linsolve.c - sparse linear solvers for Newton steps (see linsolve.h):
 * CHOLMOD supernodal Cholesky with a reused symbolic analysis and a growing
 * diagonal shift on failure, PCG with a Jacobi / block-Jacobi
 * preconditioner on an assembled CSR matrix, and matrix-free (truncated) CG.
 *
 * Determinism: every vector operation is element-wise or row-wise under a
 * static OpenMP schedule, and every dot product sums fixed chunks of
 * LC_LIN_CHUNK entries in parallel and then adds the chunk partials serially
 * in order, so results are bit-identical whatever the number of threads.
 *
 * CHOLMOD view of A: the CSR arrays of a symmetric matrix are also its CSC
 * arrays (column j of the view = row j of A).  They are passed as-is, full
 * storage, with stype = +1: CHOLMOD then reads only the entries with row
 * index <= column index and ignores the other triangle, so nothing is
 * copied.  Its factorisation of upper-stored matrices is also its fastest
 * path with a fill-reducing ordering. */
#define _GNU_SOURCE /* RTLD_DEFAULT */

#include "threads.h"
#include "linsolve.h"
#include "../lc_time.h"

#include <dlfcn.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cholmod.h>

#include "lin_block.h"
#include "sstep.h"

#define LC_LIN_CHUNK 2048         /* entries per dot-product partial */
#define LC_LIN_PAR_MIN 16384      /* vectors shorter than this stay serial */
#define LC_LIN_RETRIES 8          /* shifted refactorisations after a failure */

struct lc_linsolve {
  lc_lin_kind kind;
  int64_t n;
  /* CHOLMOD state (kind LC_LIN_CHOLMOD) */
  cholmod_common cc;
  int cc_started;
  cholmod_factor *L;            /* symbolic (+ numeric) factor, or NULL */
  const int32_t *pat_rowptr;    /* pattern of the last analysis */
  const int32_t *pat_col;
  int64_t pat_nnz;
  uint64_t pat_hash;            /* fingerprint of that pattern's contents (pat_gen 0) */
  uint64_t pat_gen;             /* its generation (lc_csr.gen), 0 if unknown */
  cholmod_dense *X, *Y, *E;     /* cholmod_solve2 output and workspace */
  cholmod_common cc2;           /* a second thread's, for column-split backsolves */
  int cc2_started;
  cholmod_dense *X2, *Y2, *E2;  /* its output and workspace */
  int factored;                 /* L holds the numeric factor of lc_linsolve_factor */
  /* vectors: r, z, p, q (CG kinds) or q (Cholesky residual) */
  double *r, *z, *p, *q;
  double *partial;              /* one partial sum per chunk */
  double *pre;                  /* preconditioner data */
  int64_t pre_len;
  int pre_block;                /* block size of block-Jacobi data in pre */
};

/* Resolved options. */
typedef struct {
  double rtol, reg;
  int max_iters, block;
  lc_precond precond;
} lin_opts;

/* Preconditioner z = M r, for CG. */
typedef void (*lin_prec)(const lc_linsolve *s, const double *r, double *z);

/* ---- small helpers ------------------------------------------------------ */

/* Deterministic a . b: fixed chunk partials summed in order. */
static double lin_dot(const lc_linsolve *s, const double *a, const double *b) {
  const int64_t n = s->n, nch = (n + LC_LIN_CHUNK - 1) / LC_LIN_CHUNK;
  double *part = s->partial;
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) if (n >= LC_LIN_PAR_MIN)
  for (int64_t c = 0; c < nch; ++c) {
    const int64_t lo = c * LC_LIN_CHUNK, hi = lo + LC_LIN_CHUNK < n ? lo + LC_LIN_CHUNK : n;
    double acc = 0.0;
    for (int64_t i = lo; i < hi; ++i) acc += a[i] * b[i];
    part[c] = acc;
  }
  double sum = 0.0;
  for (int64_t c = 0; c < nch; ++c) sum += part[c];
  return sum;
}

/* y = A v for an lc_csr (row-parallel, deterministic). */
static void lin_spmv(const lc_csr *A, const double *v, double *y) {
  const int64_t n = A->nrows;
  const int32_t *rp = A->rowptr, *ci = A->col;
  const double *av = A->val;
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) if (A->nnz >= LC_LIN_PAR_MIN)
  for (int64_t i = 0; i < n; ++i) {
    double acc = 0.0;
    for (int32_t k = rp[i]; k < rp[i + 1]; ++k) acc += av[k] * v[ci[k]];
    y[i] = acc;
  }
}

/* Relative residual |b - A x| / |b| (uses s->q as scratch). */
static double lin_csr_residual(lc_linsolve *s, const lc_csr *A, const double *b, const double *x,
                               double bnorm) {
  double *q = s->q;
  const int64_t n = s->n;
  lin_spmv(A, x, q);
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) if (n >= LC_LIN_PAR_MIN)
  for (int64_t i = 0; i < n; ++i) q[i] = b[i] - q[i];
  return bnorm > 0.0 ? sqrt(lin_dot(s, q, q)) / bnorm : 0.0;
}

/* 1 if every value is finite. */
static int lin_all_finite(const double *v, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!isfinite(v[i])) return 0;
  return 1;
}

/* Fills *lo from o (NULL or zero fields = defaults); validates. */
static int lin_resolve_opts(const lc_lin_opts *o, lin_opts *lo, lc_error *err) {
  lc_lin_opts d = {0};
  if (o) d = *o;
  if (!(d.rtol >= 0.0) || !isfinite(d.rtol))
    return lc_error_set(err, LC_EINVAL, "linsolve: rtol must be finite and >= 0 (got %g)", d.rtol);
  if (!(d.reg >= 0.0) || !isfinite(d.reg))
    return lc_error_set(err, LC_EINVAL, "linsolve: reg must be finite and >= 0 (got %g)", d.reg);
  if (d.max_iters < 0)
    return lc_error_set(err, LC_EINVAL, "linsolve: max_iters must be >= 0 (got %d)", d.max_iters);
  if (d.block < 0 || d.block > LC_LIN_MAX_BLOCK)
    return lc_error_set(err, LC_EINVAL, "linsolve: block must be in [0, %d] (got %d)",
                        LC_LIN_MAX_BLOCK, d.block);
  if (d.precond != LC_PRECOND_JACOBI && d.precond != LC_PRECOND_BLOCK_JACOBI)
    return lc_error_set(err, LC_EINVAL, "linsolve: unknown preconditioner %d", (int)d.precond);
  lo->rtol = d.rtol > 0.0 ? d.rtol : 1e-8;
  lo->reg = d.reg;
  lo->max_iters = d.max_iters > 0 ? d.max_iters : 1000;
  lo->block = d.block > 0 ? d.block : 3;
  lo->precond = d.precond;
  return LC_OK;
}

/* Grows s->pre to at least len doubles. */
static int lin_pre_reserve(lc_linsolve *s, int64_t len, lc_error *err) {
  if (s->pre_len >= len) return LC_OK;
  double *np = realloc(s->pre, (size_t)len * sizeof *np);
  if (!np) return lc_error_set(err, LC_ENOMEM, "linsolve: out of memory (%lld doubles)", (long long)len);
  s->pre = np;
  s->pre_len = len;
  return LC_OK;
}

/* ---- lifecycle ---------------------------------------------------------- */

/* Allocates the CG vectors (4 n for CG kinds, n for Cholesky) and partials. */
static int lin_alloc_vectors(lc_linsolve *s) {
  const int64_t n = s->n, nv = s->kind == LC_LIN_CHOLMOD ? 1 : 4;
  const int64_t nch = (n + LC_LIN_CHUNK - 1) / LC_LIN_CHUNK;
  double *buf = malloc((size_t)(nv * n) * sizeof *buf);
  s->partial = malloc((size_t)nch * sizeof *s->partial);
  if (!buf || !s->partial) {
    free(buf);
    return LC_ENOMEM;
  }
  s->q = buf;
  if (nv == 4) {
    s->r = buf + n;
    s->z = buf + 2 * n;
    s->p = buf + 3 * n;
  }
  return LC_OK;
}

/* OpenBLAS (CHOLMOD's BLAS, libopenblas0-pthread) on one thread: its own
 * threads came on top of the engine's (W workers x C threads), spun after
 * each call, kept an idle daemon busy, and on 2 cores its supernodal
 * factorisation of W1 face was faster on one (58 ms against 66-72 ms,
 * OPENBLAS_NUM_THREADS, bench/results/2026-12-02-threads.md).  Another
 * BLAS (no such symbol) is left alone. */
static void lin_blas_one_thread(void) {
  void *sym = dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
  void (*set)(int);
  if (!sym || getenv("OPENBLAS_NUM_THREADS")) return; /* the user's setting wins */
  memcpy(&set, &sym, sizeof set);
  set(1);
}
static pthread_once_t lin_blas_once = PTHREAD_ONCE_INIT;

/* The fill-reducing ordering of the Cholesky analysis: CHOLMOD's choice
 * (AMD, and METIS too when AMD's fill is high; the best of them), or the one
 * LOCAD_ORDERING names (amd, metis, nesdis; anything else: CHOLMOD's).  On
 * 2 cores no ordering was faster than CHOLMOD's choice on every W1 mesh and
 * every run (bench/results/2026-12-02-threads.md), so that stays the default. */
static void lin_ordering(cholmod_common *cc) {
  const char *o = getenv("LOCAD_ORDERING");
  const int ord = !o ? -1 : !strcmp(o, "amd") ? CHOLMOD_AMD : !strcmp(o, "metis") ? CHOLMOD_METIS
                  : !strcmp(o, "nesdis") ? CHOLMOD_NESDIS : -1;
  if (ord < 0) return;
  cc->nmethods = 1;
  cc->method[0].ordering = ord;
}

/* Creates a solver of the given kind for systems of size n. */
int lc_linsolve_create(lc_lin_kind kind, int64_t n, lc_linsolve **out, lc_error *err) {
  int rc = LC_OK;
  pthread_once(&lin_blas_once, lin_blas_one_thread);
  lc_linsolve *s = NULL;
  if (!out) return lc_error_set(err, LC_EINVAL, "linsolve_create: out is NULL");
  *out = NULL;
  if (kind != LC_LIN_CHOLMOD && kind != LC_LIN_PCG && kind != LC_LIN_CG_MATFREE) {
    rc = lc_error_set(err, LC_EINVAL, "linsolve_create: unknown solver kind %d", (int)kind);
    goto done;
  }
  if (n < 1 || (kind != LC_LIN_CG_MATFREE && n > INT32_MAX)) {
    rc = lc_error_set(err, LC_EINVAL, "linsolve_create: size n = %lld out of range", (long long)n);
    goto done;
  }
  s = calloc(1, sizeof *s);
  if (s) {
    s->kind = kind;
    s->n = n;
  }
  if (!s || lin_alloc_vectors(s) != LC_OK) {
    rc = lc_error_set(err, LC_ENOMEM, "linsolve_create: out of memory (n = %lld)", (long long)n);
    goto done;
  }
  if (kind == LC_LIN_CHOLMOD) {
    if (!cholmod_start(&s->cc)) {
      rc = lc_error_set(err, LC_ENOMEM, "linsolve_create: cholmod_start failed");
      goto done;
    }
    s->cc_started = 1;
    s->cc.print = 0;                     /* quiet: errors come back as codes */
    s->cc.error_handler = NULL;
    s->cc.supernodal = CHOLMOD_SUPERNODAL;
    s->cc.quick_return_if_not_posdef = 1; /* fail fast, a shifted retry follows */
    lin_ordering(&s->cc);
  }
  *out = s;
  s = NULL;
done:
  lc_linsolve_destroy(s);
  return rc;
}

/* Frees the CHOLMOD factor (the next Cholesky solve re-analyses). */
static void lin_free_factor(lc_linsolve *s) {
  s->factored = 0;
  if (s->cc_started && s->L) cholmod_free_factor(&s->L, &s->cc);
  s->L = NULL;
  s->pat_rowptr = s->pat_col = NULL;
  s->pat_nnz = -1;
  s->pat_hash = 0;
  s->pat_gen = 0;
}

/* Destroys the solver and frees its factorisation. NULL is a no-op. */
void lc_linsolve_destroy(lc_linsolve *s) {
  if (!s) return;
  if (s->cc_started) {
    lin_free_factor(s);
    cholmod_free_dense(&s->X, &s->cc);
    cholmod_free_dense(&s->Y, &s->cc);
    cholmod_free_dense(&s->E, &s->cc);
    cholmod_finish(&s->cc);
  }
  if (s->cc2_started) {
    cholmod_free_dense(&s->X2, &s->cc2);
    cholmod_free_dense(&s->Y2, &s->cc2);
    cholmod_free_dense(&s->E2, &s->cc2);
    cholmod_finish(&s->cc2);
  }
  free(s->q);
  free(s->partial);
  free(s->pre);
  free(s);
}

/* Forgets the symbolic analysis (the next Cholesky solve redoes it). */
void lc_linsolve_reset(lc_linsolve *s) {
  if (!s) return;
  lin_free_factor(s);
}

/* ---- assembled-matrix checks -------------------------------------------- */

static int lin_check_pattern(const lc_csr *A, lc_error *err);

/* Checks the arguments of lc_linsolve_solve, A's pattern included (one pass
 * over the indices, cheap next to a factorisation or a CG run). */
static int lin_check_csr(lc_linsolve *s, const lc_csr *A, const double *b, const double *x,
                         lc_error *err) {
  if (!A || !b || !x)
    return lc_error_set(err, LC_EINVAL, "linsolve_solve: %s is NULL", !A ? "A" : !b ? "b" : "x");
  if (s->kind == LC_LIN_CG_MATFREE)
    return lc_error_set(err, LC_EINVAL, "linsolve_solve: a matrix-free CG solver needs lc_linsolve_cg");
  if (A->nrows != s->n || A->ncols != s->n)
    return lc_error_set(err, LC_EINVAL, "linsolve_solve: A is %d x %d, solver size is %lld",
                        (int)A->nrows, (int)A->ncols, (long long)s->n);
  if (x == b) return lc_error_set(err, LC_EINVAL, "linsolve_solve: x must not alias b");
  return lin_check_pattern(A, err);
}

/* Checks A's arrays and pattern (one pass over the indices). */
static int lin_check_pattern(const lc_csr *A, lc_error *err) {
  if (!A->rowptr || A->nnz < 0 || A->nnz > INT32_MAX || ((!A->col || !A->val) && A->nnz > 0))
    return lc_error_set(err, LC_EINVAL, "linsolve_solve: A has missing arrays or a bad nnz");
  if (A->rowptr[0] != 0 || A->rowptr[A->nrows] != A->nnz)
    return lc_error_set(err, LC_EINVAL, "linsolve_solve: A->rowptr does not span [0, nnz = %lld]",
                        (long long)A->nnz);
  for (int32_t i = 0; i < A->nrows; ++i) {
    if (A->rowptr[i + 1] < A->rowptr[i])
      return lc_error_set(err, LC_EINVAL, "linsolve_solve: A->rowptr decreases at row %d", (int)i);
    for (int32_t k = A->rowptr[i]; k < A->rowptr[i + 1]; ++k)
      if (A->col[k] < 0 || A->col[k] >= A->ncols || (k > A->rowptr[i] && A->col[k] <= A->col[k - 1]))
        return lc_error_set(err, LC_EINVAL,
                            "linsolve_solve: A row %d: column %d out of range or unsorted", (int)i,
                            (int)A->col[k]);
  }
  return LC_OK;
}

/* ---- CHOLMOD ------------------------------------------------------------- */

/* Fingerprint of a pattern's contents (guards reuse against a pattern
 * rebuilt in the same buffers). */
static uint64_t lin_pattern_hash(const lc_csr *A) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)A->nnz;
  for (int32_t i = 0; i <= A->nrows; ++i) h = (h ^ (uint32_t)A->rowptr[i]) * 0x100000001B3ULL;
  for (int64_t k = 0; k < A->nnz; ++k) h = (h ^ (uint32_t)A->col[k]) * 0x100000001B3ULL;
  return h;
}

/* Maps a failed CHOLMOD call to an lc code with a message. */
static int lin_cholmod_error(const lc_linsolve *s, const char *what, lc_error *err) {
  const int st = s->cc.status;
  if (st == CHOLMOD_OUT_OF_MEMORY || st == CHOLMOD_TOO_LARGE)
    return lc_error_set(err, LC_ENOMEM, "linsolve: %s: CHOLMOD out of memory (status %d)", what, st);
  return lc_error_set(err, LC_ENUMERIC, "linsolve: %s failed (CHOLMOD status %d)", what, st);
}

/* Wraps A's CSR arrays as a CHOLMOD upper-symmetric CSC view (no copy). */
static cholmod_sparse lin_cholmod_view(const lc_csr *A) {
  cholmod_sparse v;
  memset(&v, 0, sizeof v);
  v.nrow = v.ncol = (size_t)A->nrows;
  v.nzmax = (size_t)A->nnz;
  v.p = (void *)A->rowptr; /* CHOLMOD reads, never writes, its input */
  v.i = (void *)A->col;
  v.x = (void *)A->val;
  v.stype = 1;
  v.itype = CHOLMOD_INT;
  v.xtype = CHOLMOD_REAL;
  v.dtype = CHOLMOD_DOUBLE;
  v.sorted = 1;
  v.packed = 1;
  return v;
}

/* Ensures a symbolic analysis of A's pattern; sets *analyzed. */
static int lin_cholmod_analyze(lc_linsolve *s, const lc_csr *A, cholmod_sparse *V, int *analyzed,
                               lc_error *err) {
  *analyzed = 0;
  const int same_arrays = s->L && A->rowptr == s->pat_rowptr && A->col == s->pat_col && A->nnz == s->pat_nnz;
  if (same_arrays && A->gen && A->gen == s->pat_gen) return LC_OK; /* the problem's generation: no reading */
  const uint64_t h = A->gen ? 0 : lin_pattern_hash(A); /* a pattern of unknown generation: its contents */
  if (same_arrays && !A->gen && !s->pat_gen && h == s->pat_hash) return LC_OK;
  lin_free_factor(s);
  s->L = cholmod_analyze(V, &s->cc);
  if (!s->L) return lin_cholmod_error(s, "cholmod_analyze", err);
  s->pat_rowptr = A->rowptr;
  s->pat_col = A->col;
  s->pat_nnz = A->nnz;
  s->pat_hash = h;
  s->pat_gen = A->gen;
  *analyzed = 1;
  return LC_OK;
}

/* Largest |A_ii| (1 if the diagonal is zero). */
static double lin_max_abs_diag(const lc_csr *A) {
  double m = 0.0;
  for (int32_t i = 0; i < A->nrows; ++i)
    for (int32_t k = A->rowptr[i]; k < A->rowptr[i + 1]; ++k)
      if (A->col[k] == i && isfinite(A->val[k])) m = fmax(m, fabs(A->val[k]));
  return m > 0.0 ? m : 1.0;
}

/* Factorises A + shift I; on failure retries (at most LC_LIN_RETRIES times)
 * with 1e-8 max|A_ii| grown x10 per retry, and never less than 10x the
 * previous shift (so a large user reg keeps growing); sets *shift. */
static int lin_cholmod_factor(lc_linsolve *s, const lc_csr *A, cholmod_sparse *V, double reg,
                              double *shift, lc_error *err) {
  double beta[2] = {reg, 0.0}, base = 0.0;
  for (int attempt = 0; attempt <= LC_LIN_RETRIES; ++attempt) {
    if (attempt > 0) {
      if (attempt == 1) base = 1e-8 * lin_max_abs_diag(A);
      const double grown = base * pow(10.0, attempt - 1);
      beta[0] = grown > beta[0] ? grown : 10.0 * beta[0];
    }
    const int ok = cholmod_factorize_p(V, beta, NULL, 0, s->L, &s->cc);
    if (!ok && s->cc.status != CHOLMOD_NOT_POSDEF) return lin_cholmod_error(s, "cholmod_factorize", err);
    if (s->cc.status != CHOLMOD_NOT_POSDEF && s->L->minor >= s->L->n) {
      *shift = beta[0];
      return LC_OK;
    }
  }
  *shift = beta[0];
  return lc_error_set(err, LC_ENUMERIC,
                      "linsolve: matrix not positive definite (column %lld) even with diagonal "
                      "shift %g after %d retries",
                      (long long)s->L->minor, beta[0], LC_LIN_RETRIES);
}

/* Solves A X = B for ncols columns of B into x with Common cc and its
 * cholmod_solve2 buffers; returns 0 on CHOLMOD failure (status in cc). */
static int lin_cholmod_cols(lc_linsolve *s, cholmod_common *cc, const double *b, int ncols, double *x,
                            cholmod_dense **X, cholmod_dense **Y, cholmod_dense **E) {
  cholmod_dense B;
  memset(&B, 0, sizeof B);
  B.nrow = B.d = (size_t)s->n;
  B.ncol = (size_t)ncols;
  B.nzmax = (size_t)s->n * (size_t)ncols;
  B.x = (void *)b; /* read only */
  B.xtype = CHOLMOD_REAL;
  B.dtype = CHOLMOD_DOUBLE;
  if (!cholmod_solve2(CHOLMOD_A, s->L, &B, NULL, X, NULL, Y, E, cc)) return 0;
  memcpy(x, (*X)->x, (size_t)s->n * (size_t)ncols * sizeof *x);
  return 1;
}

/* Solves the columns of a simplicial factor on two threads, the second with
 * its own Common (each column's arithmetic is the same as in one call);
 * returns 0 when that is not worth it or not possible, leaving x alone. */
static int lin_cholmod_split(lc_linsolve *s, const double *b, int ncols, double *x) {
  if (ncols < 2 || s->n < LC_LIN_PAR_MIN || s->L->is_super || lc_threads_share(0) < 2) return 0;
  if (!s->cc2_started) {
    if (!cholmod_start(&s->cc2)) return 0;
    s->cc2_started = 1;
    s->cc2.print = 0;
    s->cc2.error_handler = NULL;
  }
  const int h = (ncols + 1) / 2;
  int ok0 = 0, ok1 = 0;
#pragma omp parallel sections num_threads(2)
  {
#pragma omp section
    ok0 = lin_cholmod_cols(s, &s->cc, b, h, x, &s->X, &s->Y, &s->E);
#pragma omp section
    ok1 = lin_cholmod_cols(s, &s->cc2, b + (size_t)s->n * h, ncols - h, x + (size_t)s->n * h, &s->X2, &s->Y2,
                           &s->E2);
  }
  return ok0 && ok1;
}

/* Solves A X = B with the current numeric factor (ncols columns, column-major). */
static int lin_cholmod_backsolve(lc_linsolve *s, const double *b, int ncols, double *x, lc_error *err) {
  if (!lin_cholmod_split(s, b, ncols, x) && !lin_cholmod_cols(s, &s->cc, b, ncols, x, &s->X, &s->Y, &s->E))
    return lin_cholmod_error(s, "cholmod_solve2", err);
  if (!lin_all_finite(x, s->n * ncols))
    return lc_error_set(err, LC_ENUMERIC, "linsolve: Cholesky solution is not finite");
  return LC_OK;
}

/* Cholesky solve of A x = b (arguments checked); st->residual is measured
 * against A itself, without the shift. */
static int lin_cholmod_solve(lc_linsolve *s, const lc_csr *A, const double *b, double *x,
                             const lin_opts *o, lc_lin_stats *st, lc_error *err) {
  cholmod_sparse V = lin_cholmod_view(A);
  const double bnorm = sqrt(lin_dot(s, b, b));
  if (!isfinite(bnorm)) return lc_error_set(err, LC_EINVAL, "linsolve: b is not finite");
  if (s->cc.supernodal != CHOLMOD_SUPERNODAL) lin_free_factor(s); /* after a simplicial lc_linsolve_factor */
  s->cc.supernodal = CHOLMOD_SUPERNODAL;
  double t0 = lc_time_now();
  int rc = lin_cholmod_analyze(s, A, &V, &st->analyzed, err);
  double t1 = lc_time_now();
  st->t_analyze = t1 - t0;
  if (rc != LC_OK) goto done;
  rc = lin_cholmod_factor(s, A, &V, o->reg, &st->reg_used, err);
  t0 = lc_time_now();
  st->t_factor = t0 - t1;
  if (rc != LC_OK) goto done;
  rc = lin_cholmod_backsolve(s, b, 1, x, err);
  if (rc == LC_OK) st->residual = lin_csr_residual(s, A, b, x, bnorm);
  st->t_solve = lc_time_now() - t0;
done:
  return rc;
}

/* ---- preconditioners ----------------------------------------------------- */

/* z = pre .* r (Jacobi, pre = inverse diagonal). */
static void lin_prec_jacobi(const lc_linsolve *s, const double *r, double *z) {
  const int64_t n = s->n;
  const double *inv = s->pre;
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) if (n >= LC_LIN_PAR_MIN)
  for (int64_t i = 0; i < n; ++i) z[i] = inv[i] * r[i];
}

/* z = blockdiag(B_k^-1) r (block-Jacobi; pre = inverse blocks, b x b each). */
static void lin_prec_block(const lc_linsolve *s, const double *r, double *z) {
  const int64_t n = s->n;
  const int b = s->pre_block;
  const int64_t nb = (n + b - 1) / b;
  const double *blocks = s->pre;
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) if (n >= LC_LIN_PAR_MIN)
  for (int64_t k = 0; k < nb; ++k) {
    const int64_t r0 = k * b;
    const int m = (int)(r0 + b <= n ? b : n - r0);
    const double *Bi = blocks + k * b * b;
    for (int i = 0; i < m; ++i) {
      double acc = 0.0;
      for (int j = 0; j < m; ++j) acc += Bi[i * b + j] * r[r0 + j];
      z[r0 + i] = acc;
    }
  }
}

/* Builds the Jacobi preconditioner of A + reg I into s->pre. */
static int lin_setup_jacobi(lc_linsolve *s, const lc_csr *A, double reg, lc_error *err) {
  int rc = lin_pre_reserve(s, s->n, err);
  if (rc != LC_OK) return rc;
  double *inv = s->pre;
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) if (A->nnz >= LC_LIN_PAR_MIN)
  for (int64_t i = 0; i < s->n; ++i) {
    double d = 0.0;
    for (int32_t k = A->rowptr[i]; k < A->rowptr[i + 1]; ++k)
      if (A->col[k] == i) d = A->val[k];
    inv[i] = lc_lin_inv_diag(d + reg);
  }
  return LC_OK;
}

/* Builds the block-Jacobi preconditioner (block b) of A + reg I into s->pre;
 * a block that is not positive definite falls back to Jacobi. */
static int lin_setup_block(lc_linsolve *s, const lc_csr *A, int b, double reg, lc_error *err) {
  const int64_t n = s->n, nb = (n + b - 1) / b;
  int rc = lin_pre_reserve(s, nb * b * b, err);
  if (rc != LC_OK) return rc;
  s->pre_block = b;
  double *blocks = s->pre;
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) if (A->nnz >= LC_LIN_PAR_MIN)
  for (int64_t k = 0; k < nb; ++k) {
    double B[LC_LIN_MAX_BLOCK * LC_LIN_MAX_BLOCK], L[LC_LIN_MAX_BLOCK * LC_LIN_MAX_BLOCK];
    double y[LC_LIN_MAX_BLOCK];
    lc_lin_block_one(A->rowptr, A->col, A->val, n, k, b, reg, B, L, y, blocks + k * b * b);
  }
  return LC_OK;
}

/* ---- conjugate gradients ------------------------------------------------- */

/* An assembled matrix with a diagonal shift, as a CG operator. */
typedef struct lin_shifted {
  const lc_csr *A;
  double reg;
} lin_shifted;

/* Operator y = (A + reg I) v for the CG core. */
static int lin_csr_op(void *user, const double *v, double *y) {
  const lin_shifted *m = user;
  lin_spmv(m->A, v, y);
  if (m->reg != 0.0)
    for (int32_t i = 0; i < m->A->nrows; ++i) y[i] += m->reg * v[i];
  return LC_OK;
}

/* Initial residual r = b - A x (r = b when x is zero; x zeroed if !x_guess). */
static int lin_cg_start(lc_linsolve *s, lc_lin_op op, void *user, const double *b, double *x,
                        int x_guess, lc_error *err) {
  const int64_t n = s->n;
  int nonzero = 0;
  if (!x_guess) memset(x, 0, (size_t)n * sizeof *x);
  for (int64_t i = 0; x_guess && i < n && !nonzero; ++i) nonzero = x[i] != 0.0;
  if (!nonzero) {
    memcpy(s->r, b, (size_t)n * sizeof *b);
    return LC_OK;
  }
  int rc = op(user, x, s->q);
  if (rc != LC_OK) return lc_error_set(err, rc, "linsolve_cg: operator failed (%s)", lc_strerror(rc));
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) if (n >= LC_LIN_PAR_MIN)
  for (int64_t i = 0; i < n; ++i) s->r[i] = b[i] - s->q[i];
  return LC_OK;
}

/* x += alpha p, r -= alpha q. */
static void lin_cg_update(lc_linsolve *s, double *x, double alpha) {
  const int64_t n = s->n;
  double *r = s->r;
  const double *p = s->p, *q = s->q;
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) if (n >= LC_LIN_PAR_MIN)
  for (int64_t i = 0; i < n; ++i) {
    x[i] += alpha * p[i];
    r[i] -= alpha * q[i];
  }
}

/* p = z + beta p. */
static void lin_cg_direction(lc_linsolve *s, double beta) {
  const int64_t n = s->n;
  double *p = s->p;
  const double *z = s->z;
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) if (n >= LC_LIN_PAR_MIN)
  for (int64_t i = 0; i < n; ++i) p[i] = z[i] + beta * p[i];
}

/* The error of a CG iteration that the state's curvature step failed. */
static int lin_cg_fail(const lc_sstate *c, lc_error *err) {
  if (!isfinite(c->cg_pq) || !isfinite(c->cg_rz))
    return lc_error_set(err, LC_ENUMERIC, "linsolve_cg: non-finite value at iteration %d", c->cg_k);
  return lc_error_set(err, LC_ENUMERIC, "linsolve_cg: negative curvature p'Ap = %g on the first iteration",
                      c->cg_pq);
}

/* Preconditioned CG core (truncated on negative curvature, see
 * lc_linsolve_cg); st->residual gets the recursive residual |r| / |b|.
 * Every decision (norms, tests, alpha, beta, the curvature rules) is a CG
 * step of the solver state (sstep.h), the one source the device programs
 * run too; this loop does the vector work in the same arithmetic. */
static int lin_cg_core(lc_linsolve *s, lc_lin_op op, void *user, lin_prec prec, const double *b,
                       double *x, int x_guess, const lin_opts *o, lc_lin_stats *st, lc_error *err) {
  lc_sstate c;
  memset(&c, 0, sizeof c);
  c.cg_max = o->max_iters;
  c.cg_rtol = o->rtol;
  c.cg_bb = lin_dot(s, b, b);
  lc_sstep(&c, LC_SS_CG_START);
  st->iters = 0;
  if (c.lin_fail) return lc_error_set(err, LC_EINVAL, "linsolve: b is not finite");
  if (!lc_scond(&c, LC_SC_CG_GO)) { /* b = 0: the solution of A x = 0 */
    memset(x, 0, (size_t)s->n * sizeof *x);
    return LC_OK;
  }
  int rc = lin_cg_start(s, op, user, b, x, x_guess, err);
  if (rc != LC_OK) return rc;
  prec(s, s->r, s->z);
  memcpy(s->p, s->z, (size_t)s->n * sizeof *s->p);
  c.cg_rz = lin_dot(s, s->r, s->z);
  c.cg_rr = lin_dot(s, s->r, s->r);
  lc_sstep(&c, LC_SS_CG_INIT);
  if (c.lin_fail) return lc_error_set(err, LC_ENUMERIC, "linsolve: initial residual is not finite");
  while (lc_scond(&c, LC_SC_CG_ACTIVE)) {
    rc = op(user, s->p, s->q);
    if (rc != LC_OK) return lc_error_set(err, rc, "linsolve_cg: operator failed (%s)", lc_strerror(rc));
    c.cg_pq = lin_dot(s, s->p, s->q);
    lc_sstep(&c, LC_SS_CG_ALPHA);
    if (c.lin_fail) return lin_cg_fail(&c, err);
    if (!lc_scond(&c, LC_SC_CG_STEP)) break; /* truncated: keep the current iterate */
    lin_cg_update(s, x, c.cg_alpha);
    prec(s, s->r, s->z);
    c.cg_rz_new = lin_dot(s, s->r, s->z);
    c.cg_rr = lin_dot(s, s->r, s->r);
    lc_sstep(&c, LC_SS_CG_BETA);
    lin_cg_direction(s, c.cg_beta);
  }
  st->iters = c.cg_k;
  st->residual = sqrt(c.cg_rr) / c.cg_bnorm;
  return LC_OK;
}

/* PCG solve of A x = b from x = 0 (arguments checked); t_factor times the
 * preconditioner set-up, st->residual is the true residual. */
static int lin_pcg_solve(lc_linsolve *s, const lc_csr *A, const double *b, double *x,
                         const lin_opts *o, lc_lin_stats *st, lc_error *err) {
  const int block = o->precond == LC_PRECOND_BLOCK_JACOBI && o->block > 1;
  double t0 = lc_time_now();
  int rc = block ? lin_setup_block(s, A, o->block, o->reg, err) : lin_setup_jacobi(s, A, o->reg, err);
  double t1 = lc_time_now();
  st->t_factor = t1 - t0;
  if (rc != LC_OK) goto done;
  lin_shifted op = {A, o->reg};
  st->reg_used = o->reg;
  rc = lin_cg_core(s, lin_csr_op, &op, block ? lin_prec_block : lin_prec_jacobi, b, x, 0, o,
                   st, err);
  if (rc == LC_OK) st->residual = lin_csr_residual(s, A, b, x, sqrt(lin_dot(s, b, b)));
  st->t_solve = lc_time_now() - t1;
done:
  return rc;
}

/* Solves A x = b for an assembled SPD matrix (Cholesky or PCG kinds). */
int lc_linsolve_solve(lc_linsolve *s, const lc_csr *A, const double *b, double *x,
                      const lc_lin_opts *o, lc_lin_stats *st, lc_error *err) {
  lc_lin_stats local;
  lin_opts lo;
  int rc;
  if (!st) st = &local;
  memset(st, 0, sizeof *st);
  if (!s) {
    rc = lc_error_set(err, LC_EINVAL, "linsolve_solve: solver is NULL");
    goto done;
  }
  rc = lin_check_csr(s, A, b, x, err);
  if (rc == LC_OK) rc = lin_resolve_opts(o, &lo, err);
  if (rc != LC_OK) goto done;
  if (s->kind == LC_LIN_CHOLMOD)
    rc = lin_cholmod_solve(s, A, b, x, &lo, st, err);
  else
    rc = lin_pcg_solve(s, A, b, x, &lo, st, err);
done:
  return rc;
}

/* Factorises A + reg I (Cholesky kind) and keeps the factor for
 * lc_linsolve_backsolve; on failure no factor is kept. */
int lc_linsolve_factor(lc_linsolve *s, const lc_csr *A, const lc_lin_opts *o, lc_lin_stats *st,
                       lc_error *err) {
  lc_lin_stats local;
  lin_opts lo;
  if (!st) st = &local;
  memset(st, 0, sizeof *st);
  if (!s || s->kind != LC_LIN_CHOLMOD)
    return lc_error_set(err, LC_EINVAL, "linsolve_factor: needs a Cholesky (cholmod) solver");
  s->factored = 0;
  if (!A || A->nrows != s->n || A->ncols != s->n)
    return lc_error_set(err, LC_EINVAL, "linsolve_factor: A is missing or not %lld x %lld", (long long)s->n,
                        (long long)s->n);
  int rc = lin_check_pattern(A, err);
  if (rc == LC_OK) rc = lin_resolve_opts(o, &lo, err);
  if (rc != LC_OK) return rc;
  cholmod_sparse V = lin_cholmod_view(A);
  const int kind = o && o->simplicial ? CHOLMOD_SIMPLICIAL : CHOLMOD_SUPERNODAL;
  if (kind != s->cc.supernodal) lin_free_factor(s); /* the factor's kind comes from its analysis */
  s->cc.supernodal = kind;
  double t0 = lc_time_now();
  rc = lin_cholmod_analyze(s, A, &V, &st->analyzed, err);
  const double t1 = lc_time_now();
  st->t_analyze = t1 - t0;
  if (rc == LC_OK) rc = lin_cholmod_factor(s, A, &V, lo.reg, &st->reg_used, err);
  st->t_factor = lc_time_now() - t1;
  s->factored = rc == LC_OK;
  return rc;
}

/* Solves A X = B with the factor of the last lc_linsolve_factor. */
int lc_linsolve_backsolve(lc_linsolve *s, const double *B, int ncols, double *X, lc_error *err) {
  if (!s || !s->factored)
    return lc_error_set(err, LC_EINVAL, "linsolve_backsolve: no factor (lc_linsolve_factor first)");
  if (!B || !X || B == X || ncols < 1)
    return lc_error_set(err, LC_EINVAL, "linsolve_backsolve: bad B, X or ncols (%d)", ncols);
  return lin_cholmod_backsolve(s, B, ncols, X, err);
}

/* Matrix-free CG: z = diag^-1 r (pre = inverse diagonal) or z = r. */
static void lin_prec_identity(const lc_linsolve *s, const double *r, double *z) {
  memcpy(z, r, (size_t)s->n * sizeof *z);
}

/* Solves A x = b with matrix-free CG on op, from the guess in x.  Truncated
 * CG (Steihaug-style, no trust region): on negative curvature p'Ap <= 0 at
 * a later iteration it stops, keeps the current iterate and returns LC_OK
 * with st->residual > rtol; on the first iteration it returns LC_ENUMERIC
 * with x unchanged. Reaching max_iters also returns LC_OK. */
int lc_linsolve_cg(lc_linsolve *s, lc_lin_op op, void *user, const double *diag, const double *b,
                   double *x, const lc_lin_opts *o, lc_lin_stats *st, lc_error *err) {
  lc_lin_stats local;
  lin_opts lo;
  int rc = LC_OK;
  if (!st) st = &local;
  memset(st, 0, sizeof *st);
  if (!s || !op || !b || !x) {
    rc = lc_error_set(err, LC_EINVAL, "linsolve_cg: %s is NULL",
                      !s ? "solver" : !op ? "op" : !b ? "b" : "x");
    goto done;
  }
  if (s->kind != LC_LIN_CG_MATFREE) {
    rc = lc_error_set(err, LC_EINVAL, "linsolve_cg: solver kind %d is not LC_LIN_CG_MATFREE",
                      (int)s->kind);
    goto done;
  }
  if (x == b) {
    rc = lc_error_set(err, LC_EINVAL, "linsolve_cg: x must not alias b");
    goto done;
  }
  rc = lin_resolve_opts(o, &lo, err);
  if (rc == LC_OK && diag) rc = lin_pre_reserve(s, s->n, err);
  if (rc != LC_OK) goto done;
  if (diag)
    for (int64_t i = 0; i < s->n; ++i) s->pre[i] = lc_lin_inv_diag(diag[i]);
  const double t0 = lc_time_now();
  rc = lin_cg_core(s, op, user, diag ? lin_prec_jacobi : lin_prec_identity, b, x, 1, &lo, st, err);
  st->t_solve = lc_time_now() - t0;
done:
  return rc;
}
