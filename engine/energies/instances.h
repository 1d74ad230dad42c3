/* instances.h - instantiates every energy source for one backend (no include
 * guard).  The includer defines LC_EINST_TEMPLATE, a header that turns the
 * current instance into kernels; for each instance this file defines
 *   LC_EINST   the instance name (as in LC_ENERGY_LIST of registry.h),
 *   LC_ESRC    the element source, relative to engine/,
 *   LC_EDIM    the variable dimension D,
 *   LC_EN      the number of local variables N = K * D (a literal),
 *   LC_ERESID  residual components (0 for plain energies),
 * and includes the template, which must #undef all five.
 * Keep the order identical to LC_ENERGY_LIST: each stanza asserts at compile
 * time that its position and dimension match the list (registry.h must be
 * included first). */
#ifndef LC_ENERGY_REGISTRY_H
#error "include energies/registry.h before energies/instances.h"
#endif

#ifndef LC_EINST_CHECK
/* Compile-time agreement of the current stanza (number idx) with registry.h. */
#define LC_EINST_CHECK(idx)                                                       \
  LC_STATIC_ASSERT(LC_CAT(LC_E_, LC_EINST) == (idx) &&                            \
                       LC_CAT(LC_EDIMOF_, LC_EINST) == LC_EDIM &&                 \
                       LC_EN % LC_EDIM == 0 && LC_EN / LC_EDIM <= LC_ENERGY_MAX_K && \
                       LC_EN <= LC_ENERGY_MAX_N && LC_ERESID <= LC_ENERGY_MAX_RESID, \
                   "energies/instances.h: stanza out of sync with LC_ENERGY_LIST");
#endif

#define LC_EINST spring_2
#define LC_ESRC "energies/e_spring.h"
#define LC_EDIM 2
#define LC_EN 4
#define LC_ERESID 0
LC_EINST_CHECK(0)
#include LC_EINST_TEMPLATE

#define LC_EINST spring_3
#define LC_ESRC "energies/e_spring.h"
#define LC_EDIM 3
#define LC_EN 6
#define LC_ERESID 0
LC_EINST_CHECK(1)
#include LC_EINST_TEMPLATE

#define LC_EINST inertia_2
#define LC_ESRC "energies/e_inertia.h"
#define LC_EDIM 2
#define LC_EN 2
#define LC_ERESID 0
LC_EINST_CHECK(2)
#include LC_EINST_TEMPLATE

#define LC_EINST inertia_3
#define LC_ESRC "energies/e_inertia.h"
#define LC_EDIM 3
#define LC_EN 3
#define LC_ERESID 0
LC_EINST_CHECK(3)
#include LC_EINST_TEMPLATE

#define LC_EINST gravity_3
#define LC_ESRC "energies/e_gravity.h"
#define LC_EDIM 3
#define LC_EN 3
#define LC_ERESID 0
LC_EINST_CHECK(4)
#include LC_EINST_TEMPLATE

#define LC_EINST target_1
#define LC_ESRC "energies/e_target.h"
#define LC_EDIM 1
#define LC_EN 1
#define LC_ERESID 0
LC_EINST_CHECK(5)
#include LC_EINST_TEMPLATE

#define LC_EINST target_2
#define LC_ESRC "energies/e_target.h"
#define LC_EDIM 2
#define LC_EN 2
#define LC_ERESID 0
LC_EINST_CHECK(6)
#include LC_EINST_TEMPLATE

#define LC_EINST target_3
#define LC_ESRC "energies/e_target.h"
#define LC_EDIM 3
#define LC_EN 3
#define LC_ERESID 0
LC_EINST_CHECK(7)
#include LC_EINST_TEMPLATE

#define LC_EINST target_4
#define LC_ESRC "energies/e_target.h"
#define LC_EDIM 4
#define LC_EN 4
#define LC_ERESID 0
LC_EINST_CHECK(8)
#include LC_EINST_TEMPLATE

#define LC_EINST stvk_3
#define LC_ESRC "energies/e_stvk.h"
#define LC_EDIM 3
#define LC_EN 9
#define LC_ERESID 0
LC_EINST_CHECK(9)
#include LC_EINST_TEMPLATE

