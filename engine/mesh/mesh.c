/* mesh.c - triangle mesh construction, validation and topology.
 *
 * lc_mesh_create validates the faces and coordinates, then sorts the 3*nf
 * half-edges by their undirected key (min, max) with two stable counting
 * sorts (O(nv + nf), no per-edge allocation).  One scan over the sorted
 * half-edges checks manifoldness and orientation and counts edges; a second
 * scan fills edges, edge_faces, flaps, flap_edges, face_pairs and the
 * boundary edges.  Vertex adjacency is built from the sorted edge list, which
 * makes every CSR row sorted without further sorting. */
#include "mesh.h"

#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct lc_mesh {
  atomic_int refs;
  int32_t nv, nf, ne, nflap, nbe, ndeg, nloops;
  double *V;
  int32_t *F, *edges, *edge_faces, *flaps, *flap_edges, *face_pairs;
  int32_t *vadj_ptr, *vadj, *bedges, *deg;
  uint8_t *bverts;
  size_t bytes;
};

/* Half-edges sorted by undirected key, the scratch of lc_mesh_create. */
typedef struct mesh_he {
  int32_t n;       /* 3 * nf */
  int32_t *order;  /* half-edge ids h = 3 f + k, sorted by (min, max) */
} mesh_he;

static const int mesh_next[3] = {1, 2, 0};

/* Allocates n (at least 1) elements of size sz, adding to m->bytes; NULL on failure. */
static void *mesh_alloc(lc_mesh *m, size_t n, size_t sz) {
  size_t count = n ? n : 1;
  void *p = calloc(count, sz);
  if (p) m->bytes += count * sz;
  return p;
}

/* Frees every array of m and m itself. */
static void mesh_free(lc_mesh *m) {
  free(m->V);
  free(m->F);
  free(m->edges);
  free(m->edge_faces);
  free(m->flaps);
  free(m->flap_edges);
  free(m->face_pairs);
  free(m->vadj_ptr);
  free(m->vadj);
  free(m->bedges);
  free(m->deg);
  free(m->bverts);
  free(m);
}

/* Tail vertex of half-edge h. */
static inline int32_t he_from(const int32_t *F, int32_t h) { return F[h]; }

/* Head vertex of half-edge h. */
static inline int32_t he_to(const int32_t *F, int32_t h) {
  return F[h - h % 3 + mesh_next[h % 3]];
}

/* Vertex opposite half-edge h in its face. */
static inline int32_t he_opp(const int32_t *F, int32_t h) {
  return F[h - h % 3 + mesh_next[mesh_next[h % 3]]];
}

/* Undirected key (min << 32 | max) of half-edge h. */
static inline uint64_t he_key(const int32_t *F, int32_t h) {
  uint32_t a = (uint32_t)he_from(F, h), b = (uint32_t)he_to(F, h);
  return a < b ? ((uint64_t)a << 32) | b : ((uint64_t)b << 32) | a;
}

/* Checks the arguments of lc_mesh_create. */
static int mesh_check_args(const double *V, int32_t nv, const int32_t *F, int32_t nf,
                           lc_mesh **out, lc_error *err) {
  if (!out) return lc_error_set(err, LC_EINVAL, "lc_mesh_create: out is NULL");
  if (nv < 0) return lc_error_set(err, LC_EINVAL, "lc_mesh_create: nv = %d is negative", (int)nv);
  if (nf < 0) return lc_error_set(err, LC_EINVAL, "lc_mesh_create: nf = %d is negative", (int)nf);
  if (nf == 0) return lc_error_set(err, LC_EMESH, "mesh has no faces (nf = 0)");
  if (nf > INT32_MAX / 6)
    return lc_error_set(err, LC_ERANGE, "mesh has too many faces (nf = %d)", (int)nf);
  if (!F) return lc_error_set(err, LC_EINVAL, "lc_mesh_create: F is NULL with nf = %d", (int)nf);
  if (!V && nv > 0)
    return lc_error_set(err, LC_EINVAL, "lc_mesh_create: V is NULL with nv = %d", (int)nv);
  return LC_OK;
}

