/* test_ad.c - Check suite for the per-element forward-mode AD (engine/ad).
 *
 * Every scalar operator is checked in every mode against analytic first and
 * second derivatives (chain rule applied to inputs with random gradients and
 * Hessians), the vector/matrix helpers against finite differences of the
 * passive version, and all modes against each other.
 *
 * The file includes itself (T_STAGE): stage 2 holds the per-type drivers,
 * written once in the AD vocabulary; stage 1 includes it for the GRAD, HVP
 * and HESS types of one N.  Drivers exist for lc_ad_p and lc_ad_{g,v,h}N for
 * every N of lc_ad.h, {1, 2, 3, 4, 6, 8, 9, 12}.  The drivers exchange plain doubles (tin, tres)
 * with the type-independent checks of the first part. */
#ifndef T_STAGE

#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "ad/lc_ad.h"

#define TMAXN 12
#define TMAXOUT 16
#define TNIN 20 /* inputs of the helper programs */
#define T_PI 3.14159265358979323846
#define T_STR_(x) #x
#define T_STR(x) T_STR_(x)

/* An AD input: value and prescribed gradient, Hessian (stride TMAXN) and HVP direction. */
typedef struct {
  double v, g[TMAXN], H[TMAXN * TMAXN], dir[TMAXN];
} tin;

/* An AD result; fields a mode does not compute are NaN. */
typedef struct {
  double v, g[TMAXN], d, dg[TMAXN], H[TMAXN * TMAXN];
} tres;

enum {
  U_NEG, U_ADDC, U_SUBC, U_CSUB, U_MULC, U_DIVC, U_CDIV, U_SQRT, U_CBRT, U_EXP, U_LOG,
  U_POWC, U_POWK, U_SIN, U_COS, U_TAN, U_ASIN, U_ACOS, U_ATAN, U_SINH, U_COSH, U_TANH,
  U_ABS, U_SQ, U_RECIP, U_COUNT
};
enum { B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_ATAN2, B_HYPOT, B_MIN, B_MAX, B_COUNT };
enum { P_V2, P_V3, P_M2A, P_M2B, P_M3A, P_M3B, P_M3C, P_CW_SEQ, P_CW_REF, P_ARAP, P_COUNT };

/* Drivers of one AD type. */
typedef struct {
  const char *name;
  int n, mode;
  void (*un)(int op, double p, const tin *a, tres *r);
  void (*bin)(int op, const tin *a, const tin *b, tres *r);
  int (*prog)(int id, int n, const double *x, const double *dir, tres *r); /* # outputs */
  int (*misc)(void);                                                       /* # failures */
} ttype;

/* Base values of the program inputs: in[0..8] and in[9..17] are two
 * well-conditioned 3x3 matrices, in[18], in[19] scalars. */
static const double tbase[TNIN] = {1.2, 0.3,  -0.2, 0.1, 0.9, 0.4, -0.3, 0.2, 1.1, 0.7,
                                   -0.5, 0.2, 0.4,  1.3, -0.1, 0.2, 0.3, 0.8, 0.8, -0.5};

/* Weight of variable i (of n) in program input j. */
static double tweight(int j, int i, int n) { return 0.3 * sin(1.7 * j + 2.3 * i + 0.4) / sqrt(n); }

#define T_STAGE 1
#define T_N 1
#include "test_ad.c"
#undef T_N
#define T_N 2
#include "test_ad.c"
#undef T_N
#define T_N 3
#include "test_ad.c"
#undef T_N
#define T_N 4
#include "test_ad.c"
#undef T_N
#define T_N 6
#include "test_ad.c"
#undef T_N
#define T_N 8
#include "test_ad.c"
#undef T_N
#define T_N 9
#include "test_ad.c"
#undef T_N
#define T_N 12
#include "test_ad.c"
#undef T_N
#undef T_STAGE
#define T_STAGE 2
#define T_N 0
#define T_MODE LC_AD_PASSIVE
#define LC_AD_T lc_ad_p
#include "test_ad.c"
#undef T_N
#undef T_MODE
#undef LC_AD_T

#define T_TYPES(n) &lc_ad_g##n##_t_type, &lc_ad_v##n##_t_type, &lc_ad_h##n##_t_type
static const ttype *const ttypes[] = {T_TYPES(1), T_TYPES(2), T_TYPES(3), T_TYPES(4),
                                      T_TYPES(6), T_TYPES(8), T_TYPES(9), T_TYPES(12)};
#define NTTYPES ((int)(sizeof ttypes / sizeof ttypes[0]))
static const int tns[] = {1, 2, 3, 4, 6, 8, 9, 12};
#define NTNS ((int)(sizeof tns / sizeof tns[0]))

/* The type of size n and mode (LC_AD_GRAD, LC_AD_HVP, LC_AD_HESS). */
static const ttype *find_type(int n, int mode) {
  for (int i = 0; i < NTTYPES; ++i)
    if (ttypes[i]->n == n && ttypes[i]->mode == mode) return ttypes[i];
  return NULL;
}

/* ---- failure reporting -------------------------------------------------- */

static int nfail;

/* Counts a failed check and prints the first few. */
__attribute__((format(printf, 2, 3))) static void chk(int ok, const char *fmt, ...) {
  if (ok) return;
  if (++nfail <= 25) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
  }
}

/* |got - want| <= tol * scale (equal infinities pass, NaN fails). */
static int near(double got, double want, double scale, double tol) {
  return got == want || fabs(got - want) <= tol * scale;
}

static unsigned long long rng = 0x5eedULL;

static double urand(double lo, double hi) { return lc_test_rand(&rng, lo, hi); }

/* Random gradient, symmetric Hessian and direction of size n; value v. */
static void rand_tin(tin *a, int n, double v) {
  memset(a, 0, sizeof *a);
  a->v = v;
  for (int i = 0; i < n; ++i) {
    a->g[i] = urand(-1.0, 1.0);
    a->dir[i] = urand(-1.0, 1.0);
    for (int j = 0; j <= i; ++j) a->H[i * TMAXN + j] = a->H[j * TMAXN + i] = urand(-1.0, 1.0);
  }
}

/* ---- analytic references ----------------------------------------------- */

