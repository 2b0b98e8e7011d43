/*
 * ffi_suite.c: calls every function of libportmanager through libffi, from
 * the signature table include/portmanager.sig, covering success and every
 * error path, then runs the shared conformance vectors.
 *
 *   ffi_suite SIGNATURES LIBRARY VECTORS REGISTRY
 *
 * REGISTRY is the shipped dynamicconfig/port_registry.yaml (an absolute path).
 * Prints a FAIL line per failed check and ends with "N passed, N failed";
 * exits 1 on any failure. Meant to run under valgrind too (make memcheck).
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include "portmanager.h" /* constants only: every call goes through libffi */

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define SENTINEL16 ((uint16_t)0xBEEF)
#define SENTINEL32 ((int32_t)-777)
#define SENTINELZ ((size_t)0xDEADBEEF)
#define SENTINELP ((void *)(uintptr_t)0xFEEDFACE)

static const char *registry_path;
static char workdir[PATH_MAX];
static char tmpdir[PATH_MAX];

static void *open_shipped(void) {
    void *r = NULL;
    int s = ff_registry_open(registry_path, &r);
    if (!CHECK(s == PM_OK && r != NULL, "open %s: %s %s", registry_path, ff_status_str(s), ff_last_error()))
        exit(1);
    return r;
}

static const char *write_file(const char *name, const char *text) {
    static char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    return path;
}

/* ------------------------------------------------------------ versions */

static void test_versions(void) {
    CHECK(ff_version_number() == PM_VERSION_NUMBER, "pm_version_number() = %u, header says %d", ff_version_number(),
          PM_VERSION_NUMBER);
    CHECK(strcmp(ff_version_string(), PM_VERSION_STRING) == 0, "pm_version_string() = '%s', header says '%s'",
          ff_version_string(), PM_VERSION_STRING);
    CHECK(ff_abi_version() == PM_ABI_VERSION, "pm_abi_version() = %u, header says %d", ff_abi_version(),
          PM_ABI_VERSION);
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", PM_VERSION_MAJOR, PM_VERSION_MINOR, PM_VERSION_PATCH);
    CHECK(strcmp(PM_VERSION_STRING, expect) == 0, "PM_VERSION_STRING '%s' disagrees with MAJOR.MINOR.PATCH '%s'",
          PM_VERSION_STRING, expect);
}

/* -------------------------------------------------------------- status */

static void test_status_strings(void) {
    static const struct {
        int value;
        const char *name;
    } known[] = {
        {PM_OK, "PM_OK"},
        {PM_ERR_INVALID_ARGUMENT, "PM_ERR_INVALID_ARGUMENT"},
        {PM_ERR_NOT_FOUND, "PM_ERR_NOT_FOUND"},
        {PM_ERR_IO, "PM_ERR_IO"},
        {PM_ERR_PARSE, "PM_ERR_PARSE"},
        {PM_ERR_INVALID_REGISTRY, "PM_ERR_INVALID_REGISTRY"},
        {PM_ERR_UNKNOWN_SERVICE, "PM_ERR_UNKNOWN_SERVICE"},
        {PM_ERR_UNKNOWN_PORT, "PM_ERR_UNKNOWN_PORT"},
        {PM_ERR_INSTANCE_OUT_OF_RANGE, "PM_ERR_INSTANCE_OUT_OF_RANGE"},
        {PM_ERR_BUFFER_TOO_SMALL, "PM_ERR_BUFFER_TOO_SMALL"},
        {PM_ERR_PROBE_FAILED, "PM_ERR_PROBE_FAILED"},
        {PM_ERR_UNKNOWN_ENVIRONMENT, "PM_ERR_UNKNOWN_ENVIRONMENT"},
        {PM_ERR_LEASED, "PM_ERR_LEASED"},
        {PM_ERR_TOO_LARGE, "PM_ERR_TOO_LARGE"},
        {PM_ERR_RESERVED, "PM_ERR_RESERVED"},
        {PM_ERR_NOT_OWNER, "PM_ERR_NOT_OWNER"},
        {PM_ERR_STATE, "PM_ERR_STATE"},
        {PM_ERR_DOCKER, "PM_ERR_DOCKER"},
    };
    /* The pinned value of each, in the order above. */
    static const int pinned[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
    int n = (int)(sizeof known / sizeof known[0]);
    CHECK(n == (int)(sizeof pinned / sizeof pinned[0]), "the pinned table has %d rows for %d statuses",
          (int)(sizeof pinned / sizeof pinned[0]), n);
    for (int i = 0; i < n; i++) {
        CHECK(known[i].value == pinned[i], "pm_status values are pinned: %s = %d, expected %d", known[i].name,
              known[i].value, pinned[i]);
        const char *s = ff_status_str(known[i].value);
        CHECK(s && strcmp(s, known[i].name) == 0, "pm_status_str(%d) = '%s', expected '%s'", known[i].value,
              s ? s : "(null)", known[i].name);
    }
    /* The first value after the known ones, negatives and large values are unknown. A status added to the
       header without this test being updated fails here. */
    const int unknown[] = {pinned[n - 1] + 1, pinned[n - 1] + 2, -1, 100, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = ff_status_str(unknown[i]);
        CHECK(s && strcmp(s, "PM_ERR_UNKNOWN_STATUS") == 0, "pm_status_str(%d) = '%s', expected PM_ERR_UNKNOWN_STATUS",
              unknown[i], s ? s : "(null)");
    }
    CHECK(ff_status_str(PM_OK) == ff_status_str(PM_OK), "pm_status_str returns static storage");
}

/* ------------------------------------------------------- the output protocol */

/* A string-returning call, bound to its other arguments. */
typedef int (*string_call)(const void *ctx, char *buffer, size_t capacity, size_t *needed);

/* Checks the (buffer, capacity, needed) protocol of one call whose result is `expected`. */
static void check_string_protocol(const char *label, string_call call, const void *ctx, const char *expected) {
    size_t len = strlen(expected), needed = SENTINELZ;
    int s = call(ctx, NULL, 0, &needed);
    CHECK(s == PM_ERR_BUFFER_TOO_SMALL, "%s(NULL, 0): %s, expected PM_ERR_BUFFER_TOO_SMALL", label, ff_status_str(s));
    CHECK(needed == len + 1, "%s(NULL, 0): needed = %zu, expected %zu", label, needed, len + 1);
    CHECK(contains(ff_last_error(), "buffer too small"), "%s: last error '%s'", label, ff_last_error());

    s = call(ctx, NULL, 0, NULL);
    CHECK(s == PM_ERR_BUFFER_TOO_SMALL, "%s(NULL, 0, needed NULL): %s", label, ff_status_str(s));

    size_t size = len + 64;
    char *buffer = malloc(size);
    if (!buffer) exit(2);
    memset(buffer, 0xAA, size);
    needed = SENTINELZ;
    s = call(ctx, buffer, len, &needed); /* one byte short: no room for the NUL */
    CHECK(s == PM_ERR_BUFFER_TOO_SMALL, "%s(capacity %zu): %s", label, len, ff_status_str(s));
    CHECK(needed == len + 1, "%s(capacity %zu): needed = %zu", label, len, needed);
    int untouched = 1;
    for (size_t i = 0; i < size; i++) untouched &= (unsigned char)buffer[i] == 0xAA;
    CHECK(untouched, "%s: a too-small buffer was written to", label);

    needed = SENTINELZ;
    s = call(ctx, NULL, 5, &needed);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "%s(NULL, 5): %s, expected PM_ERR_INVALID_ARGUMENT", label, ff_status_str(s));
    CHECK(contains(ff_last_error(), "buffer"), "%s(NULL, 5): message '%s' names the buffer", label, ff_last_error());

    needed = SENTINELZ;
    s = call(ctx, buffer, len + 1, &needed);
    CHECK(s == PM_OK, "%s(capacity %zu): %s %s", label, len + 1, ff_status_str(s), ff_last_error());
    CHECK(s == PM_OK && strcmp(buffer, expected) == 0, "%s = '%.100s', expected '%s'", label, buffer, expected);
    CHECK(needed == len + 1, "%s: needed = %zu on success, expected %zu", label, needed, len + 1);
    CHECK((unsigned char)buffer[len + 1] == 0xAA, "%s wrote past the result", label);

    memset(buffer, 0xAA, size);
    s = call(ctx, buffer, size, NULL);
    CHECK(s == PM_OK && strcmp(buffer, expected) == 0, "%s with needed NULL: %s '%.100s'", label, ff_status_str(s),
          buffer);

    /* Any capacity that holds the result succeeds: a size_t of 2^63 or more is not a negative number. */
    const size_t huge[] = {SIZE_MAX, (size_t)1 << 63, ((size_t)1 << 63) + len};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        memset(buffer, 0xAA, size);
        needed = SENTINELZ;
        s = call(ctx, buffer, huge[i], &needed);
        CHECK(s == PM_OK && strcmp(buffer, expected) == 0 && needed == len + 1,
              "%s(capacity %zu): %s needed %zu '%.100s' %s", label, huge[i], ff_status_str(s), needed, buffer,
              s == PM_OK ? "" : ff_last_error());
    }
    free(buffer);
}

typedef struct {
    const void *registry;
    const char *service;
    int32_t instance;
    size_t index;
} call_ctx;

static int call_source(const void *c, char *b, size_t n, size_t *need) {
    return ff_registry_source(((const call_ctx *)c)->registry, b, n, need);
}
static int call_environment(const void *c, char *b, size_t n, size_t *need) {
    return ff_registry_environment(((const call_ctx *)c)->registry, b, n, need, NULL);
}
static int call_service_name(const void *c, char *b, size_t n, size_t *need) {
    return ff_service_name(((const call_ctx *)c)->registry, ((const call_ctx *)c)->index, b, n, need);
}
static int call_port_name(const void *c, char *b, size_t n, size_t *need) {
    const call_ctx *x = c;
    return ff_port_name(x->registry, x->service, x->index, b, n, need);
}
static int call_container_name(const void *c, char *b, size_t n, size_t *need) {
    const call_ctx *x = c;
    return ff_container_name(x->registry, x->service, x->instance, b, n, need);
}
static int call_volume_name(const void *c, char *b, size_t n, size_t *need) {
    const call_ctx *x = c;
    return ff_volume_name(x->registry, x->service, x->instance, b, n, need);
}

/* ------------------------------------------------------------- opening */

static const char good_yaml[] = "kafka:\n"
                                "  broker_port: 9092\n"
                                "  controller_port: 19093\n"
                                "  container_name: kafka-development\n"
                                "  volume_name: kafka-data\n"
                                "_environments:\n"
                                "  ci: 1000\n"
                                "  wild: 60000\n";

