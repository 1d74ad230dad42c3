/* cuda_eval.cu - the CUDA backend's resident problem data and evaluation.
 *
 * lc_cu_sync uploads, once per generation, what the element loop reads:
 * per term the element indices, constants, permutation, chunk offsets and
 * slots; the fixed flags; the Hessian row pointers and diagonal positions;
 * the Jacobian row pointers.  Hessian and Jacobian values, partial energies
 * and (through the staging of eval.c or a device solver) x and the outputs
 * live on the device.
 *
 * lc_cu_eval issues everything on the problem's stream and never waits:
 * outputs are zeroed, each term is launched colour by colour (elements of a
 * colour share no entity, so the slots add without atomics and every entry
 * receives its contributions in the same order on every run), fixed DOFs
 * get their identity rows, and the chunk energies are added in chunk order
 * into the requested device scalar. */
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda_impl.h"

/* Frees one device pointer and clears it. */
template <typename T> static void cu_release(T **p) {
  if (*p) cudaFree((void *)*p);
  *p = NULL;
}

/* Frees every resident array of the problem and forgets the generations. */
void lc_cu_free_resident(lc_backend *b) {
  lc_cu_ctx *c = lc_cu(b);
  for (int i = 0; i < c->n_terms; ++i) {
    lc_cu_term *t = &c->terms[i];
    cu_release(&t->ent);
    cu_release(&t->slots);
    cu_release(&t->perm);
    cu_release(&t->chunk_ptr);
    cu_release(&t->consts);
  }
  free(c->terms);
  c->terms = NULL;
  c->n_terms = 0;
  cu_release(&c->fixed);
  cu_release(&c->fixed_idx);
  cu_release(&c->rowptr);
  cu_release(&c->diag);
  cu_release(&c->jrowptr);
  cu_release(&c->hval);
  cu_release(&c->jval);
  cu_release(&c->partials);
  c->n_dofs = c->n_fixed = c->nnz = c->jnnz = c->n_partials = 0;
  c->gen_terms = c->gen_fixed = c->gen_pattern = 0;
}

/* Allocates *dst and copies n elements of src into it (n may be 0). */
template <typename T>
static int cu_put(lc_backend *b, T **dst, const T *src, int64_t n, const char *what, lc_error *err) {
  const size_t bytes = (size_t)(n > 0 ? n : 0) * sizeof(T);
  int rc = lc_cu_alloc(b, (void **)dst, bytes, what, err);
  if (rc || !bytes || !src) return rc;
  return lc_cu_check(b, cudaMemcpyAsync(*dst, src, bytes, cudaMemcpyHostToDevice, lc_cu(b)->stream),
                     err, "uploading %s", what);
}

/* Uploads the element data of term t (host) into ct. */
static int upload_term(lc_backend *b, const lc_term *t, lc_cu_term *ct, lc_error *err) {
  const int64_t n = t->n_elem;
  int rc = cu_put(b, &ct->ent, t->ent, n * t->K, "element indices", err);
  if (!rc) rc = cu_put(b, &ct->consts, t->consts, n * t->n_const, "element constants", err);
  if (!rc) rc = cu_put(b, &ct->perm, t->perm, n, "element permutation", err);
  if (!rc) rc = cu_put(b, &ct->chunk_ptr, t->chunk_ptr, (int64_t)t->n_chunks + 1, "chunk offsets", err);
  if (!rc && t->slots) rc = cu_put(b, &ct->slots, t->slots, n * t->K * t->K, "Hessian slots", err);
  ct->gen_consts = t->gen_consts;
  return rc;
}