/* f, f', f'' of unary op at x (parameter p), written independently of the AD code. */
static void ref_unary(int op, double x, double p, double f[3]) {
  const double sg = x < 0.0 ? -1.0 : 1.0;
  switch (op) {
  case U_NEG: f[0] = -x, f[1] = -1.0, f[2] = 0.0; break;
  case U_ADDC: f[0] = x + p, f[1] = 1.0, f[2] = 0.0; break;
  case U_SUBC: f[0] = x - p, f[1] = 1.0, f[2] = 0.0; break;
  case U_CSUB: f[0] = p - x, f[1] = -1.0, f[2] = 0.0; break;
  case U_MULC: f[0] = x * p, f[1] = p, f[2] = 0.0; break;
  case U_DIVC: f[0] = x / p, f[1] = 1.0 / p, f[2] = 0.0; break;
  case U_CDIV: f[0] = p / x, f[1] = -p / (x * x), f[2] = 2.0 * p / (x * x * x); break;
  case U_SQRT: f[0] = sqrt(x), f[1] = 0.5 * pow(x, -0.5), f[2] = -0.25 * pow(x, -1.5); break;
  case U_CBRT:
    f[0] = cbrt(x), f[1] = pow(fabs(x), -2.0 / 3.0) / 3.0;
    f[2] = -sg * 2.0 / 9.0 * pow(fabs(x), -5.0 / 3.0);
    break;
  case U_EXP: f[0] = f[1] = f[2] = exp(x); break;
  case U_LOG: f[0] = log(x), f[1] = 1.0 / x, f[2] = -1.0 / (x * x); break;
  case U_POWC:
  case U_POWK:
    f[0] = pow(x, p);
    f[1] = p == 0.0 ? 0.0 : p == 1.0 ? 1.0 : p * pow(x, p - 1.0);
    f[2] = p == 0.0 || p == 1.0 ? 0.0 : p == 2.0 ? 2.0 : p * (p - 1.0) * pow(x, p - 2.0);
    break;
  case U_SIN: f[0] = sin(x), f[1] = cos(x), f[2] = -sin(x); break;
  case U_COS: f[0] = cos(x), f[1] = -sin(x), f[2] = -cos(x); break;
  case U_TAN: f[0] = tan(x), f[1] = 1.0 / (cos(x) * cos(x)), f[2] = 2.0 * sin(x) / pow(cos(x), 3); break;
  case U_ASIN: f[0] = asin(x), f[1] = pow(1.0 - x * x, -0.5), f[2] = x * pow(1.0 - x * x, -1.5); break;
  case U_ACOS: f[0] = acos(x), f[1] = -pow(1.0 - x * x, -0.5), f[2] = -x * pow(1.0 - x * x, -1.5); break;
  case U_ATAN: f[0] = atan(x), f[1] = 1.0 / (1.0 + x * x), f[2] = -2.0 * x / pow(1.0 + x * x, 2); break;
  case U_SINH: f[0] = sinh(x), f[1] = cosh(x), f[2] = sinh(x); break;
  case U_COSH: f[0] = cosh(x), f[1] = sinh(x), f[2] = cosh(x); break;
  case U_TANH:
    f[0] = tanh(x), f[1] = 1.0 / (cosh(x) * cosh(x)), f[2] = -2.0 * sinh(x) / pow(cosh(x), 3);
    break;
  case U_ABS: f[0] = fabs(x), f[1] = sg, f[2] = 0.0; break; /* derivative +1 at 0 */
  case U_SQ: f[0] = x * x, f[1] = 2.0 * x, f[2] = 2.0; break;
  case U_RECIP: f[0] = 1.0 / x, f[1] = -1.0 / (x * x), f[2] = 2.0 / (x * x * x); break;
  default: f[0] = f[1] = f[2] = NAN;
  }
}

/* f, fa, fb, faa, fab, fbb of binary op at (a, b); b constant: only f, fa, faa. */
static void ref_binary(int op, double a, double b, int bconst, double f[6]) {
  const double r2 = a * a + b * b;
  for (int i = 0; i < 6; ++i) f[i] = 0.0;
  switch (op) {
  case B_ADD: f[0] = a + b, f[1] = 1.0, f[2] = 1.0; break;
  case B_SUB: f[0] = a - b, f[1] = 1.0, f[2] = -1.0; break;
  case B_MUL: f[0] = a * b, f[1] = b, f[2] = a, f[4] = 1.0; break;
  case B_DIV:
    f[0] = a / b, f[1] = 1.0 / b, f[2] = -a / (b * b), f[4] = -1.0 / (b * b);
    f[5] = 2.0 * a / (b * b * b);
    break;
  case B_POW:
    f[0] = bconst ? pow(a, b) : exp(b * log(a));
    f[1] = b * pow(a, b - 1.0);
    f[3] = b == 2.0 ? 2.0 : b * (b - 1.0) * pow(a, b - 2.0);
    if (!bconst) {
      f[2] = f[0] * log(a), f[4] = pow(a, b - 1.0) * (1.0 + b * log(a));
      f[5] = f[0] * log(a) * log(a);
    }
    break;
  case B_ATAN2: /* atan2(y = a, x = b) */
    f[0] = atan2(a, b), f[1] = b / r2, f[2] = -a / r2, f[3] = -2.0 * a * b / (r2 * r2);
    f[4] = (a * a - b * b) / (r2 * r2), f[5] = 2.0 * a * b / (r2 * r2);
    break;
  case B_HYPOT:
    f[0] = sqrt(r2), f[1] = a / sqrt(r2), f[2] = b / sqrt(r2), f[3] = b * b / pow(r2, 1.5);
    f[4] = -a * b / pow(r2, 1.5), f[5] = a * a / pow(r2, 1.5);
    break;
  case B_MIN: /* tie: the first operand */
    f[0] = b < a ? b : a, f[1] = b < a ? 0.0 : 1.0, f[2] = 1.0 - f[1];
    break;
  case B_MAX:
    f[0] = b > a ? b : a, f[1] = b > a ? 0.0 : 1.0, f[2] = 1.0 - f[1];
    break;
  default: f[0] = NAN;
  }
}

/* Expected result (gradient, Hessian, d, dg) of r = F(a, b) from the partials
 * f = {value, fa, fb, faa, fab, fbb}; b may be NULL (unary). */
static void chain(const double *f, const tin *a, const tin *b, int n, tres *e) {
  static const tin zero;
  if (!b) b = &zero;
  e->v = f[0];
  for (int i = 0; i < n; ++i) {
    e->g[i] = f[1] * a->g[i] + f[2] * b->g[i];
    for (int j = 0; j < n; ++j)
      e->H[i * TMAXN + j] = f[1] * a->H[i * TMAXN + j] + f[2] * b->H[i * TMAXN + j] +
                            f[3] * a->g[i] * a->g[j] + f[4] * (a->g[i] * b->g[j] + b->g[i] * a->g[j]) +
                            f[5] * b->g[i] * b->g[j];
  }
  e->d = 0.0;
  for (int i = 0; i < n; ++i) {
    e->d += e->g[i] * a->dir[i];
    e->dg[i] = 0.0;
    for (int j = 0; j < n; ++j) e->dg[i] += e->H[i * TMAXN + j] * a->dir[j];
  }
}

static double vmax(const double *x, int n) {
  double m = 0.0;
  for (int i = 0; i < n; ++i) m = fmax(m, fabs(x[i]));
  return m;
}

static double mmax(const double *h, int n) {
  double m = 0.0;
  for (int i = 0; i < n; ++i) m = fmax(m, vmax(h + i * TMAXN, n));
  return m;
}

static const char *const mode_name[] = {"passive", "grad", "hvp", "hess"};

/* Checks the results r[0..3] (passive, grad, hvp, hess) against the expected e.
 * gs, hs: scales of the gradient and Hessian terms; tol relative to them. */
static void check_modes(const char *what, int n, const tres r[4], const tres *e, const double *dir,
                        double gs, double hs, double tol) {
  const double ds = vmax(dir, n) * n;
  for (int m = 0; m < 4; ++m) {
    chk(near(r[m].v, e->v, fabs(e->v), 1e-14), "%s N=%d %s: value %.17g want %.17g", what, n,
        mode_name[m], r[m].v, e->v);
    chk(near(r[m].v, r[0].v, fabs(r[0].v), 1e-15), "%s N=%d %s: value differs from passive",
        what, n, mode_name[m]);
  }
  for (int m = 1; m < 4; ++m)
    for (int i = 0; i < n; ++i) {
      chk(near(r[m].g[i], e->g[i], gs, tol), "%s N=%d %s: g[%d] %.17g want %.17g", what, n,
          mode_name[m], i, r[m].g[i], e->g[i]);
      chk(near(r[m].g[i], r[1].g[i], vmax(r[1].g, n), 1e-15), "%s N=%d %s: g[%d] differs", what,
          n, mode_name[m], i);
    }
  chk(near(r[2].d, e->d, gs * ds, tol), "%s N=%d: d %.17g want %.17g", what, n, r[2].d, e->d);
  for (int i = 0; i < n; ++i) {
    chk(near(r[2].dg[i], e->dg[i], hs * ds, tol), "%s N=%d: dg[%d] %.17g want %.17g", what, n, i,
        r[2].dg[i], e->dg[i]);
    for (int j = 0; j < n; ++j)
      chk(near(r[3].H[i * TMAXN + j], e->H[i * TMAXN + j], hs, tol),
          "%s N=%d: H[%d][%d] %.17g want %.17g", what, n, i, j, r[3].H[i * TMAXN + j],
          e->H[i * TMAXN + j]);
  }
}

