/* rpc_contact.c - problem.set_contact: contact settings of a problem
 * (engine/contact/contact.h), which problem.solve and problem.step then use,
 * and the contact statistics both report. */
#include <string.h>

#include "rpc_impl.h"

/* Packs the contact statistics of c as one map value. */
int rpc_pack_contact(msgpack_packer *pk, lc_contact *c, lc_error *err) {
  lc_contact_stats st;
  int code = rpc_ecode(lc_contact_stats_get(c, &st, err));
  if (code) return code;
  static const char *const types[4] = {"pp", "pe", "pt", "ee"};
  msgpack_pack_map(pk, 10);
  rpc_kv_int(pk, "n_pt", st.n_pt);
  rpc_kv_int(pk, "n_ee", st.n_ee);
  lc_codec_pack_str(pk, "active");
  msgpack_pack_map(pk, 5);
  for (int t = 0; t < 4; ++t) rpc_kv_int(pk, types[t], st.active[t]);
  rpc_kv_int(pk, "plane", st.active_plane);
  rpc_kv_dbl(pk, "min_distance", st.min_dist);
  rpc_kv_int(pk, "rounds", st.rounds);
  rpc_kv_int(pk, "var", lc_contact_var(c));
  rpc_kv_int(pk, "planes", lc_contact_n_planes(c));
  rpc_kv_dbl(pk, "kappa", lc_contact_kappa(c));
  lc_codec_pack_str(pk, "friction");
  msgpack_pack_map(pk, 4);
  rpc_kv_dbl(pk, "mu", lc_contact_mu(c));
  rpc_kv_int(pk, "iters", lc_contact_friction_iters(c));
  rpc_kv_int(pk, "pairs", st.friction_pairs);
  rpc_kv_int(pk, "planes", st.friction_planes);
  lc_codec_pack_str(pk, "pattern");
  msgpack_pack_map(pk, 2);
  rpc_kv_int(pk, "kept", st.lists_kept);
  rpc_kv_int(pk, "rebuilds", st.pattern_rebuilds);
  return 0;
}

/* Reads the settings of problem.set_contact into o. */
static int contact_opts(const msgpack_object *params, lc_contact_opts *o, lc_error *err) {
  int64_t rounds = 0;
  lc_contact_opts_default(o);
  int code = rpc_pcode(lc_codec_get_double(params, "dhat", 1, o->dhat, &o->dhat, err));
  if (!code) code = rpc_pcode(lc_codec_get_double(params, "kappa", 0, o->kappa, &o->kappa, err));
  if (!code) code = rpc_pcode(lc_codec_get_double(params, "dmin", 0, o->dmin, &o->dmin, err));
  if (!code) code = rpc_pcode(lc_codec_get_double(params, "margin", 0, o->margin, &o->margin, err));
  if (!code) code = rpc_pcode(lc_codec_get_int(params, "max_rounds", 0, 0, 100000, 0, &rounds, err));
  if (!code) code = rpc_pcode(lc_codec_get_double(params, "friction", 0, o->mu, &o->mu, err));
  if (!code) code = rpc_pcode(lc_codec_get_double(params, "friction_eps", 0, o->eps_v, &o->eps_v, err));
  if (!code) code = rpc_pcode(lc_codec_get_double(params, "pattern_reserve", 0, o->reserve, &o->reserve, err));
  int64_t fi = 0;
  if (!code) code = rpc_pcode(lc_codec_get_int(params, "friction_iters", 0, 0, 100, 0, &fi, err));
  o->friction_iters = (int)fi;
  o->max_rounds = (int)rounds;
  return code;
}

/* Adds the plane obstacles of params' "planes" ([n, 6]: o, normal) to c. */
static int contact_planes(const msgpack_object *params, lc_contact *c, lc_error *err) {
  lc_ndarray a = {0};
  int code = rpc_pcode(lc_codec_get_ndarray(params, "planes", 0, LC_DT_F8, -1, 6, &a, err));
  const double *v = a.data;
  for (int64_t i = 0; !code && i < a.n / 6; ++i) {
    int rc = lc_contact_add_plane(c, v + 6 * i, v + 6 * i + 3, err);
    if (rc && err) {
      char why[sizeof err->msg];
      memcpy(why, err->msg, sizeof why);
      rc = lc_error_set(err, rc, "planes[%lld]: %s", (long long)i, why);
    }
    code = rpc_ecode(rc);
  }
  lc_codec_ndarray_free(&a);
  return code;
}

