/* el_inst_end.h - closes one instance of an instantiation template (no
 * include guard): undefines what energies/instances.h and eval/el_inst.h
 * defined for the current instance. */
#undef LC_EL_
#undef LC_EK
#undef LC_EINST
#undef LC_ESRC
#undef LC_EDIM
#undef LC_EN
#undef LC_ERESID
#undef LC_EL_P
#undef LC_EL_NRES
#undef LC_EFN_OWN
#undef LC_EL_GRAD_FN