/* Uploads every term and the patterns; counts the chunks for the partials. */
static int upload_terms(lc_backend *b, lc_problem *p, lc_error *err) {
  lc_cu_ctx *c = lc_cu(b);
  c->terms = (lc_cu_term *)calloc((size_t)(p->n_term_slots > 0 ? p->n_term_slots : 1), sizeof *c->terms);
  if (!c->terms) return lc_error_set(err, LC_ENOMEM, "%s: out of host memory", b->id);
  c->n_terms = p->n_term_slots;
  int rc = LC_OK;
  int64_t parts = 0;
  for (int i = 0; !rc && i < p->n_term_slots; ++i) {
    if (!p->terms[i]) continue;
    c->terms[i].part0 = (int32_t)parts;
    parts += p->terms[i]->n_chunks;
    rc = upload_term(b, p->terms[i], &c->terms[i], err);
  }
  c->n_partials = parts;
  if (!rc) rc = lc_cu_alloc(b, (void **)&c->partials, (size_t)(parts > 0 ? parts : 1) * sizeof(double),
                            "chunk energies", err);
  if (!rc && p->hess_valid) {
    c->nnz = p->nnz;
    rc = cu_put(b, &c->rowptr, p->rowptr, p->n_dofs + 1, "Hessian row pointers", err);
    if (!rc) rc = cu_put(b, &c->diag, p->diag, p->n_dofs, "Hessian diagonal positions", err);
    if (!rc) rc = cu_put(b, &c->hval, (const double *)NULL, p->nnz, "Hessian values", err);
  }
  if (!rc && p->jac_valid) {
    c->jnnz = p->jnnz;
    rc = cu_put(b, &c->jrowptr, p->jrowptr, p->n_res + 1, "Jacobian row pointers", err);
    if (!rc) rc = cu_put(b, &c->jval, (const double *)NULL, p->jnnz, "Jacobian values", err);
  }
  return rc;
}

/* Uploads the fixed flags and the list of fixed DOFs. */
static int upload_fixed(lc_backend *b, lc_problem *p, lc_error *err) {
  lc_cu_ctx *c = lc_cu(b);
  cu_release(&c->fixed);
  cu_release(&c->fixed_idx);
  int64_t *idx = (int64_t *)malloc((size_t)(p->n_fixed > 0 ? p->n_fixed : 1) * sizeof *idx);
  if (!idx) return lc_error_set(err, LC_ENOMEM, "%s: out of host memory", b->id);
  int64_t k = 0;
  for (int64_t i = 0; i < p->n_dofs; ++i)
    if (p->fixed[i]) idx[k++] = i;
  int rc = cu_put(b, &c->fixed, p->fixed, p->n_dofs, "fixed flags", err);
  if (!rc) rc = cu_put(b, &c->fixed_idx, idx, k, "fixed DOF list", err);
  /* the host list must outlive the asynchronous copy */
  if (!rc) rc = lc_cu_check(b, cudaStreamSynchronize(c->stream), err, "uploading fixed DOFs");
  free(idx);
  c->n_fixed = k;
  c->n_dofs = p->n_dofs;
  return rc;
}

/* Refreshes the constants of every term whose gen_consts moved (same size:
 * copied into the resident buffer; x~ of implicit Euler changes per step). */
static int refresh_consts(lc_backend *b, lc_problem *p, lc_error *err) {
  lc_cu_ctx *c = lc_cu(b);
  for (int i = 0; i < p->n_term_slots && i < c->n_terms; ++i) {
    const lc_term *t = p->terms[i];
    lc_cu_term *ct = &c->terms[i];
    if (!t || ct->gen_consts == t->gen_consts) continue;
    const size_t bytes = (size_t)t->n_elem * t->n_const * sizeof(double);
    if (bytes) {
      const cudaError_t e = cudaMemcpyAsync(ct->consts, t->consts, bytes, cudaMemcpyHostToDevice, c->stream);
      if (e) return lc_cu_check(b, e, err, "uploading the constants of term %d", i);
    }
    ct->gen_consts = t->gen_consts;
  }
  return LC_OK;
}