static void test_open(void) {
    void *r = (void *)&r; /* a sentinel: must stay untouched on failure */
    void *const sentinel = r;
    int s;

    s = ff_registry_open(registry_path, NULL);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_registry_open(path, NULL): %s", ff_status_str(s));
    CHECK(contains(ff_last_error(), "out"), "pm_registry_open(path, NULL): message '%s' names out", ff_last_error());
    s = ff_registry_open_env(registry_path, NULL, NULL);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_registry_open_env(path, NULL, NULL): %s", ff_status_str(s));

    const char *missing_path = "/nonexistent/portmanager/registry.yaml";
    s = ff_registry_open(missing_path, &r);
    CHECK(s == PM_ERR_NOT_FOUND, "open missing file: %s", ff_status_str(s));
    CHECK(contains(ff_last_error(), missing_path), "open missing file: '%s' names the path", ff_last_error());
    CHECK(r == sentinel, "open missing file: out was written");

    s = ff_registry_open(tmpdir, &r);
    CHECK(s == PM_ERR_IO, "open a directory: %s, expected PM_ERR_IO", ff_status_str(s));
    CHECK(contains(ff_last_error(), tmpdir), "open a directory: '%s' names it", ff_last_error());
    CHECK(r == sentinel, "open a directory: out was written");

    s = ff_registry_open("", &r);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "open \"\": %s", ff_status_str(s));
    CHECK(r == sentinel, "open \"\": out was written");

    const char *bad = write_file("bad.yaml", "kafka:\n  port: [1, 2\n");
    s = ff_registry_open(bad, &r);
    CHECK(s == PM_ERR_PARSE, "open bad YAML: %s, expected PM_ERR_PARSE", ff_status_str(s));
    CHECK(contains(ff_last_error(), "bad.yaml:"), "open bad YAML: '%s' names the file", ff_last_error());
    CHECK(r == sentinel, "open bad YAML: out was written");

    const char *invalid = write_file("invalid.yaml", "kafka:\n  port: 70000\n");
    s = ff_registry_open(invalid, &r);
    CHECK(s == PM_ERR_INVALID_REGISTRY, "open port 70000: %s", ff_status_str(s));
    CHECK(contains(ff_last_error(), "invalid.yaml:2:"), "open port 70000: '%s' gives file:line", ff_last_error());
    CHECK(r == sentinel, "open port 70000: out was written");

    /* Default resolution: $PORTMANAGER_REGISTRY, then ./dynamicconfig/port_registry.yaml. */
    unsetenv("PORTMANAGER_ENV");
    setenv("PORTMANAGER_REGISTRY", "/nonexistent/env-registry.yaml", 1);
    if (chdir("/") != 0) perror("chdir /");
    s = ff_registry_open(NULL, &r);
    CHECK(s == PM_ERR_NOT_FOUND, "default open with nothing to find: %s", ff_status_str(s));
    CHECK(contains(ff_last_error(), "/nonexistent/env-registry.yaml") &&
              contains(ff_last_error(), "dynamicconfig/port_registry.yaml"),
          "default open: '%s' lists both places", ff_last_error());
    CHECK(r == sentinel, "default open: out was written");
    setenv("PORTMANAGER_REGISTRY", registry_path, 1);
    s = ff_registry_open(NULL, &r);
    CHECK(s == PM_OK && r != sentinel, "default open through $PORTMANAGER_REGISTRY: %s %s", ff_status_str(s),
          ff_last_error());
    if (s == PM_OK) {
        call_ctx c = {r, NULL, 0, 0};
        check_string_protocol("pm_registry_source(env)", call_source, &c, registry_path);
        ff_registry_close(r);
        r = sentinel;
    }
    unsetenv("PORTMANAGER_REGISTRY");
    if (chdir(workdir) != 0) perror("chdir back");
    s = ff_registry_open(NULL, &r);
    CHECK(s == PM_OK && r != sentinel, "default open of ./dynamicconfig/port_registry.yaml from %s: %s %s", workdir,
          ff_status_str(s), ff_last_error());
    if (s == PM_OK) {
        ff_registry_close(r);
        r = sentinel;
    }

    /* Environments. */
    const char *with_env = write_file("env.yaml", good_yaml);
    s = ff_registry_open_env(with_env, "nope", &r);
    CHECK(s == PM_ERR_UNKNOWN_ENVIRONMENT, "open_env unknown: %s", ff_status_str(s));
    CHECK(contains(ff_last_error(), "'nope'") && contains(ff_last_error(), "ci"), "open_env unknown: '%s'",
          ff_last_error());
    CHECK(r == sentinel, "open_env unknown: out was written");
    s = ff_registry_open_env(with_env, "wild", &r);
    CHECK(s == PM_ERR_INVALID_REGISTRY, "open_env pushing ports past 65535: %s", ff_status_str(s));
    CHECK(contains(ff_last_error(), "wild"), "open_env past 65535: '%s' names the environment", ff_last_error());
    s = ff_registry_open_env(with_env, "ci", &r);
    CHECK(s == PM_OK, "open_env ci: %s %s", ff_status_str(s), ff_last_error());
    if (s == PM_OK) {
        uint16_t port = SENTINEL16;
        s = ff_get_port(r, "kafka", 1, "broker_port", &port);
        CHECK(s == PM_OK && port == 10192, "env ci: kafka 1 broker_port = %u (%s), expected 10192", port,
              ff_status_str(s));
        int32_t offset = SENTINEL32;
        char name[16];
        s = ff_registry_environment(r, name, sizeof name, NULL, &offset);
        CHECK(s == PM_OK && strcmp(name, "ci") == 0 && offset == 1000, "pm_registry_environment: %s '%s' %d",
              ff_status_str(s), name, offset);
        call_ctx c = {r, NULL, 0, 0};
        check_string_protocol("pm_registry_environment", call_environment, &c, "ci");
        offset = SENTINEL32;
        s = ff_registry_environment(r, NULL, 0, NULL, &offset);
        CHECK(s == PM_ERR_BUFFER_TOO_SMALL && offset == SENTINEL32,
              "pm_registry_environment too small: %s, offset %d must stay untouched", ff_status_str(s), offset);
        ff_registry_close(r);
        r = sentinel;
    }
    setenv("PORTMANAGER_ENV", "ci", 1);
    s = ff_registry_open(with_env, &r);
    CHECK(s == PM_OK, "open with PORTMANAGER_ENV=ci: %s %s", ff_status_str(s), ff_last_error());
    if (s == PM_OK) {
        uint16_t port = SENTINEL16;
        ff_get_port(r, "kafka", 0, "broker_port", &port);
        CHECK(port == 10092, "PORTMANAGER_ENV=ci: kafka 0 broker_port = %u, expected 10092", port);
        ff_registry_close(r);
        r = sentinel;
    }
    unsetenv("PORTMANAGER_ENV");

    /* From memory. */
    s = ff_registry_open_string(NULL, 10, "x", &r);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "yaml"), "open_string(NULL): %s '%s'",
          ff_status_str(s), ff_last_error());
    s = ff_registry_open_string(good_yaml, strlen(good_yaml), "x", NULL);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "out"), "open_string(out NULL): %s '%s'",
          ff_status_str(s), ff_last_error());
    s = ff_registry_open_string(good_yaml, (size_t)-1, "x", &r);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "length"), "open_string(length SIZE_MAX): %s '%s'",
          ff_status_str(s), ff_last_error());
    s = ff_registry_open_string(good_yaml, (size_t)1 << 40, "big.yaml", &r); /* refused before reading a byte */
    CHECK(s == PM_ERR_PARSE && contains(ff_last_error(), "big.yaml") && contains(ff_last_error(), "at most"),
          "open_string(length 2^40): %s '%s'", ff_status_str(s), ff_last_error());
    CHECK(r == sentinel, "open_string(bad length): out was written");
    s = ff_registry_open_string(good_yaml, 0, "empty.yaml", &r);
    CHECK(s == PM_ERR_PARSE && contains(ff_last_error(), "empty.yaml"), "open_string(length 0): %s '%s'",
          ff_status_str(s), ff_last_error());
    CHECK(r == sentinel, "open_string(length 0): out was written");
    s = ff_registry_open_string("kafka: {port: 1}\n\x80\xff", 18, NULL, &r);
    CHECK(s == PM_ERR_PARSE && contains(ff_last_error(), "<memory>"), "open_string(binary): %s '%s'", ff_status_str(s),
          ff_last_error());
    CHECK(r == sentinel, "open_string(binary): out was written");
    /* Not NUL-terminated: only `length` bytes are read (the rest would be an error). */
    char unterminated[64];
    memcpy(unterminated, "redis: {port: 6379}\n", 20);
    memset(unterminated + 20, '!', sizeof unterminated - 20);
    s = ff_registry_open_string(unterminated, 20, NULL, &r);
    CHECK(s == PM_OK, "open_string(unterminated, 20): %s %s", ff_status_str(s), ff_last_error());
    if (s == PM_OK) {
        call_ctx c = {r, NULL, 0, 0};
        check_string_protocol("pm_registry_source(<memory>)", call_source, &c, "<memory>");
        check_string_protocol("pm_registry_environment(none)", call_environment, &c, "");
        int32_t offset = SENTINEL32;
        char name[4] = "xyz";
        s = ff_registry_environment(r, name, sizeof name, NULL, &offset);
        CHECK(s == PM_OK && name[0] == 0 && offset == 0, "no environment: %s '%s' %d", ff_status_str(s), name, offset);
        ff_registry_close(r);
        r = sentinel;
    }

    ff_registry_close(NULL); /* a no-op, and must not crash */
    CHECK(1, "pm_registry_close(NULL) returned");
}

/* ------------------------------------------------------------ services */

static void test_services(void *r) {
    size_t count = SENTINELZ;
    int s = ff_service_count(r, &count);
    CHECK(s == PM_OK && count == 15, "pm_service_count: %s %zu, expected 15 services", ff_status_str(s), count);
    s = ff_service_count(NULL, &count);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "registry"), "pm_service_count(NULL): %s '%s'",
          ff_status_str(s), ff_last_error());
    s = ff_service_count(r, NULL);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "out_count"), "pm_service_count(r, NULL): %s '%s'",
          ff_status_str(s), ff_last_error());

    static const char *first_and_last[] = {"kafka", "argocd"};
    call_ctx c = {r, NULL, 0, 0};
    check_string_protocol("pm_service_name(0)", call_service_name, &c, first_and_last[0]);
    c.index = 14;
    check_string_protocol("pm_service_name(14)", call_service_name, &c, first_and_last[1]);
    const size_t bad_index[] = {15, 1000, (size_t)-1};
    for (size_t i = 0; i < 3; i++) {
        char buffer[32] = "untouched";
        size_t needed = SENTINELZ;
        s = ff_service_name(r, bad_index[i], buffer, sizeof buffer, &needed);
        CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_service_name(%zu): %s", bad_index[i], ff_status_str(s));
        CHECK(contains(ff_last_error(), "out of range") && contains(ff_last_error(), "15"),
              "pm_service_name(%zu): '%s' states the range", bad_index[i], ff_last_error());
        CHECK(strcmp(buffer, "untouched") == 0 && needed == SENTINELZ, "pm_service_name(%zu) wrote its out-params",
              bad_index[i]);
    }
    s = ff_service_name(NULL, 0, NULL, 0, NULL);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_service_name(NULL registry): %s", ff_status_str(s));

    int32_t inc = SENTINEL32, max = SENTINEL32;
    size_t ports = SENTINELZ;
    s = ff_service_info(r, "kafka", &inc, &max, &ports);
    CHECK(s == PM_OK && inc == 100 && max == 10 && ports == 2, "pm_service_info(kafka): %s %d %d %zu",
          ff_status_str(s), inc, max, ports);
    s = ff_service_info(r, "grafana", NULL, &max, NULL);
    CHECK(s == PM_OK && max == 5, "pm_service_info(grafana, NULL out-params): %s %d", ff_status_str(s), max);
    inc = SENTINEL32, max = SENTINEL32, ports = SENTINELZ;
    s = ff_service_info(r, "kafak", &inc, &max, &ports);
    CHECK(s == PM_ERR_UNKNOWN_SERVICE && contains(ff_last_error(), "'kafak'") &&
              contains(ff_last_error(), "did you mean 'kafka'"),
          "pm_service_info(kafak): %s '%s'", ff_status_str(s), ff_last_error());
    CHECK(inc == SENTINEL32 && max == SENTINEL32 && ports == SENTINELZ, "pm_service_info(kafak) wrote out-params");
    s = ff_service_info(r, NULL, &inc, &max, &ports);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "service"), "pm_service_info(NULL service): %s",
          ff_status_str(s));
    s = ff_service_info(NULL, "kafka", &inc, &max, &ports);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "registry"), "pm_service_info(NULL registry): %s",
          ff_status_str(s));
    CHECK(inc == SENTINEL32, "pm_service_info(NULL ...) wrote out-params");

    c.service = "kafka";
    c.index = 1;
    check_string_protocol("pm_port_name(kafka, 1)", call_port_name, &c, "controller_port");
    c.service = "traefik";
    c.index = 1;
    check_string_protocol("pm_port_name(traefik, 1)", call_port_name, &c, "entrypoint_port");
    char buffer[32] = "untouched";
    size_t needed = SENTINELZ;
    s = ff_port_name(r, "kafka", 2, buffer, sizeof buffer, &needed);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "out of range"), "pm_port_name(kafka, 2): %s '%s'",
          ff_status_str(s), ff_last_error());
    CHECK(strcmp(buffer, "untouched") == 0 && needed == SENTINELZ, "pm_port_name(kafka, 2) wrote out-params");
    s = ff_port_name(r, "nope", 0, buffer, sizeof buffer, &needed);
    CHECK(s == PM_ERR_UNKNOWN_SERVICE, "pm_port_name(nope): %s", ff_status_str(s));
    s = ff_port_name(r, NULL, 0, buffer, sizeof buffer, &needed);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_port_name(NULL service): %s", ff_status_str(s));
    s = ff_port_name(NULL, "kafka", 0, buffer, sizeof buffer, &needed);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_port_name(NULL registry): %s", ff_status_str(s));

    uint16_t base = SENTINEL16, width = SENTINEL16, container = SENTINEL16;
    s = ff_port_definition(r, "kafka", "broker_port", &base, &width, &container);
    CHECK(s == PM_OK && base == 9092 && width == 1 && container == 0, "pm_port_definition(kafka broker_port): %s %u %u %u",
          ff_status_str(s), base, width, container);
    s = ff_port_definition(r, "traefik", "entrypoint_port", &base, &width, NULL);
    CHECK(s == PM_OK && base == 31001 && width == 3, "pm_port_definition(traefik range): %s %u %u", ff_status_str(s),
          base, width);
    s = ff_port_definition(r, "argocd", "server_port", NULL, NULL, &container);
    CHECK(s == PM_OK && container == 8080, "pm_port_definition(argocd server_port): %s container %u", ff_status_str(s),
          container);
    base = width = container = SENTINEL16;
    s = ff_port_definition(r, "kafka", "port", &base, &width, &container);
    CHECK(s == PM_ERR_UNKNOWN_PORT && contains(ff_last_error(), "broker_port, controller_port"),
          "pm_port_definition(kafka port): %s '%s' lists the ports", ff_status_str(s), ff_last_error());
    CHECK(base == SENTINEL16 && width == SENTINEL16 && container == SENTINEL16, "pm_port_definition failure wrote");
    s = ff_port_definition(r, "nope", "port", &base, NULL, NULL);
    CHECK(s == PM_ERR_UNKNOWN_SERVICE, "pm_port_definition(nope): %s", ff_status_str(s));
    s = ff_port_definition(r, "kafka", NULL, &base, NULL, NULL);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "port_name"), "pm_port_definition(NULL port): %s",
          ff_status_str(s));
    s = ff_port_definition(r, NULL, "port", &base, NULL, NULL);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_port_definition(NULL service): %s", ff_status_str(s));
    s = ff_port_definition(NULL, "kafka", "port", &base, NULL, NULL);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_port_definition(NULL registry): %s", ff_status_str(s));
    CHECK(base == SENTINEL16, "pm_port_definition(NULL ...) wrote");
}

/* ---------------------------------------------------------- allocation */

