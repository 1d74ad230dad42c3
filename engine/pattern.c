/* pattern.c - element colouring and the sparsity patterns of the Hessian and
 * of the residual Jacobian.
 *
 * Patterns are built on the host once per change of terms or variables and
 * are plain arrays (CSR plus per-element slot offsets) that a backend can
 * keep resident.  The Hessian is stored full (both triangles) with D x D
 * blocks per coupled entity pair; the rows of one entity share their column
 * structure, so an element needs only K x K block offsets: the entry for
 * local variables (i, a) and (j, b) lives at
 *   rowptr[off + ent_i * D + a] + slots[i * K + j] + b.
 * No row search happens during assembly. */
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include "eval/el_common.h"
#include "problem_impl.h"

/* Generations of Hessian patterns, process-wide (lc_csr.gen). */
static atomic_uint_fast64_t hess_gens;

/* Drops both patterns (terms or variables changed). */
void lc_pattern_invalidate(lc_problem *p) {
  free(p->rowptr);
  free(p->col);
  free(p->diag);
  free(p->hval);
  free(p->jrowptr);
  free(p->jcol);
  free(p->jval);
  p->rowptr = p->col = p->diag = p->jrowptr = p->jcol = NULL;
  p->hval = p->jval = NULL;
  p->hess_valid = p->jac_valid = 0;
  p->gen_pattern++;
  p->hess_gen = 0;
  p->nnz = p->jnnz = p->n_res = 0;
  for (int i = 0; i < p->n_term_slots; ++i)
    if (p->terms[i]) {
      free(p->terms[i]->slots);
      p->terms[i]->slots = NULL;
    }
}

/* ---- colouring ---------------------------------------------------------- */

/* Greedy colouring in passes of 64 colours; returns the colour of each
 * element in color[] (LC_MAX_COLORS for elements left to the serial colour). */
static int greedy_colors(const lc_term *t, int32_t n_ent, int16_t *color) {
  uint64_t *mask = malloc((size_t)n_ent * sizeof *mask + 1);
  if (!mask) return LC_ENOMEM;
  for (int32_t e = 0; e < t->n_elem; ++e) color[e] = -1;
  for (int pass = 0; pass < LC_MAX_COLORS / 64; ++pass) {
    memset(mask, 0, (size_t)n_ent * sizeof *mask);
    for (int32_t e = 0; e < t->n_elem; ++e) {
      if (color[e] >= 0) continue;
      const int32_t *en = t->ent + (int64_t)e * t->K;
      uint64_t used = 0;
      for (int a = 0; a < t->K; ++a) used |= mask[en[a]];
      if (used == ~(uint64_t)0) continue;
      const int c = __builtin_ctzll(~used);
      color[e] = (int16_t)(pass * 64 + c);
      for (int a = 0; a < t->K; ++a) mask[en[a]] |= (uint64_t)1 << c;
    }
  }
  for (int32_t e = 0; e < t->n_elem; ++e)
    if (color[e] < 0) color[e] = LC_MAX_COLORS;
  free(mask);
  return LC_OK;
}

/* Applies the permutation perm (stored -> user) to an n x w int32 array. */
static int permute_i32(int32_t **a, const int32_t *perm, int32_t n, int w) {
  int32_t *b = malloc((size_t)n * w * sizeof *b + 1);
  if (!b) return LC_ENOMEM;
  for (int32_t s = 0; s < n; ++s) memcpy(b + (int64_t)s * w, *a + (int64_t)perm[s] * w, (size_t)w * sizeof *b);
  free(*a);
  *a = b;
  return LC_OK;
}

/* Applies the permutation perm (stored -> user) to an n x w double array. */
static int permute_f64(double **a, const int32_t *perm, int32_t n, int w) {
  double *b = malloc((size_t)n * w * sizeof *b + 1);
  if (!b) return LC_ENOMEM;
  for (int32_t s = 0; s < n; ++s) memcpy(b + (int64_t)s * w, *a + (int64_t)perm[s] * w, (size_t)w * sizeof *b);
  free(*a);
  *a = b;
  return LC_OK;
}