#define LC_EINST neohookean_3
#define LC_ESRC "energies/e_neohookean.h"
#define LC_EDIM 3
#define LC_EN 9
#define LC_ERESID 0
LC_EINST_CHECK(10)
#include LC_EINST_TEMPLATE

#define LC_EINST bending_3
#define LC_ESRC "energies/e_bending.h"
#define LC_EDIM 3
#define LC_EN 12
#define LC_ERESID 0
LC_EINST_CHECK(11)
#include LC_EINST_TEMPLATE

#define LC_EINST symdir_2
#define LC_ESRC "energies/e_symdir.h"
#define LC_EDIM 2
#define LC_EN 6
#define LC_ERESID 0
LC_EINST_CHECK(12)
#include LC_EINST_TEMPLATE

#define LC_EINST arap_2
#define LC_ESRC "energies/e_arap.h"
#define LC_EDIM 2
#define LC_EN 6
#define LC_ERESID 0
LC_EINST_CHECK(13)
#include LC_EINST_TEMPLATE

#define LC_EINST arap_3
#define LC_ESRC "energies/e_arap.h"
#define LC_EDIM 3
#define LC_EN 9
#define LC_ERESID 0
LC_EINST_CHECK(14)
#include LC_EINST_TEMPLATE

#define LC_EINST dirichlet_1
#define LC_ESRC "energies/e_dirichlet.h"
#define LC_EDIM 1
#define LC_EN 2
#define LC_ERESID 0
LC_EINST_CHECK(15)
#include LC_EINST_TEMPLATE

#define LC_EINST dirichlet_2
#define LC_ESRC "energies/e_dirichlet.h"
#define LC_EDIM 2
#define LC_EN 4
#define LC_ERESID 0
LC_EINST_CHECK(16)
#include LC_EINST_TEMPLATE

#define LC_EINST dirichlet_3
#define LC_ESRC "energies/e_dirichlet.h"
#define LC_EDIM 3
#define LC_EN 6
#define LC_ERESID 0
LC_EINST_CHECK(17)
#include LC_EINST_TEMPLATE

#define LC_EINST dirichlet_4
#define LC_ESRC "energies/e_dirichlet.h"
#define LC_EDIM 4
#define LC_EN 8
#define LC_ERESID 0
LC_EINST_CHECK(18)
#include LC_EINST_TEMPLATE

#define LC_EINST cot_dirichlet_1
#define LC_ESRC "energies/e_cot_dirichlet.h"
#define LC_EDIM 1
#define LC_EN 2
#define LC_ERESID 0
LC_EINST_CHECK(19)
#include LC_EINST_TEMPLATE

#define LC_EINST cot_dirichlet_2
#define LC_ESRC "energies/e_cot_dirichlet.h"
#define LC_EDIM 2
#define LC_EN 4
#define LC_ERESID 0
LC_EINST_CHECK(20)
#include LC_EINST_TEMPLATE

#define LC_EINST cot_dirichlet_3
#define LC_ESRC "energies/e_cot_dirichlet.h"
#define LC_EDIM 3
#define LC_EN 6
#define LC_ERESID 0
LC_EINST_CHECK(21)
#include LC_EINST_TEMPLATE

#define LC_EINST area_2
#define LC_ESRC "energies/e_area.h"
#define LC_EDIM 2
#define LC_EN 6
#define LC_ERESID 0
LC_EINST_CHECK(22)
#include LC_EINST_TEMPLATE

#define LC_EINST area_3
#define LC_ESRC "energies/e_area.h"
#define LC_EDIM 3
#define LC_EN 9
#define LC_ERESID 0
LC_EINST_CHECK(23)
#include LC_EINST_TEMPLATE

#define LC_EINST sphere_param_3
#define LC_ESRC "energies/e_sphere_param.h"
#define LC_EDIM 3
#define LC_EN 9
#define LC_ERESID 0
LC_EINST_CHECK(24)
#include LC_EINST_TEMPLATE

#define LC_EINST res_position_2
#define LC_ESRC "energies/e_res_position.h"
#define LC_EDIM 2
#define LC_EN 2
#define LC_ERESID 2
LC_EINST_CHECK(25)
#include LC_EINST_TEMPLATE

#define LC_EINST res_position_3
#define LC_ESRC "energies/e_res_position.h"
#define LC_EDIM 3
#define LC_EN 3
#define LC_ERESID 3
LC_EINST_CHECK(26)
#include LC_EINST_TEMPLATE

