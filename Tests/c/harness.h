/*
 * harness.h: the small test harness of the libffi suite (Tests/c/ffi_suite.c,
 * Tests/c/ffi_conformance.c, Tests/c/ffi_harness.c).
 *
 * The library is loaded with dlopen() and every function is called through
 * libffi (ffi_prep_cif/ffi_call) from its row in include/portmanager.sig, the
 * way a language binding without a C compiler would call it. The C types of
 * portmanager.h are used only for constants and out-param storage.
 */
#ifndef PM_TEST_HARNESS_H
#define PM_TEST_HARNESS_H

#include <ffi.h>
#include <stddef.h>
#include <stdint.h>

#define PM_SIG_MAX_ARGS 12

/** One row of the signature table, prepared for ffi_call. */
typedef struct pm_sig {
    char name[64];
    char ret[8];
    char args[PM_SIG_MAX_ARGS][8];
    unsigned nargs;
    ffi_type *rtype;
    ffi_type *atypes[PM_SIG_MAX_ARGS];
    ffi_cif cif;
    void (*fn)(void);
    unsigned long calls;
} pm_sig;

/* ---- results */
extern int t_passed, t_failed;
/** Records one check; prints a FAIL line (with file:line) when `ok` is false. */
int t_check(int ok, const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
#define CHECK(ok, ...) t_check((ok) != 0, __FILE__, __LINE__, __VA_ARGS__)

/* ---- loading */
/** Loads the table and dlopens the library; returns 0 or prints why not and returns -1. */
int sig_load(const char *table_path, const char *library_path);
/** The loaded rows. */
extern pm_sig sig_rows[];
extern unsigned sig_count;
/** Fails a check for every row never called; returns how many were not. */
int sig_check_coverage(void);

/**
 * Calls `name` through libffi. `args[i]` points at storage of the i-th
 * argument's type; `nargs` must equal the table's count (a mismatch fails a
 * check and returns (ffi_arg)-1 without calling). Integer returns arrive
 * widened in an ffi_arg, as libffi documents.
 */
ffi_arg sig_call(const char *name, unsigned nargs, void **args);
#define CALL(name, ...) \
    sig_call((name), (unsigned)(sizeof((void *[]){__VA_ARGS__}) / sizeof(void *)), (void *[]){__VA_ARGS__})
#define CALL0(name) sig_call((name), 0, NULL)

/* ---- typed wrappers: each one a single ffi_call of the function it names */
int ff_status(ffi_arg r);
uint32_t ff_version_number(void);
const char *ff_version_string(void);
uint32_t ff_abi_version(void);
const char *ff_status_str(int status);
const char *ff_last_error(void);
void *ff_last_error_capture(void);
const char *ff_error_message(void *error);
void ff_error_free(void *error);
int ff_registry_open(const char *path, void **out);
int ff_registry_open_env(const char *path, const char *env, void **out);
int ff_registry_open_string(const char *yaml, size_t length, const char *source, void **out);
void ff_registry_close(void *registry);
int ff_registry_source(const void *registry, char *buffer, size_t capacity, size_t *needed);
int ff_registry_environment(const void *registry, char *buffer, size_t capacity, size_t *needed, int32_t *offset);
int ff_service_count(const void *registry, size_t *out);
int ff_service_name(const void *registry, size_t index, char *buffer, size_t capacity, size_t *needed);
int ff_service_info(const void *registry, const char *service, int32_t *inc, int32_t *max, size_t *count);
int ff_port_name(const void *registry, const char *service, size_t index, char *buffer, size_t capacity, size_t *needed);
int ff_port_definition(const void *registry, const char *service, const char *port, uint16_t *base, uint16_t *count,
                       uint16_t *container);
int ff_get_port(const void *registry, const char *service, int32_t instance, const char *port, uint16_t *out);
int ff_get_port_range(const void *registry, const char *service, int32_t instance, const char *port, uint16_t *first,
                      uint16_t *last);
int ff_get_container_port(const void *registry, const char *service, int32_t instance, const char *port,
                          uint16_t *out);
int ff_get_ports(const void *registry, const char *service, int32_t instance, uint16_t *ports, size_t capacity,
                 size_t *needed);
int ff_container_name(const void *registry, const char *service, int32_t instance, char *buffer, size_t capacity,
                      size_t *needed);
int ff_volume_name(const void *registry, const char *service, int32_t instance, char *buffer, size_t capacity,
                   size_t *needed);
int ff_instance_docker_json(const void *registry, const char *service, int32_t instance, char *buffer,
                            size_t capacity, size_t *needed);
int ff_instance_env(const void *registry, const char *service, int32_t instance, const char *prefix, char *buffer,
                    size_t capacity, size_t *needed);
int ff_allocation_line(const void *registry, const char *service, int64_t instance, const char *port, char *buffer,
                       size_t capacity, size_t *needed);
int ff_port_probe(const char *host, int32_t port, int *available);
int ff_probe(int32_t port, int32_t protocols, const char *host, void **out);
void ff_probe_result_free(void *result);
int ff_probe_result_verdict(const void *result, int32_t *verdict, size_t *holders);
int ff_probe_result_holder(const void *result, size_t index, int32_t *pid, int32_t *protocol, char *buffer,
                           size_t capacity, size_t *needed);
int ff_probe_result_command(const void *result, size_t index, char *buffer, size_t capacity, size_t *needed);
int ff_probe_result_json(const void *result, char *buffer, size_t capacity, size_t *needed);
typedef void (*ff_log_fn)(int32_t level, const char *message, void *context);
int ff_set_log_callback(ff_log_fn callback, void *context);
int ff_set_log_level(int32_t level);
int32_t ff_get_log_level(void);
int ff_analyze(const void *registry, int32_t low, int32_t high, const char *reserved, void **out);
void ff_analysis_free(void *analysis);
int ff_analysis_count(const void *analysis, size_t *count, size_t *errors, size_t *warnings);
int ff_analysis_finding(const void *analysis, size_t index, int32_t *severity, char *buffer, size_t capacity,
                        size_t *needed);
int ff_analysis_json(const void *analysis, char *buffer, size_t capacity, size_t *needed);
int ff_reserve(const void *registry, const char *state_dir, const char *service, int32_t instance, const char *owner,
               int64_t ttl, int32_t flags, int32_t *out);
int ff_reserve_instance(const void *registry, const char *state_dir, const char *service, int32_t instance,
                        const char *owner, int64_t ttl, int32_t flags, int32_t *out, int32_t *out_fresh);
int ff_release(const void *registry, const char *state_dir, const char *service, int32_t instance, const char *owner,
               int32_t flags, int32_t *out);
int ff_bind_container(const void *registry, const char *state_dir, const char *service, int32_t instance,
                      const char *owner, const char *container, int32_t flags);
int ff_renew(const void *registry, const char *state_dir, const char *service, int32_t instance, const char *owner,
             int64_t ttl, int32_t flags);
int ff_reservations_json(const void *registry, const char *state_dir, const char *service, char *buffer,
                         size_t capacity, size_t *needed);
int ff_reconcile(const void *registry, const char *state_dir, int32_t flags, char *buffer, size_t capacity,
                 size_t *needed);
int ff_instance_states_json(const void *registry, const char *state_dir, const char *service, int32_t flags,
                            char *buffer, size_t capacity, size_t *needed);

/** Status name to value through pm_status_str (-1 when no value 0..63 has that name). */
int ff_status_value(const char *name);
/** True when `haystack` contains `needle`. */
int contains(const char *haystack, const char *needle);

/** Runs the shared vectors file through the wrappers; returns the number of vectors run. */
int run_conformance(const char *vectors_path);
/** The "instances" section (Tests/c/ffi_instances.c), on the shipped registry. */
void test_instances(void *shipped);

#endif
