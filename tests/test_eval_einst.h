/* test_eval_einst.h - test instantiation template (no include guard): the
 * shared element loop of one instance, compiled on the host by
 * tests/test_eval.c so that the column-by-column Hessian (elk_hesscols_*),
 * which the CPU backend never selects, can be compared with the packed one. */
#include "eval/el_inst.h"
#include "eval/el_inst_end.h"
