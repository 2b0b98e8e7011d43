/* ffi_harness.c: loads include/portmanager.sig and the library, and calls through libffi. See harness.h. */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int t_passed, t_failed;

int t_check(int ok, const char *file, int line, const char *fmt, ...) {
    if (ok) {
        __atomic_fetch_add(&t_passed, 1, __ATOMIC_RELAXED);
        return 1;
    }
    __atomic_fetch_add(&t_failed, 1, __ATOMIC_RELAXED);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "FAIL %s:%d: ", file, line);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
    return 0;
}

#define SIG_MAX_ROWS 128
pm_sig sig_rows[SIG_MAX_ROWS];
unsigned sig_count;
static void *library;

static ffi_type *ffi_type_of(const char *class_name, int is_return) {
    if (strcmp(class_name, "void") == 0) return is_return ? &ffi_type_void : NULL;
    if (strcmp(class_name, "status") == 0 || strcmp(class_name, "int") == 0) return &ffi_type_sint;
    if (strcmp(class_name, "i32") == 0) return &ffi_type_sint32;
    if (strcmp(class_name, "i64") == 0) return &ffi_type_sint64;
    if (strcmp(class_name, "u32") == 0) return &ffi_type_uint32;
    if (strcmp(class_name, "size") == 0) return sizeof(size_t) == 8 ? &ffi_type_uint64 : &ffi_type_uint32;
    if (strcmp(class_name, "str") == 0 || strcmp(class_name, "ptr") == 0 || strcmp(class_name, "fn") == 0)
        return &ffi_type_pointer;
    return NULL;
}

int sig_load(const char *table_path, const char *library_path) {
    FILE *f = fopen(table_path, "r");
    if (!f) {
        perror(table_path);
        return -1;
    }
    library = dlopen(library_path, RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        fprintf(stdout, "FAIL dlopen(%s): %s\n", library_path, dlerror());
        fclose(f);
        return -1;
    }
    char line[512];
    int number = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        number++;
        char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save);
        if (!tok || tok[0] == '#') continue;
        if (sig_count == SIG_MAX_ROWS) {
            fprintf(stdout, "FAIL %s: more than %d rows\n", table_path, SIG_MAX_ROWS);
            bad = 1;
            break;
        }
        pm_sig *s = &sig_rows[sig_count];
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "%s", tok);
        tok = strtok_r(NULL, " \t\r\n", &save);
        if (!tok || !(s->rtype = ffi_type_of(tok, 1))) {
            fprintf(stdout, "FAIL %s:%d: %s: missing or unknown return type '%s'\n", table_path, number, s->name,
                    tok ? tok : "");
            bad = 1;
            continue;
        }
        snprintf(s->ret, sizeof s->ret, "%s", tok);
        while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
            if (s->nargs == PM_SIG_MAX_ARGS || !(s->atypes[s->nargs] = ffi_type_of(tok, 0))) {
                fprintf(stdout, "FAIL %s:%d: %s: bad argument type '%s'\n", table_path, number, s->name, tok);
                bad = 1;
                break;
            }
            snprintf(s->args[s->nargs], sizeof s->args[0], "%s", tok);
            s->nargs++;
        }
        if (ffi_prep_cif(&s->cif, FFI_DEFAULT_ABI, s->nargs, s->rtype, s->atypes) != FFI_OK) {
            fprintf(stdout, "FAIL %s:%d: ffi_prep_cif failed for %s\n", table_path, number, s->name);
            bad = 1;
            continue;
        }
        void *symbol = dlsym(library, s->name);
        if (!CHECK(symbol != NULL, "dlsym(%s): the table lists a function the library does not export", s->name)) {
            bad = 1;
            continue;
        }
        memcpy(&s->fn, &symbol, sizeof symbol); /* object to function pointer, without a pedantic cast */
        sig_count++;
    }
    fclose(f);
    CHECK(sig_count > 0, "%s lists functions", table_path);
    return bad || sig_count == 0 ? -1 : 0;
}

