/*
 * Core benchmarks of libportmanager. Not a test: it
 * prints figures, each beside a baseline measured in the same run.
 *
 *   pm_get_port            vs  a hand-written C lookup of the same table
 *                              (strcmp over an array + the arithmetic)
 *   pm_get_port, log on    vs  the same hand-written lookup: threshold at
 *                              PM_LOG_INFO, every allocation formatted and
 *                              delivered to a C callback that counts it
 *   the INFO line          vs  snprintf of the same line (the logged call
 *                              above, and its extra cost over the call with
 *                              logging off, against snprintf; goal <= 2x)
 *   pm_registry_open*      vs  libyaml's bare event parse of the same bytes
 *   pm_get_port miss       vs  pm_get_port hit on the same registry, at 10, 1k
 *                              and 10k services (the did-you-mean of an unknown
 *                              service is formed only when pm_last_error reads it)
 *   miss + pm_last_error   vs  the linear did-you-mean the library used before
 *                              its trie (every name through the banded
 *                              optimal-string-alignment distance, ported to C:
 *                              cheaper than the Swift original), over the same
 *                              names; goal <= 50 us at 10k services
 *
 * The first line is the hot path with logging off (the default threshold,
 * PM_LOG_WARNING, is above the INFO allocation messages).
 *
 * Build and run: benchmarks/core/run.sh
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "portmanager.h"

/* This thread's CPU time: the benchmarks are single-threaded and CPU-bound, and
   on a shared machine wall time also counts the time other processes ran. */
static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Best of `rounds` timings of `iterations` calls, in ns per call. */
#define BEST_OF(rounds, iterations, body)                         \
    ({                                                            \
        double best_ = 1e300;                                     \
        for (int r_ = 0; r_ < (rounds); r_++) {                   \
            double t0_ = now_ns();                                \
            for (long i_ = 0; i_ < (iterations); i_++) { body; }  \
            double per_ = (now_ns() - t0_) / (double)(iterations); \
            if (per_ < best_) best_ = per_;                       \
        }                                                         \
        best_;                                                    \
    })

/* The baseline: the same allocation as a C programmer would hand-write it. */
struct c_port { const char *name; int base; };
struct c_service { const char *name; int increment, max; struct c_port ports[3]; int nports; };
static const struct c_service c_table[] = {
    {"kafka", 100, 10, {{"broker_port", 9092}, {"controller_port", 19093}}, 2},
    {"mongodb", 100, 10, {{"port", 27017}}, 1},
    {"mongo_express", 100, 10, {{"port", 8081}}, 1},
    {"redis", 100, 10, {{"port", 6379}}, 1},
    {"alertmanager", 100, 5, {{"port", 9093}}, 1},
    {"prometheus", 100, 5, {{"port", 9090}}, 1},
    {"grafana", 10, 5, {{"port", 3000}}, 1},
    {"loki", 100, 5, {{"port", 3100}}, 1},
    {"jaeger", 100, 5, {{"port", 16686}}, 1},
    {"neo4j", 100, 5, {{"http_port", 7474}, {"bolt_port", 7687}}, 2},
    {"qdrant", 100, 5, {{"http_port", 6333}, {"grpc_port", 6334}}, 2},
    {"traefik", 100, 3, {{"web_port", 80}, {"entrypoint_port", 31001}}, 2},
    {"promtail", 100, 5, {{"port", 9080}}, 1},
    {"temporal", 100, 3, {{"frontend_port", 7233}, {"ui_port", 8080}, {"postgres_port", 5432}}, 3},
    {"argocd", 100, 3, {{"server_port", 8090}, {"repo_server_port", 8091}}, 2},
};

static int c_get_port(const char *service, int instance, const char *port, uint16_t *out) {
    for (size_t s = 0; s < sizeof c_table / sizeof c_table[0]; s++) {
        if (strcmp(c_table[s].name, service) != 0) continue;
        if (instance < 0 || instance >= c_table[s].max) return 8;
        for (int p = 0; p < c_table[s].nports; p++) {
            if (strcmp(c_table[s].ports[p].name, port) == 0) {
                *out = (uint16_t)(c_table[s].ports[p].base + instance * c_table[s].increment);
                return 0;
            }
        }
        return 7;
    }
    return 6;
}

