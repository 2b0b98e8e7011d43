/*
 * ffi_conformance.c: runs Tests/conformance/vectors.txt through libffi.
 * The format is described at the top of that file.
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include "portmanager.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_REGISTRIES 64
#define MAX_TOKENS 16

typedef struct {
    char name[128];
    char *yaml; /* malloc'd */
    size_t length;
    void *handle; /* NULL when it did not open */
    int status;
    char message[1024];
} vector_registry;

static vector_registry registries[MAX_REGISTRIES];
static int registry_count;

static vector_registry *find_registry(const char *name) {
    for (int i = 0; i < registry_count; i++)
        if (strcmp(registries[i].name, name) == 0) return &registries[i];
    return NULL;
}

static void open_registry(vector_registry *r) {
    r->handle = NULL;
    r->status = ff_registry_open_string(r->yaml ? r->yaml : "", r->length, r->name, &r->handle);
    snprintf(r->message, sizeof r->message, "%s", r->status == PM_OK ? "" : ff_last_error());
}

static void append_yaml(vector_registry *r, const char *text) {
    size_t n = strlen(text);
    char *grown = realloc(r->yaml, r->length + n + 2);
    if (!grown) {
        perror("realloc");
        exit(2);
    }
    r->yaml = grown;
    memcpy(r->yaml + r->length, text, n);
    r->length += n;
    r->yaml[r->length++] = '\n';
    r->yaml[r->length] = 0;
}

static int parse_instance(const char *text, int32_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || v < INT32_MIN || v > INT32_MAX) return 0;
    *out = (int32_t)v;
    return 1;
}

/* Compares an actual outcome with EXPECTED: "ok"/values, or "error STATUS: TEXT". */
static void expect(const char *where, int status, const char *message, const char *actual, const char *expected) {
    if (getenv("PM_VECTORS_VERBOSE")) /* for writing vectors: shows every outcome */
        printf("%s: %s %s\n", where, ff_status_str(status), status == PM_OK ? actual : message);
    if (strncmp(expected, "error ", 6) == 0) {
        char name[64];
        const char *colon = strchr(expected + 6, ':');
        size_t n = colon ? (size_t)(colon - (expected + 6)) : strlen(expected + 6);
        snprintf(name, sizeof name, "%.*s", (int)n, expected + 6);
        const char *text = colon ? colon + 1 : "";
        while (*text == ' ') text++;
        int want = ff_status_value(name);
        CHECK(want > 0, "%s: '%s' is not a pm_status name", where, name);
        CHECK(status == want, "%s: got %s ('%s'%s%s), expected %s", where, ff_status_str(status), message,
              status == PM_OK ? " -> " : "", status == PM_OK ? actual : "", name);
        CHECK(*text != 0, "%s: the vector gives no message text to check", where);
        CHECK(contains(message, text), "%s: message '%s' does not contain '%s'", where, message, text);
    } else {
        CHECK(status == PM_OK && strcmp(actual, expected) == 0, "%s: got %s '%s' ('%s'), expected '%s'", where,
              ff_status_str(status), actual, status == PM_OK ? "" : message, expected);
    }
}