static void test_get_port(void *r) {
    uint16_t port = SENTINEL16;
    int s = ff_get_port(r, "kafka", 1, "broker_port", &port);
    CHECK(s == PM_OK && port == 9192, "pm_get_port(kafka, 1, broker_port) = %u (%s), expected 9192", port,
          ff_status_str(s));
    s = ff_get_port(r, "kafka", 9, "controller_port", &port);
    CHECK(s == PM_OK && port == 19993, "pm_get_port(kafka, 9, controller_port) = %u, expected 19993", port);
    s = ff_get_port(r, "mongodb", 2, "port", &port);
    CHECK(s == PM_OK && port == 27217, "pm_get_port(mongodb, 2) = %u, expected 27217", port);
    s = ff_get_port(r, "traefik", 2, "entrypoint_port", &port);
    CHECK(s == PM_OK && port == 31201, "pm_get_port(traefik range, 2) = %u, expected 31201", port);

    /* Each required pointer NULL in turn. */
    const void *regs[] = {NULL, r, r, r};
    const char *services[] = {"kafka", NULL, "kafka", "kafka"};
    const char *ports[] = {"broker_port", "broker_port", NULL, "broker_port"};
    const char *culprit[] = {"registry", "service", "port_name", "out_port"};
    for (int i = 0; i < 4; i++) {
        port = SENTINEL16;
        s = ff_get_port(regs[i], services[i], 0, ports[i], i == 3 ? NULL : &port);
        CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_get_port with %s NULL: %s", culprit[i], ff_status_str(s));
        CHECK(contains(ff_last_error(), culprit[i]), "pm_get_port with %s NULL: '%s' names it", culprit[i],
              ff_last_error());
        CHECK(port == SENTINEL16, "pm_get_port with %s NULL wrote out_port", culprit[i]);
    }

    port = SENTINEL16;
    s = ff_get_port(r, "kafak", 0, "broker_port", &port);
    CHECK(s == PM_ERR_UNKNOWN_SERVICE && contains(ff_last_error(), "unknown service 'kafak'") &&
              contains(ff_last_error(), "did you mean 'kafka'"),
          "pm_get_port(kafak): %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_get_port(r, "", 0, "port", &port);
    CHECK(s == PM_ERR_UNKNOWN_SERVICE && contains(ff_last_error(), "''"), "pm_get_port(\"\"): %s '%s'",
          ff_status_str(s), ff_last_error());
    s = ff_get_port(r, "kafka", 0, "brokr_port", &port);
    CHECK(s == PM_ERR_UNKNOWN_PORT && contains(ff_last_error(), "'brokr_port'") &&
              contains(ff_last_error(), "broker_port, controller_port"),
          "pm_get_port(brokr_port): %s '%s'", ff_status_str(s), ff_last_error());
    const int32_t bad[] = {-1, 10, 11, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = ff_get_port(r, "kafka", bad[i], "broker_port", &port);
        CHECK(s == PM_ERR_INSTANCE_OUT_OF_RANGE, "pm_get_port(kafka, %d): %s", bad[i], ff_status_str(s));
        char instance[32];
        snprintf(instance, sizeof instance, "instance %d ", bad[i]);
        CHECK(contains(ff_last_error(), instance) && contains(ff_last_error(), "allowed: 0..9"),
              "pm_get_port(kafka, %d): '%s' states the instance and the range", bad[i], ff_last_error());
    }
    CHECK(port == SENTINEL16, "failed pm_get_port calls wrote out_port (%u)", port);

    uint16_t first = SENTINEL16, last = SENTINEL16;
    s = ff_get_port_range(r, "traefik", 1, "entrypoint_port", &first, &last);
    CHECK(s == PM_OK && first == 31101 && last == 31103, "pm_get_port_range(traefik, 1) = %u-%u, expected 31101-31103",
          first, last);
    s = ff_get_port_range(r, "kafka", 2, "broker_port", &first, &last);
    CHECK(s == PM_OK && first == 9292 && last == 9292, "pm_get_port_range(kafka, 2) = %u-%u", first, last);
    first = last = SENTINEL16;
    s = ff_get_port_range(r, "traefik", 3, "entrypoint_port", &first, &last);
    CHECK(s == PM_ERR_INSTANCE_OUT_OF_RANGE && contains(ff_last_error(), "allowed: 0..2"),
          "pm_get_port_range(traefik, 3): %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_get_port_range(r, "traefik", 0, "web", &first, &last);
    CHECK(s == PM_ERR_UNKNOWN_PORT, "pm_get_port_range(web): %s", ff_status_str(s));
    s = ff_get_port_range(r, "traefk", 0, "web_port", &first, &last);
    CHECK(s == PM_ERR_UNKNOWN_SERVICE, "pm_get_port_range(traefk): %s", ff_status_str(s));
    const char *range_culprit[] = {"registry", "service", "port_name", "out_first", "out_last"};
    for (int i = 0; i < 5; i++) {
        s = ff_get_port_range(i == 0 ? NULL : r, i == 1 ? NULL : "traefik", 0, i == 2 ? NULL : "web_port",
                              i == 3 ? NULL : &first, i == 4 ? NULL : &last);
        CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), range_culprit[i]),
              "pm_get_port_range with %s NULL: %s '%s'", range_culprit[i], ff_status_str(s), ff_last_error());
    }
    CHECK(first == SENTINEL16 && last == SENTINEL16, "failed pm_get_port_range calls wrote (%u, %u)", first, last);

    s = ff_get_container_port(r, "argocd", 2, "server_port", &port);
    CHECK(s == PM_OK && port == 8080, "pm_get_container_port(argocd, 2, server_port) = %u, expected 8080", port);
    s = ff_get_port(r, "argocd", 2, "server_port", &port);
    CHECK(s == PM_OK && port == 8290, "pm_get_port(argocd, 2, server_port) = %u, expected 8290", port);
    s = ff_get_container_port(r, "kafka", 1, "broker_port", &port);
    CHECK(s == PM_OK && port == 9192, "pm_get_container_port(kafka, 1) = %u, expected 9192 (container: host)", port);
    s = ff_get_container_port(r, "mongodb", 2, "port", &port);
    CHECK(s == PM_OK && port == 27017, "pm_get_container_port(mongodb, 2) = %u, expected 27017 (the base port)", port);
    port = SENTINEL16;
    s = ff_get_container_port(r, "argocd", 3, "server_port", &port);
    CHECK(s == PM_ERR_INSTANCE_OUT_OF_RANGE, "pm_get_container_port(argocd, 3): %s", ff_status_str(s));
    s = ff_get_container_port(r, "argocd", 0, "nope_port", &port);
    CHECK(s == PM_ERR_UNKNOWN_PORT, "pm_get_container_port(nope_port): %s", ff_status_str(s));
    s = ff_get_container_port(r, "argo", 0, "server_port", &port);
    CHECK(s == PM_ERR_UNKNOWN_SERVICE, "pm_get_container_port(argo): %s", ff_status_str(s));
    for (int i = 0; i < 4; i++) {
        s = ff_get_container_port(regs[i], services[i], 0, ports[i], i == 3 ? NULL : &port);
        CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), culprit[i]),
              "pm_get_container_port with %s NULL: %s '%s'", culprit[i], ff_status_str(s), ff_last_error());
    }
    CHECK(port == SENTINEL16, "failed pm_get_container_port calls wrote out_port");
}

static void test_get_ports(void *r) {
    size_t needed = SENTINELZ;
    int s = ff_get_ports(r, "temporal", 1, NULL, 0, &needed);
    CHECK(s == PM_ERR_BUFFER_TOO_SMALL && needed == 3, "pm_get_ports(temporal, NULL, 0): %s needed %zu, expected 3",
          ff_status_str(s), needed);
    uint16_t ports[8];
    for (int i = 0; i < 8; i++) ports[i] = SENTINEL16;
    needed = SENTINELZ;
    s = ff_get_ports(r, "temporal", 1, ports, 2, &needed);
    CHECK(s == PM_ERR_BUFFER_TOO_SMALL && needed == 3, "pm_get_ports(capacity 2): %s needed %zu", ff_status_str(s),
          needed);
    int untouched = 1;
    for (int i = 0; i < 8; i++) untouched &= ports[i] == SENTINEL16;
    CHECK(untouched, "pm_get_ports(capacity 2) wrote to the buffer");
    s = ff_get_ports(r, "temporal", 1, NULL, 3, &needed);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "buffer"), "pm_get_ports(NULL, 3): %s '%s'",
          ff_status_str(s), ff_last_error());
    needed = SENTINELZ;
    s = ff_get_ports(r, "temporal", 1, ports, 3, &needed);
    CHECK(s == PM_OK && needed == 3 && ports[0] == 7333 && ports[1] == 8180 && ports[2] == 5532 &&
              ports[3] == SENTINEL16,
          "pm_get_ports(temporal, 1) = %s %zu [%u %u %u %u], expected [7333 8180 5532]", ff_status_str(s), needed,
          ports[0], ports[1], ports[2], ports[3]);
    s = ff_get_ports(r, "traefik", 2, ports, 8, NULL);
    CHECK(s == PM_OK && ports[0] == 280 && ports[1] == 31201, "pm_get_ports(traefik, 2, needed NULL) = [%u %u]",
          ports[0], ports[1]);
    const size_t huge[] = {SIZE_MAX, (size_t)1 << 63};
    for (size_t i = 0; i < 2; i++) {
        for (int j = 0; j < 8; j++) ports[j] = SENTINEL16;
        needed = SENTINELZ;
        s = ff_get_ports(r, "temporal", 1, ports, huge[i], &needed);
        CHECK(s == PM_OK && needed == 3 && ports[0] == 7333 && ports[2] == 5532 && ports[3] == SENTINEL16,
              "pm_get_ports(capacity %zu) = %s needed %zu [%u %u %u] %s", huge[i], ff_status_str(s), needed,
              ports[0], ports[1], ports[2], s == PM_OK ? "" : ff_last_error());
    }

    for (int i = 0; i < 8; i++) ports[i] = SENTINEL16;
    needed = SENTINELZ;
    s = ff_get_ports(r, "temporal", 3, ports, 8, &needed);
    CHECK(s == PM_ERR_INSTANCE_OUT_OF_RANGE && contains(ff_last_error(), "allowed: 0..2"),
          "pm_get_ports(temporal, 3): %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_get_ports(r, "temporal", -5, ports, 8, &needed);
    CHECK(s == PM_ERR_INSTANCE_OUT_OF_RANGE, "pm_get_ports(temporal, -5): %s", ff_status_str(s));
    s = ff_get_ports(r, "temporl", 0, ports, 8, &needed);
    CHECK(s == PM_ERR_UNKNOWN_SERVICE && contains(ff_last_error(), "did you mean 'temporal'"),
          "pm_get_ports(temporl): %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_get_ports(r, NULL, 0, ports, 8, &needed);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "service"), "pm_get_ports(NULL service): %s",
          ff_status_str(s));
    s = ff_get_ports(NULL, "temporal", 0, ports, 8, &needed);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "registry"), "pm_get_ports(NULL registry): %s",
          ff_status_str(s));
    untouched = needed == SENTINELZ;
    for (int i = 0; i < 8; i++) untouched &= ports[i] == SENTINEL16;
    CHECK(untouched, "failed pm_get_ports calls wrote their out-params");
}

static void test_names(void *r) {
    call_ctx c = {r, "kafka", 0, 0};
    check_string_protocol("pm_container_name(kafka, 0)", call_container_name, &c, "kafka-development");
    check_string_protocol("pm_volume_name(kafka, 0)", call_volume_name, &c, "kafka-data");
    c.instance = 1;
    check_string_protocol("pm_container_name(kafka, 1)", call_container_name, &c, "kafka-development-1");
    check_string_protocol("pm_volume_name(kafka, 1)", call_volume_name, &c, "kafka-data-1");
    c.service = "mongo_express";
    c.instance = 9;
    check_string_protocol("pm_container_name(mongo_express, 9)", call_container_name, &c, "mongo-express-9");
    check_string_protocol("pm_volume_name(mongo_express, 9)", call_volume_name, &c, "mongo-express-data-9");

    typedef int (*name_fn)(const void *, const char *, int32_t, char *, size_t, size_t *);
    name_fn fns[] = {ff_container_name, ff_volume_name};
    const char *labels[] = {"pm_container_name", "pm_volume_name"};
    for (int f = 0; f < 2; f++) {
        char buffer[64] = "untouched";
        size_t needed = SENTINELZ;
        int s = fns[f](r, "kafka", 10, buffer, sizeof buffer, &needed);
        CHECK(s == PM_ERR_INSTANCE_OUT_OF_RANGE && contains(ff_last_error(), "allowed: 0..9"), "%s(kafka, 10): %s '%s'",
              labels[f], ff_status_str(s), ff_last_error());
        s = fns[f](r, "kafka", -1, buffer, sizeof buffer, &needed);
        CHECK(s == PM_ERR_INSTANCE_OUT_OF_RANGE, "%s(kafka, -1): %s", labels[f], ff_status_str(s));
        s = fns[f](r, "kafka", INT32_MIN, buffer, sizeof buffer, &needed);
        CHECK(s == PM_ERR_INSTANCE_OUT_OF_RANGE, "%s(kafka, INT32_MIN): %s", labels[f], ff_status_str(s));
        s = fns[f](r, "kafkaa", 0, buffer, sizeof buffer, &needed);
        CHECK(s == PM_ERR_UNKNOWN_SERVICE && contains(ff_last_error(), "did you mean 'kafka'"), "%s(kafkaa): %s '%s'",
              labels[f], ff_status_str(s), ff_last_error());
        s = fns[f](r, NULL, 0, buffer, sizeof buffer, &needed);
        CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "service"), "%s(NULL service): %s", labels[f],
              ff_status_str(s));
        s = fns[f](NULL, "kafka", 0, buffer, sizeof buffer, &needed);
        CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "registry"), "%s(NULL registry): %s",
              labels[f], ff_status_str(s));
        CHECK(strcmp(buffer, "untouched") == 0 && needed == SENTINELZ, "failed %s calls wrote their out-params",
              labels[f]);
    }
}

/* --------------------------------------------------------------- probe */

static void test_probe(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int bound = fd >= 0 && bind(fd, (struct sockaddr *)&address, sizeof address) == 0 && listen(fd, 1) == 0 &&
                getsockname(fd, (struct sockaddr *)&address, &length) == 0;
    CHECK(bound, "the test could not open a listening socket");
    if (bound) {
        int32_t port = ntohs(address.sin_port);
        int available = -1;
        int s = ff_port_probe("127.0.0.1", port, &available);
        CHECK(s == PM_OK && available == 0, "pm_port_probe(127.0.0.1, %d) on a listening port: %s available=%d", port,
              ff_status_str(s), available);
        available = -1;
        s = ff_port_probe(NULL, port, &available);
        CHECK(s == PM_OK && available == 0, "pm_port_probe(NULL host, %d): %s available=%d", port, ff_status_str(s),
              available);
        close(fd);
        available = -1;
        s = ff_port_probe("127.0.0.1", port, &available);
        CHECK(s == PM_OK && available == 1, "pm_port_probe(%d) after close: %s available=%d", port, ff_status_str(s),
              available);
    }
    const int32_t bad[] = {0, -1, 65536, INT32_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int available = 42;
        int s = ff_port_probe(NULL, bad[i], &available);
        char text[32];
        snprintf(text, sizeof text, "%d", bad[i]);
        CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), text), "pm_port_probe(%d): %s '%s'", bad[i],
              ff_status_str(s), ff_last_error());
        CHECK(available == 42, "pm_port_probe(%d) wrote out_available", bad[i]);
    }
    int available = 42;
    int s = ff_port_probe("192.0.2.1", 40000, &available); /* TEST-NET-1: not an address of this host */
    CHECK(s == PM_ERR_PROBE_FAILED && contains(ff_last_error(), "192.0.2.1"), "pm_port_probe(192.0.2.1): %s '%s'",
          ff_status_str(s), ff_last_error());
    CHECK(available == 42, "pm_port_probe(192.0.2.1) wrote out_available");
    s = ff_port_probe("127.0.0.1", 40000, NULL);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "out_available"), "pm_port_probe(NULL out): %s",
          ff_status_str(s));
}