/* Checks every face: indices in [0, nv) and three distinct vertices. */
static int mesh_check_faces(const int32_t *F, int32_t nv, int32_t nf, lc_error *err) {
  for (int32_t f = 0; f < nf; f++) {
    const int32_t *t = F + 3 * (size_t)f;
    for (int k = 0; k < 3; k++)
      if (t[k] < 0 || t[k] >= nv)
        return lc_error_set(err, LC_ERANGE,
                            "face %d: vertex index %d (corner %d) is out of range [0, %d)",
                            (int)f, (int)t[k], k, (int)nv);
    if (t[0] == t[1] || t[1] == t[2] || t[0] == t[2])
      return lc_error_set(err, LC_EMESH, "face %d (%d, %d, %d): repeated vertex %d", (int)f,
                          (int)t[0], (int)t[1], (int)t[2],
                          (int)(t[0] == t[1] || t[0] == t[2] ? t[0] : t[1]));
  }
  return LC_OK;
}

/* Checks that every coordinate is finite. */
static int mesh_check_coords(const double *V, int32_t nv, lc_error *err) {
  for (int32_t i = 0; i < nv; i++) {
    const double *p = V + 3 * (size_t)i;
    if (!isfinite(p[0]) || !isfinite(p[1]) || !isfinite(p[2]))
      return lc_error_set(err, LC_EMESH, "vertex %d has a non-finite coordinate (%g, %g, %g)",
                          (int)i, p[0], p[1], p[2]);
  }
  return LC_OK;
}

/* Stable counting sort of src (n half-edges) into dst by the min (lo != 0)
 * or max (lo == 0) vertex of each half-edge; cnt has nv + 1 slots. */
static void mesh_count_sort(const int32_t *F, int32_t nv, const int32_t *src, int32_t *dst,
                            int32_t n, int32_t *cnt, int lo) {
  memset(cnt, 0, ((size_t)nv + 1) * sizeof *cnt);
  for (int32_t i = 0; i < n; i++) {
    int32_t a = he_from(F, src[i]), b = he_to(F, src[i]);
    cnt[(lo ? (a < b ? a : b) : (a < b ? b : a)) + 1]++;
  }
  for (int32_t v = 0; v < nv; v++) cnt[v + 1] += cnt[v];
  for (int32_t i = 0; i < n; i++) {
    int32_t a = he_from(F, src[i]), b = he_to(F, src[i]);
    dst[cnt[lo ? (a < b ? a : b) : (a < b ? b : a)]++] = src[i];
  }
}

/* Sorts all half-edges of F lexicographically by (min, max) into he->order. */
static int mesh_sort_halfedges(const int32_t *F, int32_t nv, int32_t nf, mesh_he *he,
                               lc_error *err) {
  int rc = LC_OK;
  int32_t n = 3 * nf;
  int32_t *tmp = malloc((size_t)n * sizeof *tmp);
  int32_t *cnt = malloc(((size_t)nv + 1) * sizeof *cnt);
  he->n = n;
  he->order = malloc((size_t)n * sizeof *he->order);
  if (!tmp || !cnt || !he->order) {
    rc = lc_error_set(err, LC_ENOMEM, "out of memory sorting %d half-edges", (int)n);
    goto fail;
  }
  for (int32_t h = 0; h < n; h++) he->order[h] = h;
  mesh_count_sort(F, nv, he->order, tmp, n, cnt, 0);
  mesh_count_sort(F, nv, tmp, he->order, n, cnt, 1);
fail:
  free(tmp);
  free(cnt);
  return rc;
}

/* Length of the run of equal keys starting at sorted position i. */
static int32_t mesh_run(const int32_t *F, const mesh_he *he, int32_t i) {
  uint64_t key = he_key(F, he->order[i]);
  int32_t j = i + 1;
  while (j < he->n && he_key(F, he->order[j]) == key) j++;
  return j - i;
}