/* ---- scalar operators against analytic derivatives ---------------------- */

typedef struct {
  int op;
  const char *name;
  double p;
  int npt;
  double pt[6];
} urow;

static const urow urows[] = {
    {U_NEG, "neg", 0.0, 3, {-1.3, 0.0, 2.5}},
    {U_ADDC, "addc", 0.7, 2, {-1.3, 2.5}},
    {U_SUBC, "subc", 0.7, 2, {-1.3, 2.5}},
    {U_CSUB, "csub", 0.7, 2, {-1.3, 2.5}},
    {U_MULC, "mulc", -1.9, 2, {-1.3, 2.5}},
    {U_DIVC, "divc", 3.0, 2, {-1.3, 2.5}},
    {U_DIVC, "divc", -0.3, 2, {-1.3, 2.5}},
    {U_CDIV, "cdiv", 2.0, 3, {-1.5, 0.4, 3.0}},
    {U_SQRT, "sqrt", 0.0, 5, {1e-12, 1e-6, 0.3, 2.0, 50.0}},
    {U_CBRT, "cbrt", 0.0, 6, {-27.0, -0.3, -1e-9, 1e-9, 0.2, 8.0}},
    {U_EXP, "exp", 0.0, 3, {-3.0, 0.0, 1.5}},
    {U_LOG, "log", 0.0, 4, {1e-8, 0.5, 1.0, 20.0}},
    {U_POWC, "powc3", 3.0, 5, {-2.0, -0.5, 0.0, 0.7, 1.3}},
    {U_POWC, "powc2", 2.0, 3, {-1.5, 0.0, 1.1}},
    {U_POWC, "powc-2", -2.0, 2, {-1.5, 0.4}},
    {U_POWC, "powc.5", 0.5, 2, {0.3, 4.0}},
    {U_POWC, "powc2.5", 2.5, 2, {0.2, 3.0}},
    {U_POWC, "powc1", 1.0, 3, {-0.7, 0.0, 2.0}},
    {U_POWC, "powc0", 0.0, 3, {-0.7, 0.0, 0.5}},
    {U_POWK, "pow(a,3)", 3.0, 4, {-2.0, -0.5, 0.7, 1.3}},
    {U_POWK, "pow(a,-2)", -2.0, 2, {-1.5, 2.0}},
    {U_POWK, "pow(a,2)", 2.0, 3, {-1.0, 0.0, 0.6}},
    {U_POWK, "pow(a,.5)", 0.5, 1, {0.3}},
    {U_SIN, "sin", 0.0, 4, {-2.0, 0.0, 0.7, 3.0}},
    {U_COS, "cos", 0.0, 4, {-2.0, 0.0, 0.7, 3.0}},
    {U_TAN, "tan", 0.0, 4, {-1.2, 0.0, 0.5, 1.4}},
    {U_ASIN, "asin", 0.0, 4, {-0.9, 0.0, 0.5, 0.99}},
    {U_ACOS, "acos", 0.0, 4, {-0.9, 0.0, 0.5, 0.99}},
    {U_ATAN, "atan", 0.0, 4, {-5.0, 0.0, 0.3, 10.0}},
    {U_SINH, "sinh", 0.0, 3, {-2.0, 0.0, 1.5}},
    {U_COSH, "cosh", 0.0, 3, {-2.0, 0.0, 1.5}},
    {U_TANH, "tanh", 0.0, 4, {-3.0, 0.0, 0.4, 2.0}},
    {U_ABS, "abs", 0.0, 4, {-1.7, -1e-300, 0.0, 0.6}},
    {U_SQ, "sq", 0.0, 3, {-1.5, 0.0, 2.0}},
    {U_RECIP, "recip", 0.0, 3, {-2.0, 0.3, 5.0}},
};
#define NUROWS ((int)(sizeof urows / sizeof urows[0]))

/* Runs unary op at one input in all four modes of size n. */
static void run_unary(int op, double p, const tin *a, int n, tres r[4]) {
  lc_ad_p_t_type.un(op, p, a, &r[0]);
  for (int m = 1; m < 4; ++m) find_type(n, m)->un(op, p, a, &r[m]);
}

START_TEST(test_unary_ops) {
  int seen[U_COUNT] = {0};
  nfail = 0;
  for (int k = 0; k < NUROWS; ++k)
    for (int t = 0; t < urows[k].npt; ++t)
      for (int ni = 0; ni < NTNS; ++ni) {
        const int n = tns[ni];
        const urow *u = &urows[k];
        tin a;
        tres r[4], e;
        double f[3], fb[6] = {0};
        char what[64];
        rand_tin(&a, n, u->pt[t]);
        ref_unary(u->op, u->pt[t], u->p, f);
        fb[0] = f[0], fb[1] = f[1], fb[3] = f[2];
        chain(fb, &a, NULL, n, &e);
        run_unary(u->op, u->p, &a, n, r);
        snprintf(what, sizeof what, "%s(%g)", u->name, u->pt[t]);
        const double gs = fabs(f[1]) * vmax(a.g, n);
        const double hs = fabs(f[1]) * mmax(a.H, n) + fabs(f[2]) * vmax(a.g, n) * vmax(a.g, n);
        check_modes(what, n, r, &e, a.dir, gs, hs, 1e-13);
        for (int m = 1; m < 4; ++m) /* finite where the derivatives are */
          chk(isfinite(r[m].g[0]) || !isfinite(f[1]), "%s N=%d: non-finite gradient", what, n);
        seen[u->op] = 1;
      }
  for (int op = 0; op < U_COUNT; ++op) chk(seen[op], "unary op %d untested", op);
  ck_assert_msg(nfail == 0, "%d unary checks failed", nfail);
}
END_TEST

typedef struct {
  int op;
  const char *name;
  int bconst; /* b is a constant (zero derivatives) */
  int npt;
  double pt[8][2];
} brow;

static const brow brows[] = {
    {B_ADD, "add", 0, 2, {{1.2, -0.7}, {0.0, 3.0}}},
    {B_SUB, "sub", 0, 2, {{1.2, -0.7}, {0.0, 3.0}}},
    {B_MUL, "mul", 0, 3, {{1.2, -0.7}, {0.0, 3.0}, {-2.0, -0.5}}},
    {B_DIV, "div", 0, 3, {{1.2, -0.7}, {0.0, 3.0}, {-2.0, 0.25}}},
    {B_POW, "pow", 0, 4, {{0.5, 1.7}, {2.0, -0.6}, {3.0, 2.0}, {1.0, 0.5}}},
    {B_POW, "pow(a,const)", 1, 6, {{-2.0, 3.0}, {-0.5, -2.0}, {-1.5, 2.0}, {0.0, 2.0}, {0.7, 3.0}, {2.0, -0.5}}},
    {B_ATAN2, "atan2", 0, 8,
     {{1.0, 2.0}, {1.0, -2.0}, {-1.0, -2.0}, {-1.0, 2.0}, {0.0, 1.5}, {0.0, -1.5}, {2.0, 0.0}, {-2.0, 0.0}}},
    {B_HYPOT, "hypot", 0, 4, {{3.0, 4.0}, {-1.0, 0.5}, {0.0, 2.0}, {1e-3, -2.0}}},
    {B_MIN, "min", 0, 4, {{1.0, 2.0}, {2.0, 1.0}, {-1.0, -1.0}, {0.5, 0.5}}},
    {B_MAX, "max", 0, 4, {{1.0, 2.0}, {2.0, 1.0}, {-1.0, -1.0}, {0.5, 0.5}}},
};
#define NBROWS ((int)(sizeof brows / sizeof brows[0]))