/* A socket of `type` bound (and, for TCP, listening) on `host` (AF_INET or
   AF_INET6 text) at an ephemeral port chosen by the kernel; -1 on failure. */
static int bound_socket(int family, int type, const char *host, int32_t *port) {
    int fd = socket(family, type, 0);
    if (fd < 0) return -1;
    struct sockaddr_storage storage;
    memset(&storage, 0, sizeof storage);
    socklen_t length;
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&storage;
        a->sin_family = AF_INET;
        inet_pton(AF_INET, host, &a->sin_addr);
        length = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&storage;
        a->sin6_family = AF_INET6;
        inet_pton(AF_INET6, host, &a->sin6_addr);
        int one = 1;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        length = sizeof *a;
    }
    if (bind(fd, (struct sockaddr *)&storage, length) != 0 || (type == SOCK_STREAM && listen(fd, 1) != 0) ||
        getsockname(fd, (struct sockaddr *)&storage, &length) != 0) {
        close(fd);
        return -1;
    }
    *port = family == AF_INET ? ntohs(((struct sockaddr_in *)&storage)->sin_port)
                              : ntohs(((struct sockaddr_in6 *)&storage)->sin6_port);
    return fd;
}

static void test_probe_holders(void) {
    /* UDP on ::1: a TCP probe says free, a UDP probe says in use by this process. */
    int32_t port = 0;
    int fd = bound_socket(AF_INET6, SOCK_DGRAM, "::1", &port);
    CHECK(fd >= 0, "the test could not bind a UDP socket on ::1");
    if (fd >= 0) {
        void *result = NULL;
        int s = ff_probe(port, PM_PROTOCOL_TCP, NULL, &result);
        int32_t verdict = -1;
        size_t holders = 99;
        CHECK(s == PM_OK && ff_probe_result_verdict(result, &verdict, &holders) == PM_OK &&
                  verdict == PM_PROBE_FREE && holders == 0,
              "pm_probe(%d, TCP) next to a UDP socket: %s verdict=%d holders=%zu", port, ff_status_str(s), verdict,
              holders);
        ff_probe_result_free(result);
        result = NULL;
        s = ff_probe(port, PM_PROTOCOL_UDP, NULL, &result);
        CHECK(s == PM_OK && ff_probe_result_verdict(result, &verdict, &holders) == PM_OK &&
                  verdict == PM_PROBE_IN_USE && holders == 1,
              "pm_probe(%d, UDP) on a bound UDP socket: %s verdict=%d holders=%zu", port, ff_status_str(s), verdict,
              holders);
        if (s == PM_OK && holders == 1) {
            int32_t pid = 0, protocol = 0;
            size_t needed = 0;
            char address[64], expected[64], command[64];
            snprintf(expected, sizeof expected, "[::1]:%d", port);
            s = ff_probe_result_holder(result, 0, &pid, &protocol, NULL, 0, &needed);
            CHECK(s == PM_ERR_BUFFER_TOO_SMALL && needed == strlen(expected) + 1,
                  "pm_probe_result_holder(NULL, 0): %s needed=%zu", ff_status_str(s), needed);
            s = ff_probe_result_holder(result, 0, &pid, &protocol, address, sizeof address, &needed);
            CHECK(s == PM_OK && pid == (int32_t)getpid() && protocol == PM_PROTOCOL_UDP &&
                      strcmp(address, expected) == 0,
                  "pm_probe_result_holder: %s pid=%d (expected %d) protocol=%d address='%s'", ff_status_str(s), pid,
                  (int)getpid(), protocol, address);
            s = ff_probe_result_command(result, 0, command, sizeof command, &needed);
            CHECK(s == PM_OK && strlen(command) > 0, "pm_probe_result_command: %s '%s'", ff_status_str(s), command);
            char json[1024];
            s = ff_probe_result_json(result, json, sizeof json, &needed);
            CHECK(s == PM_OK && contains(json, "\"available\": false") && contains(json, expected) &&
                      needed == strlen(json) + 1,
                  "pm_probe_result_json: %s '%s'", ff_status_str(s), json);
            pid = 42;
            strcpy(address, "untouched");
            s = ff_probe_result_holder(result, 1, &pid, NULL, address, sizeof address, &needed);
            CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "holder index 1") && pid == 42 &&
                      strcmp(address, "untouched") == 0,
                  "pm_probe_result_holder(index 1): %s '%s'", ff_status_str(s), ff_last_error());
            s = ff_probe_result_command(result, (size_t)-1, command, sizeof command, &needed);
            CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_probe_result_command(SIZE_MAX): %s", ff_status_str(s));
        }
        ff_probe_result_free(result);
        close(fd);
    }
    /* TCP on 127.0.0.1: in use for the wildcard probe, free on 127.0.0.2 only. */
    fd = bound_socket(AF_INET, SOCK_STREAM, "127.0.0.1", &port);
    CHECK(fd >= 0, "the test could not listen on 127.0.0.1");
    if (fd >= 0) {
        void *result = NULL;
        int32_t verdict = -1;
        int s = ff_probe(port, PM_PROTOCOL_BOTH, NULL, &result);
        CHECK(s == PM_OK && ff_probe_result_verdict(result, &verdict, NULL) == PM_OK && verdict == PM_PROBE_IN_USE,
              "pm_probe(%d, BOTH) on a TCP listener: %s verdict=%d", port, ff_status_str(s), verdict);
        ff_probe_result_free(result);
        result = NULL;
        s = ff_probe(port, PM_PROTOCOL_TCP, "127.0.0.2", &result);
        CHECK(s == PM_OK && ff_probe_result_verdict(result, &verdict, NULL) == PM_OK && verdict == PM_PROBE_FREE,
              "pm_probe(%d, TCP, 127.0.0.2) next to 127.0.0.1: %s verdict=%d", port, ff_status_str(s), verdict);
        ff_probe_result_free(result);
        close(fd);
    }
    /* Bad arguments: the status, a message naming the culprit, out untouched. */
    struct {
        int32_t port, protocols;
        const char *host, *text;
    } bad[] = {
        {0, PM_PROTOCOL_TCP, NULL, "port 0"},           {65536, PM_PROTOCOL_TCP, NULL, "port 65536"},
        {-5, PM_PROTOCOL_UDP, NULL, "port -5"},         {8080, 0, NULL, "protocols 0"},
        {8080, 4, NULL, "protocols 4"},                 {8080, -1, NULL, "protocols -1"},
        {8080, PM_PROTOCOL_TCP, "localhost", "localhost"}, {8080, PM_PROTOCOL_TCP, "", "''"},
        {8080, PM_PROTOCOL_TCP, "[::1]", "[::1]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *result = (void *)&bad[i];
        int s = ff_probe(bad[i].port, bad[i].protocols, bad[i].host, &result);
        CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), bad[i].text) && result == (void *)&bad[i],
              "pm_probe(%d, %d, %s): %s '%s'", bad[i].port, bad[i].protocols, bad[i].host ? bad[i].host : "NULL",
              ff_status_str(s), ff_last_error());
    }
    int s = ff_probe(8080, PM_PROTOCOL_TCP, NULL, NULL);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "out"), "pm_probe(NULL out): %s", ff_status_str(s));
    int32_t verdict = 7;
    s = ff_probe_result_verdict(NULL, &verdict, NULL);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && verdict == 7, "pm_probe_result_verdict(NULL): %s", ff_status_str(s));
    s = ff_probe_result_holder(NULL, 0, NULL, NULL, NULL, 0, NULL);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_probe_result_holder(NULL): %s", ff_status_str(s));
    s = ff_probe_result_command(NULL, 0, NULL, 0, NULL);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_probe_result_command(NULL): %s", ff_status_str(s));
    s = ff_probe_result_json(NULL, NULL, 0, NULL);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_probe_result_json(NULL): %s", ff_status_str(s));
    ff_probe_result_free(NULL);
}

/* ------------------------------------------------------------- logging */

typedef struct {
    int calls;
    int32_t level;
    char last[512];
} log_capture;

static void capture_log(int32_t level, const char *message, void *context) {
    log_capture *c = context;
    c->calls++;
    c->level = level;
    snprintf(c->last, sizeof c->last, "%s", message ? message : "(null)");
}

static void test_logging(void *r) {
    int32_t initial = ff_get_log_level();
    CHECK(initial == PM_LOG_WARNING || getenv("PORTMANAGER_LOG") != NULL,
          "default log level %d, expected PM_LOG_WARNING (30)", initial);
    log_capture capture;
    memset(&capture, 0, sizeof capture);
    CHECK(ff_set_log_callback(capture_log, &capture) == PM_OK, "pm_set_log_callback");
    uint16_t port = 0;

    CHECK(ff_set_log_level(PM_LOG_WARNING) == PM_OK, "pm_set_log_level(WARNING)");
    ff_get_port(r, "kafka", 1, "broker_port", &port);
    CHECK(capture.calls == 0, "an allocation was logged below the threshold: '%s'", capture.last);

    CHECK(ff_set_log_level(PM_LOG_INFO) == PM_OK && ff_get_log_level() == PM_LOG_INFO, "pm_set_log_level(INFO)");
    ff_get_port(r, "kafka", 1, "broker_port", &port);
    CHECK(capture.calls == 1 && capture.level == PM_LOG_INFO, "pm_get_port logged %d times at level %d",
          capture.calls, capture.level);
    CHECK(strcmp(capture.last, "port_manager_port_allocated service=kafka instance=1 type=broker_port port=9192 "
                               "base=9092 increment=100") == 0,
          "the log line is not in the original spec's format: '%s'", capture.last);

    capture.calls = 0;
    size_t needed;
    uint16_t ports[4];
    ff_get_ports(r, "kafka", 2, NULL, 0, &needed);
    CHECK(capture.calls == 0, "a pm_get_ports size query logged %d allocations", capture.calls);
    ff_get_ports(r, "kafka", 2, ports, 4, &needed);
    CHECK(capture.calls == 2 && contains(capture.last, "type=controller_port port=19293"),
          "pm_get_ports logged %d lines, last '%s'", capture.calls, capture.last);
    capture.calls = 0;
    uint16_t first, last;
    ff_get_port_range(r, "traefik", 1, "entrypoint_port", &first, &last);
    CHECK(capture.calls == 1 && contains(capture.last, "port=31101") && contains(capture.last, "last=31103"),
          "pm_get_port_range log: '%s'", capture.last);
    capture.calls = 0;
    ff_get_container_port(r, "kafka", 1, "broker_port", &port);
    CHECK(capture.calls == 0, "pm_get_container_port logged: '%s'", capture.last);
    ff_get_port(r, "kafka", 99, "broker_port", &port);
    CHECK(capture.calls == 0, "a failed allocation was logged as allocated: '%s'", capture.last);

    CHECK(ff_set_log_level(PM_LOG_OFF) == PM_OK, "pm_set_log_level(OFF)");
    ff_get_port(r, "kafka", 1, "broker_port", &port);
    CHECK(capture.calls == 0, "logging at PM_LOG_OFF: '%s'", capture.last);

    const int32_t bad[] = {-1, 101, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < 4; i++) {
        int s = ff_set_log_level(bad[i]);
        CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "log level"), "pm_set_log_level(%d): %s '%s'",
              bad[i], ff_status_str(s), ff_last_error());
    }
    CHECK(ff_get_log_level() == PM_LOG_OFF, "a refused pm_set_log_level changed the level to %d", ff_get_log_level());

    CHECK(ff_set_log_callback(NULL, NULL) == PM_OK, "pm_set_log_callback(NULL)");
    CHECK(ff_set_log_level(PM_LOG_INFO) == PM_OK, "pm_set_log_level(INFO)");
    ff_get_port(r, "kafka", 1, "broker_port", &port); /* to the default stderr sink, not to capture */
    CHECK(capture.calls == 0, "the removed callback was still called");
    CHECK(ff_set_log_level(initial) == PM_OK, "restore the log level");
}

typedef struct {
    const void *registry;
    const char *service;
    int64_t instance;
    const char *port;
} line_ctx;

static int call_allocation_line(const void *c, char *b, size_t n, size_t *need) {
    const line_ctx *x = c;
    return ff_allocation_line(x->registry, x->service, x->instance, x->port, b, n, need);
}

/* pm_allocation_line: the INFO line of pm_get_port, formatted without being logged. */
static void test_allocation_line(void *r) {
    static const char kafka[] = "port_manager_port_allocated service=kafka instance=1 type=broker_port port=9192 "
                                "base=9092 increment=100";
    line_ctx c = {r, "kafka", 1, "broker_port"};
    check_string_protocol("pm_allocation_line(kafka, 1)", call_allocation_line, &c, kafka);
    line_ctx range = {r, "traefik", 2, "entrypoint_port"};
    check_string_protocol("pm_allocation_line(traefik, 2)", call_allocation_line, &range,
                          "port_manager_port_allocated service=traefik instance=2 type=entrypoint_port port=31201 "
                          "base=31001 increment=100 last=31203");

    /* The same text the library logs, and nothing logged by the call itself. */
    log_capture capture;
    memset(&capture, 0, sizeof capture);
    int32_t saved = ff_get_log_level();
    CHECK(ff_set_log_callback(capture_log, &capture) == PM_OK && ff_set_log_level(PM_LOG_DEBUG) == PM_OK,
          "pm_set_log_callback");
    char line[512];
    int s = ff_allocation_line(r, "argocd", 2, "server_port", line, sizeof line, NULL);
    CHECK(s == PM_OK && capture.calls == 0, "pm_allocation_line: %s, logged %d lines", ff_status_str(s), capture.calls);
    uint16_t port = 0;
    ff_get_port(r, "argocd", 2, "server_port", &port);
    CHECK(capture.calls == 1 && strcmp(capture.last, line) == 0, "logged '%s', pm_allocation_line gave '%s'",
          capture.last, line);
    CHECK(ff_set_log_callback(NULL, NULL) == PM_OK && ff_set_log_level(saved) == PM_OK, "restore logging");

    /* Errors, in pm_get_port's order, naming the int64_t instance as given; nothing written. */
    static const struct {
        const char *service, *port;
        int64_t instance;
        int status;
        const char *text;
    } bad[] = {
        {"kafka", "broker_port", 10, PM_ERR_INSTANCE_OUT_OF_RANGE, "instance 10 of service 'kafka'"},
        {"kafka", "broker_port", INT64_C(4294967296), PM_ERR_INSTANCE_OUT_OF_RANGE, "instance 4294967296 of"},
        {"kafka", "broker_port", INT64_MIN, PM_ERR_INSTANCE_OUT_OF_RANGE, "instance -9223372036854775808 of"},
        {"kafka", "port", INT64_MAX, PM_ERR_UNKNOWN_PORT, "has no port named 'port'"},
        {"kafak", "port", INT64_MAX, PM_ERR_UNKNOWN_SERVICE, "did you mean 'kafka'?"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(line, 0xAA, sizeof line);
        size_t needed = SENTINELZ;
        s = ff_allocation_line(r, bad[i].service, bad[i].instance, bad[i].port, line, sizeof line, &needed);
        CHECK(s == bad[i].status && contains(ff_last_error(), bad[i].text), "pm_allocation_line(%s, %lld, %s): %s '%s'",
              bad[i].service, (long long)bad[i].instance, bad[i].port, ff_status_str(s), ff_last_error());
        CHECK((unsigned char)line[0] == 0xAA && needed == SENTINELZ, "a failed pm_allocation_line wrote its outputs");
    }
    const char *culprit[] = {"registry", "service", "port_name"};
    for (int i = 0; i < 3; i++) {
        s = ff_allocation_line(i == 0 ? NULL : r, i == 1 ? NULL : "kafka", 1, i == 2 ? NULL : "broker_port", line,
                               sizeof line, NULL);
        CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), culprit[i]),
              "pm_allocation_line with %s NULL: %s '%s'", culprit[i], ff_status_str(s), ff_last_error());
    }
}