/* Reports a run of g > 2 half-edges on one edge (non-manifold). */
static int mesh_err_nonmanifold(const int32_t *F, const int32_t *h, int32_t g, lc_error *err) {
  uint64_t key = he_key(F, h[0]);
  return lc_error_set(err, LC_EMESH,
                      "non-manifold edge (%d, %d): shared by %d faces (more than 2), "
                      "e.g. faces %d, %d and %d",
                      (int)(key >> 32), (int)(key & 0xffffffffu), (int)g, (int)(h[0] / 3),
                      (int)(h[1] / 3), (int)(h[2] / 3));
}

/* Validates manifoldness and orientation; counts edges and interior edges. */
static int mesh_scan_edges(lc_mesh *m, const mesh_he *he, lc_error *err) {
  const int32_t *F = m->F;
  int32_t ne = 0, nflap = 0;
  for (int32_t i = 0; i < he->n;) {
    const int32_t *h = he->order + i;
    int32_t g = mesh_run(F, he, i);
    if (g > 2) return mesh_err_nonmanifold(F, h, g, err);
    if (g == 2 && he_from(F, h[0]) == he_from(F, h[1]))
      return lc_error_set(err, LC_EMESH,
                          "inconsistent orientation: directed edge %d->%d is used twice, "
                          "by faces %d and %d",
                          (int)he_from(F, h[0]), (int)he_to(F, h[0]), (int)(h[0] / 3),
                          (int)(h[1] / 3));
    nflap += g == 2;
    ne++;
    i += g;
  }
  m->ne = ne;
  m->nflap = nflap;
  m->nbe = ne - nflap;
  return LC_OK;
}

/* Allocates the per-edge arrays of m (sizes from mesh_scan_edges). */
static int mesh_alloc_edges(lc_mesh *m, lc_error *err) {
  size_t ne = (size_t)m->ne, nfl = (size_t)m->nflap;
  m->edges = mesh_alloc(m, 2 * ne, sizeof(int32_t));
  m->edge_faces = mesh_alloc(m, 2 * ne, sizeof(int32_t));
  m->flaps = mesh_alloc(m, 4 * nfl, sizeof(int32_t));
  m->flap_edges = mesh_alloc(m, nfl, sizeof(int32_t));
  m->face_pairs = mesh_alloc(m, 2 * nfl, sizeof(int32_t));
  m->bedges = mesh_alloc(m, (size_t)m->nbe, sizeof(int32_t));
  if (!m->edges || !m->edge_faces || !m->flaps || !m->flap_edges || !m->face_pairs || !m->bedges)
    return lc_error_set(err, LC_ENOMEM, "out of memory allocating %d edges", (int)m->ne);
  return LC_OK;
}

/* Stores edge e from its g (1 or 2) sorted half-edges h, plus its flap. */
static void mesh_put_edge(lc_mesh *m, int32_t e, const int32_t *h, int32_t g, int32_t *k,
                          int32_t *b) {
  const int32_t *F = m->F;
  int32_t h0 = -1, h1 = -1; /* half-edges e0->e1 and e1->e0 */
  for (int32_t j = 0; j < g; j++) {
    if (he_from(F, h[j]) < he_to(F, h[j])) h0 = h[j];
    else h1 = h[j];
  }
  uint64_t key = he_key(F, h[0]);
  m->edges[2 * e] = (int32_t)(key >> 32);
  m->edges[2 * e + 1] = (int32_t)(key & 0xffffffffu);
  m->edge_faces[2 * e] = h0 < 0 ? -1 : h0 / 3;
  m->edge_faces[2 * e + 1] = h1 < 0 ? -1 : h1 / 3;
  if (g == 1) {
    m->bedges[(*b)++] = e;
    return;
  }
  int32_t *x = m->flaps + 4 * (size_t)*k;
  x[0] = m->edges[2 * e];
  x[1] = m->edges[2 * e + 1];
  x[2] = he_opp(F, h0);
  x[3] = he_opp(F, h1);
  m->flap_edges[*k] = e;
  m->face_pairs[2 * *k] = h0 / 3;
  m->face_pairs[2 * *k + 1] = h1 / 3;
  (*k)++;
}