static pm_sig *sig_find(const char *name) {
    for (unsigned i = 0; i < sig_count; i++)
        if (strcmp(sig_rows[i].name, name) == 0) return &sig_rows[i];
    return NULL;
}

ffi_arg sig_call(const char *name, unsigned nargs, void **args) {
    /* Checked on every call, but counted only when they fail: they guard the suite, not the library. */
    pm_sig *s = sig_find(name);
    if (!s) {
        CHECK(0, "the suite calls %s, which is not in the signature table", name);
        return (ffi_arg)-1;
    }
    if (s->nargs != nargs) {
        CHECK(0, "the suite calls %s with %u arguments; the table has %u", name, nargs, s->nargs);
        return (ffi_arg)-1;
    }
    ffi_arg result = 0;
    ffi_call(&s->cif, s->fn, &result, args);
    __atomic_fetch_add(&s->calls, 1, __ATOMIC_RELAXED);
    return result;
}

int sig_check_coverage(void) {
    int missing = 0;
    for (unsigned i = 0; i < sig_count; i++)
        if (!CHECK(sig_rows[i].calls > 0, "%s is in the table but the suite never calls it", sig_rows[i].name))
            missing++;
    return missing;
}

/* ---- wrappers: each builds the argument array and makes one ffi_call */

int ff_status(ffi_arg r) { return (int)(int32_t)r; }
uint32_t ff_version_number(void) { return (uint32_t)CALL0("pm_version_number"); }
const char *ff_version_string(void) { return (const char *)(uintptr_t)CALL0("pm_version_string"); }
uint32_t ff_abi_version(void) { return (uint32_t)CALL0("pm_abi_version"); }
const char *ff_status_str(int status) { return (const char *)(uintptr_t)CALL("pm_status_str", &status); }
const char *ff_last_error(void) { return (const char *)(uintptr_t)CALL0("pm_last_error"); }
void *ff_last_error_capture(void) { return (void *)(uintptr_t)CALL0("pm_last_error_capture"); }
const char *ff_error_message(void *error) { return (const char *)(uintptr_t)CALL("pm_error_message", &error); }
void ff_error_free(void *error) { (void)CALL("pm_error_free", &error); }