static int libyaml_parse(const unsigned char *bytes, size_t length) {
    yaml_parser_t parser;
    yaml_event_t event;
    int events = 0, done = 0;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, bytes, length);
    while (!done) {
        if (!yaml_parser_parse(&parser, &event)) break;
        done = event.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&event);
        events++;
    }
    yaml_parser_delete(&parser);
    return events;
}

static volatile uint32_t sink;

/* The previous did-you-mean, Suggest.closest before NameIndex, ported to C over
   bytes (the generated names are ASCII): every name through the optimal-string-
   alignment distance, banded to |i - j| <= limit, stopping when two rows exceed it. */
static int banded(const char *x, int n, const char *y, int m, int limit, int *rows) {
    int cap = limit + 1;
    if (abs(n - m) > limit) return cap;
    if (n == 0 || m == 0) return n > m ? n : m;
    int width = m + 2, *before = rows + 2 * width, *previous = rows, *current = rows + width;
    for (int j = 0; j < width; j++) previous[j] = j < cap ? j : cap;
    int previousMin = 0;
    for (int i = 1; i <= n; i++) {
        int low = i - limit > 1 ? i - limit : 1, high = i + limit < m ? i + limit : m;
        current[0] = i < cap ? i : cap;
        if (low > 1) current[low - 1] = cap;
        current[high + 1] = cap;
        int rowMin = current[0];
        for (int j = low; j <= high; j++) {
            int cost = x[i - 1] != y[j - 1];
            int v = previous[j] + 1, w = current[j - 1] + 1, d = previous[j - 1] + cost;
            if (w < v) v = w;
            if (d < v) v = d;
            if (i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] && before[j - 2] + 1 < v) v = before[j - 2] + 1;
            if (v > cap) v = cap;
            current[j] = v;
            if (v < rowMin) rowMin = v;
        }
        if (rowMin > limit && previousMin > limit) return cap;
        previousMin = rowMin;
        int *t = before; before = previous; previous = current; current = t;
    }
    return previous[m];
}

static const char *linear_closest(const char *word, char (*names)[16], int count, int *rows) {
    int n = (int)strlen(word), limit = n / 2 < 1 ? 1 : n / 2 > 2 ? 2 : n / 2;
    const char *best = NULL;
    int bestDistance = limit + 1;
    for (int k = 0; k < count; k++) {
        int m = (int)strlen(names[k]);
        if (m < n - limit || strcmp(names[k], word) == 0) continue;
        int d = banded(word, n, names[k], m, limit, rows);
        if (d < bestDistance) { bestDistance = d; best = names[k]; }
    }
    return best;
}

/* Unknown-service misses against hits on a generated registry of `count`
   services (service-00000 ... with one port each). A miss returns its status
   only; reading pm_last_error forms the message and its did-you-mean. */