/* Fills edges, edge_faces, flaps, flap_edges, face_pairs and boundary edges. */
static int mesh_fill_edges(lc_mesh *m, const mesh_he *he, lc_error *err) {
  int rc = mesh_alloc_edges(m, err);
  if (rc) return rc;
  int32_t e = 0, k = 0, b = 0;
  for (int32_t i = 0; i < he->n; e++) {
    int32_t g = mesh_run(m->F, he, i);
    mesh_put_edge(m, e, he->order + i, g, &k, &b);
    i += g;
  }
  return LC_OK;
}

/* Builds the sorted vertex adjacency (CSR) from the sorted edge list. */
static int mesh_build_vadj(lc_mesh *m, lc_error *err) {
  int rc = LC_OK;
  int32_t *cur = malloc(((size_t)m->nv + 1) * sizeof *cur);
  m->vadj_ptr = mesh_alloc(m, (size_t)m->nv + 1, sizeof(int32_t));
  m->vadj = mesh_alloc(m, 2 * (size_t)m->ne, sizeof(int32_t));
  if (!cur || !m->vadj_ptr || !m->vadj) {
    rc = lc_error_set(err, LC_ENOMEM, "out of memory building vertex adjacency");
    goto fail;
  }
  for (int32_t e = 0; e < m->ne; e++) {
    m->vadj_ptr[m->edges[2 * e] + 1]++;
    m->vadj_ptr[m->edges[2 * e + 1] + 1]++;
  }
  for (int32_t v = 0; v < m->nv; v++) m->vadj_ptr[v + 1] += m->vadj_ptr[v];
  memcpy(cur, m->vadj_ptr, ((size_t)m->nv + 1) * sizeof *cur);
  /* Edges come sorted by (min, max): for vertex v, all smaller neighbours
   * arrive (increasing) before v's own group of larger ones (increasing). */
  for (int32_t e = 0; e < m->ne; e++) {
    int32_t a = m->edges[2 * e], c = m->edges[2 * e + 1];
    m->vadj[cur[a]++] = c;
    m->vadj[cur[c]++] = a;
  }
fail:
  free(cur);
  return rc;
}

/* Root of v in the union-find forest par, with path halving. */
static int32_t mesh_uf_find(int32_t *par, int32_t v) {
  while (par[v] != v) {
    par[v] = par[par[v]];
    v = par[v];
  }
  return v;
}

/* Flags boundary vertices and counts connected boundary loops. */
static int mesh_boundary(lc_mesh *m, lc_error *err) {
  int rc = LC_OK;
  int32_t *par = malloc(((size_t)m->nv + 1) * sizeof *par);
  m->bverts = mesh_alloc(m, (size_t)m->nv, sizeof(uint8_t));
  if (!par || !m->bverts) {
    rc = lc_error_set(err, LC_ENOMEM, "out of memory finding boundary loops");
    goto fail;
  }
  for (int32_t v = 0; v < m->nv; v++) par[v] = v;
  for (int32_t i = 0; i < m->nbe; i++) {
    const int32_t *e = m->edges + 2 * (size_t)m->bedges[i];
    m->bverts[e[0]] = m->bverts[e[1]] = 1;
    int32_t ra = mesh_uf_find(par, e[0]), rb = mesh_uf_find(par, e[1]);
    if (ra != rb) par[ra] = rb;
  }
  m->nloops = 0;
  for (int32_t v = 0; v < m->nv; v++) m->nloops += m->bverts[v] && mesh_uf_find(par, v) == v;
fail:
  free(par);
  return rc;
}

/* True when face f has zero (to rounding) or non-finite area. */
static int mesh_face_degenerate(const double *V, const int32_t *t) {
  const double *a = V + 3 * (size_t)t[0], *b = V + 3 * (size_t)t[1], *c = V + 3 * (size_t)t[2];
  double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
  double w[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
  double n[3] = {u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]};
  double nn = n[0] * n[0] + n[1] * n[1] + n[2] * n[2];
  double uu = u[0] * u[0] + u[1] * u[1] + u[2] * u[2];
  double ww = w[0] * w[0] + w[1] * w[1] + w[2] * w[2];
  double tol = 16.0 * DBL_EPSILON * DBL_EPSILON * uu * ww; /* |sin angle| <= 4 eps */
  return !isfinite(nn) || !isfinite(tol) || nn <= tol;
}