/* Adaptive stiffness when params hold "adaptive_mass" (the mean vertex mass). */
static int contact_adaptive(const msgpack_object *params, lc_contact *c, lc_error *err) {
  double m = 0.0;
  int code = rpc_pcode(lc_codec_get_double(params, "adaptive_mass", 0, 0.0, &m, err));
  if (!code && lc_codec_get(params, "adaptive_mass")) code = rpc_ecode(lc_contact_set_adaptive(c, m, err));
  return code;
}

/* Replaces the problem's contact by c (NULL: none), dropping the solver. */
static void set_contact(rpc_obj *o, lc_contact *c) {
  lc_contact_destroy(o->contact);
  o->contact = c;
  if (o->dyn) lc_dynamics_set_contact(o->dyn, c);
  rpc_problem_changed(o);
}

/* problem.set_contact {problem, enabled?: true, var (required first), dhat,
 * kappa?, dmin?, margin?, max_rounds?, planes?: [[ox, oy, oz, nx, ny, nz],
 * ...], adaptive_mass?, friction?: mu, friction_eps?: eps_v, friction_iters?, pattern_reserve?} -> the contact statistics (with kappa), or
 * {enabled: false}.  A refused setting leaves the old contact as it was. */
int rpc_m_problem_set_contact(lc_rpc *r, rpc_obj *o, const msgpack_object *params, msgpack_packer *pk,
                              const lc_rpc_call *call, lc_error *err) {
  (void)r;
  (void)call;
  int enabled = 1, var = o->contact ? lc_contact_var(o->contact) : -1;
  lc_contact_opts co;
  lc_contact *c = NULL;
  int code = rpc_pcode(lc_codec_get_bool(params, "enabled", 1, &enabled, err));
  if (!code && !enabled) {
    set_contact(o, NULL);
    msgpack_pack_map(pk, 1);
    lc_codec_pack_str(pk, "enabled");
    msgpack_pack_false(pk);
    return 0;
  }
  if (!code && (var < 0 || lc_codec_get(params, "var"))) code = rpc_get_var(o->prob, params, "var", &var, err);
  if (!code) code = contact_opts(params, &co, err);
  if (!code) code = rpc_ecode(lc_contact_create(o->prob, var, &co, &c, err));
  if (!code) code = contact_planes(params, c, err);
  if (!code) code = contact_adaptive(params, c, err);
  if (code) lc_contact_destroy(c);
  if (!code) {
    set_contact(o, c);
    code = rpc_pack_contact(pk, c, err);
  }
  return code;
}

/* 1 (with an error) if term belongs to the problem's contact. */
int rpc_contact_owns(const rpc_obj *o, int term, lc_error *err) {
  if (!o->contact || !lc_contact_owns(o->contact, term)) return 0;
  lc_error_set(err, LC_EINVAL,
               "term %d belongs to the problem's contact: disable it with problem.set_contact {enabled: false}", term);
  return 1;
}

/* contacts.update {problem, pt?: i4[m, 2] (vertex, face), ee?: i4[k, 2]
 * (edge, edge)} -> the contact statistics: the problem's contact takes the
 * client's pairs instead of its broad phase (lc_contact_set_pairs).  A
 * refused list leaves the contact as it was. */
int rpc_m_contacts_update(lc_rpc *r, rpc_obj *o, const msgpack_object *params, msgpack_packer *pk,
                          const lc_rpc_call *call, lc_error *err) {
  (void)r;
  (void)call;
  lc_ndarray pt = {0}, ee = {0};
  if (!o->contact)
    return RPC_FAIL(err, LC_RPC_EINVAL, "contacts.update: the problem has no contact (call problem.set_contact first)");
  int code = rpc_pcode(lc_codec_get_ndarray(params, "pt", 0, LC_DT_I4, -1, 2, &pt, err));
  if (!code) code = rpc_pcode(lc_codec_get_ndarray(params, "ee", 0, LC_DT_I4, -1, 2, &ee, err));
  if (!code)
    code = rpc_ecode(lc_contact_set_pairs(o->contact, pt.n > 0 ? pt.data : NULL, pt.n > 0 ? pt.n / 2 : 0,
                                          ee.n > 0 ? ee.data : NULL, ee.n > 0 ? ee.n / 2 : 0, err));
  if (!code) {
    rpc_problem_changed(o);
    code = rpc_pack_contact(pk, o->contact, err);
  }
  lc_codec_ndarray_free(&pt);
  lc_codec_ndarray_free(&ee);
  return code;
}