/* ------------------------------------------------------------ analysis */

static const char analysis_yaml[] = "grafana:\n  port: 3000\n  max_instances: 5\n"
                                    "loki:\n  port: 3100\n  max_instances: 5\n"
                                    "web:\n  port: 80\n  max_instances: 1\n"
                                    "eph:\n  port: 40000\n  max_instances: 1\n";

static int call_finding(const void *c, char *b, size_t n, size_t *need) {
    const call_ctx *x = c;
    return ff_analysis_finding(x->registry, x->index, NULL, b, n, need);
}
static int call_json(const void *c, char *b, size_t n, size_t *need) {
    return ff_analysis_json(((const call_ctx *)c)->registry, b, n, need);
}

static void test_analysis(void *shipped) {
    void *r = NULL;
    int s = ff_registry_open_string(analysis_yaml, strlen(analysis_yaml), "an.yaml", &r);
    if (!CHECK(s == PM_OK, "open the analysis registry: %s %s", ff_status_str(s), ff_last_error())) return;
    void *a = (void *)&a;
    void *const sentinel = a;

    /* Refused arguments, each named, out untouched. */
    s = ff_analyze(NULL, -1, -1, NULL, &a);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "registry"), "pm_analyze(NULL registry): %s '%s'",
          ff_status_str(s), ff_last_error());
    s = ff_analyze(r, -1, -1, NULL, NULL);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "out"), "pm_analyze(out NULL): %s '%s'",
          ff_status_str(s), ff_last_error());
    const int32_t ranges[][2] = {{5, 3}, {0, 5}, {5, 0}, {-1, 5}, {1, 65536}, {-2, -2}, {INT32_MIN, INT32_MAX}};
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        s = ff_analyze(r, ranges[i][0], ranges[i][1], "", &a);
        CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "ephemeral range"),
              "pm_analyze(range %d-%d): %s '%s'", ranges[i][0], ranges[i][1], ff_status_str(s), ff_last_error());
    }
    const char *reserved[] = {"abc", "70000", "9000-8000", "1,,2"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        s = ff_analyze(r, 32768, 60999, reserved[i], &a);
        CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "reserved"), "pm_analyze(reserved '%s'): %s '%s'",
              reserved[i], ff_status_str(s), ff_last_error());
    }
    CHECK(a == sentinel, "failed pm_analyze calls wrote *out");

    /* An explicit range: one collision (error), one privileged and one ephemeral port (warnings). */
    s = ff_analyze(r, 32768, 60999, "", &a);
    CHECK(s == PM_OK && a != sentinel && a != NULL, "pm_analyze(32768-60999): %s %s", ff_status_str(s),
          ff_last_error());
    if (s == PM_OK) {
        size_t count = SENTINELZ, errors = SENTINELZ, warnings = SENTINELZ;
        s = ff_analysis_count(a, &count, &errors, &warnings);
        CHECK(s == PM_OK && count == 3 && errors == 1 && warnings == 2, "pm_analysis_count = %s %zu %zu %zu, expected 3 1 2",
              ff_status_str(s), count, errors, warnings);
        s = ff_analysis_count(a, NULL, &errors, NULL);
        CHECK(s == PM_OK && errors == 1, "pm_analysis_count with NULL out-params: %s", ff_status_str(s));
        int32_t severity = SENTINEL32;
        char line[1024];
        s = ff_analysis_finding(a, 0, &severity, line, sizeof line, NULL);
        CHECK(s == PM_OK && severity == PM_SEVERITY_ERROR && contains(line, "an.yaml:5:3: error:") &&
                  contains(line, "grafana") && contains(line, "loki") && contains(line, "3100") &&
                  contains(line, "; fix: "),
              "finding 0: %s %d '%s'", ff_status_str(s), severity, line);
        s = ff_analysis_finding(a, 1, &severity, line, sizeof line, NULL);
        CHECK(s == PM_OK && severity == PM_SEVERITY_WARNING && contains(line, "an.yaml:8:3: warning:") &&
                  contains(line, "80"),
              "finding 1 (privileged): %s %d '%s'", ff_status_str(s), severity, line);
        s = ff_analysis_finding(a, 2, &severity, line, sizeof line, NULL);
        CHECK(s == PM_OK && severity == PM_SEVERITY_WARNING && contains(line, "an.yaml:11:3: warning:") &&
                  contains(line, "32768-60999"),
              "finding 2 (ephemeral): %s %d '%s'", ff_status_str(s), severity, line);
        char first[1024];
        ff_analysis_finding(a, 0, NULL, first, sizeof first, NULL);
        call_ctx c = {a, NULL, 0, 0};
        check_string_protocol("pm_analysis_finding(0)", call_finding, &c, first);

        severity = SENTINEL32;
        size_t needed = SENTINELZ;
        snprintf(line, sizeof line, "untouched");
        s = ff_analysis_finding(a, 3, &severity, line, sizeof line, &needed);
        CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "out of range"), "pm_analysis_finding(3): %s '%s'",
              ff_status_str(s), ff_last_error());
        s = ff_analysis_finding(a, (size_t)-1, &severity, line, sizeof line, &needed);
        CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_analysis_finding(SIZE_MAX): %s", ff_status_str(s));
        s = ff_analysis_finding(a, 0, &severity, line, 4, &needed);
        CHECK(s == PM_ERR_BUFFER_TOO_SMALL && needed == strlen(first) + 1, "pm_analysis_finding(capacity 4): %s %zu",
              ff_status_str(s), needed);
        CHECK(severity == SENTINEL32 && strcmp(line, "untouched") == 0,
              "failed pm_analysis_finding calls wrote out-params (severity %d)", severity);

        size_t json_size = 0;
        s = ff_analysis_json(a, NULL, 0, &json_size);
        CHECK(s == PM_ERR_BUFFER_TOO_SMALL && json_size > 2, "pm_analysis_json size query: %s %zu", ff_status_str(s),
              json_size);
        char *json = malloc(json_size ? json_size : 1);
        s = ff_analysis_json(a, json, json_size, NULL);
        CHECK(s == PM_OK && json[0] == '{' && json[json_size - 2] == '}' && json[json_size - 1] == 0 &&
                  contains(json, "\"kind\":\"collision\"") && contains(json, "\"errors\":1") &&
                  contains(json, "\"ephemeral_range\":[32768,60999]"),
              "pm_analysis_json: %s '%.200s'", ff_status_str(s), json);
        if (s == PM_OK) check_string_protocol("pm_analysis_json", call_json, &c, json);
        free(json);
        ff_analysis_free(a);
        a = sentinel;
    }

    /* Reserved ports exempt from the ephemeral check; no check at all with -1, -1. */
    s = ff_analyze(r, 32768, 60999, "39000-41000,8080", &a);
    if (CHECK(s == PM_OK, "pm_analyze(reserved): %s %s", ff_status_str(s), ff_last_error())) {
        size_t warnings = SENTINELZ;
        ff_analysis_count(a, NULL, NULL, &warnings);
        CHECK(warnings == 1, "a reserved port still gave an ephemeral warning (%zu warnings)", warnings);
        ff_analysis_free(a);
    }
    s = ff_analyze(r, -1, -1, NULL, &a);
    if (CHECK(s == PM_OK, "pm_analyze(-1, -1): %s %s", ff_status_str(s), ff_last_error())) {
        size_t count = SENTINELZ, errors = SENTINELZ;
        ff_analysis_count(a, &count, &errors, NULL);
        CHECK(count == 2 && errors == 1, "pm_analyze(-1, -1): %zu findings, %zu errors; expected 2, 1", count, errors);
        ff_analysis_free(a);
    }
    s = ff_analyze(r, 0, 0, NULL, &a); /* the kernel's range, from /proc */
    CHECK(s == PM_OK || s == PM_ERR_IO, "pm_analyze(0, 0): %s %s", ff_status_str(s), ff_last_error());
    if (s == PM_OK) {
        size_t errors = SENTINELZ;
        ff_analysis_count(a, NULL, &errors, NULL);
        CHECK(errors == 1, "pm_analyze(0, 0): %zu errors", errors);
        ff_analysis_free(a);
    } else {
        CHECK(contains(ff_last_error(), "/proc/sys/net/ipv4/"), "pm_analyze(0, 0) IO error names the file: '%s'",
              ff_last_error());
    }
    ff_registry_close(r);

    /* Past the analysis limit (200 services x 60,000 instances = 12 million points): PM_ERR_TOO_LARGE, out
       untouched, the message naming both numbers; never an abort. */
    {
        char *huge = malloc(200 * 80);
        size_t used = 0;
        for (int i = 0; i < 200 && huge; i++)
            used += (size_t)snprintf(huge + used, 80, "h%03d:\n  port: %d\n  instance_increment: 1\n  max_instances: 60000\n",
                                     i, 1024 + i);
        void *big = NULL;
        s = huge ? ff_registry_open_string(huge, used, "huge.yaml", &big) : -1;
        if (CHECK(s == PM_OK, "open the huge registry: %s %s", ff_status_str(s), ff_last_error())) {
            a = sentinel;
            s = ff_analyze(big, -1, -1, NULL, &a);
            CHECK(s == PM_ERR_TOO_LARGE && a == sentinel && contains(ff_last_error(), "12000000 points") &&
                      contains(ff_last_error(), "analysis limit of 10000000"),
                  "pm_analyze(12 million points): %s '%s'", ff_status_str(s), ff_last_error());
            ff_registry_close(big);
        }
        free(huge);
    }

    /* A dense chain of overlapping ranges (12 services, ranges 10 wide, bases 1 apart): one grouped finding. */
    {
        char chained[12 * 90];
        size_t used = 0;
        for (int i = 0; i < 12; i++)
            used += (size_t)snprintf(chained + used, 90,
                                     "s%02d:\n  r_port: \"%d-%d\"\n  instance_increment: 10\n  max_instances: 50\n", i,
                                     1024 + i, 1033 + i);
        void *cr = NULL;
        s = ff_registry_open_string(chained, used, "chained.yaml", &cr);
        if (CHECK(s == PM_OK, "open the chained registry: %s %s", ff_status_str(s), ff_last_error())) {
            s = ff_analyze(cr, -1, -1, NULL, &a);
            if (CHECK(s == PM_OK, "pm_analyze(chained): %s %s", ff_status_str(s), ff_last_error())) {
                size_t count = SENTINELZ, errors = SENTINELZ, need = 0;
                ff_analysis_count(a, &count, &errors, NULL);
                char line[8192];
                s = ff_analysis_finding(a, 0, NULL, line, sizeof line, &need);
                CHECK(count == 1 && errors == 1 && s == PM_OK && contains(line, "ranges of 12 ports overlap in a chain"),
                      "pm_analyze(chained): %zu findings, %zu errors, '%s'", count, errors, s == PM_OK ? line : "");
                ff_analysis_free(a);
            }
            ff_registry_close(cr);
        }
    }

    /* The shipped registry is conflict-free. */
    s = ff_analyze(shipped, -1, -1, NULL, &a);
    if (CHECK(s == PM_OK, "pm_analyze(shipped): %s %s", ff_status_str(s), ff_last_error())) {
        size_t errors = SENTINELZ;
        ff_analysis_count(a, NULL, &errors, NULL);
        CHECK(errors == 0, "the shipped registry has %zu analysis errors", errors);
        ff_analysis_free(a);
    }

    /* NULL handles. */
    size_t n = SENTINELZ;
    s = ff_analysis_count(NULL, &n, NULL, NULL);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "analysis") && n == SENTINELZ,
          "pm_analysis_count(NULL): %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_analysis_finding(NULL, 0, NULL, NULL, 0, &n);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "analysis") && n == SENTINELZ,
          "pm_analysis_finding(NULL): %s", ff_status_str(s));
    s = ff_analysis_json(NULL, NULL, 0, &n);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "analysis") && n == SENTINELZ,
          "pm_analysis_json(NULL): %s", ff_status_str(s));
    ff_analysis_free(NULL);
    CHECK(1, "pm_analysis_free(NULL) returned");
}

/* ------------------------------------------------------------- threads */

#define THREADS 8
static pthread_barrier_t barrier;

typedef struct {
    void *registry;
    int index;
    int fresh_empty;
    int ports_ok;
    char service[32];
    char message[256];
} thread_job;

static void *thread_main(void *arg) {
    thread_job *job = arg;
    job->fresh_empty = strcmp(ff_last_error(), "") == 0;
    snprintf(job->service, sizeof job->service, "ghost%d", job->index);
    uint16_t port;
    ff_get_port(job->registry, job->service, 0, "port", &port); /* fails with this thread's own message */
    pthread_barrier_wait(&barrier);                            /* every thread has failed; none has read */
    job->ports_ok = 1;
    for (int i = 0; i < 200; i++) { /* the shared handle, concurrently */
        int32_t instance = (job->index + i) % 10;
        int s = ff_get_port(job->registry, "kafka", instance, "broker_port", &port);
        job->ports_ok &= s == PM_OK && port == 9092 + 100 * instance;
    }
    pthread_barrier_wait(&barrier);
    snprintf(job->message, sizeof job->message, "%s", ff_last_error());
    return NULL;
}