int ff_registry_open(const char *path, void **out) { return ff_status(CALL("pm_registry_open", &path, &out)); }
int ff_registry_open_env(const char *path, const char *env, void **out) {
    return ff_status(CALL("pm_registry_open_env", &path, &env, &out));
}
int ff_registry_open_string(const char *yaml, size_t length, const char *source, void **out) {
    return ff_status(CALL("pm_registry_open_string", &yaml, &length, &source, &out));
}
void ff_registry_close(void *registry) { (void)CALL("pm_registry_close", &registry); }
int ff_registry_source(const void *registry, char *buffer, size_t capacity, size_t *needed) {
    return ff_status(CALL("pm_registry_source", &registry, &buffer, &capacity, &needed));
}
int ff_registry_environment(const void *registry, char *buffer, size_t capacity, size_t *needed, int32_t *offset) {
    return ff_status(CALL("pm_registry_environment", &registry, &buffer, &capacity, &needed, &offset));
}
int ff_service_count(const void *registry, size_t *out) {
    return ff_status(CALL("pm_service_count", &registry, &out));
}
int ff_service_name(const void *registry, size_t index, char *buffer, size_t capacity, size_t *needed) {
    return ff_status(CALL("pm_service_name", &registry, &index, &buffer, &capacity, &needed));
}
int ff_service_info(const void *registry, const char *service, int32_t *inc, int32_t *max, size_t *count) {
    return ff_status(CALL("pm_service_info", &registry, &service, &inc, &max, &count));
}
int ff_port_name(const void *registry, const char *service, size_t index, char *buffer, size_t capacity,
                 size_t *needed) {
    return ff_status(CALL("pm_port_name", &registry, &service, &index, &buffer, &capacity, &needed));
}
int ff_port_definition(const void *registry, const char *service, const char *port, uint16_t *base, uint16_t *count,
                       uint16_t *container) {
    return ff_status(CALL("pm_port_definition", &registry, &service, &port, &base, &count, &container));
}
int ff_get_port(const void *registry, const char *service, int32_t instance, const char *port, uint16_t *out) {
    return ff_status(CALL("pm_get_port", &registry, &service, &instance, &port, &out));
}
int ff_get_port_range(const void *registry, const char *service, int32_t instance, const char *port, uint16_t *first,
                      uint16_t *last) {
    return ff_status(CALL("pm_get_port_range", &registry, &service, &instance, &port, &first, &last));
}
int ff_get_container_port(const void *registry, const char *service, int32_t instance, const char *port,
                          uint16_t *out) {
    return ff_status(CALL("pm_get_container_port", &registry, &service, &instance, &port, &out));
}
int ff_get_ports(const void *registry, const char *service, int32_t instance, uint16_t *ports, size_t capacity,
                 size_t *needed) {
    return ff_status(CALL("pm_get_ports", &registry, &service, &instance, &ports, &capacity, &needed));
}
int ff_container_name(const void *registry, const char *service, int32_t instance, char *buffer, size_t capacity,
                      size_t *needed) {
    return ff_status(CALL("pm_container_name", &registry, &service, &instance, &buffer, &capacity, &needed));
}
int ff_volume_name(const void *registry, const char *service, int32_t instance, char *buffer, size_t capacity,
                   size_t *needed) {
    return ff_status(CALL("pm_volume_name", &registry, &service, &instance, &buffer, &capacity, &needed));
}
int ff_instance_docker_json(const void *registry, const char *service, int32_t instance, char *buffer,
                            size_t capacity, size_t *needed) {
    return ff_status(CALL("pm_instance_docker_json", &registry, &service, &instance, &buffer, &capacity, &needed));
}
int ff_instance_env(const void *registry, const char *service, int32_t instance, const char *prefix, char *buffer,
                    size_t capacity, size_t *needed) {
    return ff_status(CALL("pm_instance_env", &registry, &service, &instance, &prefix, &buffer, &capacity, &needed));
}
int ff_allocation_line(const void *registry, const char *service, int64_t instance, const char *port, char *buffer,
                       size_t capacity, size_t *needed) {
    return ff_status(CALL("pm_allocation_line", &registry, &service, &instance, &port, &buffer, &capacity, &needed));
}
int ff_port_probe(const char *host, int32_t port, int *available) {
    return ff_status(CALL("pm_port_probe", &host, &port, &available));
}
int ff_probe(int32_t port, int32_t protocols, const char *host, void **out) {
    return ff_status(CALL("pm_probe", &port, &protocols, &host, &out));
}
void ff_probe_result_free(void *result) { (void)CALL("pm_probe_result_free", &result); }
int ff_probe_result_verdict(const void *result, int32_t *verdict, size_t *holders) {
    return ff_status(CALL("pm_probe_result_verdict", &result, &verdict, &holders));
}
int ff_probe_result_holder(const void *result, size_t index, int32_t *pid, int32_t *protocol, char *buffer,
                           size_t capacity, size_t *needed) {
    return ff_status(CALL("pm_probe_result_holder", &result, &index, &pid, &protocol, &buffer, &capacity, &needed));
}
int ff_probe_result_command(const void *result, size_t index, char *buffer, size_t capacity, size_t *needed) {
    return ff_status(CALL("pm_probe_result_command", &result, &index, &buffer, &capacity, &needed));
}
int ff_probe_result_json(const void *result, char *buffer, size_t capacity, size_t *needed) {
    return ff_status(CALL("pm_probe_result_json", &result, &buffer, &capacity, &needed));
}
int ff_set_log_callback(ff_log_fn callback, void *context) {
    return ff_status(CALL("pm_set_log_callback", &callback, &context));
}
int ff_set_log_level(int32_t level) { return ff_status(CALL("pm_set_log_level", &level)); }
int32_t ff_get_log_level(void) { return (int32_t)CALL0("pm_get_log_level"); }
int ff_analyze(const void *registry, int32_t low, int32_t high, const char *reserved, void **out) {
    return ff_status(CALL("pm_analyze", &registry, &low, &high, &reserved, &out));
}
void ff_analysis_free(void *analysis) { (void)CALL("pm_analysis_free", &analysis); }
int ff_analysis_count(const void *analysis, size_t *count, size_t *errors, size_t *warnings) {
    return ff_status(CALL("pm_analysis_count", &analysis, &count, &errors, &warnings));
}
int ff_analysis_finding(const void *analysis, size_t index, int32_t *severity, char *buffer, size_t capacity,
                        size_t *needed) {
    return ff_status(CALL("pm_analysis_finding", &analysis, &index, &severity, &buffer, &capacity, &needed));
}
int ff_analysis_json(const void *analysis, char *buffer, size_t capacity, size_t *needed) {
    return ff_status(CALL("pm_analysis_json", &analysis, &buffer, &capacity, &needed));
}

