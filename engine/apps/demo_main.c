/* demo_main.c - locad-demo: runs one of the five applications of apps.h
 * (cloth, uv, smooth, arap, sphere), prints a convergence line per iteration
 * (per time step for the cloth) and a summary, and writes the result OBJ. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/apps.h"

#ifndef LC_DEMO_MESH_DIR
#define LC_DEMO_MESH_DIR "../shared/meshes"
#endif

/* What the command line asked for. */
typedef struct demo_args {
  int app;
  int every;     /* print the first and every k-th iteration */
  int quiet;
  char out[4096];
  char obj[4200];       /* embedded: out_dir/deformed.obj */
  int32_t faces[256];   /* --constrain */
  lc_app_opts o;
} demo_args;

/* Parses a comma-separated list of face indices into a->faces (at most
 * 256); returns 0 on success. */
static int parse_faces(demo_args *a, const char *v) {
  int32_t n = 0;
  for (const char *p = v; *p && n < 256;) {
    char *end = NULL;
    const long f = strtol(p, &end, 10);
    if (end == p || f < 0 || f > INT32_MAX || (*end && *end != ',')) return -1;
    a->faces[n++] = (int32_t)f;
    p = *end ? end + 1 : end;
  }
  a->o.constrain = a->faces;
  a->o.n_constrain = n;
  return n > 0 ? 0 : -1;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: locad-demo cloth|uv|smooth|arap|sphere|contact|frames|embedded [options]\n"
          "  --mesh NAME     shared mesh (uv: camelhead, sphere: spot, frames: cheburashka,\n"
          "                  embedded: armadillo, arap: grid if omitted)\n"
          "  --meshes DIR    directory of the shared meshes (default: LOCAD_MESHES or %s)\n"
          "  --out FILE.obj  result OBJ (default: <app>.obj; '-' for none); contact: output\n"
          "                  directory (frames/, steps.jsonl, final.png; default contact-out);\n"
          "                  frames: output directory (field.rawfield, iters.jsonl, final.png;\n"
          "                  default frames-out); embedded: output directory (iters.jsonl,\n"
          "                  before.png, after.png, deformed.obj; default embedded-out)\n"
          "  --n N           grid size (cloth 30, arap 20) or icosphere level (smooth 4)\n"
          "  --iters N       iteration budget per phase (cloth: time steps)\n"
          "  --tol X         tolerance (cloth: settle speed m/s; uv: ftol; others: gtol)\n"
          "  --method M      sphere: newton (default) or lbfgs\n"
          "  --h H           cloth: time step in seconds (default 1/60)\n"
          "  --damping C     cloth: mass-proportional damping in 1/s (default 5; < 0: none)\n"
          "  --springs       cloth: mass-spring membrane instead of StVK\n"
          "  --rigid         arap, embedded: move all handles by one rigid motion\n"
          "  --linear L      embedded: cholmod (default) or pcg\n"
          "  --no-condense   embedded: solve the full system (default: the nodes' matrices are\n"
          "                  eliminated first by static condensation)\n"
          "  --dim D         arap: 2 (default on the grid) or 3 (default with --mesh)\n"
          "  --dhat D        contact: activation distance (default 0.01)\n"
          "  --kappa K       contact: barrier stiffness (default 1e3)\n"
          "  --reserve R     contact: Hessian pattern reserve, x the list padding (0: none, default)\n"
          "  --friction MU   contact: friction coefficient (default 0: none)\n"
          "  --constrain L   frames: comma-separated constrained faces (default 0)\n"
          "  --threads N     evaluation threads\n"
          "  --device D      cpu, cuda:N or auto (default: the first usable GPU, else cpu)\n"
          "  --every K       print every K-th iteration only\n"
          "  --quiet         summary only\n",
          LC_DEMO_MESH_DIR);
}

/* Value of option i (the next argument), or NULL if missing. */
static const char *value(int argc, char **argv, int *i) { return *i + 1 < argc ? argv[++*i] : NULL; }

/* Parses a flag (an option without a value); returns 0 if it was one. */
static int parse_flag(demo_args *a, const char *k) {
  int *flag = !strcmp(k, "--springs") ? &a->o.cloth_springs
              : !strcmp(k, "--rigid") ? &a->o.arap_rigid
              : !strcmp(k, "--quiet") ? &a->quiet
              : !strcmp(k, "--no-condense") ? &a->o.no_condense
                                      : NULL;
  if (flag) *flag = 1;
  return flag ? 0 : -1;
}

