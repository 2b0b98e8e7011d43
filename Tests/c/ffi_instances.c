/*
 * ffi_instances.c: the "instances" section of portmanager.h through libffi
 * (pm_instance_docker_json): the documents of the shipped registry and of a
 * registry with UDP, host IPs, ranges and an environment; the output protocol;
 * every NULL and out-of-range argument, with the out-params left untouched.
 * Called by ffi_suite.c's main.
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include "portmanager.h" /* constants only: every call goes through libffi */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENTINELZ ((size_t)0xDEADBEEF)

typedef int (*instance_fn)(const void *registry, const char *service, int32_t instance, char *buffer,
                           size_t capacity, size_t *needed);


/* The output protocol, then the exact text: size query, one byte short, exact fit. */
static void check_document(const char *label, instance_fn fn, const void *r, const char *service, int32_t instance,
                           const char *expected) {
    size_t needed = SENTINELZ, length = strlen(expected);
    int s = fn(r, service, instance, NULL, 0, &needed);
    CHECK(s == PM_ERR_BUFFER_TOO_SMALL && needed == length + 1, "%s size query: %s needed %zu, expected %zu", label,
          ff_status_str(s), needed, length + 1);
    char *buffer = malloc(length + 2);
    if (!buffer) exit(2);
    memset(buffer, 'x', length + 2);
    needed = SENTINELZ;
    s = fn(r, service, instance, buffer, length, &needed);
    CHECK(s == PM_ERR_BUFFER_TOO_SMALL && needed == length + 1 && buffer[0] == 'x', "%s one byte short: %s", label,
          ff_status_str(s));
    s = fn(r, service, instance, NULL, 5, &needed);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "buffer"), "%s(NULL, 5): %s '%s'", label,
          ff_status_str(s), ff_last_error());
    s = fn(r, service, instance, buffer, length + 1, &needed);
    CHECK(s == PM_OK && strcmp(buffer, expected) == 0 && buffer[length + 1] == 'x',
          "%s = %s\n  '%s'\n  expected\n  '%s'", label, ff_status_str(s), s == PM_OK ? buffer : ff_last_error(),
          expected);
    free(buffer);
}

/* Every NULL and out-of-range argument: the status, a message naming the culprit, nothing written. */
static void check_refusals(const char *label, instance_fn fn, const void *r) {
    char buffer[64] = "untouched";
    size_t needed = SENTINELZ;
    int s = fn(NULL, "kafka", 0, buffer, sizeof buffer, &needed);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "registry"), "%s(NULL registry): %s '%s'", label,
          ff_status_str(s), ff_last_error());
    s = fn(r, NULL, 0, buffer, sizeof buffer, &needed);
    CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "service"), "%s(NULL service): %s '%s'", label,
          ff_status_str(s), ff_last_error());
    s = fn(r, "kafak", 0, buffer, sizeof buffer, &needed);
    CHECK(s == PM_ERR_UNKNOWN_SERVICE && contains(ff_last_error(), "did you mean 'kafka'"), "%s(kafak): %s '%s'",
          label, ff_status_str(s), ff_last_error());
    const int32_t bad[] = {10, -1, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = fn(r, "kafka", bad[i], buffer, sizeof buffer, &needed);
        CHECK(s == PM_ERR_INSTANCE_OUT_OF_RANGE && contains(ff_last_error(), "allowed: 0..9"),
              "%s(kafka, %d): %s '%s'", label, (int)bad[i], ff_status_str(s), ff_last_error());
    }
    CHECK(strcmp(buffer, "untouched") == 0 && needed == SENTINELZ, "failed %s calls wrote their out-params", label);
}

static int docker_json(const void *registry, const char *service, int32_t instance, char *buffer, size_t capacity,
                       size_t *needed) {
    return ff_instance_docker_json(registry, service, instance, buffer, capacity, needed);
}

static int env_plain(const void *registry, const char *service, int32_t instance, char *buffer, size_t capacity,
                     size_t *needed) {
    return ff_instance_env(registry, service, instance, NULL, buffer, capacity, needed);
}

static int env_prefixed(const void *registry, const char *service, int32_t instance, char *buffer, size_t capacity,
                        size_t *needed) {
    return ff_instance_env(registry, service, instance, "ARGO", buffer, capacity, needed);
}

static const char protocols_yaml[] = "_environments:\n"
                                     "  ci: 1000\n"
                                     "dns:\n"
                                     "  dns_port: {host: 1053, container: 53, protocol: tcp+udp}\n"
                                     "  range_port: \"31001-31002\"\n"
                                     "  follow_port: {host: 9092, container: host, host_ip: \"::1\"}\n"
                                     "  host_ip: 127.0.0.1\n"
                                     "  max_instances: 2\n";