START_TEST(test_binary_ops) {
  int seen[B_COUNT] = {0};
  nfail = 0;
  for (int k = 0; k < NBROWS; ++k)
    for (int t = 0; t < brows[k].npt; ++t)
      for (int ni = 0; ni < NTNS; ++ni) {
        const int n = tns[ni];
        const brow *bw = &brows[k];
        tin a, b;
        tres r[4], e;
        double f[6];
        char what[80];
        rand_tin(&a, n, bw->pt[t][0]);
        rand_tin(&b, n, bw->pt[t][1]);
        memcpy(b.dir, a.dir, sizeof a.dir);
        if (bw->bconst) memset(b.g, 0, sizeof b.g), memset(b.H, 0, sizeof b.H);
        ref_binary(bw->op, a.v, b.v, bw->bconst, f);
        chain(f, &a, &b, n, &e);
        lc_ad_p_t_type.bin(bw->op, &a, &b, &r[0]);
        for (int m = 1; m < 4; ++m) find_type(n, m)->bin(bw->op, &a, &b, &r[m]);
        snprintf(what, sizeof what, "%s(%g, %g)", bw->name, a.v, b.v);
        const double ga = vmax(a.g, n), gb = vmax(b.g, n);
        const double gs = fabs(f[1]) * ga + fabs(f[2]) * gb;
        const double hs = fabs(f[1]) * mmax(a.H, n) + fabs(f[2]) * mmax(b.H, n) +
                          fabs(f[3]) * ga * ga + 2.0 * fabs(f[4]) * ga * gb + fabs(f[5]) * gb * gb;
        check_modes(what, n, r, &e, a.dir, gs, hs, 1e-13);
        seen[bw->op] = 1;
      }
  for (int op = 0; op < B_COUNT; ++op) chk(seen[op], "binary op %d untested", op);
  ck_assert_msg(nfail == 0, "%d binary checks failed", nfail);
}
END_TEST

/* atan2 values in the four quadrants and on the axes (value branch checks). */
START_TEST(test_atan2_quadrants) {
  static const double pts[][3] = {{1, 1, 0.25}, {1, -1, 0.75}, {-1, -1, -0.75}, {-1, 1, -0.25},
                                  {0, 2, 0.0},  {0, -2, 1.0},  {2, 0, 0.5},     {-2, 0, -0.5}};
  for (int k = 0; k < 8; ++k) {
    const lc_ad_h3 y = lc_ad_h3_var(pts[k][0], 0), x = lc_ad_h3_var(pts[k][1], 1);
    const lc_ad_h3 r = lc_ad_h3_atan2(y, x);
    const double r2 = pts[k][0] * pts[k][0] + pts[k][1] * pts[k][1];
    ck_assert(fabs(r.v - pts[k][2] * T_PI) <= 1e-15);
    ck_assert(fabs(r.g[0] - pts[k][1] / r2) <= 1e-15 && fabs(r.g[1] + pts[k][0] / r2) <= 1e-15);
    ck_assert(r.g[2] == 0.0 && r.h[LC_TRI(2, 2)] == 0.0 && isfinite(r.h[LC_TRI(1, 0)]));
  }
}
END_TEST

START_TEST(test_misc_per_type) {
  int bad = lc_ad_p_t_type.misc();
  for (int i = 0; i < NTTYPES; ++i) {
    const int b = ttypes[i]->misc();
    if (b) fprintf(stderr, "%s: %d misc failures\n", ttypes[i]->name, b);
    bad += b;
  }
  ck_assert_int_eq(bad, 0);
}
END_TEST

/* ---- helpers against finite differences --------------------------------- */

static const struct {
  const char *name;
  int check_hess; /* 0: the gradient only (fixed-rotation Hessian) */
} prog_info[P_COUNT] = {
    {"v2", 1},  {"v3", 1},  {"m2a", 1},    {"m2b", 1},    {"m3a", 1},
    {"m3b", 1}, {"m3c", 1}, {"cw_seq", 1}, {"cw_ref", 1}, {"arap", 0},
};

/* ---- helpers: values against plain-double references -------------------- */

/* Row-major 3x3 product c = a b. */
static void mat3_mul(const double *a, const double *b, double *c) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      c[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
}

/* Inverse of a 3x3 matrix by Gauss-Jordan elimination with partial pivoting. */
static void mat3_inv(const double *a, double *inv) {
  double w[3][6];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 6; ++j) w[i][j] = j < 3 ? a[3 * i + j] : (j - 3 == i);
  for (int c = 0; c < 3; ++c) {
    int p = c;
    for (int r = c + 1; r < 3; ++r)
      if (fabs(w[r][c]) > fabs(w[p][c])) p = r;
    for (int j = 0; j < 6; ++j) {
      const double t = w[c][j];
      w[c][j] = w[p][j], w[p][j] = t;
    }
    const double d = w[c][c];
    for (int j = 0; j < 6; ++j) w[c][j] /= d;
    for (int r = 0; r < 3; ++r)
      if (r != c) {
        const double f = w[r][c];
        for (int j = 0; j < 6; ++j) w[r][j] -= f * w[c][j];
      }
  }
  for (int i = 0; i < 9; ++i) inv[i] = w[i / 3][3 + i % 3];
}

/* Reference values of the outputs of program id from its input values in[];
 * returns the number of outputs (0: no reference). */
static int ref_prog(int id, const double *in, double *o) {
  static const double k2[4] = {0.4, -1.1, 0.6, 0.9}, k2b[4] = {1.0, 0.5, -0.3, 2.0};
  static const double k3[9] = {0.4, -1.1, 0.6, 0.9, 0.2, -0.3, 0.5, 0.7, 1.3};
  const double *a = in, *b = in + 3;
  double m[9], t[9], u[9];
  switch (id) {
  case P_V2: {
    const double na = hypot(a[0], a[1]), s4 = in[4];
    o[0] = a[0] * in[2] + a[1] * in[3], o[1] = a[0] * in[3] - a[1] * in[2];
    o[2] = na * na, o[3] = na, o[4] = a[0] / na, o[5] = a[1] / na;
    o[6] = 1.7 * (a[0] + in[2] * s4 + in[2]), o[7] = 1.7 * (a[1] + in[3] * s4 + in[3]);
    o[8] = 0.3 * in[2] - 0.8 * in[3];
    return 9;
  }
  case P_V3: {
    const double nb = sqrt(b[0] * b[0] + b[1] * b[1] + b[2] * b[2]);
    o[0] = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    o[1] = 0.3 * a[0] - 0.8 * a[1] + 0.5 * a[2];
    o[2] = a[0] * a[0] + a[1] * a[1] + a[2] * a[2], o[3] = sqrt(o[2]);
    o[4] = 0.3 * b[0] - 0.8 * b[1] + 0.5 * b[2];
    for (int i = 0; i < 3; ++i) {
      o[5 + i] = a[(i + 1) % 3] * b[(i + 2) % 3] - a[(i + 2) % 3] * b[(i + 1) % 3];
      o[8 + i] = b[i] / nb, o[11 + i] = -0.6 * (a[i] + b[i] * in[6] + b[i]);
    }
    return 14;
  }
  case P_M2A:
  case P_M2B: {
    const double a2[4] = {in[0], in[1], in[3], in[4]}, b2[4] = {in[9], in[12], in[10], in[13]};
    const double det = a2[0] * a2[3] - a2[1] * a2[2];
    if (id == P_M2A) {
      o[0] = det, o[1] = a2[0] + a2[3];
      o[2] = a2[0] * a2[0] + a2[1] * a2[1] + a2[2] * a2[2] + a2[3] * a2[3], o[3] = sqrt(o[2]);
      o[4] = a2[0] * b2[1] + a2[1] * b2[3], o[5] = a2[2] * b2[1] + a2[3] * b2[3];
      o[6] = a2[3] / det, o[7] = -a2[1] / det, o[8] = -a2[2] / det, o[9] = a2[0] / det;
      for (int i = 0; i < 4; ++i) /* (a^T b)_rc = sum_k a_kr b_kc */
        o[10 + i] = a2[i / 2] * b2[i % 2] + a2[2 + i / 2] * b2[2 + i % 2];
      return 14;
    }
    for (int i = 0; i < 4; ++i) {
      const int r = i / 2, c = i % 2;
      o[i] = a2[i] + b2[i] * in[18] - (a2[2 * r] * k2[c] + a2[2 * r + 1] * k2[2 + c]);
      o[4 + i] = a2[2 * r] * k2b[c] + a2[2 * r + 1] * k2b[2 + c];
    }
    for (int f = 0; f < 2; ++f) { /* polar rotation angle, a and a diag(1, -1) */
      const double sg = f ? -1.0 : 1.0;
      const double th = atan2(a2[2] - sg * a2[1], a2[0] + sg * a2[3]);
      o[8 + 4 * f] = cos(th), o[9 + 4 * f] = -sin(th), o[10 + 4 * f] = sin(th);
      o[11 + 4 * f] = cos(th);
    }
    return 16;
  }
  case P_M3A:
    o[0] = a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) +
           a[2] * (a[3] * a[7] - a[4] * a[6]);
    o[1] = a[0] + a[4] + a[8], o[2] = 0.0;
    for (int i = 0; i < 9; ++i) o[2] += a[i] * a[i];
    o[3] = sqrt(o[2]);
    mat3_inv(a, o + 4);
    return 13;
  case P_M3B:
    for (int i = 0; i < 9; ++i) m[i] = in[9 + 3 * (i % 3) + i / 3]; /* columns in[9..] */
    for (int i = 0; i < 3; ++i) o[i] = a[i] * m[2] + a[3 + i] * m[5] + a[6 + i] * m[8];
    mat3_mul(k3, m, t);
    o[3] = t[0] + t[4] + t[8];
    mat3_mul(a, m, o + 4);
    return 13;
  case P_M3C:
    for (int i = 0; i < 9; ++i) m[i] = in[9 + 3 * (i % 3) + i / 3];
    mat3_mul(a, k3, t);
    for (int i = 0; i < 9; ++i) o[i] = a[i] + m[i] * in[18] - t[i];
    return 9;
  case P_CW_SEQ:
  case P_CW_REF: {
    double e[3];
    for (int k = 0; k < 3; ++k) e[k] = in[k] * sin(in[k + 3]), o[k] = e[k];
    o[3] = e[0] * e[1], o[4] = e[1] * e[2], o[5] = e[2] * o[3];
    o[6] = sqrt(o[3] * o[3] + o[4] * o[4] + o[5] * o[5]);
    for (int i = 0; i < 9; ++i) u[i] = in[9 + i];
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) u[3 * i + j] += u[3 * ((i + 1) % 3) + j] * u[3 * i + (j + 2) % 3];
    for (int i = 0; i < 9; ++i) o[7 + i] = u[i];
    return 16;
  }
  default: return 0;
  }
}