/* Parses one option at argv[*i] (advancing *i past its value); returns 0 if understood. */
static int parse_option(demo_args *a, int argc, char **argv, int *i) {
  const char *k = argv[*i], *v = NULL;
  if (!parse_flag(a, k)) return 0;
  if (!(v = value(argc, argv, i))) return -1;
  if (!strcmp(k, "--mesh")) a->o.mesh = v;
  else if (!strcmp(k, "--meshes")) a->o.mesh_dir = v;
  else if (!strcmp(k, "--out")) snprintf(a->out, sizeof a->out, "%s", v);
  else if (!strcmp(k, "--n")) a->o.n = atoi(v);
  else if (!strcmp(k, "--iters")) a->o.max_iters = atoi(v);
  else if (!strcmp(k, "--tol")) a->o.tol = atof(v);
  else if (!strcmp(k, "--threads")) a->o.threads = atoi(v);
  else if (!strcmp(k, "--device")) a->o.device = v;
  else if (!strcmp(k, "--dim")) a->o.dim = atoi(v);
  else if (!strcmp(k, "--h")) a->o.h = atof(v);
  else if (!strcmp(k, "--dhat")) a->o.dhat = atof(v);
  else if (!strcmp(k, "--kappa")) a->o.kappa = atof(v);
  else if (!strcmp(k, "--reserve")) a->o.reserve = atof(v);
  else if (!strcmp(k, "--friction")) a->o.mu = atof(v);
  else if (!strcmp(k, "--constrain")) return parse_faces(a, v);
  else if (!strcmp(k, "--damping")) a->o.damping = atof(v);
  else if (!strcmp(k, "--every")) a->every = atoi(v) > 0 ? atoi(v) : 1;
  else if (!strcmp(k, "--method")) a->o.method = lc_solve_method_parse(v);
  else if (!strcmp(k, "--linear") && (!strcmp(v, "cholmod") || !strcmp(v, "pcg")))
    a->o.linear = strcmp(v, "pcg") ? LC_LIN_CHOLMOD : LC_LIN_PCG;
  else return -1;
  return 0;
}

/* Parses the command line into a; returns 0 on success. */
static int parse_args(demo_args *a, int argc, char **argv) {
  memset(a, 0, sizeof *a);
  lc_app_opts_default(&a->o);
  a->every = 1;
  const char *env = getenv("LOCAD_MESHES");
  a->o.mesh_dir = env && *env ? env : LC_DEMO_MESH_DIR;
  if (argc < 2 || (a->app = lc_app_parse(argv[1])) < 0) return -1;
  const int dir_out = a->app == LC_APP_CONTACT || a->app == LC_APP_FRAMES || a->app == LC_APP_EMBEDDED;
  snprintf(a->out, sizeof a->out, dir_out ? "%s-out" : "%s.obj", argv[1]);
  for (int i = 2; i < argc; ++i)
    if (parse_option(a, argc, argv, &i)) {
      fprintf(stderr, "locad-demo: bad option '%s'\n", argv[i]);
      return -1;
    }
  if (a->o.method == LC_ENOTFOUND) return -1;
  a->o.out = strcmp(a->out, "-") ? a->out : NULL;
  if (dir_out) a->o.out_dir = a->o.out, a->o.out = NULL;
  if (a->app == LC_APP_EMBEDDED && a->o.out_dir) {
    snprintf(a->obj, sizeof a->obj, "%s/deformed.obj", a->o.out_dir);
    a->o.out = a->obj;
  }
  return 0;
}