/* Reservations: a private state directory; the ports are unused, and the probe is off where a test wants an
   answer that does not depend on the host. */
static void test_reservations(void) {
    static const char yaml[] = "svc:\n  a_port: 43000\n  r_port: \"43050-43051\"\n  max_instances: 2\n";
    void *r = NULL;
    int s = ff_registry_open_string(yaml, strlen(yaml), "reserve.yaml", &r);
    if (!CHECK(s == PM_OK, "open reservation registry: %s %s", ff_status_str(s), ff_last_error())) return;
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/state", tmpdir);

    int32_t a = -7, b = -7, c = -7;
    s = ff_reserve(r, dir, "svc", -1, NULL, 0, PM_RESERVE_DEFAULT, &a);
    CHECK(s == PM_OK && a == 0, "pm_reserve(svc, -1, this process): %s %d %s", ff_status_str(s), a, ff_last_error());
    struct stat st;
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 07777) == 0700, "the state directory is created 0700 (mode %o)",
          (unsigned)(st.st_mode & 07777));
    char db[PATH_MAX + 64];
    snprintf(db, sizeof db, "%s/reservations.db", dir);
    CHECK(stat(db, &st) == 0 && (st.st_mode & 07777) == 0600, "the database is created 0600 (mode %o)",
          (unsigned)(st.st_mode & 07777));
    s = ff_reserve(r, dir, "svc", -1, "job-7", 60, PM_RESERVE_NO_PROBE, &b);
    CHECK(s == PM_OK && b == 1, "pm_reserve(svc, -1, 'job-7'): %s %d %s", ff_status_str(s), b, ff_last_error());
    s = ff_reserve(r, dir, "svc", -1, NULL, 0, PM_RESERVE_NO_PROBE, &c);
    CHECK(s == PM_ERR_RESERVED && c == -7 && contains(ff_last_error(), "all 2 instances are taken")
              && contains(ff_last_error(), "reserved by 'job-7'"),
          "third pm_reserve: %s '%s', out untouched %d", ff_status_str(s), ff_last_error(), c);
    s = ff_reserve(r, dir, "svc", 1, "other\n", 0, PM_RESERVE_NO_PROBE, &c);
    CHECK(s == PM_ERR_RESERVED && c == -7 && contains(ff_last_error(), "instance 1 is reserved by 'job-7'"),
          "pm_reserve(held instance 1): %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_reserve(r, dir, "svc", 1, "job-7", 0, PM_RESERVE_NO_PROBE, NULL);
    CHECK(s == PM_OK, "the owner reserving its instance again: %s '%s'", ff_status_str(s), ff_last_error());

    char json[2048];
    size_t needed = SENTINELZ;
    s = ff_reservations_json(r, dir, "svc", NULL, 0, &needed);
    CHECK(s == PM_ERR_BUFFER_TOO_SMALL && needed > 2 && needed < sizeof json, "pm_reservations_json size: %s %zu",
          ff_status_str(s), needed);
    s = ff_reservations_json(r, dir, NULL, json, sizeof json, &needed);
    CHECK(s == PM_OK && contains(json, "\"owner\":\"job-7\"") && contains(json, "\"owner_kind\":\"process\"")
              && contains(json, "\"ports\":{\"a_port\":43100,\"r_port\":43150}")
              && contains(json, "\"host_ports\":[43000,43050,43051]"),
          "pm_reservations_json: %s %s", ff_status_str(s), json);

    int32_t released = -7;
    s = ff_release(r, dir, "svc", 1, "someone", 0, &released);
    CHECK(s == PM_ERR_NOT_OWNER && released == -7 && contains(ff_last_error(), "reserved by 'job-7'"),
          "pm_release by another owner: %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_renew(r, dir, "svc", 1, "job-7", 120, 0);
    CHECK(s == PM_OK, "pm_renew by the owner: %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_renew(r, dir, "svc", 1, "job-7", 0, 0);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "ttl"), "pm_renew(ttl 0): %s '%s'",
          ff_status_str(s), ff_last_error());
    s = ff_release(r, dir, "svc", 1, "job-7", 0, &released);
    CHECK(s == PM_OK && released == 1, "pm_release by the owner: %s %d '%s'", ff_status_str(s), released,
          ff_last_error());
    s = ff_release(r, dir, "svc", 1, "job-7", 0, &released);
    CHECK(s == PM_OK && released == 0, "pm_release again: %s %d", ff_status_str(s), released);
    s = ff_renew(r, dir, "svc", 1, "job-7", 10, 0);
    CHECK(s == PM_ERR_NOT_OWNER && contains(ff_last_error(), "not reserved"), "pm_renew of a free instance: %s '%s'",
          ff_status_str(s), ff_last_error());
    s = ff_reserve(r, dir, "svc", 1, NULL, 0, PM_RESERVE_CONTAINER_OWNER | PM_RESERVE_NO_PROBE, &c);
    CHECK(s == PM_OK && c == 1, "pm_reserve(container owner): %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_release(r, dir, "svc", 1, NULL, 0, &released);
    CHECK(s == PM_ERR_NOT_OWNER && contains(ff_last_error(), "reserved by container 'svc-1'"),
          "pm_release as this process of a container's reservation: %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_release(r, dir, "svc", 1, NULL, PM_RESERVE_FORCE, &released);
    CHECK(s == PM_OK && released == 1, "pm_release(force): %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_release(r, dir, "svc", 0, NULL, 0, NULL);
    CHECK(s == PM_OK, "pm_release(this process, out NULL): %s '%s'", ff_status_str(s), ff_last_error());

    /* Bad arguments: the exact status, the culprit named, out-params untouched. */
    c = -7;
    s = ff_reserve(r, dir, "svc", 2, NULL, 0, 0, &c);
    CHECK(s == PM_ERR_INSTANCE_OUT_OF_RANGE && c == -7, "pm_reserve(instance 2): %s", ff_status_str(s));
    s = ff_reserve(r, dir, "svc", -2, NULL, 0, 0, &c);
    CHECK(s == PM_ERR_INSTANCE_OUT_OF_RANGE && c == -7, "pm_reserve(instance -2): %s", ff_status_str(s));
    s = ff_reserve(r, dir, "sv", -1, NULL, 0, 0, &c);
    CHECK(s == PM_ERR_UNKNOWN_SERVICE && c == -7, "pm_reserve(sv): %s", ff_status_str(s));
    s = ff_reserve(r, dir, "svc", -1, NULL, 0, 16, &c);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "flags 0x10"), "pm_reserve(flags 16): %s '%s'",
          ff_status_str(s), ff_last_error());
    s = ff_reserve(r, dir, "svc", -1, NULL, -5, 0, &c);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "ttl_seconds -5"), "pm_reserve(ttl -5): %s '%s'",
          ff_status_str(s), ff_last_error());
    s = ff_reserve(r, dir, "svc", -1, "", 0, 0, &c);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "owner"), "pm_reserve(owner \"\"): %s '%s'",
          ff_status_str(s), ff_last_error());
    s = ff_reserve(r, dir, "svc", -1, "x", 0, PM_RESERVE_CONTAINER_OWNER, &c);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "container name 'x' is not a Docker container name"),
          "pm_reserve(PM_RESERVE_CONTAINER_OWNER, owner 'x'): %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_reserve(r, "", "svc", -1, NULL, 0, 0, &c);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "state directory is empty"),
          "pm_reserve(state_dir \"\"): %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_reserve(r, "/proc/no-state-here", "svc", -1, NULL, 0, 0, &c);
    CHECK(s == PM_ERR_STATE && contains(ff_last_error(), "/proc/no-state-here"), "pm_reserve(bad dir): %s '%s'",
          ff_status_str(s), ff_last_error());
    s = ff_reserve(NULL, dir, "svc", -1, NULL, 0, 0, &c);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "registry"), "pm_reserve(NULL registry): %s",
          ff_status_str(s));
    s = ff_reserve(r, dir, NULL, -1, NULL, 0, 0, &c);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "service"), "pm_reserve(NULL service): %s",
          ff_status_str(s));
    CHECK(c == -7, "failed pm_reserve calls wrote *out_instance (%d)", c);
    released = -7;
    s = ff_release(r, dir, "svc", -1, NULL, 0, &released);
    CHECK(s == PM_ERR_INSTANCE_OUT_OF_RANGE && released == -7, "pm_release(-1): %s", ff_status_str(s));
    s = ff_release(r, dir, "svc", 0, NULL, 16, &released);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && released == -7, "pm_release(flags 16): %s", ff_status_str(s));
    s = ff_release(NULL, dir, "svc", 0, NULL, 0, &released);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_release(NULL registry): %s", ff_status_str(s));
    s = ff_release(r, dir, NULL, 0, NULL, 0, &released);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_release(NULL service): %s", ff_status_str(s));
    s = ff_renew(r, dir, "svc", 0, NULL, 10, PM_RESERVE_NO_PROBE);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_renew(PM_RESERVE_NO_PROBE): %s", ff_status_str(s));
    s = ff_renew(NULL, dir, "svc", 0, NULL, 10, 0);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_renew(NULL registry): %s", ff_status_str(s));
    s = ff_renew(r, dir, NULL, 0, NULL, 10, 0);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_renew(NULL service): %s", ff_status_str(s));
    s = ff_reservations_json(NULL, dir, NULL, json, sizeof json, &needed);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_reservations_json(NULL registry): %s", ff_status_str(s));
    s = ff_reservations_json(r, dir, "nope", json, sizeof json, &needed);
    CHECK(s == PM_ERR_UNKNOWN_SERVICE, "pm_reservations_json(nope): %s", ff_status_str(s));
    s = ff_reservations_json(r, dir, NULL, NULL, 5, &needed);
    CHECK(s == PM_ERR_INVALID_ARGUMENT, "pm_reservations_json(NULL, 5): %s", ff_status_str(s));
    needed = SENTINELZ;
    s = ff_reservations_json(r, dir, NULL, json, sizeof json, &needed);
    CHECK(s == PM_OK && strcmp(json, "[]") == 0 && needed == 3, "pm_reservations_json when empty: %s '%s'",
          ff_status_str(s), json);
    ff_registry_close(r);

    const char *files[] = {"reservations.db", "reservations.db-wal", "reservations.db-shm"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(db, sizeof db, "%s/%s", dir, files[i]);
        unlink(db);
    }
    rmdir(dir);
}

/* Exclusive reservations: pm_reserve_instance's out_fresh, container owners by name, and
   pm_reservation_bind_container, with every NULL and out-of-range argument. */