/* Stable counting sort of elements by colour: perm, color_ptr, n_colors. */
static int sort_by_color(lc_term *t, const int16_t *color) {
  int32_t count[LC_MAX_COLORS + 2] = {0};
  for (int32_t e = 0; e < t->n_elem; ++e) count[color[e] + 1]++;
  int nc = 0;
  for (int c = 0; c <= LC_MAX_COLORS; ++c) nc += count[c + 1] > 0;
  t->perm = malloc((size_t)t->n_elem * sizeof *t->perm + 1);
  t->color_ptr = malloc((size_t)(nc + 1) * sizeof *t->color_ptr);
  if (!t->perm || !t->color_ptr) return LC_ENOMEM;
  t->n_colors = 0;
  t->serial_color = -1;
  t->color_ptr[0] = 0;
  for (int c = 0; c <= LC_MAX_COLORS; ++c) {
    if (!count[c + 1]) continue;
    if (c == LC_MAX_COLORS) t->serial_color = t->n_colors;
    t->color_ptr[t->n_colors + 1] = t->color_ptr[t->n_colors] + count[c + 1];
    t->n_colors++;
  }
  for (int c = 0; c <= LC_MAX_COLORS; ++c) count[c + 1] += count[c];
  for (int32_t e = 0; e < t->n_elem; ++e) t->perm[count[color[e]]++] = e;
  return LC_OK;
}

/* Cuts each colour into chunks of at most LC_CHUNK elements (the serial
 * colour is a single chunk). */
static int make_chunks(lc_term *t) {
  int32_t n = 0;
  for (int c = 0; c < t->n_colors; ++c) {
    const int32_t len = t->color_ptr[c + 1] - t->color_ptr[c];
    n += c == t->serial_color ? 1 : (len + LC_CHUNK - 1) / LC_CHUNK;
  }
  t->chunk_ptr = malloc((size_t)(n + 1) * sizeof *t->chunk_ptr);
  t->color_chunk = malloc((size_t)(t->n_colors + 1) * sizeof *t->color_chunk);
  if (!t->chunk_ptr || !t->color_chunk) return LC_ENOMEM;
  int32_t k = 0;
  for (int c = 0; c < t->n_colors; ++c) {
    t->color_chunk[c] = k;
    const int32_t lo = t->color_ptr[c], hi = t->color_ptr[c + 1];
    const int32_t step = c == t->serial_color ? hi - lo : LC_CHUNK;
    for (int32_t s = lo; s < hi; s += step) t->chunk_ptr[k++] = s;
  }
  t->color_chunk[t->n_colors] = k;
  t->chunk_ptr[k] = t->n_elem;
  t->n_chunks = k;
  return LC_OK;
}

/* Colours the elements of t and stores them in colour order. */
int lc_term_color(lc_term *t, int32_t n_entities, lc_error *err) {
  int16_t *color = malloc((size_t)t->n_elem * sizeof *color + 1);
  int rc = color ? greedy_colors(t, n_entities, color) : LC_ENOMEM;
  if (rc == LC_OK) rc = sort_by_color(t, color);
  if (rc == LC_OK) rc = permute_i32(&t->ent, t->perm, t->n_elem, t->K);
  if (rc == LC_OK && t->n_const) rc = permute_f64(&t->consts, t->perm, t->n_elem, t->n_const);
  if (rc == LC_OK) rc = make_chunks(t);
  free(color);
  return rc ? lc_error_set(err, rc, "colouring the elements failed: %s", lc_strerror(rc)) : LC_OK;
}

/* ---- Hessian pattern ---------------------------------------------------- */

/* Entity adjacency of one variable: sorted unique neighbours (self included). */
typedef struct adjacency {
  int32_t *ptr; /* n + 1 */
  int32_t *idx;
} adjacency;

/* Sorts a short array in place (rows have a few dozen entries). */
static void isort(int32_t *a, int32_t n) {
  for (int32_t i = 1; i < n; ++i) {
    int32_t v = a[i], j = i;
    for (; j > 0 && a[j - 1] > v; --j) a[j] = a[j - 1];
    a[j] = v;
  }
}