/* Prints one event (every k-th iteration). */
static int print_event(void *user, const lc_app_event *ev) {
  const demo_args *a = user;
  if (a->quiet || (ev->iter > 1 && ev->iter % a->every)) return 0;
  if (!strcmp(ev->app, "contact"))
    printf("%-7s step %4d  E %+.9e  min distance %.4e  newton %2.0f  vmax %.3e  t %.2fs\n", ev->app, ev->iter,
           ev->energy, ev->gnorm, ev->step, ev->speed, ev->t);
  else if (!strcmp(ev->app, "frames"))
    printf("%-6s gn  it %3d  E %.9e  smoothness %.6e  curl %.6e  |g| %.3e  t %.2fs\n", ev->app, ev->iter,
           ev->energy, ev->smooth, ev->curl, ev->gnorm, ev->t);
  else if (!strcmp(ev->app, "embedded"))
    printf("%-8s gn  it %3d  E %.9e  |g| %.3e  handles %.3e  |A^T A - I| %.3e  t %.2fs\n", ev->app, ev->iter,
           ev->energy, ev->gnorm, ev->handle_err, ev->orth_err, ev->t);
  else if (!strcmp(ev->app, "cloth"))
    printf("%-6s %-6s step %5d  E %+.9e  |f| %.3e  newton %2.0f  vmax %.3e  t %.2fs\n", ev->app,
           ev->phase, ev->iter, ev->energy, ev->gnorm, ev->step, ev->speed, ev->t);
  else
    printf("%-6s %-6s it %5d  E %.12e  |g| %.3e  step %.3e  t %.2fs\n", ev->app, ev->phase,
           ev->iter, ev->energy, ev->gnorm, ev->step, ev->t);
  return 0;
}

/* Prints the summary of a run. */
static void print_result(const demo_args *a, const lc_app_result *r) {
  printf("%s: %d vertices, %d faces, %.3f s, %s\n", lc_app_name(a->app), r->nv, r->nf, r->t_total,
         r->converged ? "converged" : "NOT converged");
  for (int i = 0; i < r->n_phases; ++i) {
    const lc_app_phase *p = &r->phase[i];
    printf("  phase %-6s %5d %s  E0 %.12e  E %.12e  |g| %.3e  stop %s  monotone %s  finite %s  %.3f s\n",
           p->name, p->iters, strcmp(p->name, "step") ? "iters" : "steps", p->energy0, p->energy,
           p->gnorm, lc_stop_reason_name(p->reason), p->monotone ? "yes" : "no",
           p->finite ? "yes" : "no", p->t);
  }
  if (a->app == LC_APP_CLOTH) printf("  newton iterations %d, final max speed %.3e m/s\n", r->newton_iters, r->speed);
  if (a->app == LC_APP_CONTACT)
    printf("  newton iterations %d, min distance %.4e, intersections %lld\n", r->newton_iters, r->min_dist,
           (long long)r->intersections);
  if (a->app == LC_APP_CONTACT && a->o.out_dir) printf("  wrote %s/{frames/, steps.jsonl, final.png}\n", a->o.out_dir);
  if (a->app == LC_APP_FRAMES) printf("  faces with Im(beta conj alpha) <= 0: %d\n", r->n_flipped);
  if (a->app == LC_APP_FRAMES && a->o.out_dir)
    printf("  wrote %s/{field.rawfield, iters.jsonl, final.png}\n", a->o.out_dir);
  if (a->app == LC_APP_EMBEDDED)
    printf("  %d handle vertices, max handle error %.3e, max |A^T A - I| %.3e\n", r->n_handles, r->handle_err,
           r->orth_err);
  if (a->app == LC_APP_EMBEDDED && a->o.out_dir)
    printf("  wrote %s/{iters.jsonl, before.png, after.png}\n", a->o.out_dir);
  if (a->app == LC_APP_UV) printf("  flipped %d, max |tutte - reference| %.3e\n", r->n_flipped, r->tutte_diff);
  if (a->app == LC_APP_SPHERE)
    printf("  flipped %d (radial start: %d, untangled in %d sweeps)\n", r->n_flipped, r->n_flipped0,
           r->untangle_sweeps);
  if (a->app == LC_APP_SMOOTH) printf("  roughness %.4e -> %.4e\n", r->roughness0, r->roughness);
  if (a->app == LC_APP_ARAP && !isnan(r->rigid_err)) printf("  rigid error %.3e\n", r->rigid_err);
  if (a->o.out) printf("  wrote %s\n", a->o.out);
}

int main(int argc, char **argv) {
  demo_args a;
  if (parse_args(&a, argc, argv)) {
    usage(stderr);
    return 2;
  }
  a.o.report = print_event;
  a.o.user = &a;
  lc_app_result r;
  lc_error err = {0};
  const int rc = lc_app_run((lc_app_kind)a.app, &a.o, &r, &err);
  if (rc) {
    fprintf(stderr, "locad-demo %s: %s: %s\n", lc_app_name(a.app), lc_strerror(rc), err.msg);
    return 1;
  }
  print_result(&a, &r);
  return 0;
}
