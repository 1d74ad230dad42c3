/* local_global.c - the local-global ARAP solver of local_global.h: the
 * Laplacian's pattern and values from the terms' triangles, one Cholesky
 * factor per distinct fixed mask of the D components (usually one, shared by
 * all D right-hand sides), the local step in two passes over tables made with
 * the factors (the triangles in user order, each fitting its R; then every
 * vertex summing its triangles' contributions to the right-hand side: no
 * colours, no atomics, an order independent of the thread count), and the
 * iteration loop with the solvers' stopping rules. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime (lc_time.h) */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "threads.h"
#include "../lc_time.h"
#include "lg_arap.h"
#include "linsolve.h"
#include "local_global.h"
#include "problem_impl.h"

/* The factor of the components that share one fixed mask. */
typedef struct lg_fac {
  int ncomp, comp[3];
  int32_t *map;       /* vertex -> free index, or -1 when fixed */
  int32_t nfree;
  int32_t *rowptr, *col;
  double *val;        /* L restricted to the free vertices, full symmetric CSR */
  lc_linsolve *ls;    /* NULL when every vertex is fixed */
  double shift;       /* the proximal eps the factor was made with */
  double *rhs, *sol;  /* nfree x ncomp, column-major */
} lg_fac;

struct lc_lg {
  lc_problem *p;
  /* what the factors were made for */
  int valid, var, dim;
  int32_t nv;
  int64_t off;
  uint64_t key;
  uint64_t fixed_gen, fixed_hash;
  /* the Laplacian of all arap triangles, full symmetric CSR over vertices */
  int32_t *lrow, *lcol;
  double *lval;
  double maxdiag;
  /* the local step's tables (made with the Laplacian) */
  int32_t *vold;      /* nv: the vertices in locality order (breadth first): new -> old */
  int32_t *vnew;      /* nv: old -> new; everything below uses the new numbers */
  uint8_t *fx;        /* nv x dim: the fixed flags */
  int64_t ne;         /* arap triangles of every term, by smallest vertex */
  int32_t *ev;        /* ne x 3: vertices */
  double *eg;         /* ne x 7: G (3 x 2, row-major), then w A */
  double *er;         /* ne x 6: the fitted R (D x 2, row-major) */
  int32_t *iptr, *ie; /* vertex -> its incidences (ascending triangle): triangle */
  double *ic;         /* per incidence: w A G[a] (2 values) */
  double *part;       /* one energy partial per LG_CHUNK triangles */
  lg_fac fac[3];
  int nfac;
  /* work */
  double *x;          /* n_dofs: the problem's x, the iterate written back at the end */
  int64_t x_len;      /* its length (kept across solves while n_dofs stays) */
  double *xv;         /* nv x dim: the iterate (new vertex numbers) */
  double *b;          /* nv x dim: the local step's right-hand side */
  /* Anderson acceleration: the last m differences of G(x) and f = G(x) - x */
  int aa_m, aa_n, aa_head;
  int64_t aa_len;     /* nv x dim */
  double *aa_dg, *aa_df; /* aa_m x aa_len each, a ring */
  double *xk, *gxp, *fp, *fk; /* the iterate, the last G(x), its f, the new f */
  int have_prev;      /* gxp and fp hold the previous iteration's */
  int accel_used, accel_rejected;
};

/* ---- set-up --------------------------------------------------------------- */

/* Frees the factors and the Laplacian (valid drops to 0). */
static void lg_drop(lc_lg *g) {
  for (int f = 0; f < 3; ++f) {
    lg_fac *c = &g->fac[f];
    lc_linsolve_destroy(c->ls);
    free(c->map), free(c->rowptr), free(c->col), free(c->val), free(c->rhs), free(c->sol);
    memset(c, 0, sizeof *c);
  }
  free(g->lrow), free(g->lcol), free(g->lval), free(g->b);
  g->lrow = g->lcol = NULL, g->lval = g->b = NULL;
  free(g->ev), free(g->eg), free(g->er), free(g->iptr), free(g->ie), free(g->ic), free(g->part);
  free(g->vold), free(g->vnew), free(g->fx), free(g->xv);
  g->ev = g->iptr = g->ie = g->vold = g->vnew = NULL, g->eg = g->er = g->ic = g->part = g->xv = NULL;
  g->fx = NULL;
  g->ne = 0;
  g->nfac = 0;
  g->valid = 0;
}

/* Creates the solver state for problem p. */
int lc_lg_create(lc_problem *p, lc_lg **out, lc_error *err) {
  if (!p || !out) return lc_error_set(err, LC_EINVAL, "local_global: problem or out is NULL");
  *out = calloc(1, sizeof **out);
  if (!*out) return lc_error_set(err, LC_ENOMEM, "local_global: out of memory");
  (*out)->p = p;
  return LC_OK;
}

/* Frees the state. */
void lc_lg_destroy(lc_lg *g) {
  if (!g) return;
  lg_drop(g);
  free(g->x);
  free(g->aa_dg), free(g->aa_df), free(g->xk), free(g->gxp), free(g->fp), free(g->fk);
  free(g);
}

/* Checks that every live term is arap on one variable of dimension 2 or 3
 * on the CPU; sets *var. */