#define LC_EINST res_edge_length_2
#define LC_ESRC "energies/e_res_edge_length.h"
#define LC_EDIM 2
#define LC_EN 4
#define LC_ERESID 1
LC_EINST_CHECK(27)
#include LC_EINST_TEMPLATE

#define LC_EINST res_edge_length_3
#define LC_ESRC "energies/e_res_edge_length.h"
#define LC_EDIM 3
#define LC_EN 6
#define LC_ERESID 1
LC_EINST_CHECK(28)
#include LC_EINST_TEMPLATE

#define LC_EINST contact_pt_3
#define LC_ESRC "energies/e_contact_pt.h"
#define LC_EDIM 3
#define LC_EN 12
#define LC_ERESID 0
LC_EINST_CHECK(29)
#include LC_EINST_TEMPLATE

#define LC_EINST contact_ee_3
#define LC_ESRC "energies/e_contact_ee.h"
#define LC_EDIM 3
#define LC_EN 12
#define LC_ERESID 0
LC_EINST_CHECK(30)
#include LC_EINST_TEMPLATE

#define LC_EINST contact_margin_3
#define LC_ESRC "energies/e_contact_margin.h"
#define LC_EDIM 3
#define LC_EN 3
#define LC_ERESID 0
LC_EINST_CHECK(31)
#include LC_EINST_TEMPLATE

#define LC_EINST contact_plane_3
#define LC_ESRC "energies/e_contact_plane.h"
#define LC_EDIM 3
#define LC_EN 3
#define LC_ERESID 0
LC_EINST_CHECK(32)
#include LC_EINST_TEMPLATE

#define LC_EINST friction_pair_3
#define LC_ESRC "energies/e_friction_pair.h"
#define LC_EDIM 3
#define LC_EN 12
#define LC_ERESID 0
LC_EINST_CHECK(33)
#include LC_EINST_TEMPLATE

#define LC_EINST friction_point_3
#define LC_ESRC "energies/e_friction_point.h"
#define LC_EDIM 3
#define LC_EN 3
#define LC_ERESID 0
LC_EINST_CHECK(34)
#include LC_EINST_TEMPLATE

#define LC_EINST ff_smooth_4
#define LC_ESRC "energies/e_ff_smooth.h"
#define LC_EDIM 4
#define LC_EN 8
#define LC_ERESID 4
LC_EINST_CHECK(35)
#include LC_EINST_TEMPLATE

#define LC_EINST ff_curl_4
#define LC_ESRC "energies/e_ff_curl.h"
#define LC_EDIM 4
#define LC_EN 8
#define LC_ERESID 3
LC_EINST_CHECK(36)
#include LC_EINST_TEMPLATE

#define LC_EINST ff_close_4
#define LC_ESRC "energies/e_ff_close.h"
#define LC_EDIM 4
#define LC_EN 4
#define LC_ERESID 4
LC_EINST_CHECK(37)
#include LC_EINST_TEMPLATE

#define LC_EINST ff_barrier_4
#define LC_ESRC "energies/e_ff_barrier.h"
#define LC_EDIM 4
#define LC_EN 4
#define LC_ERESID 1
LC_EINST_CHECK(38)
#include LC_EINST_TEMPLATE

#define LC_EINST ed_fit_12
#define LC_ESRC "energies/e_ed_fit.h"
#define LC_EDIM 12
#define LC_EN 12
#define LC_ERESID 3
LC_EINST_CHECK(39)
#include LC_EINST_TEMPLATE

#define LC_EINST ed_rot_12
#define LC_ESRC "energies/e_ed_rot.h"
#define LC_EDIM 12
#define LC_EN 12
#define LC_ERESID 6
LC_EINST_CHECK(40)
#include LC_EINST_TEMPLATE

#define LC_EINST ed_reg_12
#define LC_ESRC "energies/e_ed_reg.h"
#define LC_EDIM 12
#define LC_EN 24
#define LC_ERESID 6
LC_EINST_CHECK(41)
#include LC_EINST_TEMPLATE

LC_STATIC_ASSERT(LC_E_COUNT == 42,
                 "energies/instances.h: an instance of LC_ENERGY_LIST is missing");