static void test_exclusive_reservations(void) {
    static const char yaml[] = "web:\n  port: 43400\n  max_instances: 2\n";
    void *r = NULL;
    int s = ff_registry_open_string(yaml, strlen(yaml), "exclusive.yaml", &r);
    if (!CHECK(s == PM_OK, "open exclusive registry: %s %s", ff_status_str(s), ff_last_error())) return;
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/exclusive", tmpdir);

    int32_t instance = -7, fresh = -7;
    s = ff_reserve_instance(r, dir, "web", 1, "wf-1", 0, PM_RESERVE_NO_PROBE, &instance, &fresh);
    CHECK(s == PM_OK && instance == 1 && fresh == 1, "pm_reserve_instance(web, 1, 'wf-1'): %s %d %d %s",
          ff_status_str(s), instance, fresh, ff_last_error());
    s = ff_reserve_instance(r, dir, "web", 1, "wf-1", 60, PM_RESERVE_NO_PROBE, &instance, &fresh);
    CHECK(s == PM_OK && instance == 1 && fresh == 0, "pm_reserve_instance by the owner again: %s %d %d %s",
          ff_status_str(s), instance, fresh, ff_last_error());
    instance = fresh = -7;
    s = ff_reserve_instance(r, dir, "web", 1, "wf-2", 0, PM_RESERVE_NO_PROBE, &instance, &fresh);
    CHECK(s == PM_ERR_RESERVED && instance == -7 && fresh == -7 && contains(ff_last_error(), "reserved by 'wf-1'"),
          "pm_reserve_instance by another owner: %s %d %d '%s'", ff_status_str(s), instance, fresh, ff_last_error());
    s = ff_reserve_instance(r, dir, "web", 1, "web-1", 0, PM_RESERVE_NO_PROBE | PM_RESERVE_CONTAINER_OWNER, NULL, NULL);
    CHECK(s == PM_ERR_RESERVED, "pm_reserve_instance by a container of a name's instance: %s", ff_status_str(s));

    /* Bad arguments of pm_reserve_instance: the status, the culprit named, out-params untouched. */
    struct { void *registry; const char *service; int32_t instance; int64_t ttl; int32_t flags; int status; const char *says; } bad[] = {
        {NULL, "web", 0, 0, 0, PM_ERR_INVALID_ARGUMENT, "pm_reserve_instance: registry is NULL"},
        {r, NULL, 0, 0, 0, PM_ERR_INVALID_ARGUMENT, "pm_reserve_instance: service is NULL"},
        {r, "web", 2, 0, 0, PM_ERR_INSTANCE_OUT_OF_RANGE, "instance 2"},
        {r, "web", -2, 0, 0, PM_ERR_INSTANCE_OUT_OF_RANGE, "instance -2"},
        {r, "web", INT32_MIN, 0, 0, PM_ERR_INSTANCE_OUT_OF_RANGE, "instance -2147483648"},
        {r, "wbe", 0, 0, 0, PM_ERR_UNKNOWN_SERVICE, "wbe"},
        {r, "web", 0, -1, 0, PM_ERR_INVALID_ARGUMENT, "ttl_seconds -1"},
        {r, "web", 0, 0, 2, PM_ERR_INVALID_ARGUMENT, "pm_reserve_instance: unknown flags 0x2"},
        {r, "web", 0, 0, INT32_MIN, PM_ERR_INVALID_ARGUMENT, "unknown flags 0x80000000"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        instance = fresh = -7;
        s = ff_reserve_instance(bad[i].registry, dir, bad[i].service, bad[i].instance, NULL, bad[i].ttl, bad[i].flags,
                                &instance, &fresh);
        CHECK(s == bad[i].status && contains(ff_last_error(), bad[i].says) && instance == -7 && fresh == -7,
              "pm_reserve_instance bad case %zu: %s '%s' (out %d %d)", i, ff_status_str(s), ff_last_error(), instance,
              fresh);
    }

    /* pm_reservation_bind_container */
    s = ff_bind_container(r, dir, "web", 1, "wf-2", "web-1", 0);
    CHECK(s == PM_ERR_NOT_OWNER && contains(ff_last_error(), "reserved by 'wf-1', not by 'wf-2'"),
          "bind by another owner: %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_bind_container(r, dir, "web", 0, "wf-1", NULL, 0);
    CHECK(s == PM_ERR_NOT_OWNER && contains(ff_last_error(), "is not reserved"), "bind of a free instance: %s '%s'",
          ff_status_str(s), ff_last_error());
    s = ff_bind_container(r, dir, "web", 1, "wf-1", NULL, 0);
    CHECK(s == PM_OK, "bind by the owner to the instance's container name: %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_bind_container(r, dir, "web", 1, NULL, "/web-1", 0);
    CHECK(s == PM_OK, "bind again to the same container, by anyone: %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_bind_container(r, dir, "web", 1, "wf-1", "web-other", 0);
    CHECK(s == PM_ERR_NOT_OWNER && contains(ff_last_error(), "reserved by container 'web-1'"),
          "bind by the former owner: %s '%s'", ff_status_str(s), ff_last_error());
    char json[1024];
    size_t needed = 0;
    s = ff_reservations_json(r, dir, "web", json, sizeof json, &needed);
    CHECK(s == PM_OK && contains(json, "\"owner\":\"web-1\",\"owner_kind\":\"container\"") && contains(json, "\"expires\":null"),
          "the bound reservation: %s %s", ff_status_str(s), json);
    struct { void *registry; const char *service; int32_t instance; const char *container; int32_t flags; int status; const char *says; } badbind[] = {
        {NULL, "web", 1, "web-1", 0, PM_ERR_INVALID_ARGUMENT, "pm_reservation_bind_container: registry is NULL"},
        {r, NULL, 1, "web-1", 0, PM_ERR_INVALID_ARGUMENT, "pm_reservation_bind_container: service is NULL"},
        {r, "web", -1, "web-1", 0, PM_ERR_INSTANCE_OUT_OF_RANGE, "instance -1"},
        {r, "web", 2, "web-1", 0, PM_ERR_INSTANCE_OUT_OF_RANGE, "instance 2"},
        {r, "web", INT32_MAX, "web-1", 0, PM_ERR_INSTANCE_OUT_OF_RANGE, "instance 2147483647"},
        {r, "nope", 1, "web-1", 0, PM_ERR_UNKNOWN_SERVICE, "nope"},
        {r, "web", 1, "", 0, PM_ERR_INVALID_ARGUMENT, "the container name is empty"},
        {r, "web", 1, "web 1", 0, PM_ERR_INVALID_ARGUMENT, "container name 'web 1' is not a Docker container name"},
        {r, "web", 1, "web-1", PM_RESERVE_FORCE, PM_ERR_INVALID_ARGUMENT, "pm_reservation_bind_container: unknown flags 0x2"},
        {r, "web", 1, "web-1", PM_RESERVE_NO_PROBE, PM_ERR_INVALID_ARGUMENT, "unknown flags 0x1"},
    };
    for (size_t i = 0; i < sizeof badbind / sizeof badbind[0]; i++) {
        s = ff_bind_container(badbind[i].registry, dir, badbind[i].service, badbind[i].instance, NULL,
                              badbind[i].container, badbind[i].flags);
        CHECK(s == badbind[i].status && contains(ff_last_error(), badbind[i].says),
              "pm_reservation_bind_container bad case %zu: %s '%s'", i, ff_status_str(s), ff_last_error());
    }
    s = ff_bind_container(r, "", "web", 1, NULL, "web-1", 0);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "state directory is empty"),
          "pm_reservation_bind_container(state_dir \"\"): %s '%s'", ff_status_str(s), ff_last_error());

    /* Released by the container, named with PM_RESERVE_CONTAINER_OWNER. */
    int32_t released = -7;
    s = ff_release(r, dir, "web", 1, "wf-1", 0, &released);
    CHECK(s == PM_ERR_NOT_OWNER && released == -7, "release by the former owner: %s", ff_status_str(s));
    s = ff_release(r, dir, "web", 1, "web-1", PM_RESERVE_CONTAINER_OWNER, &released);
    CHECK(s == PM_OK && released == 1, "release by the container: %s %d '%s'", ff_status_str(s), released,
          ff_last_error());
    ff_registry_close(r);

    const char *files[] = {"reservations.db", "reservations.db-wal", "reservations.db-shm"};
    char path[PATH_MAX + 64];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* What the Docker engine adds: pm_reconcile, pm_instance_states_json and PM_RESERVE_ADOPT, with every NULL and
   out-of-range argument, and with no engine (DOCKER_HOST names no socket): pm_reconcile refuses with PM_ERR_DOCKER
   changing nothing, the states say the engine is unreachable and keep a reserved instance reserved. (The engine's
   answers are tested in Swift against a fake engine, in Tests/cli and on the real engine in Tests/e2e.) */
static void test_docker_exports(void) {
    static const char yaml[] = "dock:\n  port: 43600\n  max_instances: 3\n";
    const char *had = getenv("DOCKER_HOST");
    char *saved = had ? strdup(had) : NULL;
    setenv("DOCKER_HOST", "unix:///nonexistent/portmanager-ffi/docker.sock", 1);
    void *r = NULL;
    int s = ff_registry_open_string(yaml, strlen(yaml), "docker.yaml", &r);
    if (!CHECK(s == PM_OK, "open docker registry: %s %s", ff_status_str(s), ff_last_error())) goto restore;
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/docker", tmpdir);
    int32_t instance = -7;
    s = ff_reserve(r, dir, "dock", 1, "gone", 0, PM_RESERVE_NO_PROBE | PM_RESERVE_CONTAINER_OWNER, &instance);
    CHECK(s == PM_OK && instance == 1, "reserve for a container without an engine: %s '%s'", ff_status_str(s), ff_last_error());

    /* PM_RESERVE_ADOPT: needs an instance; without an engine, nothing to adopt. */
    int32_t fresh = -7;
    instance = -7;
    s = ff_reserve_instance(r, dir, "dock", -1, "wf", 0, PM_RESERVE_ADOPT, &instance, &fresh);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && instance == -7 && contains(ff_last_error(), "adopting a container needs an instance"),
          "PM_RESERVE_ADOPT without an instance: %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_reserve_instance(r, dir, "dock", 0, "wf", 0, 16, &instance, &fresh);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "unknown flags 0x10"), "flag 16: %s '%s'",
          ff_status_str(s), ff_last_error());
    s = ff_reserve_instance(r, dir, "dock", 0, "wf", 0, PM_RESERVE_ADOPT | PM_RESERVE_NO_PROBE, &instance, &fresh);
    CHECK(s == PM_OK && instance == 0 && fresh == 1, "PM_RESERVE_ADOPT without an engine reserves as usual: %s '%s'",
          ff_status_str(s), ff_last_error());

    /* pm_reconcile */
    char json[4096];
    size_t needed = SENTINELZ;
    struct { void *registry; int32_t flags; char *buffer; size_t capacity; int status; const char *says; } bad[] = {
        {NULL, 0, json, sizeof json, PM_ERR_INVALID_ARGUMENT, "pm_reconcile: registry is NULL"},
        {r, 2, json, sizeof json, PM_ERR_INVALID_ARGUMENT, "pm_reconcile: unknown flags 0x2"},
        {r, INT32_MIN, json, sizeof json, PM_ERR_INVALID_ARGUMENT, "unknown flags 0x80000000"},
        {r, 0, NULL, 5, PM_ERR_INVALID_ARGUMENT, "buffer is NULL but capacity is 5"},
        {r, 0, json, sizeof json, PM_ERR_DOCKER, "cannot reconcile: Docker not available: no socket at /nonexistent/portmanager-ffi/docker.sock"},
        {r, PM_RECONCILE_DRY_RUN, NULL, 0, PM_ERR_DOCKER, "cannot reconcile"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        needed = SENTINELZ;
        strcpy(json, "untouched");
        s = ff_reconcile(bad[i].registry, dir, bad[i].flags, bad[i].buffer, bad[i].capacity, &needed);
        CHECK(s == bad[i].status && contains(ff_last_error(), bad[i].says) && needed == SENTINELZ
                  && strcmp(json, "untouched") == 0,
              "pm_reconcile bad case %zu: %s '%s' (needed %zu)", i, ff_status_str(s), ff_last_error(), needed);
    }

    /* pm_instance_states_json */
    struct { void *registry; const char *service; int32_t flags; char *buffer; size_t capacity; int status; const char *says; } badstates[] = {
        {NULL, NULL, 0, json, sizeof json, PM_ERR_INVALID_ARGUMENT, "pm_instance_states_json: registry is NULL"},
        {r, NULL, 2, json, sizeof json, PM_ERR_INVALID_ARGUMENT, "pm_instance_states_json: unknown flags 0x2"},
        {r, NULL, -1, json, sizeof json, PM_ERR_INVALID_ARGUMENT, "unknown flags 0xfffffffe"},
        {r, "dokc", 0, json, sizeof json, PM_ERR_UNKNOWN_SERVICE, "did you mean 'dock'?"},
        {r, NULL, 0, NULL, 7, PM_ERR_INVALID_ARGUMENT, "buffer is NULL but capacity is 7"},
    };
    for (size_t i = 0; i < sizeof badstates / sizeof badstates[0]; i++) {
        needed = SENTINELZ;
        s = ff_instance_states_json(badstates[i].registry, dir, badstates[i].service, badstates[i].flags,
                                    badstates[i].buffer, badstates[i].capacity, &needed);
        CHECK(s == badstates[i].status && contains(ff_last_error(), badstates[i].says) && needed == SENTINELZ,
              "pm_instance_states_json bad case %zu: %s '%s'", i, ff_status_str(s), ff_last_error());
    }
    s = ff_instance_states_json(r, dir, NULL, 0, NULL, 0, &needed);
    CHECK(s == PM_ERR_BUFFER_TOO_SMALL && needed > 2 && needed < sizeof json, "pm_instance_states_json size: %s %zu",
          ff_status_str(s), needed);
    s = ff_instance_states_json(r, dir, "dock", 0, json, needed, &needed);
    CHECK(s == PM_OK && contains(json, "{\"docker\":{\"reachable\":false,\"error\":\"Docker not available: no socket at ")
              && contains(json, "\"instance\":1,\"state\":\"reserved\",\"container\":null,\"container_state\":\"unknown\",\"owner\":\"gone\",\"owner_kind\":\"container\"")
              && contains(json, "\"instance\":0,\"state\":\"reserved\"") && !contains(json, "\"instance\":2"),
          "pm_instance_states_json without an engine: %s %s", ff_status_str(s), json);
    s = ff_instance_states_json(r, dir, NULL, PM_STATES_ALL, json, sizeof json, &needed);
    CHECK(s == PM_OK && (contains(json, "\"instance\":2,\"state\":\"free\"") || contains(json, "\"instance\":2,\"state\":\"in_use\"")),
          "pm_instance_states_json(PM_STATES_ALL): %s %s", ff_status_str(s), json);
    s = ff_instance_states_json(r, "", NULL, 0, json, sizeof json, &needed);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "state directory is empty"),
          "pm_instance_states_json(state_dir \"\"): %s '%s'", ff_status_str(s), ff_last_error());
    ff_registry_close(r);

    const char *files[] = {"reservations.db", "reservations.db-wal", "reservations.db-shm"};
    char path[PATH_MAX + 64];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
restore:
    if (saved) {
        setenv("DOCKER_HOST", saved, 1);
        free(saved);
    } else {
        unsetenv("DOCKER_HOST");
    }
}

static void test_threads(void *r) {
    ff_get_port(r, "main-thread-service", 0, "port", NULL);
    char mine[256];
    snprintf(mine, sizeof mine, "%s", ff_last_error());
    pthread_t threads[THREADS];
    thread_job jobs[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].registry = r;
        jobs[i].index = i;
        if (pthread_create(&threads[i], NULL, thread_main, &jobs[i]) != 0) {
            CHECK(0, "pthread_create");
            exit(1);
        }
    }
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < THREADS; i++) {
        char expect[64];
        snprintf(expect, sizeof expect, "unknown service 'ghost%d'", i);
        CHECK(jobs[i].fresh_empty, "thread %d: pm_last_error() of a new thread is not \"\"", i);
        CHECK(contains(jobs[i].message, expect), "thread %d: pm_last_error() = '%s', expected its own '%s'", i,
              jobs[i].message, expect);
        CHECK(jobs[i].ports_ok, "thread %d: concurrent pm_get_port gave a wrong answer", i);
    }
    CHECK(strcmp(ff_last_error(), mine) == 0 && contains(mine, "out_port"),
          "the main thread's last error changed to '%s' (was '%s')", ff_last_error(), mine);
    uint16_t port;
    ff_get_port(r, "kafka", 0, "broker_port", &port);
    CHECK(strcmp(ff_last_error(), mine) == 0, "a successful call cleared the last error");
}

/* An unknown service's message (with its did-you-mean) is formed when
   pm_last_error() first reads it; until then the thread keeps the registry. */
static void *miss_and_exit(void *registry) {
    uint16_t port;
    ff_get_port(registry, "lazzy", 0, "port", &port); /* never read: the thread exits with it pending */
    return NULL;
}

