/* condense.c - static condensation of a sparse SPD system (condense.h): the
 * symbolic step (which DOFs go, the kept DOFs each eliminated block touches,
 * the Schur complement's pattern and where A's kept entries land in it),
 * the numeric step (per block: M + reg I inverted by Cholesky, W = M^-1 C,
 * S -= C' W) and the solve (reduced right-hand side, the Schur solve with
 * an inner lc_linsolve, back-substitution). */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "threads.h"
#include "condense.h"
#include "lin_block.h"

#define LC_COND_MAX_M 16 /* largest eliminated block */

struct lc_condense {
  lc_lin_kind kind;
  lc_linsolve *inner;      /* the Schur solve, nk x nk */
  /* the symbolic step's key */
  const int32_t *key_rowptr, *key_col;
  int64_t key_nnz, key_n;
  lc_lin_cond key_cond;
  int valid;
  /* symbolic */
  int64_t n, nk;
  int32_t *kidx;           /* n: kept index, or -1 for an eliminated DOF */
  int32_t *kdof;           /* nk: the DOF of each kept index */
  int64_t *nb_ptr;         /* n_blocks + 1 */
  int32_t *nb_idx;         /* kept indices each block touches (sorted) */
  int32_t *s_rowptr, *s_col; /* Schur complement, full symmetric CSR (nk x nk) */
  int64_t s_nnz;
  int32_t *amap;           /* per entry of A: its position in S, or -1 */
  int64_t *kb_ptr;         /* nk + 1: the blocks each kept index is touched by ... */
  int32_t *kb_blk, *kb_pos;/* ... and its position in that block's N_b */
  /* numeric */
  double *s_val;           /* s_nnz */
  double *minv;            /* n_blocks x m x m */
  double *w;               /* per block: m x |N_b|, W = M^-1 C */
  double *cc;              /* per block: m x |N_b|, C */
  double *bk, *xk;         /* nk */
};

/* Creates a condensing solver. */
int lc_condense_create(lc_lin_kind kind, lc_condense **out, lc_error *err) {
  if (kind != LC_LIN_CHOLMOD && kind != LC_LIN_PCG)
    return lc_error_set(err, LC_EINVAL, "condense: the Schur complement needs Cholesky or PCG (got %d)", (int)kind);
  *out = calloc(1, sizeof **out);
  if (!*out) return lc_error_set(err, LC_ENOMEM, "condense: out of memory");
  (*out)->kind = kind;
  return LC_OK;
}

/* Frees the symbolic and numeric arrays (not the inner solver). */
static void cond_free_arrays(lc_condense *c) {
  free(c->kidx), free(c->kdof), free(c->nb_ptr), free(c->nb_idx), free(c->s_rowptr), free(c->s_col);
  free(c->amap), free(c->s_val), free(c->minv), free(c->w), free(c->bk), free(c->xk);
  free(c->kb_ptr), free(c->kb_blk), free(c->kb_pos), free(c->cc);
  c->kidx = c->kdof = c->nb_idx = c->s_rowptr = c->s_col = c->kb_blk = c->kb_pos = c->amap = NULL;
  c->nb_ptr = c->kb_ptr = NULL;
  c->s_val = c->minv = c->w = c->bk = c->xk = c->cc = NULL;
  c->valid = 0;
}

/* Destroys the solver. */
void lc_condense_destroy(lc_condense *c) {
  if (!c) return;
  cond_free_arrays(c);
  lc_linsolve_destroy(c->inner);
  free(c);
}

