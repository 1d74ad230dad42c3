/* lc_ad_def.h - instantiates one forward-mode AD scalar type (no include guard).
 *
 * Before including, define
 *   LC_AD_N     number of local variables (1..16),
 *   LC_AD_MODE  LC_AD_GRAD, LC_AD_HVP or LC_AD_HESS,
 *   LC_AD_T     the type name to create, e.g. lc_ad_h9.
 * The header creates the struct LC_AD_T and its operations LC_AD_T##_op, plus
 * the vector and matrix helpers of lc_ad_vec.h for this type.  It leaves the
 * three macros defined; lc_ad.h instantiates the standard set.
 *
 * Every operation is a value-semantics function of its operands, so writing
 * one component of a vector at a time (v.c[1] = s_mul(a, b)) carries the full
 * derivative of that component: there is no tape to get out of sync.
 *
 * Chain rule used throughout: for r = f(a),
 *   g_r = f' g_a,   H_r = f' H_a + f'' g_a g_a^T,
 * and for r = f(a, b) the two-argument analogue in LC_F(binary).  In HVP mode
 * each scalar also carries d = g.v and dg = H.v for the seeded direction v,
 * which costs O(N) per operation instead of O(N^2). */
#include "lc_ad_bind.h"

#if !defined(LC_AD_N) || !defined(LC_AD_MODE) || !defined(LC_AD_T)
#error "define LC_AD_N, LC_AD_MODE and LC_AD_T before including lc_ad_def.h"
#endif

typedef struct {
  double v;
  double g[LC_AD_N];
#if LC_AD_MODE == LC_AD_HVP
  double d;
  double dg[LC_AD_N];
#elif LC_AD_MODE == LC_AD_HESS
  double h[LC_TRI_SIZE(LC_AD_N)];
#endif
} LC_AD_T;

/* A constant: value x, all derivatives zero. */
LC_HD LC_AD_T LC_F(c)(double x) {
  LC_AD_T r;
  r.v = x;
  for (int i = 0; i < LC_AD_N; ++i) r.g[i] = 0.0;
#if LC_AD_MODE == LC_AD_HVP
  r.d = 0.0;
  for (int i = 0; i < LC_AD_N; ++i) r.dg[i] = 0.0;
#elif LC_AD_MODE == LC_AD_HESS
  for (int i = 0; i < LC_TRI_SIZE(LC_AD_N); ++i) r.h[i] = 0.0;
#endif
  return r;
}

/* Local variable i with value x; in HVP mode its direction component is dir. */
LC_HD LC_AD_T LC_F(var_dir)(double x, int i, double dir) {
  LC_AD_T r = LC_F(c)(x);
  r.g[i] = 1.0;
#if LC_AD_MODE == LC_AD_HVP
  r.d = dir;
#else
  (void)dir;
#endif
  return r;
}

/* Local variable i with value x (direction 0 in HVP mode). */
LC_HD LC_AD_T LC_F(var)(double x, int i) { return LC_F(var_dir)(x, i, 0.0); }

/* The value of a. */
LC_HD double LC_F(v)(LC_AD_T a) { return a.v; }

/* r = f(a) given f(a), f'(a), f''(a). */
LC_HD LC_AD_T LC_F(unary)(const LC_AD_T *a, double f0, double f1, double f2) {
  LC_AD_T r;
  r.v = f0;
  for (int i = 0; i < LC_AD_N; ++i) r.g[i] = f1 * a->g[i];
#if LC_AD_MODE == LC_AD_HVP
  r.d = f1 * a->d;
  for (int i = 0; i < LC_AD_N; ++i) r.dg[i] = f1 * a->dg[i] + f2 * a->d * a->g[i];
#elif LC_AD_MODE == LC_AD_HESS
  for (int i = 0, k = 0; i < LC_AD_N; ++i) {
    const double s = f2 * a->g[i];
    for (int j = 0; j <= i; ++j, ++k) r.h[k] = f1 * a->h[k] + s * a->g[j];
  }
#else
  (void)f2;
#endif
  return r;
}

