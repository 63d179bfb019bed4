/*
 * check_ok.h - the CHECK(cond, fmt, ...) macro of the model tests: every
 * check prints "ok" or "FAIL" with its message and file:line, and counts in
 * n_ok / n_fail; main returns n_fail != 0. (check.h is the quiet variant
 * that prints failures only.)
 */
#ifndef ASKDOCS_TEST_CHECK_OK_H
#define ASKDOCS_TEST_CHECK_OK_H

#include <stdio.h>

static int n_fail, n_ok;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (cond) {                                                           \
            n_ok++;                                                           \
            printf("ok   ");                                                  \
        } else {                                                              \
            n_fail++;                                                         \
            printf("FAIL ");                                                  \
        }                                                                     \
        printf(__VA_ARGS__);                                                  \
        printf("   (%s:%d)\n", __FILE__, __LINE__);                           \
    } while (0)

#endif /* ASKDOCS_TEST_CHECK_OK_H */