/* Checks o->cond against the n x n matrix. */
static int cond_check(const lc_lin_cond *d, int64_t n, lc_error *err) {
  const int m = d->c1 - d->c0;
  if (d->n < 1 || d->dim < 1 || d->c0 < 0 || d->c1 > d->dim || m < 1 || m > LC_COND_MAX_M || d->off < 0 ||
      d->off + (int64_t)d->n * d->dim > n)
    return lc_error_set(err, LC_EINVAL,
                        "condense: components [%d, %d) of %d entities of dimension %d at DOF %lld do not fit "
                        "%lld DOFs (at most %d components)",
                        d->c0, d->c1, (int)d->n, d->dim, (long long)d->off, (long long)n, LC_COND_MAX_M);
  if (m == d->dim && d->n * (int64_t)d->dim == n)
    return lc_error_set(err, LC_EINVAL, "condense: every DOF would be eliminated");
  return LC_OK;
}

/* Block of DOF i (-1: kept). */
static int64_t cond_block(const lc_lin_cond *d, int64_t i) {
  if (i < d->off || i >= d->off + (int64_t)d->n * d->dim) return -1;
  const int64_t r = i - d->off, c = r % d->dim;
  return c >= d->c0 && c < d->c1 ? r / d->dim : -1;
}

/* DOF of row r of block b. */
static int64_t cond_dof(const lc_lin_cond *d, int64_t b, int r) { return d->off + b * d->dim + d->c0 + r; }

/* Kept indices and, per block, the sorted kept indices its rows touch. */
static int cond_sym_blocks(lc_condense *c, const lc_csr *A, const lc_lin_cond *d, int32_t *mark, lc_error *err) {
  const int m = d->c1 - d->c0;
  c->kidx = malloc((size_t)c->n * sizeof *c->kidx);
  c->kdof = malloc((size_t)c->n * sizeof *c->kdof);
  c->nb_ptr = calloc((size_t)d->n + 1, sizeof *c->nb_ptr);
  if (!c->kidx || !c->kdof || !c->nb_ptr) return lc_error_set(err, LC_ENOMEM, "condense: out of memory");
  c->nk = 0;
  for (int64_t i = 0; i < c->n; ++i) {
    c->kidx[i] = cond_block(d, i) < 0 ? (int32_t)c->nk : -1;
    if (c->kidx[i] >= 0) c->kdof[c->nk++] = (int32_t)i;
  }
  int64_t cap = (int64_t)d->n * 32, len = 0;
  c->nb_idx = malloc((size_t)cap * sizeof *c->nb_idx);
  if (!c->nb_idx) return lc_error_set(err, LC_ENOMEM, "condense: out of memory");
  for (int64_t b = 0; b < d->n; ++b) {
    const int64_t start = len;
    for (int r = 0; r < m; ++r) {
      const int64_t i = cond_dof(d, b, r);
      for (int32_t q = A->rowptr[i]; q < A->rowptr[i + 1]; ++q) {
        const int32_t k = c->kidx[A->col[q]];
        if (k < 0 || mark[k] == (int32_t)b) continue;
        mark[k] = (int32_t)b;
        if (len == cap) {
          int32_t *g = realloc(c->nb_idx, (size_t)(cap *= 2) * sizeof *g);
          if (!g) return lc_error_set(err, LC_ENOMEM, "condense: out of memory");
          c->nb_idx = g;
        }
        c->nb_idx[len++] = k;
      }
    }
    for (int64_t a = start + 1; a < len; ++a) /* insertion sort: a block touches a few dozen */
      for (int64_t e = a; e > start && c->nb_idx[e] < c->nb_idx[e - 1]; --e) {
        const int32_t t = c->nb_idx[e];
        c->nb_idx[e] = c->nb_idx[e - 1];
        c->nb_idx[e - 1] = t;
      }
    c->nb_ptr[b + 1] = len;
  }
  return LC_OK;
}

/* Appends the columns of kept row k of S (A's kept columns and every
 * touching block's N_b) to cols, deduplicated through mark (stamp k). */
