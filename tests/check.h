/*
 * check.h - the CHECK macro of the C tests that report a failing condition
 * by file and line and keep going; main returns failures != 0.
 */
#ifndef ASKDOCS_TEST_CHECK_H
#define ASKDOCS_TEST_CHECK_H

#include <stdio.h>

static int failures, checks;

#define CHECK(cond)                                                      \
    do {                                                                 \
        checks++;                                                        \
        if (!(cond)) {                                                   \
            failures++;                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,       \
                    __LINE__, #cond);                                    \
        }                                                                \
    } while (0)

#endif /* ASKDOCS_TEST_CHECK_H */
