/* test_eval_einst.h - test instantiation template (no include guard): the
 * shared element loop of one instance, compiled on the host by
 * tests/test_eval.c so that the column-by-column Hessian (elk_hesscols_*),
 * which the CPU backend never selects, can be compared with the packed one. */
#include "eval/el_inst.h"
#undef LC_EL_
#undef LC_EK
#undef LC_EINST
#undef LC_ESRC
#undef LC_EDIM
#undef LC_EN
#undef LC_ERESID