static int64_t cond_row_cols(const lc_condense *c, const lc_csr *A, const lc_lin_cond *d, int32_t k, int32_t *mark,
                             int32_t *cols) {
  const int64_t i = c->kdof[k];
  int64_t len = 0;
  for (int32_t q = A->rowptr[i]; q < A->rowptr[i + 1]; ++q) {
    const int32_t kk = c->kidx[A->col[q]];
    if (kk >= 0 && mark[kk] != k) mark[kk] = k, cols[len++] = kk;
    if (kk >= 0) continue;
    const int64_t b = cond_block(d, A->col[q]);
    for (int64_t e = c->nb_ptr[b]; e < c->nb_ptr[b + 1]; ++e)
      if (mark[c->nb_idx[e]] != k) mark[c->nb_idx[e]] = k, cols[len++] = c->nb_idx[e];
  }
  return len;
}

/* Ascending int32 sort of a[0..n) (qsort comparator). */
static int cmp_i32(const void *a, const void *b) {
  const int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

/* The Schur complement's pattern (two passes: count, fill) and where A's
 * kept-kept entries land in it. */
static int cond_sym_pattern(lc_condense *c, const lc_csr *A, const lc_lin_cond *d, int32_t *mark, lc_error *err) {
  int32_t *cols = malloc((size_t)c->nk * sizeof *cols);
  c->s_rowptr = malloc(((size_t)c->nk + 1) * sizeof *c->s_rowptr);
  c->amap = malloc((size_t)A->nnz * sizeof *c->amap);
  if (!cols || !c->s_rowptr || !c->amap) {
    free(cols);
    return lc_error_set(err, LC_ENOMEM, "condense: out of memory");
  }
  for (int64_t k = 0; k < c->nk; ++k) mark[k] = -1;
  c->s_rowptr[0] = 0;
  for (int32_t k = 0; k < (int32_t)c->nk; ++k) {
    const int64_t total = c->s_rowptr[k] + cond_row_cols(c, A, d, k, mark, cols);
    if (total > INT32_MAX) {
      free(cols);
      return lc_error_set(err, LC_ERANGE, "condense: the Schur complement exceeds 2^31 entries");
    }
    c->s_rowptr[k + 1] = (int32_t)total;
  }
  c->s_nnz = c->s_rowptr[c->nk];
  c->s_col = malloc((size_t)c->s_nnz * sizeof *c->s_col);
  if (!c->s_col) {
    free(cols);
    return lc_error_set(err, LC_ENOMEM, "condense: out of memory for %lld Schur entries", (long long)c->s_nnz);
  }
  for (int64_t k = 0; k < c->nk; ++k) mark[k] = -1;
  for (int32_t k = 0; k < (int32_t)c->nk; ++k) {
    int32_t *row = c->s_col + c->s_rowptr[k];
    const int64_t len = cond_row_cols(c, A, d, k, mark, row);
    qsort(row, (size_t)len, sizeof *row, cmp_i32);
  }
  free(cols);
  for (int64_t i = 0; i < c->n; ++i) /* A's kept entries: merge along sorted rows */
    for (int32_t q = A->rowptr[i], s = c->kidx[i] >= 0 ? c->s_rowptr[c->kidx[i]] : 0; q < A->rowptr[i + 1]; ++q) {
      const int32_t kk = c->kidx[A->col[q]];
      c->amap[q] = -1;
      if (c->kidx[i] < 0 || kk < 0) continue;
      while (c->s_col[s] < kk) ++s;
      c->amap[q] = s;
    }
  return LC_OK;
}

/* The inverse of the blocks' N_b lists: for each kept index, the blocks
 * that touch it and its position in each (a CSR by kept index). */
static int cond_sym_inverse(lc_condense *c, int64_t nblk, lc_error *err) {
  const int64_t tot = c->nb_ptr[nblk];
  c->kb_ptr = calloc((size_t)c->nk + 1, sizeof *c->kb_ptr);
  c->kb_blk = malloc(((size_t)tot + 1) * sizeof *c->kb_blk);
  c->kb_pos = malloc(((size_t)tot + 1) * sizeof *c->kb_pos);
  if (!c->kb_ptr || !c->kb_blk || !c->kb_pos) return lc_error_set(err, LC_ENOMEM, "condense: out of memory");
  for (int64_t e = 0; e < tot; ++e) c->kb_ptr[c->nb_idx[e] + 1]++;
  for (int64_t k = 0; k < c->nk; ++k) c->kb_ptr[k + 1] += c->kb_ptr[k];
  int64_t *fill = malloc(((size_t)c->nk + 1) * sizeof *fill);
  if (!fill) return lc_error_set(err, LC_ENOMEM, "condense: out of memory");
  memcpy(fill, c->kb_ptr, (size_t)c->nk * sizeof *fill);
  for (int64_t b = 0; b < nblk; ++b) /* blocks in ascending order: each list is sorted */
    for (int64_t e = c->nb_ptr[b]; e < c->nb_ptr[b + 1]; ++e) {
      const int64_t at = fill[c->nb_idx[e]]++;
      c->kb_blk[at] = (int32_t)b;
      c->kb_pos[at] = (int32_t)(e - c->nb_ptr[b]);
    }
  free(fill);
  return LC_OK;
}

/* The symbolic step for A and d (kept while both stay). */
static int cond_symbolic(lc_condense *c, const lc_csr *A, const lc_lin_cond *d, lc_error *err) {
  cond_free_arrays(c);
  lc_linsolve_destroy(c->inner);
  c->inner = NULL;
  c->n = A->nrows;
  int32_t *mark = malloc((size_t)c->n * sizeof *mark);
  if (!mark) return lc_error_set(err, LC_ENOMEM, "condense: out of memory");
  for (int64_t i = 0; i < c->n; ++i) mark[i] = -1;
  int rc = cond_sym_blocks(c, A, d, mark, err);
  if (!rc) rc = cond_sym_pattern(c, A, d, mark, err);
  if (!rc) rc = cond_sym_inverse(c, d->n, err);
  free(mark);
  const int m = d->c1 - d->c0;
  if (!rc) {
    c->s_val = malloc((size_t)c->s_nnz * sizeof *c->s_val);
    c->minv = malloc((size_t)d->n * m * m * sizeof *c->minv);
    c->w = malloc(((size_t)c->nb_ptr[d->n] * m + 1) * sizeof *c->w);
    c->cc = malloc(((size_t)c->nb_ptr[d->n] * m + 1) * sizeof *c->cc);
    c->bk = malloc((size_t)c->nk * sizeof *c->bk);
    c->xk = malloc((size_t)c->nk * sizeof *c->xk);
    if (!c->s_val || !c->minv || !c->w || !c->cc || !c->bk || !c->xk) rc = lc_error_set(err, LC_ENOMEM, "condense: out of memory");
  }
  if (!rc) rc = lc_linsolve_create(c->kind, c->nk, &c->inner, err);
  if (rc) {
    cond_free_arrays(c);
    return rc;
  }
  c->key_rowptr = A->rowptr, c->key_col = A->col, c->key_nnz = A->nnz, c->key_n = A->nrows, c->key_cond = *d;
  c->valid = 1;
  return LC_OK;
}

/* Block b's M + reg I (m x m) and C (m x |N_b|, kept columns N_b) from A;
 * LC_EINVAL for a non-zero coupling to another block. */
static int cond_gather(const lc_condense *c, const lc_csr *A, const lc_lin_cond *d, int64_t b, double reg, double *M,
                       double *C, lc_error *err) {
  const int m = d->c1 - d->c0;
  const int64_t nb0 = c->nb_ptr[b], nbn = c->nb_ptr[b + 1] - nb0;
  memset(M, 0, (size_t)m * m * sizeof *M);
  memset(C, 0, (size_t)m * nbn * sizeof *C);
  for (int r = 0; r < m; ++r) {
    const int64_t i = cond_dof(d, b, r);
    int64_t e = nb0;
    for (int32_t q = A->rowptr[i]; q < A->rowptr[i + 1]; ++q) {
      const int32_t j = A->col[q], kk = c->kidx[j];
      if (kk >= 0) {
        while (c->nb_idx[e] < kk) ++e;
        C[r * nbn + (e - nb0)] = A->val[q];
      } else if (cond_block(d, j) == b) {
        M[r * m + (j - cond_dof(d, b, 0))] = A->val[q];
      } else if (A->val[q] != 0.0) {
        return lc_error_set(err, LC_EINVAL, "condense: eliminated DOFs %lld and %d of different entities are coupled "
                            "(%g): they cannot be eliminated block by block", (long long)i, (int)j, A->val[q]);
      }
    }
    M[r * m + r] += reg;
  }
  return LC_OK;
}

/* Row k of S minus the sum over the blocks b touching k of row p_b(k) of
 * C_b' W_b, by a merge walk along the row (each block's N_b is sorted). */
static void cond_update_row(lc_condense *c, int32_t k, int m) {
  for (int64_t e = c->kb_ptr[k]; e < c->kb_ptr[k + 1]; ++e) {
    const int64_t b = c->kb_blk[e], p = c->kb_pos[e], nb0 = c->nb_ptr[b], nbn = c->nb_ptr[b + 1] - nb0;
    const double *C = c->cc + nb0 * m, *W = c->w + nb0 * m;
    const int32_t *Nb = c->nb_idx + nb0;
    int32_t s = c->s_rowptr[k];
    for (int64_t q = 0; q < nbn; ++q) {
      while (c->s_col[s] < Nb[q]) ++s;
      double acc = 0.0;
      for (int r = 0; r < m; ++r) acc += C[r * nbn + p] * W[r * nbn + q];
      c->s_val[s] -= acc;
    }
  }
}

/* Block b: C and M + reg I from A, M^-1 by Cholesky, W = M^-1 C. */
static int cond_block_numeric(lc_condense *c, const lc_csr *A, const lc_lin_cond *d, int64_t b, double reg,
                              lc_error *err) {
  const int m = d->c1 - d->c0;
  const int64_t nbn = c->nb_ptr[b + 1] - c->nb_ptr[b];
  double M[LC_COND_MAX_M * LC_COND_MAX_M], L[LC_COND_MAX_M * LC_COND_MAX_M], y[LC_COND_MAX_M];
  double *Mi = c->minv + b * m * m, *W = c->w + c->nb_ptr[b] * m, *C = c->cc + c->nb_ptr[b] * m;
  int rc = cond_gather(c, A, d, b, reg, M, C, err);
  if (!rc && !lc_lin_invert_block(M, m, m, Mi, L, y))
    rc = lc_error_set(err, LC_ENUMERIC, "condense: the eliminated block of entity %lld is not positive definite",
                      (long long)b);
  for (int r = 0; !rc && r < m; ++r)
    for (int64_t q = 0; q < nbn; ++q) {
      double acc = 0.0;
      for (int t = 0; t < m; ++t) acc += Mi[r * m + t] * C[t * nbn + q];
      W[r * nbn + q] = acc;
    }
  return rc;
}

/* The numeric step: M^-1, C and W of every block (in parallel over the
 * blocks), then S = K - C' W (in parallel over S's rows: a row is written
 * by one thread only, so the result does not depend on the thread count). */
static int cond_numeric(lc_condense *c, const lc_csr *A, const lc_lin_cond *d, double reg, lc_error *err) {
  const int m = d->c1 - d->c0;
  int rc = LC_OK;
#pragma omp parallel num_threads(lc_threads_share(0))
  {
    lc_error lerr;
    int lrc = LC_OK;
#pragma omp for schedule(static)
    for (int64_t b = 0; b < d->n; ++b)
      if (!lrc) lrc = cond_block_numeric(c, A, d, b, reg, &lerr);
#pragma omp critical
    if (lrc && !rc) {
      rc = lrc;
      if (err) *err = lerr;
    }
#pragma omp barrier
    if (!rc) {
#pragma omp for schedule(static)
      for (int32_t k = 0; k < (int32_t)c->nk; ++k) {
        const int64_t i = c->kdof[k];
        memset(c->s_val + c->s_rowptr[k], 0, (size_t)(c->s_rowptr[k + 1] - c->s_rowptr[k]) * sizeof *c->s_val);
        for (int32_t q = A->rowptr[i]; q < A->rowptr[i + 1]; ++q)
          if (c->amap[q] >= 0) c->s_val[c->amap[q]] += A->val[q];
        cond_update_row(c, k, m);
      }
    }
  }
  return rc;
}

/* b_k - C' M^-1 b_e into c->bk (using C' M^-1 = W' since M is symmetric). */
static void cond_reduce_rhs(lc_condense *c, const lc_lin_cond *d, const double *b) {
  const int m = d->c1 - d->c0;
  for (int64_t k = 0; k < c->nk; ++k) c->bk[k] = b[c->kdof[k]];
  for (int64_t blk = 0; blk < d->n; ++blk) {
    const int64_t nb0 = c->nb_ptr[blk], nbn = c->nb_ptr[blk + 1] - nb0;
    const double *W = c->w + nb0 * m;
    for (int64_t q = 0; q < nbn; ++q) {
      double acc = 0.0;
      for (int r = 0; r < m; ++r) acc += W[r * nbn + q] * b[cond_dof(d, blk, r)];
      c->bk[c->nb_idx[nb0 + q]] -= acc;
    }
  }
}

/* x_k from c->xk and x_e = M^-1 b_e - W x_k for every block. */
static void cond_back(const lc_condense *c, const lc_lin_cond *d, const double *b, double *x) {
  const int m = d->c1 - d->c0;
  for (int64_t k = 0; k < c->nk; ++k) x[c->kdof[k]] = c->xk[k];
  for (int64_t blk = 0; blk < d->n; ++blk) {
    const int64_t nb0 = c->nb_ptr[blk], nbn = c->nb_ptr[blk + 1] - nb0;
    const double *W = c->w + nb0 * m, *Mi = c->minv + blk * m * m;
    for (int r = 0; r < m; ++r) {
      double acc = 0.0;
      for (int t = 0; t < m; ++t) acc += Mi[r * m + t] * b[cond_dof(d, blk, t)];
      for (int64_t q = 0; q < nbn; ++q) acc -= W[r * nbn + q] * c->xk[c->nb_idx[nb0 + q]];
      x[cond_dof(d, blk, r)] = acc;
    }
  }
}

/* Solves (A + reg I) x = b by condensation. */
int lc_condense_solve(lc_condense *c, const lc_csr *A, const double *b, double *x, const lc_lin_opts *o,
                      lc_lin_stats *st, lc_error *err) {
  const lc_lin_cond *d = &o->cond;
  int rc = cond_check(d, A->nrows, err);
  if (rc) return rc;
  const int same = c->valid && c->key_rowptr == A->rowptr && c->key_col == A->col && c->key_nnz == A->nnz &&
                   c->key_n == A->nrows && !memcmp(&c->key_cond, d, sizeof *d);
  if (!same && (rc = cond_symbolic(c, A, d, err))) return rc;
  if ((rc = cond_numeric(c, A, d, o->reg, err))) return rc;
  cond_reduce_rhs(c, d, b);
  const lc_csr S = {(int32_t)c->nk, (int32_t)c->nk, c->s_nnz, c->s_rowptr, c->s_col, c->s_val, 0};
  lc_lin_opts io = *o;
  io.cond.n = 0;
  if (io.precond == LC_PRECOND_BLOCK_JACOBI && io.block > 1) io.block = d->dim - (d->c1 - d->c0); /* kept per entity */
  memset(c->xk, 0, (size_t)c->nk * sizeof *c->xk);
  if ((rc = lc_linsolve_solve(c->inner, &S, c->bk, c->xk, &io, st, err))) return rc;
  cond_back(c, d, b, x);
  return LC_OK;
}