static int run_query(const char *where, char **tok, int ntok, const char *expected) {
    vector_registry *r = ntok >= 2 ? find_registry(tok[1]) : NULL;
    if (!CHECK(r != NULL, "%s: unknown registry '%s'", where, ntok >= 2 ? tok[1] : "")) return 0;
    char actual[2048] = "";
    const char *cmd = tok[0];
    if (strcmp(cmd, "open") == 0 && ntok == 2) {
        expect(where, r->status, r->message, "ok", expected);
        return 1;
    }
    if (!CHECK(r->handle != NULL, "%s: registry %s did not open (%s), so it cannot be queried", where, r->name,
               r->message))
        return 0;
    int status = PM_OK;
    int32_t instance = 0;
    if (strcmp(cmd, "services") == 0 && ntok == 2) {
        size_t count = 0;
        status = ff_service_count(r->handle, &count);
        for (size_t i = 0; status == PM_OK && i < count; i++) {
            char name[256];
            status = ff_service_name(r->handle, i, name, sizeof name, NULL);
            size_t used = strlen(actual);
            snprintf(actual + used, sizeof actual - used, "%s%s", i ? " " : "", name);
        }
    } else if ((strcmp(cmd, "get_port") == 0 && ntok == 5) || (strcmp(cmd, "get_ports") == 0 && ntok == 4) ||
               (strcmp(cmd, "container_name") == 0 && ntok == 4) || (strcmp(cmd, "volume_name") == 0 && ntok == 4)) {
        if (!CHECK(parse_instance(tok[3], &instance), "%s: bad instance '%s'", where, tok[3])) return 0;
        if (strcmp(cmd, "get_port") == 0) {
            uint16_t port = 0;
            status = ff_get_port(r->handle, tok[2], instance, tok[4], &port);
            snprintf(actual, sizeof actual, "%u", port);
        } else if (strcmp(cmd, "get_ports") == 0) {
            size_t needed = 0;
            status = ff_get_ports(r->handle, tok[2], instance, NULL, 0, &needed);
            if (status == PM_ERR_BUFFER_TOO_SMALL) {
                uint16_t *ports = calloc(needed, sizeof *ports);
                status = ff_get_ports(r->handle, tok[2], instance, ports, needed, &needed);
                for (size_t i = 0; status == PM_OK && i < needed; i++) {
                    size_t used = strlen(actual);
                    snprintf(actual + used, sizeof actual - used, "%s%u", i ? " " : "", ports[i]);
                }
                free(ports);
            }
        } else {
            int container = strcmp(cmd, "container_name") == 0;
            status = container ? ff_container_name(r->handle, tok[2], instance, actual, sizeof actual, NULL)
                               : ff_volume_name(r->handle, tok[2], instance, actual, sizeof actual, NULL);
        }
    } else if (strcmp(cmd, "allocation_line") == 0 && ntok == 5) {
        char *end;
        errno = 0;
        long long wide = strtoll(tok[3], &end, 10); /* pm_allocation_line takes an int64_t */
        if (!CHECK(errno == 0 && *end == '\0', "%s: bad instance '%s'", where, tok[3])) return 0;
        status = ff_allocation_line(r->handle, tok[2], (int64_t)wide, tok[4], actual, sizeof actual, NULL);
    } else if (strcmp(cmd, "reserve") == 0 && ntok >= 5 && (ntok - 3) % 2 == 0) {
        char dir[] = "/tmp/pm-vector-XXXXXX";
        if (!CHECK(mkdtemp(dir) != NULL, "%s: mkdtemp", where)) return 0;
        char state[sizeof dir + 8];
        snprintf(state, sizeof state, "%s/state", dir);
        for (int i = 3; status == PM_OK && i + 1 < ntok; i += 2) {
            if (strcmp(tok[i], "any") == 0)
                instance = -1;
            else if (!CHECK(parse_instance(tok[i], &instance), "%s: bad instance '%s'", where, tok[i]))
                break;
            int32_t got = -7;
            status = ff_reserve(r->handle, state, tok[2], instance, tok[i + 1], 0, PM_RESERVE_NO_PROBE, &got);
            size_t used = strlen(actual);
            if (status == PM_OK) snprintf(actual + used, sizeof actual - used, "%s%d", i > 3 ? " " : "", got);
        }
        char message[1024];
        snprintf(message, sizeof message, "%s", status == PM_OK ? "" : ff_last_error());
        const char *files[] = {"reservations.db", "reservations.db-wal", "reservations.db-shm", NULL};
        char path[sizeof state + 32];
        for (int i = 0; files[i]; i++) {
            snprintf(path, sizeof path, "%s/%s", state, files[i]);
            unlink(path);
        }
        rmdir(state);
        rmdir(dir);
        expect(where, status, message, actual, expected);
        return 1;
    } else {
        CHECK(0, "%s: unknown query '%s' with %d arguments", where, cmd, ntok - 1);
        return 0;
    }
    expect(where, status, status == PM_OK ? "" : ff_last_error(), actual, expected);
    return 1;
}

int run_conformance(const char *vectors_path) {
    FILE *f = fopen(vectors_path, "r");
    if (!CHECK(f != NULL, "cannot open %s", vectors_path)) return 0;
    char line[4096];
    int number = 0, ran = 0;
    vector_registry *current = NULL;
    while (fgets(line, sizeof line, f)) {
        number++;
        line[strcspn(line, "\r\n")] = 0;
        char where[256];
        snprintf(where, sizeof where, "%s:%d", vectors_path, number);
        if (line[0] == '|') {
            if (!CHECK(current != NULL, "%s: a YAML line outside a registry", where)) continue;
            append_yaml(current, line[1] == ' ' ? line + 2 : line + 1);
            continue;
        }
        if (current) open_registry(current); /* the block ended */
        current = NULL;
        if (line[0] == 0 || line[0] == '#') continue;
        if (strncmp(line, "registry ", 9) == 0) {
            if (!CHECK(registry_count < MAX_REGISTRIES, "%s: too many registries", where)) break;
            if (!CHECK(find_registry(line + 9) == NULL, "%s: registry %s defined twice", where, line + 9)) continue;
            current = &registries[registry_count++];
            memset(current, 0, sizeof *current);
            snprintf(current->name, sizeof current->name, "%.*s", (int)sizeof current->name - 1, line + 9);
            continue;
        }
        char *arrow = strstr(line, " => ");
        if (!CHECK(arrow != NULL, "%s: expected 'COMMAND ARG... => EXPECTED', got '%s'", where, line)) continue;
        *arrow = 0;
        const char *expected = arrow + 4;
        char *tok[MAX_TOKENS] = {NULL}, *save = NULL;
        int ntok = 0;
        for (char *t = strtok_r(line, " ", &save); t && ntok < MAX_TOKENS; t = strtok_r(NULL, " ", &save))
            tok[ntok++] = t;
        if (!CHECK(ntok > 0, "%s: empty query", where)) continue;
        ran += run_query(where, tok, ntok, expected);
    }
    if (current) open_registry(current);
    fclose(f);
    for (int i = 0; i < registry_count; i++) {
        ff_registry_close(registries[i].handle);
        free(registries[i].yaml);
    }
    registry_count = 0;
    return ran;
}
