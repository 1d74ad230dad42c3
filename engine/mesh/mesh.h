/* mesh.h - triangle meshes: construction, validation and topology.
 *
 * A mesh is immutable once created.  It owns copies of its vertex positions
 * (nv x 3 float64, row-major) and faces (nf x 3 int32, counter-clockwise),
 * plus the derived topology below, all as flat arrays that a backend can
 * upload as they are.  Meshes are reference counted so that problems can
 * share one: lc_mesh_create/lc_mesh_load_obj return a count of 1,
 * lc_mesh_retain adds one, lc_mesh_destroy drops one and frees at zero.
 *
 * Requirements checked at creation (each failure is an lc_error naming the
 * row and the reason): at least one face; every index in [0, nv); no repeated
 * vertex within a face; finite coordinates; every edge shared by at most two
 * faces (edge-manifold); consistent orientation (no directed edge used twice).
 * Faces of zero area are allowed but reported (lc_mesh_degenerate_faces).
 *
 * Topology conventions:
 *   edges        ne x 2, unique undirected edges with e[0] < e[1], sorted
 *                lexicographically;
 *   edge_faces   ne x 2, the face containing the half-edge e[0]->e[1] (or -1)
 *                and the face containing e[1]->e[0] (or -1);
 *   flaps        nflap x 4 for each interior edge, (x0, x1, x2, x3): x0->x1 is
 *                a half-edge of face (x0, x1, x2) and x3 the vertex opposite
 *                in the other face (x1, x0, x3); flap_edges gives its edge;
 *   face_pairs   nflap x 2 faces sharing an interior edge, same order as flaps;
 *   vertex adjacency: CSR (ptr nv+1, idx) of neighbouring vertices, sorted;
 *   boundary     boundary edges (those with one face) and a per-vertex flag. */
#ifndef LC_MESH_H
#define LC_MESH_H

#include <stddef.h>
#include <stdint.h>

#include "../lc_error.h"

#if defined(__cplusplus)
extern "C" {
#endif

typedef struct lc_mesh lc_mesh;

/* Creates a mesh from copies of V (nv x 3) and F (nf x 3); validates it. */
int lc_mesh_create(const double *V, int32_t nv, const int32_t *F, int32_t nf, lc_mesh **out,
                   lc_error *err);

/* Parses OBJ text of len bytes (v, f with v/vt/vn forms and negative indices,
 * polygons fan-triangulated; other statements ignored) and creates a mesh. */
int lc_mesh_load_obj(const char *text, size_t len, lc_mesh **out, lc_error *err);

/* Reads the OBJ file at path and creates a mesh (lc_mesh_load_obj). */
int lc_mesh_read_obj_file(const char *path, lc_mesh **out, lc_error *err);

/* Writes V (nv x 3, row-major) and the faces of m as OBJ text to path. */
int lc_mesh_write_obj_file(const lc_mesh *m, const double *V, const char *path, lc_error *err);

/* Adds a reference to m; returns m. */
lc_mesh *lc_mesh_retain(lc_mesh *m);

/* Drops a reference; frees the mesh when the last one goes. NULL is a no-op. */
void lc_mesh_destroy(lc_mesh *m);

/* Counts. */
int32_t lc_mesh_nv(const lc_mesh *m);
int32_t lc_mesh_nf(const lc_mesh *m);
int32_t lc_mesh_ne(const lc_mesh *m);
int32_t lc_mesh_nflaps(const lc_mesh *m);

/* Borrowed views of the arrays described above; valid while m lives. */
const double *lc_mesh_V(const lc_mesh *m);
/* The rest frame of face f (0 <= f < nf) into b1[3], b2[3]: b1 = normalize(
 * p1 - p0), n = normalize(b1 x (p2 - p0)), b2 = n x b1 (the frame of a face
 * variable's complex numbers: energies/e_ff_*.h). */
void lc_mesh_face_frame(const lc_mesh *m, int32_t f, double *b1, double *b2);
const int32_t *lc_mesh_F(const lc_mesh *m);
const int32_t *lc_mesh_edges(const lc_mesh *m);
const int32_t *lc_mesh_edge_faces(const lc_mesh *m);
const int32_t *lc_mesh_flaps(const lc_mesh *m);
const int32_t *lc_mesh_flap_edges(const lc_mesh *m);
const int32_t *lc_mesh_face_pairs(const lc_mesh *m);
const int32_t *lc_mesh_vadj_ptr(const lc_mesh *m);
const int32_t *lc_mesh_vadj(const lc_mesh *m);

/* Boundary edges (indices into edges), their count in *n. */
const int32_t *lc_mesh_boundary_edges(const lc_mesh *m, int32_t *n);

/* Per-vertex flag: 1 on the boundary, 0 inside. */
const uint8_t *lc_mesh_boundary_vertices(const lc_mesh *m);

/* Faces of zero (or non-finite) area, their count in *n. */
const int32_t *lc_mesh_degenerate_faces(const lc_mesh *m, int32_t *n);

/* Number of connected boundary loops and the Euler characteristic V - E + F. */
int32_t lc_mesh_n_boundary_loops(const lc_mesh *m);
int32_t lc_mesh_euler(const lc_mesh *m);

/* Heap bytes held by the mesh, for statistics. */
size_t lc_mesh_bytes(const lc_mesh *m);

#if defined(__cplusplus)
}
#endif

#endif
