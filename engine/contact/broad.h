/* broad.h - the contact broad phase on the CPU: the candidate pairs of a
 * triangle mesh (self-contact and contact between its components) whose
 * bounding boxes, swept along an optional motion and padded, overlap.
 *
 * Candidates are point-triangle pairs (vertex v, face f; v not a corner of
 * f) and edge-edge pairs (edges a < b sharing no vertex), in one canonical
 * order: sorted by (v, f) and by (a, b).  The list is the same for any
 * number of threads, and a GPU broad phase is to produce the same list.
 * Pad the boxes by the activation distance plus the thickness plus a
 * margin, so that one list serves a whole line search. */
#ifndef LC_CONTACT_BROAD_H
#define LC_CONTACT_BROAD_H

#include <stdint.h>

#include "../lc_error.h"
#include "../mesh/mesh.h"

#if defined(__cplusplus)
extern "C" {
#endif

/* Candidate pairs: pt[2 i] = vertex, pt[2 i + 1] = face; ee[2 i] < ee[2 i + 1]
 * edge indices (lc_mesh_edges order). Owned by the caller: lc_pairs_free. */
typedef struct lc_pairs {
  int32_t *pt, *ee;
  int64_t n_pt, n_ee;
} lc_pairs;

/* Finds the candidate pairs of mesh m at positions x (nv x 3; NULL: the
 * rest positions), boxes swept to x + d (d NULL: no motion) and padded by
 * pad >= 0, into *out (emptied first).  On failure *out is empty. */
int lc_contact_candidates(const lc_mesh *m, const double *x, const double *d, double pad, lc_pairs *out,
                          lc_error *err);

/* As lc_contact_candidates, leaving out every pair whose primitives' vertices
 * are all still (still[v] != 0: a static obstacle's vertex; still NULL:
 * none): such a pair never moves, so it neither acts on the solve nor needs
 * CCD, and a large static obstacle adds none of its own pairs. */
int lc_contact_candidates_still(const lc_mesh *m, const double *x, const double *d, double pad,
                                const uint8_t *still, lc_pairs *out, lc_error *err);

/* Counts the crossings of mesh edges through faces that share no vertex
 * with them, at positions x (NULL: rest): 0 when no two non-adjacent
 * triangles intersect (coplanar overlaps aside). */
int lc_contact_intersections(const lc_mesh *m, const double *x, int64_t *count, lc_error *err);
/* As lc_contact_intersections, without crossings between two still
 * primitives (still as for lc_contact_candidates_still). */
int lc_contact_intersections_still(const lc_mesh *m, const double *x, const uint8_t *still, int64_t *count,
                                   lc_error *err);

/* The 4 vertices of every candidate as contact elements: pt_elems (n_pt x
 * 4: v, f0, f1, f2) and ee_elems (n_ee x 4: a0, a1, b0, b1), caller-owned
 * arrays of the right size. */
void lc_pairs_elements(const lc_mesh *m, const lc_pairs *c, int32_t *pt_elems, int32_t *ee_elems);

/* The 4 vertices q of candidate i of c (ee: its edge-edge list, else its
 * point-triangle list), in element order, and their 12 values xl at x. */
void lc_pairs_local(const lc_mesh *m, const lc_pairs *c, int ee, int64_t i, const double *x, int32_t *q,
                    double *xl);

/* Keeps, in order, the candidates of c whose distance at x (nv x 3) is
 * below dist: the narrow phase's first cut (a box overlap is not a
 * distance).  The arrays keep their size. */
void lc_pairs_filter(const lc_mesh *m, const double *x, double dist, lc_pairs *c);

/* Frees the lists of c and empties it (c itself is the caller's). */
void lc_pairs_free(lc_pairs *c);

#if defined(__cplusplus)
}
#endif

#endif