START_TEST(test_helpers_values) {
  nfail = 0;
  for (int ni = 0; ni < NTNS; ++ni)
    for (int t = 0; t < 3; ++t) {
      const int n = tns[ni];
      double x[TMAXN], dir[TMAXN] = {0}, in[TNIN], o[TMAXOUT];
      tres r[TMAXOUT];
      for (int i = 0; i < n; ++i) x[i] = urand(-0.2, 0.2);
      for (int j = 0; j < TNIN; ++j) { /* the program inputs, as t_input computes them */
        in[j] = tbase[j];
        for (int i = 0; i < n; ++i) in[j] += x[i] * tweight(j, i, n);
        in[j] += x[j % n] * x[(j + 1) % n] * 0.05;
      }
      for (int p = 0; p < P_COUNT; ++p) {
        const int m = ref_prog(p, in, o);
        if (!m) continue;
        ck_assert_int_eq(lc_ad_p_t_type.prog(p, n, x, dir, r), m);
        for (int k = 0; k < m; ++k)
          chk(near(r[k].v, o[k], fmax(fabs(o[k]), 1.0), 1e-13), "%s[%d] N=%d: %.17g want %.17g",
              prog_info[p].name, k, n, r[k].v, o[k]);
      }
    }
  ck_assert_msg(nfail == 0, "%d helper value checks failed", nfail);
}
END_TEST


/* Fourth-order central differences along e_j of every output of prog: of the
 * passive values (tg NULL; out[k][0]) or of the gradients of tg (out[k][i]). */
static void fd_dir(int prog, int n, const double *x, int j, const ttype *tg,
                   double out[TMAXOUT][TMAXN]) {
  static const double h = 1e-3, w[4] = {1.0, -8.0, 8.0, -1.0}, o[4] = {-2.0, -1.0, 1.0, 2.0};
  static tres r[TMAXOUT];
  double xs[TMAXN], dir[TMAXN] = {0};
  memset(out, 0, sizeof(double) * TMAXOUT * TMAXN);
  for (int t = 0; t < 4; ++t) {
    memcpy(xs, x, sizeof(double) * (size_t)n);
    xs[j] += o[t] * h;
    const int m = (tg ? tg : &lc_ad_p_t_type)->prog(prog, n, xs, dir, r);
    for (int k = 0; k < m; ++k)
      for (int i = 0; i < (tg ? n : 1); ++i) out[k][i] += w[t] / (12.0 * h) * (tg ? r[k].g[i] : r[k].v);
  }
}

/* Runs every program at x in all modes of size n and checks agreement, HVP
 * consistency and finite differences. */
static void check_programs(int n, const double *x, const double *dir) {
  const ttype *tp[4] = {&lc_ad_p_t_type, find_type(n, LC_AD_GRAD), find_type(n, LC_AD_HVP),
                        find_type(n, LC_AD_HESS)};
  static tres r[4][TMAXOUT];
  static double fv[TMAXOUT][TMAXN], fh[TMAXOUT][TMAXN];
  for (int p = 0; p < P_COUNT; ++p) {
    const char *nm = prog_info[p].name;
    int m = 0;
    for (int md = 0; md < 4; ++md) m = tp[md]->prog(p, n, x, dir, r[md]);
    for (int k = 0; k < m; ++k) {
      const tres *rg = &r[1][k], *rv = &r[2][k], *rh = &r[3][k];
      const double gs = vmax(rg->g, n), hs = fmax(mmax(rh->H, n), 1.0);
      for (int md = 1; md < 4; ++md) {
        chk(near(r[md][k].v, r[0][k].v, fabs(r[0][k].v), 1e-15), "%s[%d] N=%d %s: value", nm, k, n,
            mode_name[md]);
        for (int i = 0; i < n; ++i)
          chk(near(r[md][k].g[i], rg->g[i], gs, 1e-15), "%s[%d] N=%d %s: g[%d] differs", nm, k,
              n, mode_name[md], i);
      }
      double d = 0.0;
      for (int i = 0; i < n; ++i) d += rg->g[i] * dir[i];
      chk(near(rv->d, d, fmax(gs, 1.0) * n, 1e-14), "%s[%d] N=%d: d", nm, k, n);
      for (int i = 0; i < n; ++i) {
        double hv = 0.0;
        for (int j = 0; j < n; ++j) hv += rh->H[i * TMAXN + j] * dir[j];
        chk(near(rv->dg[i], hv, hs * n, 1e-13), "%s[%d] N=%d: dg[%d] %.17g H.v %.17g", nm, k, n,
            i, rv->dg[i], hv);
      }
    }
    for (int j = 0; j < n; ++j) {
      fd_dir(p, n, x, j, NULL, fv);
      if (prog_info[p].check_hess) fd_dir(p, n, x, j, tp[1], fh);
      for (int k = 0; k < m; ++k) {
        const double gs = fmax(vmax(r[1][k].g, n), 1.0), hs = fmax(mmax(r[3][k].H, n), 1.0);
        chk(near(r[1][k].g[j], fv[k][0], gs, 1e-8), "%s[%d] N=%d: g[%d] %.17g fd %.17g", nm, k, n,
            j, r[1][k].g[j], fv[k][0]);
        for (int i = 0; i < n && prog_info[p].check_hess; ++i)
          chk(near(r[3][k].H[i * TMAXN + j], fh[k][i], hs, 1e-7),
              "%s[%d] N=%d: H[%d][%d] %.17g fd %.17g", nm, k, n, i, j, r[3][k].H[i * TMAXN + j],
              fh[k][i]);
      }
    }
  }
}