/* r = f(a, b) given f and its first and second partial derivatives. */
LC_HD LC_AD_T LC_F(binary)(const LC_AD_T *a, const LC_AD_T *b, double f0, double fa,
                           double fb, double faa, double fab, double fbb) {
  LC_AD_T r;
  r.v = f0;
  for (int i = 0; i < LC_AD_N; ++i) r.g[i] = fa * a->g[i] + fb * b->g[i];
#if LC_AD_MODE == LC_AD_HVP
  r.d = fa * a->d + fb * b->d;
  {
    const double ca = faa * a->d + fab * b->d, cb = fab * a->d + fbb * b->d;
    for (int i = 0; i < LC_AD_N; ++i)
      r.dg[i] = fa * a->dg[i] + fb * b->dg[i] + ca * a->g[i] + cb * b->g[i];
  }
#elif LC_AD_MODE == LC_AD_HESS
  for (int i = 0, k = 0; i < LC_AD_N; ++i) {
    const double ai = faa * a->g[i] + fab * b->g[i];
    const double bi = fab * a->g[i] + fbb * b->g[i];
    for (int j = 0; j <= i; ++j, ++k)
      r.h[k] = fa * a->h[k] + fb * b->h[k] + ai * a->g[j] + bi * b->g[j];
  }
#else
  (void)faa; (void)fab; (void)fbb;
#endif
  return r;
}

/* r = sa*a + sb*b for constants sa, sb (exact linear combination). */
LC_HD LC_AD_T LC_F(lin)(const LC_AD_T *a, double sa, const LC_AD_T *b, double sb) {
  LC_AD_T r;
  r.v = sa * a->v + sb * b->v;
  for (int i = 0; i < LC_AD_N; ++i) r.g[i] = sa * a->g[i] + sb * b->g[i];
#if LC_AD_MODE == LC_AD_HVP
  r.d = sa * a->d + sb * b->d;
  for (int i = 0; i < LC_AD_N; ++i) r.dg[i] = sa * a->dg[i] + sb * b->dg[i];
#elif LC_AD_MODE == LC_AD_HESS
  for (int k = 0; k < LC_TRI_SIZE(LC_AD_N); ++k) r.h[k] = sa * a->h[k] + sb * b->h[k];
#endif
  return r;
}

/* a + b */
LC_HD LC_AD_T LC_F(add)(LC_AD_T a, LC_AD_T b) {
  LC_AD_T r;
  r.v = a.v + b.v;
  for (int i = 0; i < LC_AD_N; ++i) r.g[i] = a.g[i] + b.g[i];
#if LC_AD_MODE == LC_AD_HVP
  r.d = a.d + b.d;
  for (int i = 0; i < LC_AD_N; ++i) r.dg[i] = a.dg[i] + b.dg[i];
#elif LC_AD_MODE == LC_AD_HESS
  for (int k = 0; k < LC_TRI_SIZE(LC_AD_N); ++k) r.h[k] = a.h[k] + b.h[k];
#endif
  return r;
}

/* a - b */
LC_HD LC_AD_T LC_F(sub)(LC_AD_T a, LC_AD_T b) {
  LC_AD_T r;
  r.v = a.v - b.v;
  for (int i = 0; i < LC_AD_N; ++i) r.g[i] = a.g[i] - b.g[i];
#if LC_AD_MODE == LC_AD_HVP
  r.d = a.d - b.d;
  for (int i = 0; i < LC_AD_N; ++i) r.dg[i] = a.dg[i] - b.dg[i];
#elif LC_AD_MODE == LC_AD_HESS
  for (int k = 0; k < LC_TRI_SIZE(LC_AD_N); ++k) r.h[k] = a.h[k] - b.h[k];
#endif
  return r;
}

/* a * b (product rule; no multiplication by structural zeros). */
LC_HD LC_AD_T LC_F(mul)(LC_AD_T a, LC_AD_T b) {
  LC_AD_T r;
  r.v = a.v * b.v;
  for (int i = 0; i < LC_AD_N; ++i) r.g[i] = b.v * a.g[i] + a.v * b.g[i];
#if LC_AD_MODE == LC_AD_HVP
  r.d = b.v * a.d + a.v * b.d;
  for (int i = 0; i < LC_AD_N; ++i)
    r.dg[i] = b.v * a.dg[i] + a.v * b.dg[i] + b.d * a.g[i] + a.d * b.g[i];
#elif LC_AD_MODE == LC_AD_HESS
  for (int i = 0, k = 0; i < LC_AD_N; ++i)
    for (int j = 0; j <= i; ++j, ++k)
      r.h[k] = b.v * a.h[k] + a.v * b.h[k] + a.g[i] * b.g[j] + b.g[i] * a.g[j];
#endif
  return r;
}

