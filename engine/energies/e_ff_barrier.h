/* e_ff_barrier.h - frame field: a face's two directions must not collapse
 * or swap (no include guard: instantiated once per AD mode by instances.h;
 * einst_mode.h derives E = 1/2 |r|^2).  Reference:
 * shared/reference-values.md section 2; docs/frames.md.
 *
 *   x = Im(beta conj(alpha)),  g = x^3/s^3 - 3 x^2/s^2 + 3 x/s,
 *   r = sqrt(w) (1/g - 1) for 0 < x < s,  0 for x >= s,  +inf for x <= 0;
 * g rises from 0 to 1 on [0, s] with zero slope and curvature at s, so r is
 * C2.  Step bound LC_BOUND_FF_ORIENT (max_step.h): the first root of x along
 * the step.  element: one face (K = 1), D = 4; no constants; parameters
 * p[0] = s (default 0.9), p[1] = w (default 0.1). */
LC_HD void LC_RFN(LC_EINST)(S *r, const S *x, const double *k, const double *p) {
  (void)k;
  const S im = s_sub(s_mul(x[3], x[0]), s_mul(x[2], x[1]));
  const double xv = s_v(im), sv = p[0];
  if (!(xv > 0.0)) {
    r[0] = s_c(INFINITY);
    return;
  }
  if (xv >= sv) {
    r[0] = s_c(0.0);
    return;
  }
  const S y = s_mulc(im, 1.0 / sv); /* g = y^3 - 3 y^2 + 3 y = 1 - (1 - y)^3 */
  const S om = s_csub(1.0, y);
  const S g = s_csub(1.0, s_mul(s_sq(om), om));
  r[0] = s_mulc(s_subc(s_recip(g), 1.0), sqrt(p[1]));
}