static int miss_vs_hit(int count) {
    size_t capacity = (size_t)count * 64 + 64, length = 0;
    char *yaml = malloc(capacity);
    if (!yaml) return 1;
    for (int i = 0; i < count; i++)
        length += (size_t)snprintf(yaml + length, capacity - length, "service-%05d:\n  port: %d\n  max_instances: 1\n",
                                   i, 1024 + i % 60000);
    pm_registry *reg = NULL;
    if (pm_registry_open_string(yaml, length, "generated.yaml", &reg) != PM_OK) {
        fprintf(stderr, "generated registry: %s\n", pm_last_error());
        free(yaml);
        return 1;
    }
    free(yaml);
    char hits[8][16], misses[8][16];
    for (int k = 0; k < 8; k++) {
        int i = (int)((long)k * count / 8);
        snprintf(hits[k], sizeof hits[k], "service-%05d", i);
        snprintf(misses[k], sizeof misses[k], "servcie-%05d", i); /* a typo: the message suggests hits[k] */
    }
    uint16_t port = 0;
    char expected[64];
    snprintf(expected, sizeof expected, "did you mean '%s'?", hits[3]);
    /* The first message read also builds the trie of the names (once per registry). */
    double t0 = now_ns();
    int first_status = pm_get_port(reg, misses[3], 0, "port", &port);
    int first_ok = strstr(pm_last_error(), expected) != NULL;
    double first = now_ns() - t0;
    if (first_status != PM_ERR_UNKNOWN_SERVICE || !first_ok) {
        fprintf(stderr, "miss at %d services: '%s'\n", count, pm_last_error());
        pm_registry_close(reg);
        return 1;
    }
    char (*names)[16] = malloc(sizeof *names * (size_t)count);
    int *rows = malloc(sizeof *rows * 64);
    if (!names || !rows) return 1;
    for (int i = 0; i < count; i++) snprintf(names[i], sizeof names[i], "service-%05d", i);
    if (!linear_closest(misses[3], names, count, rows) || strcmp(linear_closest(misses[3], names, count, rows), hits[3]) != 0) {
        fprintf(stderr, "the linear baseline suggests '%s'\n", linear_closest(misses[3], names, count, rows));
        return 1;
    }
    const long N = 1000000, R = count >= 10000 ? 200 : count >= 1000 ? 2000 : 20000;
    const long L = count >= 10000 ? 20 : count >= 1000 ? 200 : 20000;
    double hit = BEST_OF(5, N, { pm_get_port(reg, hits[i_ & 7], 0, "port", &port); sink += port; });
    double miss = BEST_OF(5, N, { sink += (uint32_t)pm_get_port(reg, misses[i_ & 7], 0, "port", &port); });
    double read = 1e300, linear = 1e300;
    for (int round = 0; round < 5; round++) { /* interleaved: a busy machine slows both alike */
        double r = BEST_OF(1, R, {
            sink += (uint32_t)pm_get_port(reg, misses[i_ & 7], 0, "port", &port);
            sink += (uint32_t)pm_last_error()[0];
        });
        double l = BEST_OF(1, L, { sink += (uint32_t)(uintptr_t)linear_closest(misses[i_ & 7], names, count, rows); });
        if (r < read) read = r;
        if (l < linear) linear = l;
    }
    printf("pm_get_port miss, %5d services         %9.1f ns   %9.1f ns hit, same registry      %5.2fx   <= 10x\n",
           count, miss, hit, miss / hit);
    printf("  miss + pm_last_error (did-you-mean)    %9.1f us   %9.1f us linear scan (C port)    %5.3fx   <= 50 us at 10k\n",
           read / 1e3, linear / 1e3, read / linear);
    printf("  its first read (builds the name trie)  %9.1f us   once per registry\n", first / 1e3);
    printf("RESULT services=%d hit_ns=%.1f miss_ns=%.1f miss_read_ns=%.1f linear_ns=%.1f first_read_ns=%.1f\n",
           count, hit, miss, read, linear, first);
    free(names);
    free(rows);
    pm_registry_close(reg);
    return 0;
}

/* The baseline of the INFO line: snprintf of the same text, as a C programmer
   would write it. `last` and `container` are 0 when the line has none. */
struct c_line { const char *service; int instance; const char *type; int port, base, increment, last, container; };
static const struct c_line c_lines[8] = {
    {"kafka", 1, "broker_port", 9192, 9092, 100, 0, 0},
    {"argocd", 2, "repo_server_port", 8291, 8091, 100, 0, 8081},
    {"mongodb", 3, "port", 27317, 27017, 100, 0, 0},
    {"temporal", 2, "postgres_port", 5632, 5432, 100, 0, 0},
    {"traefik", 1, "entrypoint_port", 31101, 31001, 100, 31103, 0},
    {"loki", 4, "port", 3500, 3100, 100, 0, 0},
    {"qdrant", 0, "grpc_port", 6334, 6334, 100, 0, 0},
    {"redis", 9, "port", 7279, 6379, 100, 0, 0},
};