/* a * c for a constant c. */
LC_HD LC_AD_T LC_F(mulc)(LC_AD_T a, double c) {
  LC_AD_T r = a;
  r.v *= c;
  for (int i = 0; i < LC_AD_N; ++i) r.g[i] *= c;
#if LC_AD_MODE == LC_AD_HVP
  r.d *= c;
  for (int i = 0; i < LC_AD_N; ++i) r.dg[i] *= c;
#elif LC_AD_MODE == LC_AD_HESS
  for (int k = 0; k < LC_TRI_SIZE(LC_AD_N); ++k) r.h[k] *= c;
#endif
  return r;
}

/* -a */
LC_HD LC_AD_T LC_F(neg)(LC_AD_T a) { return LC_F(mulc)(a, -1.0); }

/* a + c */
LC_HD LC_AD_T LC_F(addc)(LC_AD_T a, double c) { a.v += c; return a; }

/* a - c */
LC_HD LC_AD_T LC_F(subc)(LC_AD_T a, double c) { a.v -= c; return a; }

/* c - a */
LC_HD LC_AD_T LC_F(csub)(double c, LC_AD_T a) { return LC_F(addc)(LC_F(neg)(a), c); }

/* a / c for a constant c. */
LC_HD LC_AD_T LC_F(divc)(LC_AD_T a, double c) {
  LC_AD_T r = LC_F(mulc)(a, 1.0 / c);
  r.v = a.v / c;
  return r;
}

/* a / b */
LC_HD LC_AD_T LC_F(div)(LC_AD_T a, LC_AD_T b) {
  const double ib = 1.0 / b.v, f = a.v / b.v;
  return LC_F(binary)(&a, &b, f, ib, -f * ib, 0.0, -ib * ib, 2.0 * f * ib * ib);
}

/* c / a for a constant c. */
LC_HD LC_AD_T LC_F(cdiv)(double c, LC_AD_T a) {
  const double ia = 1.0 / a.v, f = c / a.v;
  return LC_F(unary)(&a, f, -f * ia, 2.0 * f * ia * ia);
}

/* 1 / a */
LC_HD LC_AD_T LC_F(recip)(LC_AD_T a) { return LC_F(cdiv)(1.0, a); }

/* a^2 */
LC_HD LC_AD_T LC_F(sq)(LC_AD_T a) { return LC_F(unary)(&a, a.v * a.v, 2.0 * a.v, 2.0); }

/* sqrt(a); derivatives are infinite at a = 0. */
LC_HD LC_AD_T LC_F(sqrt)(LC_AD_T a) {
  const double f = sqrt(a.v), f1 = 0.5 / f;
  return LC_F(unary)(&a, f, f1, -0.5 * f1 / a.v);
}

/* cbrt(a), defined for negative a too; derivatives are infinite at a = 0. */
LC_HD LC_AD_T LC_F(cbrt)(LC_AD_T a) {
  const double f = cbrt(a.v), f1 = 1.0 / (3.0 * f * f);
  return LC_F(unary)(&a, f, f1, -2.0 * f1 / (3.0 * a.v));
}

/* exp(a) */
LC_HD LC_AD_T LC_F(exp)(LC_AD_T a) {
  const double f = exp(a.v);
  return LC_F(unary)(&a, f, f, f);
}

/* log(a) */
LC_HD LC_AD_T LC_F(log)(LC_AD_T a) {
  const double ia = 1.0 / a.v;
  return LC_F(unary)(&a, log(a.v), ia, -ia * ia);
}

/* a^p for a constant exponent p (negative a allowed where pow is real).
 * p = 0 and p = 1 have exact zero derivatives (0 * inf would give NaN at a = 0). */
