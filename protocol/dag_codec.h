/* dag_codec.h - custom-energy descriptions off the wire: a MessagePack map
 * (protocol/SPEC.md, "Custom energies") decoded into an engine DAG
 * (engine/custom/dag.h), checked there, and packed back for get_term.
 *
 * Errors follow codec.h: LC_EINVAL (protocol PARAMS) for a missing key or a
 * wrong MessagePack type, LC_ERANGE (INVAL) for a bad value; the DAG's own
 * checks answer LC_EINVAL.  Every message names the key or "nodes[i]". */
#ifndef LC_DAG_CODEC_H
#define LC_DAG_CODEC_H

#include <msgpack.h>

#include "custom/dag.h"
#include "lc_error.h"

/* Element kinds a description may name, with their entity counts. */
typedef struct lc_dag_wire {
  lc_dag *dag;        /* owned by the caller (lc_dag_destroy) */
  lc_dag *rest;       /* constants from the rest shape ("rest"), or NULL; owned by the caller */
  int elem;           /* lc_elem_kind of energies/registry.h */
  int n_param;
  char param_names[LC_DAG_MAX_PARAMS][32];
} lc_dag_wire;

/* Decodes description map o into *out (out->dag and out->rest NULL on
 * failure, err says which key or node was wrong and why). */
int lc_dag_decode(const msgpack_object *o, lc_dag_wire *out, lc_error *err);

/* Packs the lowered program of g back as a description map (element kind
 * elem, parameter names): the form get_term answers with.  A "rest" section
 * is not packed (get_term answers the constants themselves). */
void lc_dag_pack(msgpack_packer *pk, const lc_dag_wire *w);

#endif