/* Counts into cnt[entity + 1] the couplings of n tuples ent (n x K). */
static void count_tuples(int32_t *cnt, const int32_t *ent, int64_t n, int K) {
  for (int64_t i = 0; i < n * K; ++i) cnt[ent[i] + 1] += K - 1;
}

/* Writes the couplings of n tuples ent (n x K) at fill[entity] into idx. */
static void fill_tuples(int32_t *idx, int32_t *fill, const int32_t *ent, int64_t n, int K) {
  for (int64_t e = 0; e < n; ++e) {
    const int32_t *en = ent + e * K;
    for (int i = 0; i < K; ++i)
      for (int j = 0; j < K; ++j)
        if (i != j) idx[fill[en[i]]++] = en[j];
  }
}

/* Builds the adjacency of variable var from all terms on it and the
 * pattern reserve (lc_problem_reserve_pattern). */
static int build_adjacency(const lc_problem *p, int var, adjacency *adj) {
  const int32_t n = p->vars[var].n;
  const int rsv = p->rsv_var == var && p->rsv_ent;
  int32_t *cnt = calloc((size_t)n + 1, sizeof *cnt);
  if (!cnt) return LC_ENOMEM;
  for (int32_t a = 0; a < n; ++a) cnt[a + 1] = 1;
  for (int ti = 0; ti < p->n_term_slots; ++ti) {
    const lc_term *t = p->terms[ti];
    if (t && t->var == var) count_tuples(cnt, t->ent, t->n_elem, t->K);
  }
  if (rsv) count_tuples(cnt, p->rsv_ent, p->n_rsv, p->rsv_K);
  for (int32_t a = 0; a < n; ++a) cnt[a + 1] += cnt[a];
  int32_t *idx = malloc((size_t)cnt[n] * sizeof *idx + 1), *fill = malloc((size_t)n * sizeof *fill + 1);
  if (!idx || !fill) { free(idx); free(fill); free(cnt); return LC_ENOMEM; }
  for (int32_t a = 0; a < n; ++a) { idx[cnt[a]] = a; fill[a] = cnt[a] + 1; }
  for (int ti = 0; ti < p->n_term_slots; ++ti) {
    const lc_term *t = p->terms[ti];
    if (t && t->var == var) fill_tuples(idx, fill, t->ent, t->n_elem, t->K);
  }
  if (rsv) fill_tuples(idx, fill, p->rsv_ent, p->n_rsv, p->rsv_K);
  /* sort and compact each row */
  int32_t w = 0;
  for (int32_t a = 0; a < n; ++a) {
    const int32_t b = cnt[a], len = cnt[a + 1] - b;
    isort(idx + b, len);
    cnt[a] = w;
    for (int32_t k = 0; k < len; ++k)
      if (k == 0 || idx[b + k] != idx[b + k - 1]) idx[w++] = idx[b + k];
  }
  cnt[n] = w;
  free(fill);
  adj->ptr = cnt;
  adj->idx = idx;
  return LC_OK;
}