void test_instances(void *shipped) {
    check_document("pm_instance_docker_json(kafka, 1)", docker_json, shipped, "kafka", 1,
                   "{\"name\":\"kafka-development-1\",\"volume\":\"kafka-data-1\",\"image\":\"apache/kafka\","
                   "\"labels\":{\"io.portmanager.service\":\"kafka\",\"io.portmanager.instance\":\"1\","
                   "\"io.portmanager.environment\":\"\"},\"ports\":["
                   "{\"name\":\"broker_port\",\"protocol\":\"tcp\",\"host_ip\":null,\"host_port\":9192,"
                   "\"host_port_last\":9192,\"container_port\":9192,\"container_port_last\":9192},"
                   "{\"name\":\"controller_port\",\"protocol\":\"tcp\",\"host_ip\":null,\"host_port\":19193,"
                   "\"host_port_last\":19193,\"container_port\":19193,\"container_port_last\":19193}]}");
    check_document("pm_instance_docker_json(redis, 2)", docker_json, shipped, "redis", 2,
                   "{\"name\":\"redis-2\",\"volume\":\"redis-data-2\",\"image\":null,"
                   "\"labels\":{\"io.portmanager.service\":\"redis\",\"io.portmanager.instance\":\"2\","
                   "\"io.portmanager.environment\":\"\"},\"ports\":["
                   "{\"name\":\"port\",\"protocol\":\"tcp\",\"host_ip\":null,\"host_port\":6579,"
                   "\"host_port_last\":6579,\"container_port\":6379,\"container_port_last\":6379}]}");
    check_refusals("pm_instance_docker_json", docker_json, shipped);

    check_document("pm_instance_env(kafka, 1)", env_plain, shipped, "kafka", 1,
                   "KAFKA_BROKER_PORT=9192\nKAFKA_CONTROLLER_PORT=19193\nKAFKA_CONTAINER_NAME=kafka-development-1\n"
                   "KAFKA_VOLUME_NAME=kafka-data-1\n");
    check_document("pm_instance_env(argocd, 2, ARGO)", env_prefixed, shipped, "argocd", 2,
                   "ARGO_SERVER_PORT=8290\nARGO_SERVER_PORT_CONTAINER=8080\nARGO_REPO_SERVER_PORT=8291\n"
                   "ARGO_REPO_SERVER_PORT_CONTAINER=8081\nARGO_CONTAINER_NAME=argocd-2\nARGO_VOLUME_NAME=argocd-data-2\n");
    check_document("pm_instance_env(traefik, 1)", env_plain, shipped, "traefik", 1,
                   "TRAEFIK_WEB_PORT=180\nTRAEFIK_WEB_PORT_CONTAINER=80\nTRAEFIK_ENTRYPOINT_PORT=31101-31103\n"
                   "TRAEFIK_ENTRYPOINT_PORT_FIRST=31101\nTRAEFIK_ENTRYPOINT_PORT_LAST=31103\n"
                   "TRAEFIK_ENTRYPOINT_PORT_CONTAINER=31001-31003\nTRAEFIK_CONTAINER_NAME=traefik-1\n"
                   "TRAEFIK_VOLUME_NAME=traefik-data-1\n");
    check_refusals("pm_instance_env", env_plain, shipped);
    const char *bad_prefixes[] = {"", "1X", "A-B", "A B"};
    for (size_t i = 0; i < sizeof bad_prefixes / sizeof bad_prefixes[0]; i++) {
        char buffer[64] = "untouched";
        size_t needed = SENTINELZ;
        int s = ff_instance_env(shipped, "kafka", 0, bad_prefixes[i], buffer, sizeof buffer, &needed);
        CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "not a shell variable name") &&
                  strcmp(buffer, "untouched") == 0 && needed == SENTINELZ,
              "pm_instance_env(prefix '%s'): %s '%s'", bad_prefixes[i], ff_status_str(s), ff_last_error());
    }
    static const char twice_yaml[] = "svc:\n  A_port: 42000\n  a_port: 42001\n";
    void *twice = NULL;
    int opened = ff_registry_open_string(twice_yaml, sizeof twice_yaml - 1, "twice.yaml", &twice);
    CHECK(opened == PM_OK, "open twice.yaml: %s", ff_status_str(opened));
    if (opened == PM_OK) {
        size_t needed = SENTINELZ;
        int s = ff_instance_env(twice, "svc", 0, NULL, NULL, 0, &needed);
        CHECK(s == PM_ERR_INVALID_ARGUMENT && contains(ff_last_error(), "gives the variable SVC_A_PORT twice") &&
                  needed == SENTINELZ,
              "pm_instance_env(two ports, one key): %s '%s'", ff_status_str(s), ff_last_error());
        ff_registry_close(twice);
    }

    void *r = NULL;
    int s = ff_registry_open_string(protocols_yaml, sizeof protocols_yaml - 1, "protocols.yaml", &r);
    CHECK(s == PM_OK, "open protocols.yaml: %s %s", ff_status_str(s), ff_last_error());
    if (s == PM_OK) {
        check_document("pm_instance_docker_json(dns, 1)", docker_json, r, "dns", 1,
                       "{\"name\":\"dns-1\",\"volume\":\"dns-data-1\",\"image\":null,"
                       "\"labels\":{\"io.portmanager.service\":\"dns\",\"io.portmanager.instance\":\"1\","
                       "\"io.portmanager.environment\":\"\"},\"ports\":["
                       "{\"name\":\"dns_port\",\"protocol\":\"tcp\",\"host_ip\":\"127.0.0.1\",\"host_port\":1153,"
                       "\"host_port_last\":1153,\"container_port\":53,\"container_port_last\":53},"
                       "{\"name\":\"dns_port\",\"protocol\":\"udp\",\"host_ip\":\"127.0.0.1\",\"host_port\":1153,"
                       "\"host_port_last\":1153,\"container_port\":53,\"container_port_last\":53},"
                       "{\"name\":\"range_port\",\"protocol\":\"tcp\",\"host_ip\":\"127.0.0.1\",\"host_port\":31101,"
                       "\"host_port_last\":31102,\"container_port\":31001,\"container_port_last\":31002},"
                       "{\"name\":\"follow_port\",\"protocol\":\"tcp\",\"host_ip\":\"::1\",\"host_port\":9192,"
                       "\"host_port_last\":9192,\"container_port\":9192,\"container_port_last\":9192}]}");
        ff_registry_close(r);
    }
}
