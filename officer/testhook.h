/*
 * testhook.h - the environment variables that only the test suite sets
 * (CTLSIGN_TEST_*). Read them with TEST_HOOK_ENV(NAME), never getenv: a build with
 * -DCTL_TEST_HOOKS=OFF (the packages, scripts/package) compiles every hook out, so
 * the variable names are not even in the binary.
 */
#ifndef CTL_TESTHOOK_H
#define CTL_TESTHOOK_H

#include <stdlib.h>

#ifdef CTL_TEST_HOOKS
#define TEST_HOOK_ENV(name) getenv(name)
#else
#define TEST_HOOK_ENV(name) ((const char *)NULL)
#endif

#endif