/* Position of value v in the sorted array a[0..n). */
static int32_t find_sorted(const int32_t *a, int32_t n, int32_t v) {
  int32_t lo = 0, hi = n - 1;
  while (lo < hi) {
    int32_t mid = (lo + hi) / 2;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* Fills the DOF rows of variable var from its adjacency; *pos is the next free entry. */
static void fill_rows(lc_problem *p, int var, const adjacency *adj, int64_t *pos) {
  const lc_variable *v = &p->vars[var];
  const int D = v->dim;
  for (int32_t a = 0; a < v->n; ++a)
    for (int c = 0; c < D; ++c) {
      const int64_t row = v->off + (int64_t)a * D + c;
      p->rowptr[row] = (int32_t)*pos;
      for (int32_t k = adj->ptr[a]; k < adj->ptr[a + 1]; ++k) {
        const int32_t b = adj->idx[k];
        if (b == a) p->diag[row] = (int32_t)(*pos + c);
        for (int d = 0; d < D; ++d) p->col[(*pos)++] = (int32_t)(v->off + (int64_t)b * D + d);
      }
    }
}

/* Computes each term's block offsets on variable var. */
static int fill_slots(lc_problem *p, int var, const adjacency *adj) {
  const int D = p->vars[var].dim;
  for (int ti = 0; ti < p->n_term_slots; ++ti) {
    lc_term *t = p->terms[ti];
    if (!t || t->var != var) continue;
    const int KK = t->K * t->K;
    t->slots = malloc((size_t)t->n_elem * KK * sizeof *t->slots + 1);
    if (!t->slots) return LC_ENOMEM;
    for (int32_t e = 0; e < t->n_elem; ++e) {
      const int32_t *en = t->ent + (int64_t)e * t->K;
      for (int i = 0; i < t->K; ++i) {
        const int32_t *row = adj->idx + adj->ptr[en[i]];
        const int32_t len = adj->ptr[en[i] + 1] - adj->ptr[en[i]];
        for (int j = 0; j < t->K; ++j)
          t->slots[(int64_t)e * KK + i * t->K + j] = find_sorted(row, len, en[j]) * D;
      }
    }
  }
  return LC_OK;
}

/* The block offset (entity position x D) of entity b in the Hessian row of
 * entity a of variable v, or -1 when the pattern has no such block. */
static int32_t find_block(const lc_problem *p, const lc_variable *v, int32_t a, int32_t b) {
  const int D = v->dim;
  const int64_t row = v->off + (int64_t)a * D;
  const int32_t lo = p->rowptr[row], n = (p->rowptr[row + 1] - lo) / D;
  const int32_t want = (int32_t)(v->off + (int64_t)b * D);
  int32_t l = 0, h = n - 1;
  while (l <= h) {
    const int32_t mid = l + (h - l) / 2, c = p->col[lo + (int64_t)mid * D];
    if (c == want) return mid * D;
    if (c < want) l = mid + 1;
    else h = mid - 1;
  }
  return -1;
}

/* Fills t's slots from the current pattern when it holds every coupling. */
int lc_pattern_term_slots(const lc_problem *p, lc_term *t) {
  const lc_variable *v = &p->vars[t->var];
  const int KK = t->K * t->K;
  free(t->slots);
  t->slots = malloc((size_t)t->n_elem * KK * sizeof *t->slots + 1);
  if (!t->slots) return LC_ENOMEM;
  for (int32_t e = 0; e < t->n_elem; ++e) {
    const int32_t *en = t->ent + (int64_t)e * t->K;
    for (int i = 0; i < t->K; ++i)
      for (int j = 0; j < t->K; ++j) {
        const int32_t s = find_block(p, v, en[i], en[j]);
        if (s < 0) {
          free(t->slots);
          t->slots = NULL;
          return LC_ENOTFOUND;
        }
        t->slots[(int64_t)e * KK + i * t->K + j] = s;
      }
  }
  return LC_OK;
}

/* Number of Hessian entries of variable var given its adjacency. */
static int64_t count_entries(const lc_problem *p, int var, const adjacency *adj) {
  const int64_t D = p->vars[var].dim;
  return (int64_t)adj->ptr[p->vars[var].n] * D * D;
}

/* Builds the pattern of one variable, appending at *pos. */
static int build_var_pattern(lc_problem *p, int var, int64_t *pos, lc_error *err) {
  adjacency adj = {NULL, NULL};
  int rc = build_adjacency(p, var, &adj);
  if (rc) return lc_error_set(err, rc, "building the Hessian pattern: out of memory");
  const int64_t need = *pos + count_entries(p, var, &adj);
  if (need >= INT32_MAX) {
    rc = lc_error_set(err, LC_ERANGE, "Hessian would have %lld entries (limit 2^31)", (long long)need);
    goto done;
  }
  int32_t *col = realloc(p->col, (size_t)need * sizeof *col + 1);
  if (!col) { rc = lc_error_set(err, LC_ENOMEM, "Hessian pattern: out of memory"); goto done; }
  p->col = col;
  fill_rows(p, var, &adj, pos);
  if ((rc = fill_slots(p, var, &adj))) lc_error_set(err, rc, "Hessian slots: out of memory");
done:
  free(adj.ptr);
  free(adj.idx);
  return rc;
}

/* Builds the Hessian pattern of all terms and each term's slots. */
int lc_pattern_build_hessian(lc_problem *p, lc_error *err) {
  if (p->hess_valid) return LC_OK;
  lc_pattern_invalidate(p);
  int rc = LC_OK;
  p->rowptr = malloc((size_t)(p->n_dofs + 1) * sizeof *p->rowptr);
  p->diag = malloc((size_t)p->n_dofs * sizeof *p->diag + 1);
  if (!p->rowptr || !p->diag) return lc_error_set(err, LC_ENOMEM, "Hessian pattern: out of memory");
  int64_t pos = 0;
  for (int v = 0; v < p->n_vars && rc == LC_OK; ++v) rc = build_var_pattern(p, v, &pos, err);
  if (rc == LC_OK) {
    p->rowptr[p->n_dofs] = (int32_t)pos;
    p->nnz = pos;
    p->hval = malloc((size_t)pos * sizeof *p->hval + 1);
    if (!p->hval) rc = lc_error_set(err, LC_ENOMEM, "Hessian values: out of memory");
  }
  if (rc) {
    lc_pattern_invalidate(p);
    return rc;
  }
  p->hess_valid = 1;
  p->gen_pattern++;
  p->hess_gen = atomic_fetch_add(&hess_gens, 1) + 1;
  return LC_OK;
}

/* ---- Jacobian pattern --------------------------------------------------- */

/* Writes the column indices of term t's residual rows. */
static void fill_jacobian_cols(lc_problem *p, const lc_term *t) {
  const int64_t off = p->vars[t->var].off;
  for (int32_t s = 0; s < t->n_elem; ++s) {
    const int32_t *en = t->ent + (int64_t)s * t->K;
    int ord[LC_ENERGY_MAX_K];
    lc_el_entity_order(en, t->K, ord);
    for (int i = 0; i < t->n_resid; ++i) {
      int32_t *col = p->jcol + p->jrowptr[t->res_row0 + (int64_t)t->perm[s] * t->n_resid + i];
      for (int q = 0; q < t->K; ++q)
        for (int c = 0; c < t->D; ++c) *col++ = (int32_t)(off + (int64_t)en[ord[q]] * t->D + c);
    }
  }
}

/* Builds the Jacobian pattern of the residual terms: each residual row of an
 * element holds its N DOFs, entities ascending. */
int lc_pattern_build_jacobian(lc_problem *p, lc_error *err) {
  if (p->jac_valid) return LC_OK;
  int64_t rows = 0, nnz = 0;
  for (int ti = 0; ti < p->n_term_slots; ++ti) {
    lc_term *t = p->terms[ti];
    if (!t || !t->n_resid) continue;
    t->res_row0 = rows;
    rows += (int64_t)t->n_elem * t->n_resid;
    nnz += (int64_t)t->n_elem * t->n_resid * t->N;
  }
  if (nnz >= INT32_MAX) return lc_error_set(err, LC_ERANGE, "Jacobian would exceed 2^31 entries");
  p->jrowptr = malloc((size_t)(rows + 1) * sizeof *p->jrowptr);
  p->jcol = malloc((size_t)nnz * sizeof *p->jcol + 1);
  p->jval = malloc((size_t)nnz * sizeof *p->jval + 1);
  if (!p->jrowptr || !p->jcol || !p->jval) {
    free(p->jrowptr); free(p->jcol); free(p->jval);
    p->jrowptr = p->jcol = NULL;
    p->jval = NULL;
    return lc_error_set(err, LC_ENOMEM, "Jacobian pattern: out of memory");
  }
  int64_t pos = 0, r = 0;
  for (int ti = 0; ti < p->n_term_slots; ++ti) {
    const lc_term *t = p->terms[ti];
    if (!t || !t->n_resid) continue;
    for (int64_t i = 0; i < (int64_t)t->n_elem * t->n_resid; ++i, pos += t->N) p->jrowptr[r++] = (int32_t)pos;
    fill_jacobian_cols(p, t);
  }
  p->jrowptr[rows] = (int32_t)pos;
  p->n_res = rows;
  p->jnnz = nnz;
  p->jac_valid = 1;
  p->gen_pattern++;
  return LC_OK;
}
