/*
 * test_fixed_calls.c: the calls whose names and signatures are fixed (an
 * outside C tool already uses them), linked directly against
 * libportmanager.so and compiled with -std=c99 -Wall -Wextra -Werror:
 *
 *   pm_registry_open, pm_registry_close, pm_get_port, pm_last_error, pm_abi_version
 *
 * Every NULL and error path of each, with out-params left untouched.
 *   test_fixed_calls REGISTRY
 * Prints "N passed, N failed"; exits 1 on any failure.
 */
#include "portmanager.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;

static void check(int ok, int line, const char *what, const char *detail) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL test_fixed_calls.c:%d: %s%s%s\n", line, what, detail ? ": " : "", detail ? detail : "");
    }
}
#define CHECK(ok, what) check((ok) != 0, __LINE__, (what), pm_last_error())

static int has(const char *text, const char *part) { return strstr(text, part) != NULL; }

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s REGISTRY\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];

    /* Version check, as every caller should do first. */
    CHECK(pm_abi_version() == PM_ABI_VERSION, "pm_abi_version() equals PM_ABI_VERSION");
    CHECK(pm_version_number() == PM_VERSION_NUMBER, "pm_version_number() equals PM_VERSION_NUMBER");
    CHECK(strcmp(pm_version_string(), PM_VERSION_STRING) == 0, "pm_version_string() equals PM_VERSION_STRING");

    /* pm_last_error: never NULL, "" before any failure. */
    CHECK(pm_last_error() != NULL && strcmp(pm_last_error(), "") == 0, "pm_last_error() is \"\" at first");

    /* pm_registry_open */
    pm_registry *const sentinel = (pm_registry *)&passed;
    pm_registry *r = sentinel;
    CHECK(pm_registry_open(path, NULL) == PM_ERR_INVALID_ARGUMENT, "pm_registry_open(path, NULL)");
    CHECK(has(pm_last_error(), "out"), "its message names out");
    CHECK(pm_registry_open("/no/such/registry.yaml", &r) == PM_ERR_NOT_FOUND, "pm_registry_open(missing)");
    CHECK(has(pm_last_error(), "/no/such/registry.yaml"), "its message names the path");
    CHECK(r == sentinel, "a failed open leaves *out untouched");
    CHECK(pm_registry_open("/", &r) == PM_ERR_IO, "pm_registry_open(a directory)");
    CHECK(r == sentinel, "a failed open leaves *out untouched");
    CHECK(pm_registry_open(path, &r) == PM_OK && r != sentinel && r != NULL, "pm_registry_open(shipped registry)");
    if (r == sentinel || r == NULL) {
        printf("%d passed, %d failed\n", passed, failed + 1);
        return 1;
    }

    /* pm_get_port: success */
    uint16_t port = 0;
    CHECK(pm_get_port(r, "kafka", 0, "broker_port", &port) == PM_OK && port == 9092, "kafka 0 broker_port = 9092");
    CHECK(pm_get_port(r, "kafka", 1, "broker_port", &port) == PM_OK && port == 9192, "kafka 1 broker_port = 9192");
    CHECK(pm_get_port(r, "kafka", 2, "controller_port", &port) == PM_OK && port == 19293,
          "kafka 2 controller_port = 19293");
    CHECK(pm_get_port(r, "mongodb", 1, "port", &port) == PM_OK && port == 27117, "mongodb 1 port = 27117");
    CHECK(pm_get_port(r, "loki", 4, "port", &port) == PM_OK && port == 3500, "loki 4 port = 3500");

    /* pm_get_port: every NULL, each naming its argument, out_port untouched */
    port = 4242;
    CHECK(pm_get_port(NULL, "kafka", 0, "broker_port", &port) == PM_ERR_INVALID_ARGUMENT, "NULL registry");
    CHECK(has(pm_last_error(), "registry"), "message names registry");
    CHECK(pm_get_port(r, NULL, 0, "broker_port", &port) == PM_ERR_INVALID_ARGUMENT, "NULL service");
    CHECK(has(pm_last_error(), "service"), "message names service");
    CHECK(pm_get_port(r, "kafka", 0, NULL, &port) == PM_ERR_INVALID_ARGUMENT, "NULL port_name");
    CHECK(has(pm_last_error(), "port_name"), "message names port_name");
    CHECK(pm_get_port(r, "kafka", 0, "broker_port", NULL) == PM_ERR_INVALID_ARGUMENT, "NULL out_port");
    CHECK(has(pm_last_error(), "out_port"), "message names out_port");

    /* pm_get_port: unknown names and instances out of range */
    CHECK(pm_get_port(r, "kafak", 0, "broker_port", &port) == PM_ERR_UNKNOWN_SERVICE, "unknown service");
    CHECK(has(pm_last_error(), "'kafak'") && has(pm_last_error(), "did you mean 'kafka'"), "message suggests kafka");
    CHECK(pm_get_port(r, "kafka", 0, "port", &port) == PM_ERR_UNKNOWN_PORT, "unknown port");
    CHECK(has(pm_last_error(), "broker_port, controller_port"), "message lists the ports");
    CHECK(pm_get_port(r, "kafka", -1, "broker_port", &port) == PM_ERR_INSTANCE_OUT_OF_RANGE, "instance -1");
    CHECK(has(pm_last_error(), "allowed: 0..9"), "message states the range");
    CHECK(pm_get_port(r, "kafka", 10, "broker_port", &port) == PM_ERR_INSTANCE_OUT_OF_RANGE, "instance 10");
    CHECK(pm_get_port(r, "kafka", INT32_MAX, "broker_port", &port) == PM_ERR_INSTANCE_OUT_OF_RANGE, "INT32_MAX");
    CHECK(pm_get_port(r, "kafka", INT32_MIN, "broker_port", &port) == PM_ERR_INSTANCE_OUT_OF_RANGE, "INT32_MIN");
    CHECK(port == 4242, "failed calls leave out_port untouched");

    /* A success does not clear the last error. */
    CHECK(pm_get_port(r, "kafka", 0, "broker_port", &port) == PM_OK, "kafka 0");
    CHECK(has(pm_last_error(), "instance -2147483648"), "a success keeps the last error");

    /* Status names */
    CHECK(strcmp(pm_status_str(PM_ERR_INSTANCE_OUT_OF_RANGE), "PM_ERR_INSTANCE_OUT_OF_RANGE") == 0, "pm_status_str");
    CHECK(strcmp(pm_status_str((pm_status)12345), "PM_ERR_UNKNOWN_STATUS") == 0, "pm_status_str(unknown)");

    /* pm_registry_close: NULL is a no-op; a handle closes once. */
    pm_registry_close(NULL);
    pm_registry_close(r);
    CHECK(1, "pm_registry_close");

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