START_TEST(test_helpers_fd) {
  nfail = 0;
  for (int ni = 0; ni < NTNS; ++ni)
    for (int t = 0; t < 2; ++t) {
      double x[TMAXN], dir[TMAXN];
      for (int i = 0; i < tns[ni]; ++i) x[i] = urand(-0.2, 0.2), dir[i] = urand(-1.0, 1.0);
      check_programs(tns[ni], x, dir);
    }
  ck_assert_msg(nfail == 0, "%d helper checks failed", nfail);
}
END_TEST

/* Writing one component at a time (and updating in place) gives exactly the
 * derivatives of the all-at-once construction. */
START_TEST(test_component_writes) {
  for (int ni = 0; ni < NTNS; ++ni)
    for (int md = 0; md < 4; ++md) {
      const int n = tns[ni];
      const ttype *tt = md == 0 ? &lc_ad_p_t_type : find_type(n, md);
      double x[TMAXN], dir[TMAXN];
      tres seq[TMAXOUT], ref[TMAXOUT];
      for (int i = 0; i < n; ++i) x[i] = urand(-0.2, 0.2), dir[i] = urand(-1.0, 1.0);
      const int m = tt->prog(P_CW_SEQ, n, x, dir, seq);
      ck_assert_int_eq(tt->prog(P_CW_REF, n, x, dir, ref), m);
      ck_assert_msg(memcmp(seq, ref, sizeof(tres) * (size_t)m) == 0, "%s: component writes differ",
                    tt->name);
    }
}
END_TEST

/* s_jet: phi(x) = x0 x1 + x2^2 x0 on intermediate scalars x (which carry
 * non-trivial derivatives of 4 seeded variables) lifted from its hand-made
 * jet equals phi evaluated by the AD operations, in every mode. */
#define T_JET_CASE(T)                                                                        \
  static void jet_case_##T(const double *v, const double *dir) {                             \
    T s[4], x[3];                                                                            \
    for (int i = 0; i < 4; ++i) s[i] = T##_var_dir(v[i], i, dir[i]);                         \
    x[0] = T##_mul(T##_sin(s[0]), s[1]);                                                     \
    x[1] = T##_add(T##_mul(s[2], s[3]), T##_mul(s[0], s[0]));                                \
    x[2] = T##_sub(T##_exp(s[1]), s[3]);                                                     \
    const T direct = T##_add(T##_mul(x[0], x[1]), T##_mul(T##_mul(x[2], x[2]), x[0]));       \
    const double a = x[0].v, b = x[1].v, c = x[2].v;                                         \
    const double G[3] = {b + c * c, a, 2.0 * c * a};                                         \
    const double H[3][3] = {{0.0, 1.0, 2.0 * c}, {1.0, 0.0, 0.0}, {2.0 * c, 0.0, 2.0 * a}};  \
    const double Hp[6] = {H[0][0], H[1][0], H[1][1], H[2][0], H[2][1], H[2][2]};             \
    double U[3];                                                                             \
    for (int i = 0; i < 3; ++i)                                                              \
      U[i] = H[i][0] * T##_dir(x[0]) + H[i][1] * T##_dir(x[1]) + H[i][2] * T##_dir(x[2]);    \
    const T lifted = T##_jet(x, 3, a * b + c * c * a, G, U, Hp);                             \
    const double *pd = (const double *)&direct, *pl = (const double *)&lifted;               \
    for (size_t k = 0; k < sizeof(T) / sizeof(double); ++k)                                  \
      chk(near(pl[k], pd[k], 1.0 + fabs(pd[k]), 1e-13), "%s jet: entry %zu %.17g != %.17g", \
          #T, k, pl[k], pd[k]);                                                              \
  }
T_JET_CASE(lc_ad_g4)
T_JET_CASE(lc_ad_v4)
T_JET_CASE(lc_ad_h4)

START_TEST(test_jet_chain) {
  nfail = 0;
  for (int rep = 0; rep < 20; ++rep) {
    double v[4], dir[4];
    for (int i = 0; i < 4; ++i) v[i] = urand(-1.0, 1.0), dir[i] = urand(-1.0, 1.0);
    jet_case_lc_ad_g4(v, dir);
    jet_case_lc_ad_v4(v, dir);
    jet_case_lc_ad_h4(v, dir);
    ck_assert(lc_ad_p_jet(v, 4, 0.5, NULL, NULL, NULL) == 0.5);
  }
  ck_assert_int_eq(nfail, 0);
}
END_TEST

static Suite *ad_suite(void) {
  Suite *s = suite_create("ad");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_unary_ops);
  tcase_add_test(tc, test_binary_ops);
  tcase_add_test(tc, test_atan2_quadrants);
  tcase_add_test(tc, test_misc_per_type);
  tcase_add_test(tc, test_helpers_values);
  tcase_add_test(tc, test_helpers_fd);
  tcase_add_test(tc, test_component_writes);
  tcase_add_test(tc, test_jet_chain);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(ad_suite()); }

#elif T_STAGE == 1 /* ---- the GRAD, HVP and HESS types of size T_N ---- */

#undef T_STAGE
#define T_STAGE 2
#define T_MODE LC_AD_GRAD
#define LC_AD_T LC_CAT(lc_ad_g, T_N)
#include "test_ad.c"
#undef T_MODE
#undef LC_AD_T
#define T_MODE LC_AD_HVP
#define LC_AD_T LC_CAT(lc_ad_v, T_N)
#include "test_ad.c"
#undef T_MODE
#undef LC_AD_T
#define T_MODE LC_AD_HESS
#define LC_AD_T LC_CAT(lc_ad_h, T_N)
#include "test_ad.c"
#undef T_MODE
#undef LC_AD_T
#undef T_STAGE
#define T_STAGE 1

#else /* ---- T_STAGE == 2: drivers of the type LC_AD_T (mode T_MODE, size T_N) ---- */

/* The drivers are compiled without optimisation: with the AD functions
 * force-inlined, 25 types of helper programs take minutes to compile at -O2
 * (gcc 12: 22 s instead of 70 s, clang 14 at -O3: 36 s instead of 93 s).  No
 * fast-math, so IEEE results do not depend on the optimisation level. */
#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC optimize("O0")
#endif

/* An AD scalar with the value and derivatives prescribed by a. */
static S LC_F(t_make)(const tin *a) {
#if T_MODE == LC_AD_PASSIVE
  return a->v;
#else
  S r = s_c(a->v);
  for (int i = 0; i < T_N; ++i) r.g[i] = a->g[i];
#if T_MODE == LC_AD_HVP
  for (int i = 0; i < T_N; ++i) {
    r.d += a->g[i] * a->dir[i];
    for (int j = 0; j < T_N; ++j) r.dg[i] += a->H[i * TMAXN + j] * a->dir[j];
  }
#elif T_MODE == LC_AD_HESS
  for (int i = 0; i < T_N; ++i)
    for (int j = 0; j <= i; ++j) r.h[LC_TRI(i, j)] = a->H[i * TMAXN + j];
#endif
  return r;
#endif
}