static int c_format_line(char *buffer, size_t capacity, const struct c_line *l) {
    int n = snprintf(buffer, capacity, "port_manager_port_allocated service=%s instance=%d type=%s port=%d base=%d increment=%d",
                     l->service, l->instance, l->type, l->port, l->base, l->increment);
    if (l->last) n += snprintf(buffer + n, capacity - (size_t)n, " last=%d", l->last);
    if (l->container) n += snprintf(buffer + n, capacity - (size_t)n, " container=%d", l->container);
    return n;
}

/* Keeps a copy of the latest message, to check the baseline formats the same text. */
static char latest[512];
static void keep_message(int32_t level, const char *message, void *context) {
    (void)level; (void)context;
    snprintf(latest, sizeof latest, "%s", message);
}

/* A log callback that only counts: the cost measured is the library's. */
static void count_message(int32_t level, const char *message, void *context) {
    (void)level;
    *(volatile unsigned long *)context += message[0] != 0;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "dynamicconfig/port_registry.yaml";
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 2; }
    static unsigned char text[1 << 20];
    size_t length = fread(text, 1, sizeof text, f);
    fclose(f);

    pm_registry *reg = NULL;
    if (pm_registry_open(path, &reg) != PM_OK) { fprintf(stderr, "%s\n", pm_last_error()); return 2; }

    /* Queries cycle over the table so neither side benefits from one hot entry. */
    static const struct { const char *s; const char *p; int i; } q[] = {
        {"kafka", "broker_port", 1}, {"argocd", "repo_server_port", 2}, {"mongodb", "port", 3},
        {"temporal", "postgres_port", 2}, {"traefik", "entrypoint_port", 1}, {"loki", "port", 4},
        {"qdrant", "grpc_port", 0}, {"redis", "port", 9},
    };
    const long N = 2000000;
    uint16_t port = 0;
    for (size_t k = 0; k < 8; k++) {
        uint16_t a = 0, b = 0;
        if (pm_get_port(reg, q[k].s, q[k].i, q[k].p, &a) != PM_OK || c_get_port(q[k].s, q[k].i, q[k].p, &b) != 0 || a != b) {
            fprintf(stderr, "mismatch on %s/%s: %u vs %u\n", q[k].s, q[k].p, a, b);
            return 1;
        }
    }
    double lib = BEST_OF(5, N, { pm_get_port(reg, q[i_ & 7].s, q[i_ & 7].i, q[i_ & 7].p, &port); sink += port; });
    double base = BEST_OF(5, N, { c_get_port(q[i_ & 7].s, q[i_ & 7].i, q[i_ & 7].p, &port); sink += port; });
    double miss = BEST_OF(5, N / 10, { pm_get_port(reg, "kafak", 0, "port", &port); sink += port; });

    /* Logging on: every allocation is formatted and delivered to a callback. */
    static volatile unsigned long delivered = 0;
    int32_t saved_level = pm_get_log_level();
    pm_set_log_callback(count_message, (void *)&delivered);
    pm_set_log_level(PM_LOG_INFO);
    /* Interleaved with its snprintf baseline, round by round, so that a busy
       machine slows both alike; the best round of each counts. */
    static char line[512];
    const int line_rounds = 25;
    const long line_calls = N / 50;
    double logged = 1e300, formatted = 1e300;
    for (int round = 0; round < line_rounds; round++) {
        double one = BEST_OF(1, line_calls, { pm_get_port(reg, q[i_ & 7].s, q[i_ & 7].i, q[i_ & 7].p, &port); sink += port; });
        double two = BEST_OF(1, line_calls, { sink += (uint32_t)c_format_line(line, sizeof line, &c_lines[i_ & 7]); });
        if (one < logged) logged = one;
        if (two < formatted) formatted = two;
    }
    /* The same lines through snprintf, after checking they are the library's text. */
    pm_set_log_callback(keep_message, NULL);
    for (size_t k = 0; k < 8; k++) {
        char mine[512];
        pm_get_port(reg, q[k].s, q[k].i, q[k].p, &port);
        c_format_line(mine, sizeof mine, &c_lines[k]);
        if (strcmp(mine, latest) != 0) {
            fprintf(stderr, "the snprintf baseline differs from the library's line:\n  %s\n  %s\n", mine, latest);
            return 1;
        }
    }
    pm_set_log_level(saved_level);
    pm_set_log_callback(NULL, NULL);
    if (delivered != (unsigned long)(line_rounds * line_calls)) {
        fprintf(stderr, "the callback saw %lu messages, expected %ld\n", delivered, line_rounds * line_calls);
        return 1;
    }

    const long M = 20000;
    double parse = BEST_OF(5, M, { sink += (uint32_t)libyaml_parse(text, length); });
    double load_mem = BEST_OF(5, M, {
        pm_registry *r = NULL;
        pm_registry_open_string((const char *)text, length, path, &r);
        pm_registry_close(r);
    });
    double load_file = BEST_OF(5, M, {
        pm_registry *r = NULL;
        pm_registry_open(path, &r);
        pm_registry_close(r);
    });
    pm_registry_close(reg);

    /* Hostile input: 1 MiB of printable junk and 1 MiB of random bytes must be
       refused quickly (target: well within a second). */
    static char junk[1 << 20], noise[1 << 20];
    uint64_t x = 42;
    for (size_t i = 0; i < sizeof junk; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        junk[i] = (char)(0x20 + x % 95);
        noise[i] = (char)(1 + x % 255);
    }
    int refused = 1;
    double junk_ns = BEST_OF(3, 5, {
        pm_registry *r = NULL;
        refused &= pm_registry_open_string(junk, sizeof junk, "junk", &r) != PM_OK;
        pm_registry_close(r);
    });
    double noise_ns = BEST_OF(3, 5, {
        pm_registry *r = NULL;
        refused &= pm_registry_open_string(noise, sizeof noise, "noise", &r) != PM_OK;
        pm_registry_close(r);
    });
    if (!refused) { fprintf(stderr, "junk was accepted\n"); return 1; }

    printf("benchmark                                   per call      baseline (same run)              ratio   target\n");
    printf("pm_get_port (shipped registry, hit)      %9.1f ns   %9.1f ns hand-written C lookup   %5.2fx   <= 100 ns\n", lib, base, lib / base);
    printf("pm_get_port (unknown service, error)     %9.1f ns\n", miss);
    printf("pm_get_port (log on: INFO to a callback) %9.1f ns   %9.1f ns hand-written C lookup  %6.2fx   (log off: %.2fx)\n", logged, base, logged / base, lib / base);
    printf("INFO line: logged pm_get_port           %9.1f ns   %9.1f ns snprintf of the same line  %5.2fx   <= 2x\n", logged, formatted, logged / formatted);
    printf("INFO line: its cost over log off         %9.1f ns   %9.1f ns snprintf of the same line  %5.2fx\n", logged - lib, formatted, (logged - lib) / formatted);
    printf("pm_registry_open_string (load+validate)  %9.1f us   %9.1f us libyaml bare parse      %5.2fx   <= 100 us\n", load_mem / 1e3, parse / 1e3, load_mem / parse);
    printf("pm_registry_open (file: read+load)       %9.1f us   %9.1f us libyaml bare parse      %5.2fx   <= 100 us\n", load_file / 1e3, parse / 1e3, load_file / parse);
    printf("1 MiB printable junk refused in          %9.3f ms                                               target < 1000 ms\n", junk_ns / 1e6);
    printf("1 MiB random bytes refused in            %9.3f ms                                               target < 1000 ms\n", noise_ns / 1e6);
    printf("RESULT get_port_ns=%.1f baseline_ns=%.1f get_port_logged_ns=%.1f snprintf_line_ns=%.1f load_us=%.2f load_file_us=%.2f libyaml_us=%.2f\n", lib, base, logged, formatted, load_mem / 1e3, load_file / 1e3, parse / 1e3);
    static const int counts[] = {10, 1000, 10000};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++)
        if (miss_vs_hit(counts[k]) != 0) return 1;
    return (int)(sink & 0);
}
