/*
 * The page-table cases written once for every format and both worlds
 * (tests/shared/pt_cases.c).  PT_CASES(X) calls X(name) for each; a
 * runner turns them into named cases:
 *
 *   host (tests/host/test_pgtable.c, test_pt_i386.c):
 *     #define AS_HTEST(name) { "x86_64/" #name, run_##name },
 *   kernel (tests/kernel/test_pgtable.c):
 *     #define AS_KTEST(name) KTEST(pt_x86_64_##name) { ... tcase_##name(); }
 *
 * Before running one, the runner calls ph_use() with the format and the
 * environment (tests/shared/pt_harness.h).
 */
#ifndef TESTS_SHARED_PT_CASES_H
#define TESTS_SHARED_PT_CASES_H

#include "tcase.h"

#define PT_CASES(X)                                                         \
    X(prot_roundtrip)                                                       \
    X(prot_str)                                                             \
    X(init_destroy)                                                         \
    X(map_4k)                                                               \
    X(map_large)                                                            \
    X(large_choice)                                                         \
    X(einval)                                                               \
    X(eexist)                                                               \
    X(enomem_map)                                                           \
    X(enomem_split)                                                         \
    X(unmap_frees_tables)                                                   \
    X(walk_cursor)                                                          \
    X(split_unmap)                                                          \
    X(split_protect)                                                        \
    X(flush_before_free)                                                    \
    X(for_each)                                                             \
    X(keep_top_tables)                                                      \
    X(destroy_mapped)                                                       \
    X(validator_catches)                                                    \
    X(random)                                                               \
    X(replace)                                                              \
    X(replace_view)                                                         \
    X(payload)                                                              \
    X(payload_validator)                                                    \
    X(clone_share)

#define PT_CASE_DECLARE(name) TCASE(name);
PT_CASES(PT_CASE_DECLARE)
#undef PT_CASE_DECLARE

#endif