/* Lists the degenerate faces of m. */
static int mesh_degenerate(lc_mesh *m, lc_error *err) {
  int32_t n = 0;
  for (int32_t f = 0; f < m->nf; f++) n += mesh_face_degenerate(m->V, m->F + 3 * (size_t)f);
  m->deg = mesh_alloc(m, (size_t)n, sizeof(int32_t));
  if (!m->deg) return lc_error_set(err, LC_ENOMEM, "out of memory listing degenerate faces");
  m->ndeg = 0;
  for (int32_t f = 0; f < m->nf; f++)
    if (mesh_face_degenerate(m->V, m->F + 3 * (size_t)f)) m->deg[m->ndeg++] = f;
  return LC_OK;
}

/* Allocates m with copies of V and F. */
static int mesh_copy_input(const double *V, int32_t nv, const int32_t *F, int32_t nf,
                           lc_mesh **out, lc_error *err) {
  lc_mesh *m = calloc(1, sizeof *m);
  if (!m) return lc_error_set(err, LC_ENOMEM, "out of memory allocating a mesh");
  *out = m;
  atomic_init(&m->refs, 1);
  m->bytes = sizeof *m;
  m->nv = nv;
  m->nf = nf;
  m->V = mesh_alloc(m, 3 * (size_t)nv, sizeof(double));
  m->F = mesh_alloc(m, 3 * (size_t)nf, sizeof(int32_t));
  if (!m->V || !m->F)
    return lc_error_set(err, LC_ENOMEM, "out of memory copying %d vertices and %d faces",
                        (int)nv, (int)nf);
  if (nv) memcpy(m->V, V, 3 * (size_t)nv * sizeof(double));
  memcpy(m->F, F, 3 * (size_t)nf * sizeof(int32_t));
  return LC_OK;
}

/* Creates a mesh from copies of V (nv x 3) and F (nf x 3); validates it. */
int lc_mesh_create(const double *V, int32_t nv, const int32_t *F, int32_t nf, lc_mesh **out,
                   lc_error *err) {
  lc_mesh *m = NULL;
  mesh_he he = {0, NULL};
  if (out) *out = NULL;
  int rc = mesh_check_args(V, nv, F, nf, out, err);
  if (rc) goto fail;
  if ((rc = mesh_check_faces(F, nv, nf, err))) goto fail;
  if ((rc = mesh_check_coords(V, nv, err))) goto fail;
  if ((rc = mesh_copy_input(V, nv, F, nf, &m, err))) goto fail;
  if ((rc = mesh_sort_halfedges(m->F, nv, nf, &he, err))) goto fail;
  if ((rc = mesh_scan_edges(m, &he, err))) goto fail;
  if ((rc = mesh_fill_edges(m, &he, err))) goto fail;
  if ((rc = mesh_build_vadj(m, err))) goto fail;
  if ((rc = mesh_boundary(m, err))) goto fail;
  if ((rc = mesh_degenerate(m, err))) goto fail;
  *out = m;
  m = NULL;
fail:
  free(he.order);
  if (m) mesh_free(m);
  return rc;
}

/* Adds a reference to m; returns m. */
lc_mesh *lc_mesh_retain(lc_mesh *m) {
  if (m) atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
  return m;
}

/* Drops a reference; frees the mesh when the last one goes. NULL is a no-op. */
void lc_mesh_destroy(lc_mesh *m) {
  if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) mesh_free(m);
}

/* Number of vertices. */
int32_t lc_mesh_nv(const lc_mesh *m) { return m ? m->nv : 0; }

/* Number of faces. */
int32_t lc_mesh_nf(const lc_mesh *m) { return m ? m->nf : 0; }

/* Number of unique undirected edges. */
int32_t lc_mesh_ne(const lc_mesh *m) { return m ? m->ne : 0; }

