/*
 * header_hygiene.c: compiled (not run) by scripts/test-c.sh as C99, C11 and
 * C++17 (-x c++), with gcc/g++ and clang/clang++, -Wall -Wextra -Werror
 * -pedantic, to prove that portmanager.h is clean in each. Its include guard,
 * extern "C" block and macros are exercised below.
 */
#include "portmanager.h"
#include "portmanager.h" /* twice: the include guard must hold */

/* Compile-time checks that work in C99 and C++ alike. */
typedef char pm_check_ok_is_zero[(PM_OK == 0) ? 1 : -1];
typedef char pm_check_version_number[(PM_VERSION_NUMBER ==
                                      PM_VERSION_MAJOR * 10000 + PM_VERSION_MINOR * 100 + PM_VERSION_PATCH) ? 1 : -1];
typedef char pm_check_abi[(PM_ABI_VERSION >= 1) ? 1 : -1];
typedef char pm_check_levels[(PM_LOG_DEBUG < PM_LOG_INFO && PM_LOG_INFO < PM_LOG_WARNING &&
                              PM_LOG_WARNING < PM_LOG_ERROR && PM_LOG_ERROR < PM_LOG_OFF) ? 1 : -1];

static void sink(int32_t level, const char *message, void *context) {
    (void)level;
    (void)message;
    (void)context;
}

/* Uses the types and takes the address of the fixed functions, with C linkage in C++. */
int pm_header_hygiene(void);
int pm_header_hygiene(void) {
    pm_registry *registry = 0;
    pm_status status = PM_ERR_UNKNOWN_ENVIRONMENT;
    pm_log_fn fn = sink;
    pm_log_level level = PM_LOG_WARNING;
    pm_status (*open_fn)(const char *, pm_registry **) = pm_registry_open;
    pm_status (*get_port_fn)(const pm_registry *, const char *, int32_t, const char *, uint16_t *) = pm_get_port;
    const char *(*last_error_fn)(void) = pm_last_error;
    uint32_t (*abi_fn)(void) = pm_abi_version;
    void (*close_fn)(pm_registry *) = pm_registry_close;
    return (registry == 0) + (int)status + (fn != 0) + (int)level + (open_fn != 0) + (get_port_fn != 0) +
           (last_error_fn != 0) + (abi_fn != 0) + (close_fn != 0);
}
