/*
 * Reservation benchmarks. Not a test: prints figures, each beside a
 * baseline measured in the same run on the same database file.
 *
 *   pm_reserve + pm_release of a 3-port service (named owner, PM_RESERVE_NO_PROBE;
 *   then with the probe, and with a process owner)
 *     vs  a bare SQLite transaction doing the same inserts (one reservation row,
 *         three port rows) and the same delete, on the same file, WAL and
 *         synchronous=NORMAL, statements prepared once;
 *   --contention: PROCESSES processes x CYCLES reserve+release cycles of a random
 *   service's lowest free instance (fork), as cycles per second; run.sh sets it
 *   beside bench_flock.py, the same workload in pure Python under flock.
 *
 * Build and run: benchmarks/reservations/run.sh
 */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "portmanager.h"

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static const char yaml[] =
    "bench:\n  a_port: 45000\n  b_port: 45001\n  c_port: 45002\n  instance_increment: 10\n  max_instances: 8\n"
    "other:\n  a_port: 45100\n  b_port: 45101\n  c_port: 45102\n  instance_increment: 10\n  max_instances: 8\n";

static void must(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "bench_reserve: %s: %s\n", what, pm_last_error());
        exit(1);
    }
}

static double library_cycle(pm_registry *r, const char *dir, const char *owner, int32_t flags, long n) {
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        int32_t instance = -1;
        must(pm_reserve(r, dir, "bench", 0, owner, 0, flags, &instance) == PM_OK, "pm_reserve");
        must(pm_release(r, dir, "bench", 0, owner, 0, NULL) == PM_OK, "pm_release");
    }
    return (now_ns() - t0) / (double)n;
}

static void sql(sqlite3 *db, const char *text) {
    char *error = NULL;
    if (sqlite3_exec(db, text, NULL, NULL, &error) != SQLITE_OK) {
        fprintf(stderr, "bench_reserve: %s: %s\n", text, error);
        exit(1);
    }
}

static void step(sqlite3_stmt *s) {
    if (sqlite3_step(s) != SQLITE_DONE) {
        fprintf(stderr, "bench_reserve: step: %s\n", sqlite3_errmsg(sqlite3_db_handle(s)));
        exit(1);
    }
    sqlite3_reset(s);
}

/* The same rows, written by hand: what the store cannot do with less. */
static double bare_cycle(const char *path, long n) {
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) exit(1);
    sqlite3_busy_timeout(db, 10000);
    sql(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON");
    sqlite3_stmt *begin, *commit, *insert, *port, *del;
    sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL);
    sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT INTO reservation(service, environment, instance, owner_kind, owner, since) "
                       "VALUES('bare', '', 0, 'name', 'bench-owner', 1)",
                       -1, &insert, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO port(protocol, port, reservation, name) VALUES('tcp', ?, ?, 'p')", -1, &port, NULL);
    sqlite3_prepare_v2(db, "DELETE FROM reservation WHERE id = ?", -1, &del, NULL);
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        step(begin);
        step(insert);
        sqlite3_int64 id = sqlite3_last_insert_rowid(db);
        for (int p = 0; p < 3; p++) {
            sqlite3_bind_int(port, 1, 46000 + p);
            sqlite3_bind_int64(port, 2, id);
            step(port);
        }
        step(commit);
        step(begin);
        sqlite3_bind_int64(del, 1, id);
        step(del);
        step(commit);
    }
    double per = (now_ns() - t0) / (double)n;
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_finalize(insert);
    sqlite3_finalize(port);
    sqlite3_finalize(del);
    sqlite3_close(db);
    return per;
}

static double median(double *v, int n) {
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (v[j] < v[i]) { double t = v[i]; v[i] = v[j]; v[j] = t; }
    return v[n / 2];
}

/* Contention: fork PROCESSES workers, each CYCLES reserve+release of a random service and any instance
 * (process owner, no probe; a refused attempt is retried at once). Returns cycles per second. */
static double contention(const char *dir, int processes, int cycles, int *failed) {
    double t0 = now_ns();
    for (int p = 0; p < processes; p++) {
        pid_t pid = fork();
        if (pid == 0) {
            pm_registry *mine = NULL;
            if (pm_registry_open_string(yaml, strlen(yaml), "bench.yaml", &mine) != PM_OK) _exit(1);
            unsigned seed = (unsigned)p * 7919u + 1;
            int done = 0;
            while (done < cycles) {
                const char *service = rand_r(&seed) % 2 ? "bench" : "other";
                int32_t instance = -1;
                int s = pm_reserve(mine, dir, service, -1, NULL, 0, PM_RESERVE_NO_PROBE, &instance);
                if (s == PM_ERR_RESERVED) continue;
                if (s != PM_OK) { fprintf(stderr, "worker: %s\n", pm_last_error()); _exit(1); }
                if (pm_release(mine, dir, service, instance, NULL, 0, NULL) != PM_OK) _exit(1);
                done++;
            }
            _exit(0);
        }
    }
    int status;
    *failed = 0;
    while (wait(&status) > 0) *failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return processes * cycles / ((now_ns() - t0) / 1e9);
}

int main(int argc, char **argv) {
    int only_contention = argc == 5 && strcmp(argv[1], "--contention") == 0;
    if (argc != 2 && !only_contention) {
        fprintf(stderr, "usage: %s STATE_DIR | --contention STATE_DIR PROCESSES CYCLES\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1 + only_contention];
    if (only_contention) { /* one line, for run.sh to set beside the flock baseline */
        int processes = atoi(argv[3]), cycles = atoi(argv[4]), failed = 0;
        double rate = contention(dir, processes, cycles, &failed);
        printf("portmanager: %d processes x %d cycles: %.0f cycles/s%s\n", processes, cycles, rate,
               failed ? " (SOME WORKERS FAILED)" : "");
        return failed ? 1 : 0;
    }
    pm_registry *r = NULL;
    must(pm_registry_open_string(yaml, strlen(yaml), "bench.yaml", &r) == PM_OK, "open");
    char path[4096];
    snprintf(path, sizeof path, "%s/reservations.db", dir);
    const long n = 2000;
    enum { ROUNDS = 7 };
    double lib[ROUNDS], bare[ROUNDS], probe[ROUNDS], process[ROUNDS];
    library_cycle(r, dir, "bench-owner", PM_RESERVE_NO_PROBE, 200); /* creates the store; warms up */
    bare_cycle(path, 200);
    for (int k = 0; k < ROUNDS; k++) { /* interleaved, so both see the same machine */
        lib[k] = library_cycle(r, dir, "bench-owner", PM_RESERVE_NO_PROBE, n);
        bare[k] = bare_cycle(path, n);
        probe[k] = library_cycle(r, dir, "bench-owner", PM_RESERVE_DEFAULT, n / 4);
        process[k] = library_cycle(r, dir, NULL, PM_RESERVE_NO_PROBE, n / 4);
    }
    double l = median(lib, ROUNDS), b = median(bare, ROUNDS);
    printf("reserve+release, 3 ports, median of %d rounds of %ld (WAL, synchronous=NORMAL):\n", ROUNDS, n);
    printf("  pm_reserve + pm_release (named owner, no probe) %8.1f us\n", l / 1e3);
    printf("  bare SQLite: the same inserts and delete        %8.1f us   ratio %.2fx (goal <= 1.5x)\n", b / 1e3, l / b);
    printf("  pm_reserve + pm_release with the probe          %8.1f us\n", median(probe, ROUNDS) / 1e3);
    printf("  pm_reserve + pm_release, process owner          %8.1f us\n", median(process, ROUNDS) / 1e3);
    pm_registry_close(r);
    return 0;
}
