/* e_ff_smooth.h - integrable PolyVector frame field: smoothness across an
 * interior edge (no include guard: instantiated once per AD mode by
 * instances.h; einst_mode.h derives E = 1/2 |r|^2).  Reference:
 * shared/reference-values.md section 2; docs/frames.md.
 *
 * A face's variable (x0, x1, x2, x3) is the pair of complex numbers
 * alpha = x0 + i x1, beta = x2 + i x3 in the face's frame (b1, b2); the
 * field is {+-alpha, +-beta}, the roots of z^4 + C2 z^2 + C0 with
 *   C0 = alpha^2 beta^2,  C2 = -(alpha^2 + beta^2).
 * Across the edge shared by faces f and g, t = ebar_f / ebar_g transports
 * g's frame to f's (ebar: the conjugate of the edge direction in a face's
 * frame), and
 *   r = (C0_f t^4 - C0_g,  C2_f t^2 - C2_g)   (Re, Im of each: 4 components).
 * element: face pair (K = 2: f, g), D = 4; constants k[0..1] = t (Re, Im)
 * from the rest mesh; no parameters.  The smoothness weight w_s is the
 * term's weight. */
LC_HD void LC_RFN(LC_EINST)(S *r, const S *x, const double *k, const double *p) {
  (void)p;
  const double t2r = k[0] * k[0] - k[1] * k[1], t2i = 2.0 * k[0] * k[1];
  const double t4r = t2r * t2r - t2i * t2i, t4i = 2.0 * t2r * t2i;
  const V2 af = cx_sq(v2_make(x[0], x[1])), bf = cx_sq(v2_make(x[2], x[3]));
  const V2 ag = cx_sq(v2_make(x[4], x[5])), bg = cx_sq(v2_make(x[6], x[7]));
  const V2 c0 = v2_sub(cx_mulc(cx_mul(af, bf), t4r, t4i), cx_mul(ag, bg));
  const V2 c2 = v2_sub(v2_add(ag, bg), cx_mulc(v2_add(af, bf), t2r, t2i)); /* C2 = -(a^2 + b^2) */
  r[0] = c0.c[0];
  r[1] = c0.c[1];
  r[2] = c2.c[0];
  r[3] = c2.c[1];
}
