/* e_ff_curl.h - integrable PolyVector frame field: curl and quotient across
 * an interior edge (no include guard: instantiated once per AD mode by
 * instances.h; einst_mode.h derives E = 1/2 |r|^2).  Reference:
 * shared/reference-values.md section 2; docs/frames.md.
 *
 * With alpha, beta per face as in e_ff_smooth.h and ebar the conjugate of
 * the edge direction in each face's frame, the components of the field
 * along the edge are a = Re(alpha ebar), b = Re(beta ebar); with
 * c0 = a^2 b^2 and c2 = -(a^2 + b^2),
 *   r0 = w_c (c0_f - c0_g),  r1 = sqrt(w_c) (c2_f - c2_g)           (curl)
 *   r2 = sqrt(w_q) [(b_f^2 - a_f^2) a_g b_g - (b_g^2 - a_g^2) a_f b_f]  (quotient)
 * element: face pair (K = 2: f, g), D = 4; constants k[0..1] = ebar_f,
 * k[2..3] = ebar_g (Re, Im) from the rest mesh; parameters p[0] = w_c
 * (default 100), p[1] = w_q (default 10). */
LC_HD void LC_RFN(LC_EINST)(S *r, const S *x, const double *k, const double *p) {
  const S af = cx_mulc(v2_make(x[0], x[1]), k[0], k[1]).c[0], bf = cx_mulc(v2_make(x[2], x[3]), k[0], k[1]).c[0];
  const S ag = cx_mulc(v2_make(x[4], x[5]), k[2], k[3]).c[0], bg = cx_mulc(v2_make(x[6], x[7]), k[2], k[3]).c[0];
  const S af2 = s_sq(af), bf2 = s_sq(bf), ag2 = s_sq(ag), bg2 = s_sq(bg);
  r[0] = s_mulc(s_sub(s_mul(af2, bf2), s_mul(ag2, bg2)), p[0]);
  r[1] = s_mulc(s_sub(s_add(ag2, bg2), s_add(af2, bf2)), sqrt(p[0]));
  r[2] = s_mulc(s_sub(s_mul(s_sub(bf2, af2), s_mul(ag, bg)), s_mul(s_sub(bg2, ag2), s_mul(af, bf))), sqrt(p[1]));
}