/* Builds the patterns mode needs (host) and refreshes what changed. */
int lc_cu_sync(lc_backend *b, lc_problem *p, lc_el_mode mode, lc_error *err) {
  lc_cu_ctx *c = lc_cu(b);
  int rc = LC_OK;
  if (mode == LC_EL_HESS || mode == LC_EL_GN) rc = lc_pattern_build_hessian(p, err);
  if (!rc && mode == LC_EL_JAC) rc = lc_pattern_build_jacobian(p, err);
  if (rc) return rc;
  if (c->gen_terms != p->gen_terms || c->gen_pattern != p->gen_pattern || c->n_dofs != p->n_dofs) {
    lc_cu_free_resident(b);
    rc = upload_terms(b, p, err);
    if (!rc) rc = upload_fixed(b, p, err);
    if (rc) {
      lc_cu_free_resident(b); /* nothing half-uploaded stays; the next call retries */
      return rc;
    }
    c->gen_terms = p->gen_terms;
    c->gen_pattern = p->gen_pattern;
    c->gen_fixed = p->gen_fixed;
  } else if (c->gen_fixed != p->gen_fixed) {
    if ((rc = upload_fixed(b, p, err))) {
      lc_cu_free_resident(b);
      return rc;
    }
    c->gen_fixed = p->gen_fixed;
  }
  return refresh_consts(b, p, err);
}

/* The element loop's view of term ti with the device copies of its arrays. */
static lc_el_term el_term(lc_backend *b, const lc_problem *p, int ti, int project) {
  const lc_cu_term *ct = &lc_cu(b)->terms[ti];
  lc_el_term e = lc_term_el_view(p, p->terms[ti], project);
  e.ent = ct->ent;
  e.consts = ct->consts;
  e.slots = ct->slots;
  e.perm = ct->perm;
  e.chunk_ptr = ct->chunk_ptr;
  return e;
}

/* Launches the element kernel of energy id in mode m (the part that holds it). */
cudaError_t lc_cu_launch_elements(int id, lc_el_mode m, const lc_el_term *t, const lc_el_out *o,
                                  int32_t ch0, int32_t nch, int serial, double *partials,
                                  cudaStream_t st) {
  switch (m) {
    case LC_EL_ENERGY: case LC_EL_GRAD: case LC_EL_JAC:
      return lc_cu_launch_part0(id, m, t, o, ch0, nch, serial, partials, st);
    case LC_EL_HESS: case LC_EL_GN:
      return lc_cu_launch_part1(id, m, t, o, ch0, nch, serial, partials, st);
    case LC_EL_HVP:
      return lc_cu_launch_part2(id, m, t, o, ch0, nch, serial, partials, st);
    default:
      return cudaErrorInvalidValue;
  }
}

/* One block: thread i adds partials i, i + B, ... in order, then the block
 * adds the thread sums in a fixed tree. */
extern "C" __global__ void __launch_bounds__(LC_CU_BLOCK)
    lc_k_sum(const double *partials, int64_t n, double *out) {
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += LC_CU_BLOCK) acc += partials[i];
  lc_cu_block_sum(acc, out);
}

/* Sums n partials into *out. */
cudaError_t lc_cu_launch_sum(const double *partials, int64_t n, double *out, cudaStream_t st) {
  lc_k_sum<<<1, LC_CU_BLOCK, 0, st>>>(partials, n, out);
  return cudaGetLastError();
}

/* Identity rows of fixed DOFs: H[diag[i]] = 1 and/or hv[i] = v[i]. */
__global__ static void k_fix(const int64_t *idx, int64_t n, const int32_t *diag, double *H,
                             const double *v, double *hv) {
  const int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= n) return;
  const int64_t i = idx[k];
  if (H) H[diag[i]] = 1.0;
  if (hv) hv[i] = v[i];
}