/* Copies r into o; fields this mode lacks become NaN. */
static void LC_F(t_get)(S r, tres *o) {
  o->v = o->d = NAN;
  for (int i = 0; i < TMAXN; ++i) o->g[i] = o->dg[i] = NAN;
  for (int i = 0; i < TMAXN * TMAXN; ++i) o->H[i] = NAN;
  o->v = s_v(r);
#if T_MODE != LC_AD_PASSIVE
  for (int i = 0; i < T_N; ++i) o->g[i] = r.g[i];
#endif
#if T_MODE == LC_AD_HVP
  o->d = r.d;
  for (int i = 0; i < T_N; ++i) o->dg[i] = r.dg[i];
#elif T_MODE == LC_AD_HESS
  for (int i = 0; i < T_N; ++i)
    for (int j = 0; j <= i; ++j) o->H[i * TMAXN + j] = o->H[j * TMAXN + i] = r.h[LC_TRI(i, j)];
#endif
}

/* Unary op (U_*) with constant parameter p. */
static void LC_F(t_un)(int op, double p, const tin *ta, tres *o) {
  const S a = LC_F(t_make)(ta);
  S r;
  switch (op) {
  case U_NEG: r = s_neg(a); break;
  case U_ADDC: r = s_addc(a, p); break;
  case U_SUBC: r = s_subc(a, p); break;
  case U_CSUB: r = s_csub(p, a); break;
  case U_MULC: r = s_mulc(a, p); break;
  case U_DIVC: r = s_divc(a, p); break;
  case U_CDIV: r = s_cdiv(p, a); break;
  case U_SQRT: r = s_sqrt(a); break;
  case U_CBRT: r = s_cbrt(a); break;
  case U_EXP: r = s_exp(a); break;
  case U_LOG: r = s_log(a); break;
  case U_POWC: r = s_powc(a, p); break;
  case U_POWK: r = s_pow(a, s_c(p)); break;
  case U_SIN: r = s_sin(a); break;
  case U_COS: r = s_cos(a); break;
  case U_TAN: r = s_tan(a); break;
  case U_ASIN: r = s_asin(a); break;
  case U_ACOS: r = s_acos(a); break;
  case U_ATAN: r = s_atan(a); break;
  case U_SINH: r = s_sinh(a); break;
  case U_COSH: r = s_cosh(a); break;
  case U_TANH: r = s_tanh(a); break;
  case U_ABS: r = s_abs(a); break;
  case U_SQ: r = s_sq(a); break;
  case U_RECIP: r = s_recip(a); break;
  default: r = s_c(NAN);
  }
  LC_F(t_get)(r, o);
}

/* Binary op (B_*). */
static void LC_F(t_bin)(int op, const tin *ta, const tin *tb, tres *o) {
  const S a = LC_F(t_make)(ta), b = LC_F(t_make)(tb);
  S r;
  switch (op) {
  case B_ADD: r = s_add(a, b); break;
  case B_SUB: r = s_sub(a, b); break;
  case B_MUL: r = s_mul(a, b); break;
  case B_DIV: r = s_div(a, b); break;
  case B_POW: r = s_pow(a, b); break;
  case B_ATAN2: r = s_atan2(a, b); break;
  case B_HYPOT: r = s_hypot(a, b); break;
  case B_MIN: r = s_min(a, b); break;
  case B_MAX: r = s_max(a, b); break;
  default: r = s_c(NAN);
  }
  LC_F(t_get)(r, o);
}

/* Program input j: tbase[j] + sum_i w_ji x_i + 0.05 x_j' x_j'' (smooth, non-linear). */
static S LC_F(t_input)(const S *x, int n, int j) {
  S r = s_c(tbase[j]);
  for (int i = 0; i < n; ++i) r = s_add(r, s_mulc(x[i], tweight(j, i, n)));
  return s_add(r, s_mulc(s_mul(x[j % n], x[(j + 1) % n]), 0.05));
}

/* The 2-vector and 2x2 helpers; returns the number of outputs. */
static int LC_F(t_body2)(int id, const S *in, S *o) {
  static const double k2[4] = {0.4, -1.1, 0.6, 0.9}, k2b[4] = {1.0, 0.5, -0.3, 2.0};
  static const double flip[4] = {1.0, 0.0, 0.0, -1.0};
  if (id == P_V2) {
    const V2 a = v2_make(in[0], in[1]), b = v2_make(in[2], in[3]);
    const V2 na = v2_normalize(a);
    const V2 w = v2_scalec(v2_sub(v2_add(a, v2_scale(b, in[4])), v2_neg(b)), 1.7);
    o[0] = v2_dot(a, b), o[1] = v2_cross(a, b), o[2] = v2_sqnorm(a), o[3] = v2_norm(a);
    o[4] = na.c[0], o[5] = na.c[1], o[6] = w.c[0], o[7] = w.c[1];
    o[8] = v2_dot(v2_c(0.3, -0.8), b);
    return 9;
  }
  const M2 a = m2_make(in[0], in[1], in[3], in[4]);
  const M2 b = m2_cols(v2_make(in[9], in[10]), v2_make(in[12], in[13]));
  M2 r[4];
  int m = 0;
  if (id == P_M2A) {
    o[0] = m2_det(a), o[1] = m2_tr(a), o[2] = m2_sqfro(a), o[3] = m2_fro(a);
    const V2 v = m2_mulv(a, m2_col(b, 1));
    o[4] = v.c[0], o[5] = v.c[1];
    r[0] = m2_inv(a), r[1] = m2_mul(m2_T(a), b), m = 2;
  } else {
    r[0] = m2_sub(m2_add(a, m2_scale(b, in[18])), m2_mulc(a, k2));
    r[1] = m2_mul(a, m2_c(k2b)), r[2] = m2_rot(a), r[3] = m2_rot(m2_mulc(a, flip)), m = 4;
  }
  const int o0 = id == P_M2A ? 6 : 0;
  for (int k = 0; k < m; ++k)
    for (int i = 0; i < 4; ++i) o[o0 + 4 * k + i] = r[k].m[i / 2][i % 2];
  return o0 + 4 * m;
}

/* The 3-vector and 3x3 helpers; returns the number of outputs. */
static int LC_F(t_body3)(int id, const S *in, S *o) {
  static const double k3[9] = {0.4, -1.1, 0.6, 0.9, 0.2, -0.3, 0.5, 0.7, 1.3};
  static const double c3[3] = {0.3, -0.8, 0.5};
  if (id == P_V3) {
    const V3 a = v3_make(in[0], in[1], in[2]), b = v3_make(in[3], in[4], in[5]);
    const V3 x = v3_cross(a, b), nb = v3_normalize(b);
    const V3 w = v3_scalec(v3_sub(v3_add(a, v3_scale(b, in[6])), v3_neg(b)), -0.6);
    o[0] = v3_dot(a, b), o[1] = v3_dotc(a, c3), o[2] = v3_sqnorm(a), o[3] = v3_norm(a);
    o[4] = v3_dot(v3_c(0.3, -0.8, 0.5), b);
    for (int i = 0; i < 3; ++i) o[5 + i] = x.c[i], o[8 + i] = nb.c[i], o[11 + i] = w.c[i];
    return 14;
  }
  const M3 a = m3_make(in);
  const M3 b = m3_cols(v3_make(in[9], in[10], in[11]), v3_make(in[12], in[13], in[14]),
                       v3_make(in[15], in[16], in[17]));
  M3 r;
  int m = 0;
  if (id == P_M3A) {
    o[0] = m3_det(a), o[1] = m3_tr(a), o[2] = m3_sqfro(a), o[3] = m3_fro(a), m = 4;
    r = m3_inv(a);
  } else if (id == P_M3B) {
    const V3 v = m3_mulv(m3_T(a), m3_col(b, 2));
    for (int i = 0; i < 3; ++i) o[i] = v.c[i];
    o[3] = m3_tr(m3_mul(m3_c(k3), b)), m = 4;
    r = m3_mul(a, b);
  } else {
    r = m3_sub(m3_add(a, m3_scale(b, in[18])), m3_mulc(a, k3));
  }
  for (int i = 0; i < 9; ++i) o[m + i] = r.m[i / 3][i % 3];
  return m + 9;
}