/* Number of flaps (interior edges). */
int32_t lc_mesh_nflaps(const lc_mesh *m) { return m ? m->nflap : 0; }

/* Vertex positions, nv x 3. */
const double *lc_mesh_V(const lc_mesh *m) { return m ? m->V : NULL; }

/* u x v into w. */
static void cross3(const double *u, const double *v, double *w) {
  w[0] = u[1] * v[2] - u[2] * v[1];
  w[1] = u[2] * v[0] - u[0] * v[2];
  w[2] = u[0] * v[1] - u[1] * v[0];
}

/* u / |u| in place. */
static void normalize3(double *u) {
  const double l = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
  for (int c = 0; c < 3; ++c) u[c] /= l;
}

/* The rest frame (b1, b2) of face f. */
void lc_mesh_face_frame(const lc_mesh *m, int32_t f, double *b1, double *b2) {
  const int32_t *t = m->F + 3 * (int64_t)f;
  const double *p0 = m->V + 3 * (int64_t)t[0], *p1 = m->V + 3 * (int64_t)t[1], *p2 = m->V + 3 * (int64_t)t[2];
  double e2[3], n[3];
  for (int c = 0; c < 3; ++c) b1[c] = p1[c] - p0[c], e2[c] = p2[c] - p0[c];
  normalize3(b1);
  cross3(b1, e2, n);
  normalize3(n);
  cross3(n, b1, b2);
}

/* Faces, nf x 3. */
const int32_t *lc_mesh_F(const lc_mesh *m) { return m ? m->F : NULL; }

/* Edges, ne x 2, e[0] < e[1], sorted. */
const int32_t *lc_mesh_edges(const lc_mesh *m) { return m ? m->edges : NULL; }

/* Faces of the half-edges e[0]->e[1] and e[1]->e[0], ne x 2 (-1 if none). */
const int32_t *lc_mesh_edge_faces(const lc_mesh *m) { return m ? m->edge_faces : NULL; }

/* Flaps (x0, x1, x2, x3), nflaps x 4. */
const int32_t *lc_mesh_flaps(const lc_mesh *m) { return m ? m->flaps : NULL; }

/* Edge of each flap, nflaps. */
const int32_t *lc_mesh_flap_edges(const lc_mesh *m) { return m ? m->flap_edges : NULL; }

/* Faces of each flap, nflaps x 2. */
const int32_t *lc_mesh_face_pairs(const lc_mesh *m) { return m ? m->face_pairs : NULL; }

/* CSR row pointers of the vertex adjacency, nv + 1. */
const int32_t *lc_mesh_vadj_ptr(const lc_mesh *m) { return m ? m->vadj_ptr : NULL; }

/* CSR column indices of the vertex adjacency, sorted per row. */
const int32_t *lc_mesh_vadj(const lc_mesh *m) { return m ? m->vadj : NULL; }

/* Boundary edges (indices into edges), their count in *n. */
const int32_t *lc_mesh_boundary_edges(const lc_mesh *m, int32_t *n) {
  if (n) *n = m ? m->nbe : 0;
  return m ? m->bedges : NULL;
}

/* Per-vertex flag: 1 on the boundary, 0 inside. */
const uint8_t *lc_mesh_boundary_vertices(const lc_mesh *m) { return m ? m->bverts : NULL; }

/* Faces of zero (or non-finite) area, their count in *n. */
const int32_t *lc_mesh_degenerate_faces(const lc_mesh *m, int32_t *n) {
  if (n) *n = m ? m->ndeg : 0;
  return m ? m->deg : NULL;
}

/* Number of connected boundary loops. */
int32_t lc_mesh_n_boundary_loops(const lc_mesh *m) { return m ? m->nloops : 0; }

/* Euler characteristic V - E + F. */
int32_t lc_mesh_euler(const lc_mesh *m) {
  return m ? (int32_t)((int64_t)m->nv - m->ne + m->nf) : 0;
}

/* Heap bytes held by the mesh, for statistics. */
size_t lc_mesh_bytes(const lc_mesh *m) { return m ? m->bytes : 0; }