LC_HD LC_AD_T LC_F(powc)(LC_AD_T a, double p) {
  const double f1 = p * pow(a.v, p - 1.0), f2 = p * (p - 1.0) * pow(a.v, p - 2.0);
  return LC_F(unary)(&a, pow(a.v, p), p == 0.0 ? 0.0 : f1, p == 1.0 || p == 0.0 ? 0.0 : f2);
}

/* 1 if every derivative of a is zero. */
LC_HD int LC_F(is_const)(const LC_AD_T *a) {
  int k = 1;
  for (int i = 0; i < LC_AD_N; ++i) k &= a->g[i] == 0.0;
#if LC_AD_MODE == LC_AD_HVP
  k &= a->d == 0.0;
#endif
  return k;
}

/* a^b; for a <= 0 it is defined only when b is a constant (derivatives of
 * a^b with respect to b need log a). */
LC_HD LC_AD_T LC_F(pow)(LC_AD_T a, LC_AD_T b) {
  if (a.v <= 0.0 && LC_F(is_const)(&b)) return LC_F(powc)(a, b.v);
  const double la = log(a.v), f = pow(a.v, b.v), pm1 = pow(a.v, b.v - 1.0);
  const double fa = b.v * pm1, faa = b.v * (b.v - 1.0) * pow(a.v, b.v - 2.0);
  return LC_F(binary)(&a, &b, f, fa, f * la, faa, pm1 * (1.0 + b.v * la), f * la * la);
}

/* sin(a) */
LC_HD LC_AD_T LC_F(sin)(LC_AD_T a) {
  const double s = sin(a.v);
  return LC_F(unary)(&a, s, cos(a.v), -s);
}

/* cos(a) */
LC_HD LC_AD_T LC_F(cos)(LC_AD_T a) {
  const double c = cos(a.v);
  return LC_F(unary)(&a, c, -sin(a.v), -c);
}

/* tan(a) */
LC_HD LC_AD_T LC_F(tan)(LC_AD_T a) {
  const double t = tan(a.v), f1 = 1.0 + t * t;
  return LC_F(unary)(&a, t, f1, 2.0 * t * f1);
}

/* asin(a), |a| < 1 for finite derivatives. */
LC_HD LC_AD_T LC_F(asin)(LC_AD_T a) {
  const double f1 = 1.0 / sqrt(1.0 - a.v * a.v);
  return LC_F(unary)(&a, asin(a.v), f1, a.v * f1 * f1 * f1);
}

/* acos(a), |a| < 1 for finite derivatives. */
LC_HD LC_AD_T LC_F(acos)(LC_AD_T a) {
  const double f1 = -1.0 / sqrt(1.0 - a.v * a.v);
  return LC_F(unary)(&a, acos(a.v), f1, a.v * f1 * f1 * f1);
}

/* atan(a) */
LC_HD LC_AD_T LC_F(atan)(LC_AD_T a) {
  const double f1 = 1.0 / (1.0 + a.v * a.v);
  return LC_F(unary)(&a, atan(a.v), f1, -2.0 * a.v * f1 * f1);
}

/* atan2(y, x), all quadrants; derivatives undefined at the origin. */
LC_HD LC_AD_T LC_F(atan2)(LC_AD_T y, LC_AD_T x) {
  const double ir2 = 1.0 / (x.v * x.v + y.v * y.v), ir4 = ir2 * ir2;
  return LC_F(binary)(&y, &x, atan2(y.v, x.v), x.v * ir2, -y.v * ir2,
                      -2.0 * x.v * y.v * ir4, (y.v * y.v - x.v * x.v) * ir4,
                      2.0 * x.v * y.v * ir4);
}

/* sinh(a) */
LC_HD LC_AD_T LC_F(sinh)(LC_AD_T a) {
  const double s = sinh(a.v);
  return LC_F(unary)(&a, s, cosh(a.v), s);
}

/* cosh(a) */
LC_HD LC_AD_T LC_F(cosh)(LC_AD_T a) {
  const double c = cosh(a.v);
  return LC_F(unary)(&a, c, sinh(a.v), c);
}

/* tanh(a) */
LC_HD LC_AD_T LC_F(tanh)(LC_AD_T a) {
  const double t = tanh(a.v), f1 = 1.0 - t * t;
  return LC_F(unary)(&a, t, f1, -2.0 * t * f1);
}