static void test_lazy_messages(void) {
    static const char yaml[] = "lazy:\n  port: 4400\nbusy:\n  port: 4500\n";
    void *r = NULL;
    int s = ff_registry_open_string(yaml, strlen(yaml), "lazy.yaml", &r);
    if (!CHECK(s == PM_OK, "open lazy.yaml: %s %s", ff_status_str(s), ff_last_error())) return;
    uint16_t port = SENTINEL16;

    /* Read after the registry is closed: the message is whole (valgrind: no invalid read). */
    s = ff_get_port(r, "lazzy", 0, "port", &port);
    ff_registry_close(r);
    CHECK(s == PM_ERR_UNKNOWN_SERVICE && port == SENTINEL16, "pm_get_port(lazzy): %s", ff_status_str(s));
    CHECK(strcmp(ff_last_error(), "unknown service 'lazzy'; did you mean 'lazy'?") == 0,
          "pm_last_error() after pm_registry_close: '%s'", ff_last_error());
    const char *first = ff_last_error();
    CHECK(first == ff_last_error(), "a second pm_last_error() formed the message again");

    s = ff_registry_open_string(yaml, strlen(yaml), "lazy.yaml", &r);
    if (!CHECK(s == PM_OK, "reopen lazy.yaml: %s %s", ff_status_str(s), ff_last_error())) return;
    /* A later failure replaces a pending message; a success keeps it. */
    s = ff_get_port(r, "bussy", 0, "port", &port);
    CHECK(s == PM_ERR_UNKNOWN_SERVICE, "pm_get_port(bussy): %s", ff_status_str(s));
    s = ff_get_port(r, "busy", 70, "port", &port);
    CHECK(s == PM_ERR_INSTANCE_OUT_OF_RANGE && contains(ff_last_error(), "instance 70 of service 'busy'"),
          "a failure after a pending miss: %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_get_port(r, "bussy", 0, "port", &port);
    s = ff_get_port(r, "busy", 0, "port", &port);
    CHECK(s == PM_OK && port == 4500, "pm_get_port(busy) = %s %u", ff_status_str(s), port);
    CHECK(strcmp(ff_last_error(), "unknown service 'bussy'; did you mean 'busy'?") == 0,
          "the pending miss after a success: '%s'", ff_last_error());
    /* Every entry point that takes a service name reports it the same way. */
    char name[64];
    size_t needed = SENTINELZ;
    s = ff_container_name(r, "lazzy", 0, name, sizeof name, &needed);
    CHECK(s == PM_ERR_UNKNOWN_SERVICE && needed == SENTINELZ &&
              strcmp(ff_last_error(), "unknown service 'lazzy'; did you mean 'lazy'?") == 0,
          "pm_container_name(lazzy): %s '%s'", ff_status_str(s), ff_last_error());

    /* A thread that exits with its message unread drops its hold on the registry
       (valgrind: nothing lost once the registry is closed). */
    pthread_t thread;
    if (CHECK(pthread_create(&thread, NULL, miss_and_exit, r) == 0, "pthread_create")) pthread_join(thread, NULL);

    /* A captured failure keeps its own message: later failures, a closed
       registry and the thread's own pm_last_error() do not change it. */
    s = ff_get_port(r, "lazzy", 0, "port", &port);
    void *unread = ff_last_error_capture();
    s = ff_get_port(r, "busy", 70, "port", &port);
    void *second = ff_last_error_capture();
    void *dropped = ff_last_error_capture(); /* freed unread: nothing lost (valgrind) */
    ff_registry_close(r);
    CHECK(unread && strcmp(ff_error_message(unread), "unknown service 'lazzy'; did you mean 'lazy'?") == 0,
          "a captured miss read after a later failure and pm_registry_close: '%s'", ff_error_message(unread));
    CHECK(ff_error_message(unread) == ff_error_message(unread), "a second pm_error_message() formed the message again");
    CHECK(second && contains(ff_error_message(second), "instance 70 of service 'busy'") &&
              strcmp(ff_error_message(second), ff_last_error()) == 0,
          "the second capture: '%s', pm_last_error() '%s'", ff_error_message(second), ff_last_error());
    void *formed = ff_last_error_capture(); /* of a message pm_last_error() has formed */
    CHECK(formed && strcmp(ff_error_message(formed), ff_last_error()) == 0 && ff_error_message(formed) != ff_last_error(),
          "a capture after pm_last_error(): '%s'", ff_error_message(formed));
    CHECK(strcmp(ff_error_message(NULL), "") == 0, "pm_error_message(NULL) is \"\"");
    ff_error_free(unread);
    ff_error_free(second);
    ff_error_free(formed);
    ff_error_free(dropped);
    ff_error_free(NULL);
}

/* --------------------------------------------------------------- paths */

static void on_alarm(int sig) {
    (void)sig;
    static const char text[] = "FAIL ffi_suite.c: pm_registry_open blocked (a FIFO without a writer?)\n";
    ssize_t ignored = write(1, text, sizeof text - 1);
    (void)ignored;
    _exit(1);
}

static void remove_file(const char *name) {
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    unlink(path);
}

/* Paths are bytes: a registry whose name is not UTF-8 opens, directly and through
   $PORTMANAGER_REGISTRY; two such names are two files; messages show paths escaped
   and cut; files that are not regular files are refused at once; messages name the
   failing call and its errno. */
static void test_paths(void) {
    void *r = NULL, *sentinel = SENTINELP;
    int s;
    char ff[PATH_MAX + 64], fd[PATH_MAX + 64]; /* write_file returns one static buffer */
    snprintf(ff, sizeof ff, "%s", write_file("reg-\xff\xfe.yaml", "latin:\n  port: 3001\n"));
    snprintf(fd, sizeof fd, "%s", write_file("reg-\xff\xfd.yaml", "other:\n  port: 3002\n"));
    s = ff_registry_open(ff, &r);
    CHECK(s == PM_OK, "open reg-\\xff\\xfe.yaml: %s %s", ff_status_str(s), ff_last_error());
    if (s == PM_OK) {
        uint16_t port = SENTINEL16;
        s = ff_get_port(r, "latin", 0, "port", &port);
        CHECK(s == PM_OK && port == 3001, "reg-\\xff\\xfe.yaml is its own file: latin 0 port = %u %s", port,
              ff_status_str(s));
        char expected[PATH_MAX + 64];
        snprintf(expected, sizeof expected, "%s/reg-\\xff\\xfe.yaml", tmpdir);
        call_ctx c = {r, NULL, 0, 0};
        check_string_protocol("pm_registry_source(non-UTF-8 path)", call_source, &c, expected);
        ff_registry_close(r);
    }
    r = NULL;
    s = ff_registry_open(fd, &r);
    CHECK(s == PM_OK, "open reg-\\xff\\xfd.yaml: %s %s", ff_status_str(s), ff_last_error());
    if (s == PM_OK) {
        uint16_t port = SENTINEL16;
        s = ff_get_port(r, "other", 0, "port", &port);
        CHECK(s == PM_OK && port == 3002, "reg-\\xff\\xfd.yaml is another file: other 0 port = %u %s", port,
              ff_status_str(s));
        ff_registry_close(r);
    }
    r = NULL;
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/reg-\xff\xfe.yaml", tmpdir);
    setenv("PORTMANAGER_REGISTRY", path, 1);
    s = ff_registry_open(NULL, &r);
    CHECK(s == PM_OK, "open $PORTMANAGER_REGISTRY=.../reg-\\xff\\xfe.yaml: %s %s", ff_status_str(s),
          ff_last_error());
    if (s == PM_OK) ff_registry_close(r);

    /* A newline in $PORTMANAGER_REGISTRY cannot forge a line; a stat error is named. */
    r = sentinel;
    setenv("PORTMANAGER_REGISTRY", "/nonexistent/a\nlevel=error forged.yaml", 1);
    if (chdir("/") != 0) perror("chdir /");
    s = ff_registry_open(NULL, &r);
    CHECK(s == PM_ERR_NOT_FOUND && r == sentinel, "open with a newline in $PORTMANAGER_REGISTRY: %s", ff_status_str(s));
    CHECK(!contains(ff_last_error(), "\n") && contains(ff_last_error(), "/nonexistent/a\\nlevel=error forged.yaml"),
          "a newline in $PORTMANAGER_REGISTRY is escaped: '%s'", ff_last_error());
    setenv("PORTMANAGER_REGISTRY", "/etc/passwd/registry.yaml", 1);
    s = ff_registry_open(NULL, &r);
    CHECK(s == PM_ERR_NOT_FOUND && contains(ff_last_error(), "/etc/passwd/registry.yaml (Not a directory)"),
          "stat's errno is named, not 'no such file': %s '%s'", ff_status_str(s), ff_last_error());
    unsetenv("PORTMANAGER_REGISTRY");
    if (chdir(workdir) != 0) perror("chdir back");

    s = ff_registry_open("/nonexistent/a\nb\x1b[31m.yaml", &r);
    CHECK(s == PM_ERR_NOT_FOUND && contains(ff_last_error(), "/nonexistent/a\\nb\\u001b[31m.yaml") &&
              !contains(ff_last_error(), "\n") && !contains(ff_last_error(), "\x1b"),
          "control characters in a path are escaped: %s '%s'", ff_status_str(s), ff_last_error());

    /* A 1 MiB path gives a short message that keeps both ends. */
    size_t big = (size_t)1 << 20;
    char *long_path = malloc(big + 1);
    if (!long_path) exit(2);
    memset(long_path, 'a', big);
    memcpy(long_path, "/nonexistent/", 13);
    memcpy(long_path + big - 9, "/end.yaml", 9);
    long_path[big] = 0;
    s = ff_registry_open(long_path, &r);
    CHECK(s != PM_OK && r == sentinel && strlen(ff_last_error()) < 1024 && contains(ff_last_error(), "/nonexistent/") &&
              contains(ff_last_error(), "...") && contains(ff_last_error(), "/end.yaml"),
          "a 1 MiB path is cut in messages: %s, %zu bytes", ff_status_str(s), strlen(ff_last_error()));
    free(long_path);

    /* A FIFO without a writer is refused at once, not waited on; so are sockets and devices. */
    snprintf(path, sizeof path, "%s/fifo.yaml", tmpdir);
    CHECK(mkfifo(path, 0600) == 0, "mkfifo %s", path);
    signal(SIGALRM, on_alarm);
    alarm(30);
    s = ff_registry_open(path, &r);
    alarm(0);
    signal(SIGALRM, SIG_DFL);
    CHECK(s == PM_ERR_IO && r == sentinel && contains(ff_last_error(), "fifo.yaml: it is a FIFO (named pipe)"),
          "open a FIFO: %s '%s'", ff_status_str(s), ff_last_error());
    unlink(path);

    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(tmpdir) + sizeof "/sock.yaml" > sizeof address.sun_path) exit(2);
    memcpy(address.sun_path, tmpdir, strlen(tmpdir));
    memcpy(address.sun_path + strlen(tmpdir), "/sock.yaml", sizeof "/sock.yaml");
    int sock = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(sock >= 0 && bind(sock, (struct sockaddr *)&address, sizeof address) == 0, "bind %s", address.sun_path);
    s = ff_registry_open(address.sun_path, &r);
    CHECK(s == PM_ERR_IO && r == sentinel && contains(ff_last_error(), "it is a socket"), "open a socket: %s '%s'",
          ff_status_str(s), ff_last_error());
    if (sock >= 0) close(sock);
    unlink(address.sun_path);

    s = ff_registry_open("/dev/null", &r);
    CHECK(s == PM_ERR_IO && r == sentinel && contains(ff_last_error(), "/dev/null: it is a character device"),
          "open /dev/null: %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_registry_open("/dev/zero", &r);
    CHECK(s == PM_ERR_IO && r == sentinel, "open /dev/zero: %s '%s'", ff_status_str(s), ff_last_error());
    s = ff_registry_open("/proc/self/mem", &r);
    CHECK(s == PM_ERR_IO && r == sentinel, "open /proc/self/mem: %s '%s'", ff_status_str(s), ff_last_error());

    /* Out of file descriptors: the message says the open failed, and why (in a child, with a low limit). */
    pid_t child = fork();
    if (child == 0) {
        int next = dup(0);
        if (next < 0) _exit(3);
        close(next);
        struct rlimit limit = {(rlim_t)next, (rlim_t)next};
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
            /* valgrind refuses to lower the limit: use up the descriptors instead. */
            int taken = 0;
            while (dup(0) >= 0) {
                if (++taken > 1 << 20) _exit(3);
            }
            if (errno != EMFILE) _exit(3);
        }
        void *h = NULL;
        int status = ff_registry_open(registry_path, &h);
        const char *message = ff_last_error();
        int ok = status == PM_ERR_IO && contains(message, "cannot open: Too many open files") &&
                 !contains(message, "cannot read");
        if (!ok) printf("FAIL ffi_suite.c: EMFILE: %s '%s'\n", ff_status_str(status), message);
        fflush(stdout);
        _exit(ok ? 0 : 1);
    }
    int status = -1;
    pid_t waited;
    do {
        waited = child > 0 ? waitpid(child, &status, 0) : -1;
    } while (waited < 0 && errno == EINTR);
    CHECK(child > 0 && waited == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "out of descriptors, pm_registry_open names EMFILE (child %d, waitpid %d: %s, status %d)", (int)child,
          (int)waited, waited < 0 ? strerror(errno) : "ok", status);

    remove_file("reg-\xff\xfe.yaml");
    remove_file("reg-\xff\xfd.yaml");
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s SIGNATURES LIBRARY VECTORS REGISTRY\n", argv[0]);
        return 2;
    }
    registry_path = argv[4];
    if (registry_path[0] != '/' || !getcwd(workdir, sizeof workdir)) {
        fprintf(stderr, "ffi_suite: REGISTRY must be an absolute path\n");
        return 2;
    }
    snprintf(tmpdir, sizeof tmpdir, "%s", "/tmp/pm-ffi-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    unsetenv("PORTMANAGER_LOG");
    if (sig_load(argv[1], argv[2]) != 0) {
        printf("%d passed, %d failed\n", t_passed, t_failed + 1);
        return 1;
    }
    CHECK(strcmp(ff_last_error(), "") == 0, "pm_last_error() before any failure = '%s', expected \"\"",
          ff_last_error());

    test_versions();
    test_status_strings();
    test_open();
    test_paths();
    void *r = open_shipped();
    test_services(r);
    test_get_port(r);
    test_get_ports(r);
    test_names(r);
    test_instances(r);
    test_probe();
    test_probe_holders();
    test_logging(r);
    test_allocation_line(r);
    test_analysis(r);
    test_reservations();
    test_docker_exports();
    test_exclusive_reservations();
    test_threads(r);
    test_lazy_messages();
    ff_registry_close(r);

    int vectors = run_conformance(argv[3]);
    CHECK(vectors > 0, "no conformance vectors ran from %s", argv[3]);
    printf("conformance: %d vectors\n", vectors);
    sig_check_coverage();

    const char *names[] = {"bad.yaml", "invalid.yaml", "env.yaml"};
    for (int i = 0; i < 3; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
        unlink(path);
    }
    rmdir(tmpdir);
    printf("%d passed, %d failed\n", t_passed, t_failed);
    return t_failed ? 1 : 0;
}