static int lg_check(const lc_problem *p, const lc_solve_opts *o, int *var, lc_error *err) {
  *var = -1;
  if (strcmp(lc_problem_device(p), "cpu"))
    return lc_error_set(err, LC_EINVAL, "solve: local_global runs on the CPU backend only (this problem is on %s)",
                        lc_problem_device(p));
  if (o->sphere_var >= 0 || o->condense_var >= 0)
    return lc_error_set(err, LC_EINVAL, "solve: local_global takes neither sphere_var nor condense");
  for (int i = 0; i < p->n_term_slots; ++i) {
    const lc_term *t = p->terms[i];
    if (!t) continue;
    if (strcmp(t->info->name, "arap"))
      return lc_error_set(err, LC_EINVAL, "solve: local_global minimises arap terms only; term %d is '%s' "
                          "(use newton or lbfgs for other energies)", i, t->info->name);
    if (*var >= 0 && t->var != *var)
      return lc_error_set(err, LC_EINVAL, "solve: local_global needs every arap term on one variable; term %d is "
                          "on '%s', an earlier one on '%s'", i, p->vars[t->var].name, p->vars[*var].name);
    *var = t->var;
  }
  if (*var < 0) return lc_error_set(err, LC_EINVAL, "solve: the problem has no terms: nothing to minimise");
  return LC_OK;
}

/* FNV-1a over n bytes, continuing h. */
static uint64_t lg_fnv(uint64_t h, const void *data, size_t n) {
  const unsigned char *c = data;
  for (size_t i = 0; i < n; ++i) h = (h ^ c[i]) * 1099511628211ull;
  return h;
}

/* The key of the factors: terms, weights, constants, and the fixed mask. */
static uint64_t lg_key(lc_lg *g, int var) {
  lc_problem *p = g->p;
  const lc_variable *v = &p->vars[var];
  if (!g->fixed_gen || g->fixed_gen != p->gen_fixed || g->var != var) {
    g->fixed_hash = lg_fnv(1469598103934665603ull, p->fixed + v->off, (size_t)v->n * (size_t)v->dim);
    g->fixed_gen = p->gen_fixed;
  }
  uint64_t h = lg_fnv(g->fixed_hash, &p->gen_terms, sizeof p->gen_terms);
  h = lg_fnv(h, &var, sizeof var);
  for (int i = 0; i < p->n_term_slots; ++i) {
    const lc_term *t = p->terms[i];
    if (!t) continue;
    h = lg_fnv(h, &t->weight, sizeof t->weight);
    h = lg_fnv(h, &t->gen_consts, sizeof t->gen_consts);
  }
  return h ? h : 1;
}

/* Sorts a short int32 array (insertion sort: rows have a few entries). */
static void lg_sort(int32_t *a, int32_t n) {
  for (int32_t i = 1; i < n; ++i) {
    const int32_t v = a[i];
    int32_t j = i - 1;
    while (j >= 0 && a[j] > v) a[j + 1] = a[j], --j;
    a[j + 1] = v;
  }
}

/* Builds the Laplacian's pattern: every vertex coupled to itself and to the
 * other vertices of its triangles (rows sorted, duplicates removed). */
static int lg_pattern(lc_lg *g, lc_error *err) {
  const int32_t nv = g->nv;
  int32_t *cnt = calloc((size_t)nv + 1, sizeof *cnt);
  g->lrow = calloc((size_t)nv + 1, sizeof *g->lrow);
  if (!cnt || !g->lrow) goto oom;
  for (int32_t v = 0; v < nv; ++v) cnt[v] = 1;
  for (int64_t k = 0; k < 3 * g->ne; ++k) cnt[g->ev[k]] += 2;
  int64_t total = 0;
  for (int32_t v = 0; v < nv; ++v) total += cnt[v];
  if (total > INT32_MAX) {
    free(cnt);
    return lc_error_set(err, LC_EINVAL, "local_global: the Laplacian has over 2^31 entries");
  }
  int32_t *tmp = malloc((size_t)(total > 0 ? total : 1) * sizeof *tmp), *pos = cnt;
  if (!tmp) goto oom;
  int32_t acc = 0;
  for (int32_t v = 0; v < nv; ++v) {
    const int32_t c = cnt[v];
    g->lrow[v] = acc;
    tmp[acc] = v;
    pos[v] = acc + 1;
    acc += c;
  }
  g->lrow[nv] = acc;
  for (int64_t e = 0; e < g->ne; ++e) {
    const int32_t *q = g->ev + 3 * e;
    for (int a = 0; a < 3; ++a)
      for (int b = 1; b < 3; ++b) tmp[pos[q[a]]++] = q[(a + b) % 3];
  }
  /* sort and deduplicate each row in place, then compact */
  int32_t w = 0;
  for (int32_t v = 0; v < nv; ++v) {
    const int32_t s = g->lrow[v], n = g->lrow[v + 1] - s;
    lg_sort(tmp + s, n);
    g->lrow[v] = w;
    for (int32_t k = 0; k < n; ++k)
      if (k == 0 || tmp[s + k] != tmp[s + k - 1]) tmp[w++] = tmp[s + k];
  }
  g->lrow[nv] = w;
  free(cnt);
  g->lcol = realloc(tmp, (size_t)(w > 0 ? w : 1) * sizeof *tmp);
  if (!g->lcol) g->lcol = tmp;
  g->lval = calloc((size_t)(w > 0 ? w : 1), sizeof *g->lval);
  return g->lval ? LC_OK : lc_error_set(err, LC_ENOMEM, "local_global: out of memory (Laplacian)");
oom:
  free(cnt);
  return lc_error_set(err, LC_ENOMEM, "local_global: out of memory (Laplacian pattern)");
}