/* Zeroes the accumulated outputs of q on the stream. */
static int zero_outputs(lc_backend *b, const lc_problem *p, const lc_eval_req *q, lc_error *err) {
  lc_cu_ctx *c = lc_cu(b);
  const size_t nd = (size_t)p->n_dofs * sizeof(double);
  cudaError_t e = cudaSuccess;
  const int hess = q->mode == LC_EL_HESS || q->mode == LC_EL_GN;
  if (q->g && q->mode != LC_EL_ENERGY && q->mode != LC_EL_JAC) e = cudaMemsetAsync(q->g, 0, nd, c->stream);
  if (!e && q->hv && q->mode == LC_EL_HVP) e = cudaMemsetAsync(q->hv, 0, nd, c->stream);
  if (!e && hess && c->nnz) e = cudaMemsetAsync(c->hval, 0, (size_t)c->nnz * sizeof(double), c->stream);
  return lc_cu_check(b, e, err, "clearing the outputs");
}

/* Launches every colour of term ti in mode q->mode. */
static int launch_term(lc_backend *b, const lc_problem *p, int ti, const lc_eval_req *q,
                       const lc_el_out *o, lc_error *err) {
  lc_cu_ctx *c = lc_cu(b);
  const lc_term *t = p->terms[ti];
  double *part = c->partials + c->terms[ti].part0;
  const int active = q->mode == LC_EL_JAC ? t->n_resid > 0 : t->weight > 0.0;
  if (!active)
    return lc_cu_check(b, cudaMemsetAsync(part, 0, (size_t)t->n_chunks * sizeof(double), c->stream), err,
                       "clearing the energies of term %d", ti);
  const lc_el_term et = el_term(b, p, ti, q->project);
  for (int col = 0; col < t->n_colors; ++col) {
    const int32_t ch0 = t->color_chunk[col], nch = t->color_chunk[col + 1] - ch0;
    if (nch <= 0) continue;
    const cudaError_t e = lc_cu_launch_elements(t->energy, q->mode, &et, o, ch0, nch,
                                                col == t->serial_color, part, c->stream);
    if (e) return lc_cu_check(b, e, err, "launching the %s kernel of term %d (%s)",
                              q->mode == LC_EL_HESS ? "Hessian" : "element", ti, t->info->inst);
  }
  return LC_OK;
}

/* Evaluates q on resident data; everything is queued on the stream. */
int lc_cu_eval(lc_backend *b, lc_problem *p, const lc_eval_req *q, lc_error *err) {
  lc_cu_ctx *c = lc_cu(b);
  const int hess = q->mode == LC_EL_HESS || q->mode == LC_EL_GN;
  if ((hess && !c->rowptr && p->nnz) || (q->mode == LC_EL_JAC && !c->jrowptr && p->jnnz))
    return lc_error_set(err, LC_ESTATE, "%s: evaluation before sync", b->id);
  int rc = zero_outputs(b, p, q, err);
  const lc_el_out o = {q->x, q->v, c->fixed, q->g, q->hv, c->hval, c->rowptr, q->r, c->jval, c->jrowptr};
  for (int ti = 0; !rc && ti < p->n_term_slots; ++ti)
    if (p->terms[ti]) rc = launch_term(b, p, ti, q, &o, err);
  if (!rc && c->n_fixed && (hess || q->mode == LC_EL_HVP)) {
    const unsigned blocks = (unsigned)((c->n_fixed + 255) / 256);
    k_fix<<<blocks, 256, 0, c->stream>>>(c->fixed_idx, c->n_fixed, c->diag, hess ? c->hval : NULL, q->v,
                                         q->mode == LC_EL_HVP ? q->hv : NULL);
    rc = lc_cu_check(b, cudaGetLastError(), err, "launching the fixed-DOF kernel");
  }
  if (!rc && q->E) rc = lc_cu_check(b, lc_cu_launch_sum(c->partials, c->n_partials, q->E, c->stream), err,
                                    "launching the energy sum");
  return rc;
}

/* Resident Hessian values. */
double *lc_cu_hess_values(lc_backend *b, lc_problem *p) {
  (void)p;
  return lc_cu(b)->hval;
}

/* Resident Jacobian values. */
double *lc_cu_jac_values(lc_backend *b, lc_problem *p) {
  (void)p;
  return lc_cu(b)->jval;
}