/* Component writes: one at a time and in place (seq) or all at once / in
 * single-assignment form (ref); the outputs must agree bit for bit. */
static int LC_F(t_body_cw)(int id, const S *in, S *o) {
  S e[3];
  for (int k = 0; k < 3; ++k) e[k] = s_mul(in[k], s_sin(in[k + 3]));
  V3 v;
  if (id == P_CW_SEQ) {
    v.c[0] = e[0];
    v.c[1] = e[1];
    v.c[2] = e[2];
    for (int i = 0; i < 3; ++i) o[i] = v.c[i];
    for (int i = 0; i < 3; ++i) v.c[i] = s_mul(v.c[i], v.c[(i + 1) % 3]);
  } else {
    v = v3_make(e[0], e[1], e[2]);
    for (int i = 0; i < 3; ++i) o[i] = v.c[i];
    const S a0 = s_mul(e[0], e[1]), a1 = s_mul(e[1], e[2]), a2 = s_mul(e[2], a0);
    v = v3_make(a0, a1, a2);
  }
  for (int i = 0; i < 3; ++i) o[3 + i] = v.c[i];
  o[6] = v3_norm(v);
  /* in-place matrix update (order dependent), in an M3 or in a flat array */
  M3 mt;
  S flat[9];
  for (int i = 0; i < 9; ++i) mt.m[i / 3][i % 3] = flat[i] = in[9 + i];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      if (id == P_CW_SEQ)
        mt.m[i][j] = s_add(mt.m[i][j], s_mul(mt.m[(i + 1) % 3][j], mt.m[i][(j + 2) % 3]));
      else
        flat[3 * i + j] =
            s_add(flat[3 * i + j], s_mul(flat[3 * ((i + 1) % 3) + j], flat[3 * i + (j + 2) % 3]));
    }
  if (id == P_CW_REF) mt = m3_make(flat);
  for (int i = 0; i < 9; ++i) o[7 + i] = mt.m[i / 3][i % 3];
  return 16;
}

/* ARAP-style E = |F - R|^2 with R = m3_rot(F) held fixed (envelope theorem). */
static int LC_F(t_body_arap)(const S *in, S *o) {
  double q[4] = {1.0, 0.0, 0.0, 0.0};
  const M3 f = m3_make(in);
  o[0] = m3_sqfro(m3_sub(f, m3_rot(f, q)));
  return 1;
}

/* Program id (P_*) of n variables x (HVP direction dir): outputs into r. */
static int LC_F(t_prog)(int id, int n, const double *x, const double *dir, tres *r) {
  S xs[TMAXN], in[TNIN], o[TMAXOUT];
  int m;
  for (int i = 0; i < n; ++i) xs[i] = s_var_dir(x[i], i, dir[i]);
  for (int j = 0; j < TNIN; ++j) in[j] = LC_F(t_input)(xs, n, j);
  if (id == P_V2 || id == P_M2A || id == P_M2B)
    m = LC_F(t_body2)(id, in, o);
  else if (id == P_CW_SEQ || id == P_CW_REF)
    m = LC_F(t_body_cw)(id, in, o);
  else if (id == P_ARAP)
    m = LC_F(t_body_arap)(in, o);
  else
    m = LC_F(t_body3)(id, in, o);
  for (int k = 0; k < m; ++k) LC_F(t_get)(o[k], &r[k]);
  return m;
}

/* 1 if a has no derivative at all (all g, d, dg, h zero). */
static int LC_F(t_is_const)(S a) {
  tres r;
  LC_F(t_get)(a, &r);
  int ok = 1;
  for (int i = 0; i < T_N; ++i) {
#if T_MODE != LC_AD_PASSIVE
    ok &= r.g[i] == 0.0;
#endif
#if T_MODE == LC_AD_HVP
    ok &= r.dg[i] == 0.0 && r.d == 0.0;
#elif T_MODE == LC_AD_HESS
    for (int j = 0; j < T_N; ++j) ok &= r.H[i * TMAXN + j] == 0.0;
#endif
  }
  return ok;
}

/* Constants, variables, comparisons, min/max ties and m3_rot; returns # failures. */
static int LC_F(t_misc)(void) {
  int bad = 0;
  const S c = s_c(2.5);
  bad += s_v(c) != 2.5 || !LC_F(t_is_const)(c);
  bad += !s_lt(s_c(1.0), c) || s_lt(c, c) || !s_le(c, c) || s_le(c, s_c(1.0));
  bad += !s_gt(c, s_c(1.0)) || s_gt(c, c) || !s_ge(c, c) || s_ge(s_c(1.0), c);
  bad += !s_isfinite(c) || s_isfinite(s_c(INFINITY)) || s_isfinite(s_c(NAN));
  for (int k = 0; k < T_N; ++k) { /* variables: g = e_k, d = dir, no second derivatives */
    const S x = s_var(1.5, k), y = s_var_dir(-0.5, k, 0.7);
    tres rx, ry;
    LC_F(t_get)(x, &rx);
    LC_F(t_get)(y, &ry);
    bad += rx.v != 1.5 || ry.v != -0.5;
    for (int i = 0; i < T_N; ++i) bad += rx.g[i] != (i == k) || ry.g[i] != (i == k);
#if T_MODE == LC_AD_HVP
    bad += rx.d != 0.0 || ry.d != 0.7;
    for (int i = 0; i < T_N; ++i) bad += rx.dg[i] != 0.0 || ry.dg[i] != 0.0;
#elif T_MODE == LC_AD_HESS
    for (int i = 0; i < T_N * TMAXN; ++i) bad += i % TMAXN < T_N && (rx.H[i] != 0.0);
#endif
  }
  /* min/max ties return the first operand, derivatives included */
  const S a = s_var_dir(1.0, 0, 0.3), b = s_sq(s_var_dir(-1.0, T_N > 1 ? T_N - 1 : 0, -0.2));
  const S mab = s_min(a, b), mba = s_min(b, a), xab = s_max(a, b), xba = s_max(b, a);
  bad += memcmp(&mab, &a, sizeof a) != 0 || memcmp(&mba, &b, sizeof b) != 0;
  bad += memcmp(&xab, &a, sizeof a) != 0 || memcmp(&xba, &b, sizeof b) != 0;
  bad += s_lt(a, b) || s_gt(a, b) || !s_le(a, b) || !s_ge(b, a);
  /* m3_rot: a constant rotation, warm start updated in place */
  S k[9];
  double q[4] = {1.0, 0.0, 0.0, 0.0}, qr[4] = {1.0, 0.0, 0.0, 0.0}, fv[9], rot[9];
  for (int i = 0; i < 9; ++i) {
    fv[i] = tbase[i] + 0.5 * sin(3.0 * i);
    k[i] = s_add(s_c(fv[i]), s_mulc(s_var_dir(0.0, i % (T_N > 0 ? T_N : 1), 1.0), 0.1 * i));
  }
  const M3 r = m3_rot(m3_make(k), q);
  lc_rot3_extract(fv, qr, 20);
  lc_quat_to_mat3(qr, rot);
  for (int i = 0; i < 4; ++i) bad += q[i] != qr[i];
  for (int i = 0; i < 9; ++i) bad += s_v(r.m[i / 3][i % 3]) != rot[i] || !LC_F(t_is_const)(r.m[i / 3][i % 3]);
  double q2[4] = {q[0], q[1], q[2], q[3]};
  (void)m3_rot(m3_make(k), q2); /* warm start at the solution: unchanged */
  for (int i = 0; i < 4; ++i) bad += fabs(q2[i] - q[i]) > 1e-15;
  return bad;
}

static const ttype LC_F(t_type) = {T_STR(LC_AD_T), T_N,         T_MODE,
                                    LC_F(t_un),     LC_F(t_bin), LC_F(t_prog), LC_F(t_misc)};

#if defined(__clang__)
#pragma clang optimize on
#elif defined(__GNUC__)
#pragma GCC pop_options
#endif

#endif