/* Position of column c in row r of the Laplacian (present by construction). */
static int32_t lg_find(const lc_lg *g, int32_t r, int32_t c) {
  int32_t lo = g->lrow[r], hi = g->lrow[r + 1] - 1;
  while (lo < hi) {
    const int32_t mid = (lo + hi) / 2;
    if (g->lcol[mid] < c) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* Fills the Laplacian's values (serial, in table order). */
static void lg_values(lc_lg *g) {
  memset(g->lval, 0, (size_t)g->lrow[g->nv] * sizeof *g->lval);
  for (int64_t e = 0; e < g->ne; ++e) {
    const int32_t *q = g->ev + 3 * e;
    const double *ge = g->eg + 7 * e;
    const double gm[3][2] = {{ge[0], ge[1]}, {ge[2], ge[3]}, {ge[4], ge[5]}};
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) g->lval[lg_find(g, q[a], q[b])] += lc_lg_arap_lap(gm, a, b, ge[6]);
  }
  g->maxdiag = 0.0;
  for (int32_t v = 0; v < g->nv; ++v) g->maxdiag = fmax(g->maxdiag, g->lval[lg_find(g, v, v)]);
}

/* Triangles per energy partial of the local step (fixed: the energy's
 * summation order does not depend on the thread count). */
#define LG_CHUNK 1024

/* Fills the triangle table: vertices, G and w A of every arap triangle, each
 * term's in user order (stored position s holds user element perm[s]). */
static void lg_fill_triangles(lc_lg *g) {
  const lc_problem *p = g->p;
  int64_t base = 0;
  for (int i = 0; i < p->n_term_slots; ++i) {
    const lc_term *t = p->terms[i];
    if (!t) continue;
    for (int32_t e = 0; e < t->n_elem; ++e) {
      const int64_t u = base + (t->perm ? t->perm[e] : e);
      const double *k = t->consts + (int64_t)t->n_const * e;
      double gm[3][2];
      lc_lg_arap_G(k, gm);
      for (int a = 0; a < 3; ++a) {
        g->ev[3 * u + a] = t->ent[3 * (int64_t)e + a];
        g->eg[7 * u + 2 * a] = gm[a][0];
        g->eg[7 * u + 2 * a + 1] = gm[a][1];
      }
      g->eg[7 * u + 6] = t->weight * k[4];
    }
    base += t->n_elem;
  }
}

/* Fills the incidences: per vertex, its (triangle, corner) pairs in
 * ascending triangle order, each with w A G[corner]. */
static void lg_fill_incidences(lc_lg *g) {
  /* counts into iptr[v + 2], starts into iptr[v + 1], which the fill then
   * advances to the row's end, i.e. the next row's start */
  memset(g->iptr, 0, ((size_t)g->nv + 2) * sizeof *g->iptr);
  for (int64_t k = 0; k < 3 * g->ne; ++k) g->iptr[g->ev[k] + 2]++;
  for (int32_t v = 0; v < g->nv; ++v) g->iptr[v + 2] += g->iptr[v + 1];
  for (int64_t e = 0; e < g->ne; ++e)
    for (int a = 0; a < 3; ++a) {
      const int32_t k = g->iptr[g->ev[3 * e + a] + 1]++;
      const double wa = g->eg[7 * e + 6];
      g->ie[k] = (int32_t)e;
      g->ic[2 * (int64_t)k] = wa * g->eg[7 * e + 2 * a];
      g->ic[2 * (int64_t)k + 1] = wa * g->eg[7 * e + 2 * a + 1];
    }
}

/* Numbers the vertices breadth first over the triangles (vold, vnew), each
 * component from its lowest old vertex, so that neighbours get near numbers
 * whatever the mesh's own order: the local step's gathers then stay in
 * cache.  Uses the incidences, which must be current. */
static void lg_order(lc_lg *g) {
  int32_t head = 0, tail = 0;
  for (int32_t v = 0; v < g->nv; ++v) g->vnew[v] = -1;
  for (int32_t s = 0; s < g->nv; ++s) {
    if (g->vnew[s] >= 0) continue;
    g->vnew[s] = tail, g->vold[tail++] = s;
    while (head < tail) {
      const int32_t v = g->vold[head++];
      for (int32_t k = g->iptr[v]; k < g->iptr[v + 1]; ++k) {
        const int32_t *q = g->ev + 3 * (int64_t)g->ie[k];
        for (int a = 0; a < 3; ++a)
          if (g->vnew[q[a]] < 0) g->vnew[q[a]] = tail, g->vold[tail++] = q[a];
      }
    }
  }
}

/* Renumbers the triangles' vertices (old -> new) and sorts the triangles by
 * their smallest vertex (stable); tv and tg are scratch of ev's and eg's size. */
static void lg_renumber(lc_lg *g, int32_t *cnt, int32_t *tv, double *tg) {
  memset(cnt, 0, ((size_t)g->nv + 1) * sizeof *cnt);
  for (int64_t k = 0; k < 3 * g->ne; ++k) g->ev[k] = g->vnew[g->ev[k]];
  for (int64_t e = 0; e < g->ne; ++e) {
    const int32_t *q = g->ev + 3 * e;
    const int32_t m = q[0] < q[1] ? (q[0] < q[2] ? q[0] : q[2]) : (q[1] < q[2] ? q[1] : q[2]);
    cnt[m + 1]++;
  }
  for (int32_t v = 0; v < g->nv; ++v) cnt[v + 1] += cnt[v];
  for (int64_t e = 0; e < g->ne; ++e) {
    const int32_t *q = g->ev + 3 * e;
    const int32_t m = q[0] < q[1] ? (q[0] < q[2] ? q[0] : q[2]) : (q[1] < q[2] ? q[1] : q[2]);
    const int64_t to = cnt[m]++;
    memcpy(tv + 3 * to, q, 3 * sizeof *tv);
    memcpy(tg + 7 * to, g->eg + 7 * e, 7 * sizeof *tg);
  }
  memcpy(g->ev, tv, 3 * (size_t)g->ne * sizeof *tv);
  memcpy(g->eg, tg, 7 * (size_t)g->ne * sizeof *tg);
}

/* The fixed flags in the new numbering. */
static void lg_fixed(lc_lg *g) {
  const uint8_t *fx = g->p->fixed + g->off;
  for (int32_t v = 0; v < g->nv; ++v)
    memcpy(g->fx + (int64_t)v * g->dim, fx + (int64_t)g->vold[v] * g->dim, (size_t)g->dim);
}

/* Makes the local step's tables for the live terms (lg_drop frees them). */
static int lg_tables(lc_lg *g, lc_error *err) {
  const lc_problem *p = g->p;
  int64_t ne = 0;
  for (int i = 0; i < p->n_term_slots; ++i)
    if (p->terms[i]) ne += p->terms[i]->n_elem;
  if (3 * ne > INT32_MAX) return lc_error_set(err, LC_EINVAL, "local_global: over 2^31 triangle corners");
  const size_t n1 = (size_t)(ne > 0 ? ne : 1);
  g->ne = ne;
  g->ev = malloc(3 * n1 * sizeof *g->ev);
  g->eg = malloc(7 * n1 * sizeof *g->eg);
  g->er = malloc(6 * n1 * sizeof *g->er);
  g->iptr = malloc(((size_t)g->nv + 2) * sizeof *g->iptr);
  g->ie = malloc(3 * n1 * sizeof *g->ie);
  g->ic = malloc(6 * n1 * sizeof *g->ic);
  g->part = malloc((size_t)((ne + LG_CHUNK - 1) / LG_CHUNK + 1) * sizeof *g->part);
  const size_t nvd = (size_t)g->nv * (size_t)g->dim + 1;
  g->vold = malloc(((size_t)g->nv + 1) * sizeof *g->vold);
  g->vnew = malloc(((size_t)g->nv + 1) * sizeof *g->vnew);
  g->fx = malloc(nvd), g->xv = malloc(nvd * sizeof *g->xv);
  if (!g->ev || !g->eg || !g->er || !g->iptr || !g->ie || !g->ic || !g->part || !g->vold || !g->vnew || !g->fx ||
      !g->xv)
    return lc_error_set(err, LC_ENOMEM, "local_global: out of memory (%lld triangles)", (long long)ne);
  int32_t *tv = malloc(3 * n1 * sizeof *tv);
  double *tg = malloc(7 * n1 * sizeof *tg);
  if (!tv || !tg) {
    free(tv), free(tg);
    return lc_error_set(err, LC_ENOMEM, "local_global: out of memory (%lld triangles)", (long long)ne);
  }
  lg_fill_triangles(g);
  lg_fill_incidences(g);
  lg_order(g);
  lg_renumber(g, g->iptr, tv, tg);
  free(tv), free(tg);
  lg_fill_incidences(g);
  lg_fixed(g);
  return LC_OK;
}

/* Groups the components by fixed mask (fac[f].comp) and builds each map. */
static int lg_masks(lc_lg *g, lc_error *err) {
  const uint8_t *fx = g->fx;
  for (int d = 0; d < g->dim; ++d) {
    int f = 0;
    for (; f < g->nfac; ++f) {
      const int c = g->fac[f].comp[0];
      int32_t v = 0;
      while (v < g->nv && fx[(int64_t)v * g->dim + d] == fx[(int64_t)v * g->dim + c]) ++v;
      if (v == g->nv) break;
    }
    lg_fac *c = &g->fac[f];
    if (f == g->nfac) {
      ++g->nfac;
      c->map = malloc((size_t)g->nv * sizeof *c->map);
      if (!c->map) return lc_error_set(err, LC_ENOMEM, "local_global: out of memory");
      for (int32_t v = 0; v < g->nv; ++v) c->map[v] = fx[(int64_t)v * g->dim + d] ? -1 : c->nfree++;
    }
    c->comp[c->ncomp++] = d;
  }
  return LC_OK;
}

/* Restricts the Laplacian to fac c's free vertices and factorises it with
 * the proximal shift. */
static int lg_factor(lc_lg *g, lg_fac *c, lc_error *err) {
  if (c->nfree == 0) return LC_OK;
  c->rowptr = malloc(((size_t)c->nfree + 1) * sizeof *c->rowptr);
  c->col = malloc((size_t)g->lrow[g->nv] * sizeof *c->col);
  c->val = malloc((size_t)g->lrow[g->nv] * sizeof *c->val);
  c->rhs = malloc((size_t)c->nfree * (size_t)c->ncomp * sizeof *c->rhs);
  c->sol = malloc((size_t)c->nfree * (size_t)c->ncomp * sizeof *c->sol);
  if (!c->rowptr || !c->col || !c->val || !c->rhs || !c->sol)
    return lc_error_set(err, LC_ENOMEM, "local_global: out of memory (factor of %d vertices)", (int)c->nfree);
  int32_t w = 0;
  for (int32_t v = 0; v < g->nv; ++v) {
    if (c->map[v] < 0) continue;
    c->rowptr[c->map[v]] = w;
    for (int32_t k = g->lrow[v]; k < g->lrow[v + 1]; ++k)
      if (c->map[g->lcol[k]] >= 0) c->col[w] = c->map[g->lcol[k]], c->val[w++] = g->lval[k];
  }
  c->rowptr[c->nfree] = w;
  const lc_csr A = {c->nfree, c->nfree, w, c->rowptr, c->col, c->val, 0};
  lc_lin_opts lo;
  lc_lin_stats st;
  memset(&lo, 0, sizeof lo);
  lo.reg = 1e-8 * (g->maxdiag > 0.0 ? g->maxdiag : 1.0);
  lo.simplicial = 1; /* 3-column backsolves: simplicial LDL is ~1.8x faster than supernodal on 2 cores (grid_224 frame 48 vs 89 ms) */
  int rc = lc_linsolve_create(LC_LIN_CHOLMOD, c->nfree, &c->ls, err);
  if (!rc) rc = lc_linsolve_factor(c->ls, &A, &lo, &st, err);
  c->shift = st.reg_used;
  return rc;
}

/* Makes the Laplacian and the factors current for variable var; sets
 * *factored when they were rebuilt. */
static int lg_setup(lc_lg *g, int var, int *factored, lc_error *err) {
  lc_problem *p = g->p;
  const uint64_t key = lg_key(g, var);
  *factored = 0;
  if (g->valid && key == g->key) return LC_OK;
  lg_drop(g);
  g->var = var;
  g->dim = p->vars[var].dim;
  g->nv = p->vars[var].n;
  g->off = p->vars[var].off;
  int rc = lg_tables(g, err);
  if (!rc) rc = lg_pattern(g, err);
  if (!rc) {
    lg_values(g);
    g->b = malloc((size_t)g->nv * (size_t)g->dim * sizeof *g->b);
    if (!g->b) rc = lc_error_set(err, LC_ENOMEM, "local_global: out of memory");
  }
  if (!rc) rc = lg_masks(g, err);
  for (int f = 0; !rc && f < g->nfac; ++f) rc = lg_factor(g, &g->fac[f], err);
  if (rc) {
    lg_drop(g);
    return rc;
  }
  g->key = key;
  g->valid = 1;
  *factored = 1;
  return LC_OK;
}

/* Copies the problem's x (sized for its DOFs) and the variable's values, in
 * the new numbering, into the iterate (after lg_setup). */
static int lg_work(lc_lg *g, lc_error *err) {
  const lc_problem *p = g->p;
  if (!g->x || g->x_len != p->n_dofs) { /* a new variable changed n_dofs */
    free(g->x);
    g->x = malloc((size_t)(p->n_dofs > 0 ? p->n_dofs : 1) * sizeof *g->x);
    g->x_len = g->x ? p->n_dofs : 0;
    if (!g->x) return lc_error_set(err, LC_ENOMEM, "local_global: out of memory");
  }
  memcpy(g->x, p->x, (size_t)p->n_dofs * sizeof *g->x);
  for (int32_t v = 0; v < g->nv; ++v)
    memcpy(g->xv + (int64_t)v * g->dim, g->x + g->off + (int64_t)g->vold[v] * g->dim, (size_t)g->dim * sizeof *g->xv);
  return LC_OK;
}

/* Writes the iterate back into x in the problem's numbering. */
static void lg_unpermute(lc_lg *g) {
  for (int32_t v = 0; v < g->nv; ++v)
    memcpy(g->x + g->off + (int64_t)g->vold[v] * g->dim, g->xv + (int64_t)v * g->dim, (size_t)g->dim * sizeof *g->xv);
}

/* Sizes the Anderson buffers for m differences of len values (m = 0: none). */
static int lg_aa_work(lc_lg *g, int m, int64_t len, lc_error *err) {
  g->aa_n = g->aa_head = 0;
  if (m == g->aa_m && len == g->aa_len && g->xk) return LC_OK;
  free(g->aa_dg), free(g->aa_df), free(g->xk), free(g->gxp), free(g->fp), free(g->fk);
  g->aa_dg = g->aa_df = g->xk = g->gxp = g->fp = g->fk = NULL;
  g->aa_m = 0, g->aa_len = 0;
  const size_t n = (size_t)len;
  g->xk = malloc(n * sizeof *g->xk); /* the iterate is kept with or without acceleration */
  if (!g->xk) return lc_error_set(err, LC_ENOMEM, "local_global: out of memory");
  if (m > 0) {
    g->aa_dg = malloc((size_t)m * n * sizeof *g->aa_dg);
    g->aa_df = malloc((size_t)m * n * sizeof *g->aa_df);
    g->gxp = malloc(n * sizeof *g->gxp), g->fp = malloc(n * sizeof *g->fp), g->fk = malloc(n * sizeof *g->fk);
    if (!g->aa_dg || !g->aa_df || !g->gxp || !g->fp || !g->fk)
      return lc_error_set(err, LC_ENOMEM, "local_global: out of memory (anderson %d)", m);
  }
  g->aa_m = m, g->aa_len = len;
  return LC_OK;
}

/* ---- the iteration ---------------------------------------------------------- */

/* Local step of triangle e: fits R (into er), returns its energy. */
static double lg_fit(lc_lg *g, int64_t e) {
  const int D = g->dim;
  const int32_t *q = g->ev + 3 * e;
  const double *ge = g->eg + 7 * e;
  double xe[3][3] = {{0}}, gm[3][2], f[3][2], r[3][2] = {{0}};
  for (int a = 0; a < 3; ++a) {
    for (int d = 0; d < D; ++d) xe[a][d] = g->xv[(int64_t)q[a] * D + d];
    gm[a][0] = ge[2 * a], gm[a][1] = ge[2 * a + 1];
  }
  /* const views: C11 does not convert double (*)[n] to const double (*)[n] */
  lc_lg_arap_F(D, (const double(*)[3])xe, (const double(*)[2])gm, f);
  const double tt = lc_lg_arap_fit(D, (const double(*)[2])f, r);
  memcpy(g->er + 6 * e, r, sizeof r);
  return lc_lg_arap_energy(D, (const double(*)[2])f, tt, ge[6]);
}

/* Right-hand side of vertex v: the sum of its triangles' w A R G[a]. */
static void lg_gather(lc_lg *g, int32_t v) {
  const int D = g->dim;
  double bv[3] = {0.0, 0.0, 0.0};
  for (int32_t k = g->iptr[v]; k < g->iptr[v + 1]; ++k)
    lc_lg_arap_rhs_add(D, (const double(*)[2])(g->er + 6 * (int64_t)g->ie[k]), g->ic + 2 * (int64_t)k, bv);
  for (int d = 0; d < D; ++d) g->b[(int64_t)v * D + d] = bv[d];
}

/* The local step at g->xv: b, and the energy (chunk partials summed in order). */
static double lg_local(lc_lg *g, int nt) {
  const int64_t nch = (g->ne + LG_CHUNK - 1) / LG_CHUNK;
#pragma omp parallel num_threads(nt)
  {
#pragma omp for schedule(static)
    for (int64_t ch = 0; ch < nch; ++ch) {
      const int64_t e1 = (ch + 1) * LG_CHUNK < g->ne ? (ch + 1) * LG_CHUNK : g->ne;
      double s = 0.0;
      for (int64_t e = ch * LG_CHUNK; e < e1; ++e) s += lg_fit(g, e);
      g->part[ch] = s;
    }
#pragma omp for schedule(static)
    for (int32_t v = 0; v < g->nv; ++v) lg_gather(g, v);
  }
  double E = 0.0;
  for (int64_t k = 0; k < nch; ++k) E += g->part[k];
  return E;
}

/* |g|_inf over the free DOFs, g = 2 (L x - b) per component. */
static double lg_gnorm(const lc_lg *g, int nt) {
  const int D = g->dim;
  const uint8_t *fx = g->fx;
  const double *x = g->xv;
  double m = 0.0;
#pragma omp parallel for schedule(static) num_threads(nt) reduction(max : m)
  for (int32_t v = 0; v < g->nv; ++v)
    for (int d = 0; d < D; ++d) {
      if (fx[(int64_t)v * D + d]) continue;
      double s = -g->b[(int64_t)v * D + d];
      for (int32_t k = g->lrow[v]; k < g->lrow[v + 1]; ++k) s += g->lval[k] * x[(int64_t)g->lcol[k] * D + d];
      m = fmax(m, fabs(2.0 * s));
    }
  return m;
}

/* Right-hand side of fac c: b - L_free,fixed x_fixed + shift x, per component. */
static void lg_rhs(const lc_lg *g, const lg_fac *c, int nt) {
  const int D = g->dim;
  const double *x = g->xv;
#pragma omp parallel for schedule(static) num_threads(nt)
  for (int32_t v = 0; v < g->nv; ++v) {
    const int32_t i = c->map[v];
    if (i < 0) continue;
    for (int j = 0; j < c->ncomp; ++j) {
      const int d = c->comp[j];
      double s = g->b[(int64_t)v * D + d] + c->shift * x[(int64_t)v * D + d];
      for (int32_t k = g->lrow[v]; k < g->lrow[v + 1]; ++k)
        if (c->map[g->lcol[k]] < 0) s -= g->lval[k] * x[(int64_t)g->lcol[k] * D + d];
      c->rhs[(int64_t)j * c->nfree + i] = s;
    }
  }
}

/* The global step: x of the free vertices from every factor. */
static int lg_global(lc_lg *g, int nt, lc_error *err) {
  const int D = g->dim;
  for (int f = 0; f < g->nfac; ++f) {
    lg_fac *c = &g->fac[f];
    if (!c->nfree) continue;
    lg_rhs(g, c, nt);
    const int rc = lc_linsolve_backsolve(c->ls, c->rhs, c->ncomp, c->sol, err);
    if (rc) return rc;
    double *x = g->xv;
    for (int32_t v = 0; v < g->nv; ++v) {
      const int32_t i = c->map[v];
      if (i >= 0)
        for (int j = 0; j < c->ncomp; ++j) x[(int64_t)v * D + c->comp[j]] = c->sol[(int64_t)j * c->nfree + i];
    }
  }
  return LC_OK;
}

/* The stop reason at iterate k (energy E after E_prev), or LC_STOP_NONE. */
static lc_stop_reason lg_stop(const lc_solve_opts *o, int k, double E, double E_prev, double gn, double t0) {
  if (gn <= o->gtol) return LC_STOP_GRAD;
  if (k > 0 && o->ftol > 0.0 && fabs(E_prev - E) <= o->ftol * fmax(fabs(E_prev), 1e-300)) return LC_STOP_FTOL;
  if (o->cancel && *o->cancel) return LC_STOP_CANCELLED;
  if (k >= o->max_iters) return LC_STOP_MAX_ITERS;
  if (k > 0 && o->time_budget > 0.0 && lc_time_now() - t0 >= o->time_budget) return LC_STOP_TIME;
  return LC_STOP_NONE;
}

/* Deterministic a . b over n values. */
static double lg_dot(const double *a, const double *b, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

/* Records G(x) (in gx) and f = G(x) - x_k: pushes their differences from
 * the previous ones into the ring, then keeps them as the previous ones. */
static void lg_aa_push(lc_lg *g, const double *gx) {
  const int64_t n = g->aa_len;
  for (int64_t i = 0; i < n; ++i) g->fk[i] = gx[i] - g->xk[i];
  if (g->have_prev) {
    double *dg = g->aa_dg + (int64_t)g->aa_head * n, *df = g->aa_df + (int64_t)g->aa_head * n;
    for (int64_t i = 0; i < n; ++i) dg[i] = gx[i] - g->gxp[i], df[i] = g->fk[i] - g->fp[i];
    g->aa_head = (g->aa_head + 1) % g->aa_m;
    if (g->aa_n < g->aa_m) ++g->aa_n;
  }
  memcpy(g->gxp, gx, (size_t)n * sizeof *gx);
  memcpy(g->fp, g->fk, (size_t)n * sizeof *gx);
  g->have_prev = 1;
}

/* Solves the m x m system a theta = r (a SPD, row-major) by Cholesky in
 * place; returns 0, or -1 when a is not positive definite. */
static int lg_small_chol(double *a, double *r, int m) {
  for (int j = 0; j < m; ++j) {
    double d = a[j * m + j];
    for (int k = 0; k < j; ++k) d -= a[j * m + k] * a[j * m + k];
    if (!(d > 0.0)) return -1;
    a[j * m + j] = sqrt(d);
    for (int i = j + 1; i < m; ++i) {
      double v = a[i * m + j];
      for (int k = 0; k < j; ++k) v -= a[i * m + k] * a[j * m + k];
      a[i * m + j] = v / a[j * m + j];
    }
  }
  for (int i = 0; i < m; ++i) { /* L y = r, then L^T theta = y */
    for (int k = 0; k < i; ++k) r[i] -= a[i * m + k] * r[k];
    r[i] /= a[i * m + i];
  }
  for (int i = m - 1; i >= 0; --i) {
    for (int k = i + 1; k < m; ++k) r[i] -= a[k * m + i] * r[k];
    r[i] /= a[i * m + i];
  }
  return 0;
}

/* The Anderson point x = G(x_k) - sum theta_j dG_j, theta minimising
 * |f_k - sum theta_j dF_j| (normal equations with a tiny ridge), written
 * over gx; returns 0, or -1 when the least-squares system is singular. */
static int lg_aa_point(lc_lg *g, double *gx) {
  const int m = g->aa_n;
  const int64_t n = g->aa_len;
  double a[LC_LG_MAX_ANDERSON * LC_LG_MAX_ANDERSON], th[LC_LG_MAX_ANDERSON], tr = 0.0;
  for (int i = 0; i < m; ++i) {
    const double *fi = g->aa_df + (int64_t)i * n;
    for (int j = 0; j <= i; ++j) {
      const double v = lg_dot(fi, g->aa_df + (int64_t)j * n, n);
      a[i * m + j] = v; /* two statements: for j == i one store (C11 leaves a = a = v unsequenced) */
      a[j * m + i] = v;
    }
    th[i] = lg_dot(fi, g->fk, n);
    tr += a[i * m + i];
  }
  for (int i = 0; i < m; ++i) a[i * m + i] += 1e-12 * tr;
  if (!(tr > 0.0) || lg_small_chol(a, th, m)) return -1;
  for (int j = 0; j < m; ++j) {
    const double *dg = g->aa_dg + (int64_t)j * n;
    for (int64_t i = 0; i < n; ++i) gx[i] -= th[j] * dg[i];
  }
  return 0;
}

/* One iteration from the accepted iterate (its local step done: *E, b):
 * the global step G(x), then, with acceleration, the Anderson point when its
 * energy is lower, else G(x) (the history restarts); the local step of the
 * new iterate sets *E and b. */
static int lg_step(lc_lg *g, int nt, double *E, lc_iter_stats *it, lc_error *err) {
  double *x = g->xv;
  const int64_t n = (int64_t)g->nv * g->dim;
  memcpy(g->xk, x, (size_t)n * sizeof *x);
  double tl = lc_time_now();
  int rc = lg_global(g, nt, err); /* x = G(x_k) */
  it->t_linear = lc_time_now() - tl;
  if (rc) return rc;
  tl = lc_time_now();
  if (g->aa_m > 0) {
    lg_aa_push(g, x);
    if (g->aa_n > 0 && !lg_aa_point(g, x)) {
      const double Ea = lg_local(g, nt);
      ++g->accel_used;
      if (Ea < *E) {
        *E = Ea;
        it->t_deriv = lc_time_now() - tl;
        return LC_OK;
      }
      ++g->accel_rejected;
      memcpy(x, g->gxp, (size_t)n * sizeof *x); /* back to G(x_k) */
      g->aa_n = g->aa_head = 0;
    }
  }
  *E = lg_local(g, nt);
  it->t_deriv = lc_time_now() - tl;
  return LC_OK;
}

/* Iterates from g->xv until a stop rule holds; fills r. */
static int lg_iterate(lc_lg *g, const lc_solve_opts *o, lc_solve_result *r, double t0, lc_error *err) {
  const int nt = lc_threads_share(g->p->threads);
  double tl = lc_time_now();
  double E = lg_local(g, nt), gn = lg_gnorm(g, nt), E_prev = E;
  r->t_deriv += lc_time_now() - tl;
  if (!isfinite(E)) r->reason = LC_STOP_INFEASIBLE;
  for (int k = 0; !r->reason; ++k) {
    r->reason = lg_stop(o, k, E, E_prev, gn, t0);
    if (r->reason) break;
    lc_iter_stats it = {.iter = k + 1, .gnorm = gn, .step = 1.0};
    E_prev = E;
    const int rc = lg_step(g, nt, &E, &it, err);
    if (rc) return rc;
    tl = lc_time_now();
    gn = lg_gnorm(g, nt);
    it.t_deriv += lc_time_now() - tl;
    it.energy = E;
    it.decrement = E_prev - E;
    r->iters = k + 1;
    r->t_deriv += it.t_deriv;
    r->t_linear += it.t_linear;
    if (o->progress && o->progress(o->user, &it)) r->reason = LC_STOP_CANCELLED;
  }
  r->energy = E;
  r->gnorm = gn;
  return LC_OK;
}

/* Runs local-global iterations from the problem's state. */
int lc_lg_solve(lc_lg *g, const lc_solve_opts *o, lc_solve_result *r, lc_error *err) {
  const double t0 = lc_time_now();
  lc_solve_result local;
  if (!r) r = &local;
  memset(r, 0, sizeof *r);
  int var, factored = 0;
  int rc = lg_check(g->p, o, &var, err);
  if (!rc && g->p->vars[var].dim != 2 && g->p->vars[var].dim != 3)
    rc = lc_error_set(err, LC_EINVAL, "solve: local_global needs a variable of dimension 2 or 3 ('%s' has %d)",
                      g->p->vars[var].name, g->p->vars[var].dim);
  if (!rc && (o->anderson_m < 0 || o->anderson_m > LC_LG_MAX_ANDERSON))
    rc = lc_error_set(err, LC_EINVAL, "solve: anderson must lie in [0, %d] (got %d)", LC_LG_MAX_ANDERSON,
                      o->anderson_m);
  if (!rc) {
    const double ts = lc_time_now();
    rc = lg_setup(g, var, &factored, err);
    r->t_linear += lc_time_now() - ts;
    r->factorizations = factored ? g->nfac : 0;
  }
  if (!rc) rc = lg_work(g, err);
  if (!rc) rc = lg_aa_work(g, o->anderson_m, (int64_t)g->nv * g->dim, err);
  g->have_prev = 0;
  if (!rc) rc = lg_iterate(g, o, r, t0, err);
  if (!rc) {
    lg_unpermute(g);
    lc_problem_set_x(g->p, g->x, NULL);
  }
  r->t_total = lc_time_now() - t0;
  return rc;
}