int ff_reserve(const void *registry, const char *state_dir, const char *service, int32_t instance, const char *owner,
               int64_t ttl, int32_t flags, int32_t *out) {
    return ff_status(CALL("pm_reserve", &registry, &state_dir, &service, &instance, &owner, &ttl, &flags, &out));
}
int ff_reserve_instance(const void *registry, const char *state_dir, const char *service, int32_t instance,
                        const char *owner, int64_t ttl, int32_t flags, int32_t *out, int32_t *out_fresh) {
    return ff_status(CALL("pm_reserve_instance", &registry, &state_dir, &service, &instance, &owner, &ttl, &flags, &out,
                          &out_fresh));
}
int ff_bind_container(const void *registry, const char *state_dir, const char *service, int32_t instance,
                      const char *owner, const char *container, int32_t flags) {
    return ff_status(CALL("pm_reservation_bind_container", &registry, &state_dir, &service, &instance, &owner, &container,
                          &flags));
}
int ff_release(const void *registry, const char *state_dir, const char *service, int32_t instance, const char *owner,
               int32_t flags, int32_t *out) {
    return ff_status(CALL("pm_release", &registry, &state_dir, &service, &instance, &owner, &flags, &out));
}
int ff_renew(const void *registry, const char *state_dir, const char *service, int32_t instance, const char *owner,
             int64_t ttl, int32_t flags) {
    return ff_status(CALL("pm_renew", &registry, &state_dir, &service, &instance, &owner, &ttl, &flags));
}
int ff_reservations_json(const void *registry, const char *state_dir, const char *service, char *buffer,
                         size_t capacity, size_t *needed) {
    return ff_status(CALL("pm_reservations_json", &registry, &state_dir, &service, &buffer, &capacity, &needed));
}

int ff_reconcile(const void *registry, const char *state_dir, int32_t flags, char *buffer, size_t capacity,
                 size_t *needed) {
    return ff_status(CALL("pm_reconcile", &registry, &state_dir, &flags, &buffer, &capacity, &needed));
}
int ff_instance_states_json(const void *registry, const char *state_dir, const char *service, int32_t flags,
                            char *buffer, size_t capacity, size_t *needed) {
    return ff_status(CALL("pm_instance_states_json", &registry, &state_dir, &service, &flags, &buffer, &capacity,
                          &needed));
}

int ff_status_value(const char *name) {
    for (int v = 0; v < 64; v++)
        if (strcmp(ff_status_str(v), name) == 0) return v;
    return -1;
}

int contains(const char *haystack, const char *needle) {
    return haystack && needle && strstr(haystack, needle) != NULL;
}