/* |a|; at a = 0 the derivative taken is +1. */
LC_HD LC_AD_T LC_F(abs)(LC_AD_T a) { return a.v < 0.0 ? LC_F(neg)(a) : a; }

/* min(a, b); on a tie the first operand (with its derivatives) is returned. */
LC_HD LC_AD_T LC_F(min)(LC_AD_T a, LC_AD_T b) { return b.v < a.v ? b : a; }

/* max(a, b); on a tie the first operand (with its derivatives) is returned. */
LC_HD LC_AD_T LC_F(max)(LC_AD_T a, LC_AD_T b) { return b.v > a.v ? b : a; }

/* hypot(a, b) = sqrt(a^2 + b^2) without overflow in the value. */
LC_HD LC_AD_T LC_F(hypot)(LC_AD_T a, LC_AD_T b) {
  const double f = hypot(a.v, b.v), i1 = 1.0 / f, i3 = i1 * i1 * i1;
  return LC_F(binary)(&a, &b, f, a.v * i1, b.v * i1, b.v * b.v * i3, -a.v * b.v * i3,
                      a.v * a.v * i3);
}

/* This type's mode (LC_AD_GRAD, LC_AD_HVP or LC_AD_HESS). */
LC_HD int LC_F(mode)(void) { return LC_AD_MODE; }

/* The directional derivative d = g.v that a carries (0 outside HVP mode). */
LC_HD double LC_F(dir)(LC_AD_T a) {
#if LC_AD_MODE == LC_AD_HVP
  return a.d;
#else
  (void)a;
  return 0.0;
#endif
}

/* r = phi(x[0], ..., x[n-1]) for a function phi known only by its jet at the
 * values of x: f0 = phi, G[n] its gradient and, as the mode needs, U[n] =
 * Hphi xd for the directions xd[j] = dir(x[j]) (HVP) or Hp[n(n+1)/2] its
 * packed lower Hessian (HESS); the arrays a mode does not read may be NULL.
 * The chain rule through the derivatives that x carries. */
LC_HD LC_AD_T LC_F(jet)(const LC_AD_T *x, int n, double f0, const double *G, const double *U,
                        const double *Hp) {
  LC_AD_T r = LC_F(c)(f0);
  for (int a = 0; a < n; ++a)
    for (int i = 0; i < LC_AD_N; ++i) r.g[i] += G[a] * x[a].g[i];
#if LC_AD_MODE == LC_AD_HVP
  (void)Hp;
  for (int a = 0; a < n; ++a) {
    r.d += G[a] * x[a].d;
    for (int i = 0; i < LC_AD_N; ++i) r.dg[i] += G[a] * x[a].dg[i] + U[a] * x[a].g[i];
  }
#elif LC_AD_MODE == LC_AD_HESS
  (void)U;
  for (int a = 0; a < n; ++a)
    for (int k = 0; k < LC_TRI_SIZE(LC_AD_N); ++k) r.h[k] += G[a] * x[a].h[k];
  for (int i = 0, k = 0; i < LC_AD_N; ++i) {
    double y[16]; /* y_b = sum_a x_a.g[i] Hphi_ab (n <= 16, as N) */
    for (int b = 0; b < n; ++b) {
      y[b] = 0.0;
      for (int a = 0; a < n; ++a) y[b] += x[a].g[i] * Hp[a >= b ? LC_TRI(a, b) : LC_TRI(b, a)];
    }
    for (int j = 0; j <= i; ++j, ++k)
      for (int b = 0; b < n; ++b) r.h[k] += y[b] * x[b].g[j];
  }
#else
  (void)U;
  (void)Hp;
#endif
  return r;
}

/* Value comparisons. */
LC_HD int LC_F(lt)(LC_AD_T a, LC_AD_T b) { return a.v < b.v; }
LC_HD int LC_F(le)(LC_AD_T a, LC_AD_T b) { return a.v <= b.v; }
LC_HD int LC_F(gt)(LC_AD_T a, LC_AD_T b) { return a.v > b.v; }
LC_HD int LC_F(ge)(LC_AD_T a, LC_AD_T b) { return a.v >= b.v; }
LC_HD int LC_F(isfinite)(LC_AD_T a) { return isfinite(a.v); }

#include "lc_ad_vec.h"
