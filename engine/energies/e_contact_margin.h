/* e_contact_margin.h - the contact margin: an energy that is always 0 and
 * exists for its step bound (no include guard: instantiated once per AD
 * mode by instances.h).
 *
 *   E = 0;  step bound (LC_BOUND_MARGIN, max_step.h): the line search keeps
 *   every vertex within its r of its x_ref, |x - x_ref| <= r.
 * A contact candidate list gathered at x_ref with padding dhat + dmin + 2 r
 * stays complete while no vertex moves more than r (engine/contact).
 * element: vertex (K = 1), D = 3; constants k[0..2] = x_ref (the rest
 * position from the setup), k[3] = r (radius, 1e-3 from the setup); no
 * parameters. */
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  (void)x;
  (void)k;
  (void)p;
  return s_c(0.0);
}
