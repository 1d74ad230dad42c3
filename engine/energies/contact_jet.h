/* contact_jet.h - the squared distance of a contact pair and its
 * derivatives with respect to the pair's 12 local values, for the contact
 * energies (e_contact_pt.h, e_contact_ee.h) in every AD mode.  Host and
 * device code (LC_HD).
 *
 * d^2 is a function of the 9 components of three difference vectors of the
 * four points (contact_geom.h lc_ct_weights: which differences, by passive
 * weights chosen on the values).  It is differentiated by forward-mode AD on
 * those 9 (the types lc_ad_g9, lc_ad_v9, lc_ad_h9, named explicitly: this
 * header is included while an energy instantiates the short vocabulary for
 * some other type), and the derivatives are pulled back through the
 * weights; the energy lifts the result onto its own AD scalars with s_jet.
 * Differentiating 9 seeded variables instead of 12 combined ones keeps the
 * GPU kernels of the contact energies within the stack budget and does a
 * third less work. */
#ifndef LC_CONTACT_JET_H
#define LC_CONTACT_JET_H

#include "../ad/lc_ad.h"
#include "contact_geom.h"

/* G[3 a + c] = sum_r w[4 r + a] g[3 r + c]: a gradient in the 9 differences
 * pulled back to the 12 values. */
LC_HD void lc_ct_pull_vec(const double *w, const double *g, double *G) {
  for (int a = 0; a < 4; ++a)
    for (int c = 0; c < 3; ++c)
      G[3 * a + c] = w[a] * g[c] + w[4 + a] * g[3 + c] + w[8 + a] * g[6 + c];
}

/* The packed Hessian h[45] in the 9 differences pulled back to the packed
 * Hessian Hp[78] in the 12 values. */
LC_HD void lc_ct_pull_hess(const double *w, const double *h, double *Hp) {
  for (int i = 0; i < 12; ++i)
    for (int j = 0; j <= i; ++j) {
      const int a = i / 3, c = i % 3, b = j / 3, e = j % 3;
      double s = 0.0;
      for (int r = 0; r < 3; ++r)
        for (int q = 0; q < 3; ++q) {
          const int m = 3 * r + c, l = 3 * q + e;
          s += w[4 * r + a] * w[4 * q + b] * h[m >= l ? LC_TRI(m, l) : LC_TRI(l, m)];
        }
      Hp[LC_TRI(i, j)] = s;
    }
}

/* d^2 of classification t at the values x[12], and as mode (lc_ad_base.h)
 * asks, its gradient G[12] (GRAD and above), U[12] = H xd for the
 * directions xd[12] (HVP) or its packed Hessian Hp[78] (HESS), all with
 * respect to x; arrays the mode does not use are not written. */
LC_HD double lc_ct_d2_jet(lc_ct_dist t, const double *x, const double *xd, int mode, double *G,
                          double *U, double *Hp) {
  double w[12], dv[9];
  const int f = lc_ct_weights(t, w);
  lc_ct_diffs(w, x, dv);
  if (mode == LC_AD_GRAD) {
    lc_ad_g9_v3 d[3];
    for (int m = 0; m < 9; ++m) d[m / 3].c[m % 3] = lc_ad_g9_var(dv[m], m);
    const lc_ad_g9 r = lc_ad_g9_v3_d2_form(f, d);
    lc_ct_pull_vec(w, r.g, G);
    return r.v;
  }
  if (mode == LC_AD_HVP) {
    double dd[9];
    lc_ct_diffs(w, xd, dd);
    lc_ad_v9_v3 d[3];
    for (int m = 0; m < 9; ++m) d[m / 3].c[m % 3] = lc_ad_v9_var_dir(dv[m], m, dd[m]);
    const lc_ad_v9 r = lc_ad_v9_v3_d2_form(f, d);
    lc_ct_pull_vec(w, r.g, G);
    lc_ct_pull_vec(w, r.dg, U);
    return r.v;
  }
  if (mode == LC_AD_HESS) {
    lc_ad_h9_v3 d[3];
    for (int m = 0; m < 9; ++m) d[m / 3].c[m % 3] = lc_ad_h9_var(dv[m], m);
    const lc_ad_h9 r = lc_ad_h9_v3_d2_form(f, d);
    lc_ct_pull_vec(w, r.g, G);
    lc_ct_pull_hess(w, r.h, Hp);
    return r.v;
  }
  return lc_ct_d2_form(f, dv);
}

#endif
