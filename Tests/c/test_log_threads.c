/*
 * test_log_threads.c: the log callback under threads and fork (a replaced callback
 * is never called again; fork never deadlocks a child), linked directly against libportmanager.so.
 *
 *   swap      8 threads log every allocation (PM_LOG_INFO) while one thread
 *             replaces the callback SWAPS times; right after each
 *             pm_set_log_callback() returns it poisons the context of the
 *             callback it replaced. A call that enters a poisoned context, or
 *             is still inside one when it is poisoned, is a late call: 0 allowed.
 *             Each callback is replaced only once it has been called, so every
 *             swap races with callers.
 *   reentry   a callback that logs (nested call) and a callback that calls
 *             pm_set_log_callback() (refused with PM_ERR_INVALID_ARGUMENT):
 *             neither deadlocks.
 *   fork      FORKS forks while 3 threads log at INFO through a callback and a
 *             fourth reads a shared analysis (a lock inside the library); each
 *             child logs, replaces the callback, logs again, reads the analysis
 *             and exits. A child that does not finish within 10 s is killed by
 *             its own alarm(): 0 such hangs allowed.
 *
 *   test_log_threads REGISTRY [swap|reentry|fork ...]   (default: all)
 * Deterministic pass/fail: nothing is timed; the bounds are counts. Prints
 * "N passed, N failed"; exits 1 on any failure.
 */
#define _GNU_SOURCE
#include "portmanager.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOGGERS 8
#ifndef SWAPS
#define SWAPS 300
#endif
#define FORK_LOGGERS 3
#ifndef FORKS
#define FORKS 1000
#endif
#define FORK_BATCH 25 /* children alive at once: they compete with the busy threads for the CPU */
#define CHILD_ALARM_SECONDS 10

static int passed, failed;

static void check(int ok, int line, const char *what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL test_log_threads.c:%d: %s (pm_last_error: %s)\n", line, what, pm_last_error());
    }
}
#define CHECK(ok, what) check((ok) != 0, __LINE__, (what))

static pm_registry *registry;
static atomic_int stop;

/* ------------------------------------------------------------------ swap */

enum { ALIVE = 1, POISONED = 2 };

struct context {
    atomic_int state;
    atomic_long calls;
};

static atomic_long late_calls, total_calls;

static void swap_callback(int32_t level, const char *message, void *pointer) {
    struct context *context = pointer;
    (void)level;
    if (atomic_load(&context->state) != ALIVE) atomic_fetch_add(&late_calls, 1);
    atomic_fetch_add(&context->calls, 1);
    atomic_fetch_add(&total_calls, 1);
    /* A little work inside the callback, so that swaps land while calls are in it. */
    volatile size_t length = strlen(message);
    (void)length;
    if (atomic_load(&context->state) != ALIVE) atomic_fetch_add(&late_calls, 1);
}

static void *logger(void *unused) {
    (void)unused;
    uint16_t port;
    while (!atomic_load(&stop)) pm_get_port(registry, "kafka", 1, "broker_port", &port);
    return NULL;
}

static void test_swap(void) {
    static struct context contexts[SWAPS];
    atomic_store(&stop, 0);
    pm_set_log_level(PM_LOG_INFO);
    atomic_store(&contexts[0].state, ALIVE);
    CHECK(pm_set_log_callback(swap_callback, &contexts[0]) == PM_OK, "pm_set_log_callback");
    pthread_t threads[LOGGERS];
    for (int t = 0; t < LOGGERS; t++) pthread_create(&threads[t], NULL, logger, NULL);
    int refused = 0;
    for (int i = 1; i < SWAPS; i++) {
        /* Replace only a callback that is in use (a count, not a clock). */
        while (atomic_load(&contexts[i - 1].calls) == 0) sched_yield();
        atomic_store(&contexts[i].state, ALIVE);
        refused += pm_set_log_callback(swap_callback, &contexts[i]) != PM_OK;
        atomic_store(&contexts[i - 1].state, POISONED); /* as a caller would free() it */
    }
    atomic_store(&stop, 1);
    for (int t = 0; t < LOGGERS; t++) pthread_join(threads[t], NULL);
    CHECK(pm_set_log_callback(NULL, NULL) == PM_OK, "pm_set_log_callback(NULL)");
    atomic_store(&contexts[SWAPS - 1].state, POISONED);
    pm_set_log_level(PM_LOG_WARNING);
    CHECK(refused == 0, "every swap from the swapping thread succeeds");
    long late = atomic_load(&late_calls);
    printf("swap: %d swaps under %d logging threads, %ld callback calls, %ld late calls\n", SWAPS, LOGGERS,
           atomic_load(&total_calls), late);
    CHECK(late == 0, "no call reaches a callback after pm_set_log_callback() replaced it");
}

/* --------------------------------------------------------------- reentry */

static atomic_int nested_depth, nested_calls, swap_inside_status = -1;
static char swap_inside_error[256];

static void logging_callback(int32_t level, const char *message, void *unused) {
    (void)level; (void)message; (void)unused;
    atomic_fetch_add(&nested_calls, 1);
    if (atomic_fetch_add(&nested_depth, 1) == 0) {
        uint16_t port;
        pm_get_port(registry, "redis", 2, "port", &port); /* logs: a nested call */
    }
    atomic_fetch_sub(&nested_depth, 1);
}

static void noop_callback(int32_t level, const char *message, void *unused) {
    (void)level; (void)message; (void)unused;
}

static void swapping_callback(int32_t level, const char *message, void *unused) {
    (void)level; (void)message; (void)unused;
    if (atomic_load(&swap_inside_status) != -1) return;
    atomic_store(&swap_inside_status, pm_set_log_callback(noop_callback, NULL));
    snprintf(swap_inside_error, sizeof swap_inside_error, "%s", pm_last_error());
}

static void test_reentry(void) {
    uint16_t port = 0;
    pm_set_log_level(PM_LOG_INFO);
    CHECK(pm_set_log_callback(logging_callback, NULL) == PM_OK, "set a callback that logs");
    CHECK(pm_get_port(registry, "kafka", 1, "broker_port", &port) == PM_OK && port == 9192, "pm_get_port");
    CHECK(atomic_load(&nested_calls) == 2, "the callback's own allocation is logged too (2 calls)");

    CHECK(pm_set_log_callback(swapping_callback, NULL) == PM_OK, "set a callback that replaces itself");
    CHECK(pm_get_port(registry, "kafka", 1, "broker_port", &port) == PM_OK, "pm_get_port");
    CHECK(atomic_load(&swap_inside_status) == PM_ERR_INVALID_ARGUMENT,
          "pm_set_log_callback() inside a callback returns PM_ERR_INVALID_ARGUMENT");
    CHECK(strstr(swap_inside_error, "inside a log") != NULL, "and pm_last_error() says why");
    /* The refused call changed nothing: the same callback is still in force. */
    atomic_store(&swap_inside_status, -1);
    CHECK(pm_get_port(registry, "kafka", 1, "broker_port", &port) == PM_OK, "pm_get_port");
    CHECK(atomic_load(&swap_inside_status) == PM_ERR_INVALID_ARGUMENT, "the callback is still the one in force");
    atomic_store(&swap_inside_status, 0);
    CHECK(pm_set_log_callback(NULL, NULL) == PM_OK, "pm_set_log_callback(NULL) outside a callback");
    pm_set_log_level(PM_LOG_WARNING);
}

/* ------------------------------------------------------------------ fork */

static atomic_long fork_calls;

static void counting_callback(int32_t level, const char *message, void *pointer) {
    (void)level; (void)message;
    atomic_fetch_add((atomic_long *)pointer, 1);
}

static pm_analysis *analysis;

static void *analysis_reader(void *unused) {
    (void)unused;
    size_t needed;
    while (!atomic_load(&stop)) pm_analysis_json(analysis, NULL, 0, &needed);
    return NULL;
}

/* The child: only the forking thread exists. Every step must finish. */
static int child(void) {
    alarm(CHILD_ALARM_SECONDS);
    static atomic_long second;
    uint16_t port = 0;
    long before = atomic_load(&fork_calls);
    if (pm_get_port(registry, "kafka", 1, "broker_port", &port) != PM_OK || port != 9192) return 10;
    if (atomic_load(&fork_calls) != before + 1) return 11;
    if (pm_set_log_callback(counting_callback, &second) != PM_OK) return 12;
    if (pm_get_port(registry, "kafka", 2, "broker_port", &port) != PM_OK || atomic_load(&second) != 1) return 13;
    size_t needed = 0;
    if (pm_analysis_json(analysis, NULL, 0, &needed) != PM_ERR_BUFFER_TOO_SMALL || needed == 0) return 14;
    return 0;
}

static void test_fork(void) {
    CHECK(pm_analyze(registry, 32768, 60999, NULL, &analysis) == PM_OK, "pm_analyze");
    atomic_store(&stop, 0);
    pm_set_log_level(PM_LOG_INFO);
    CHECK(pm_set_log_callback(counting_callback, &fork_calls) == PM_OK, "pm_set_log_callback");
    pthread_t threads[FORK_LOGGERS + 1];
    for (int t = 0; t < FORK_LOGGERS; t++) pthread_create(&threads[t], NULL, logger, NULL);
    pthread_create(&threads[FORK_LOGGERS], NULL, analysis_reader, NULL);
    int hung = 0, wrong = 0, lost = 0;
    for (int i = 0; i < FORKS; i += FORK_BATCH) {
        pid_t pids[FORK_BATCH];
        int n = FORKS - i < FORK_BATCH ? FORKS - i : FORK_BATCH;
        for (int k = 0; k < n; k++) {
            /* Fork only while the loggers are busy (a count, not a clock). */
            long seen = atomic_load(&fork_calls);
            while (atomic_load(&fork_calls) < seen + FORK_LOGGERS) sched_yield();
            pids[k] = fork();
            if (pids[k] == 0) _exit(child());
            if (pids[k] < 0) lost++;
        }
        for (int k = 0; k < n; k++) {
            if (pids[k] < 0) continue;
            int status = 0;
            while (waitpid(pids[k], &status, 0) < 0) {}
            if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
                hung++;
            } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                if (wrong++ < 5) printf("child %d: status %#x\n", i + k, status);
            }
        }
    }
    atomic_store(&stop, 1);
    for (int t = 0; t <= FORK_LOGGERS; t++) pthread_join(threads[t], NULL);
    pm_set_log_callback(NULL, NULL);
    pm_set_log_level(PM_LOG_WARNING);
    pm_analysis_free(analysis);
    printf("fork: %d children forked while %d threads logged: %d hung (killed after %d s), %d failed\n", FORKS,
           FORK_LOGGERS, hung, CHILD_ALARM_SECONDS, wrong);
    CHECK(lost == 0, "every fork() succeeds");
    CHECK(hung == 0, "no child hangs");
    CHECK(wrong == 0, "every child logs, replaces the callback and reads the analysis");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s REGISTRY [swap|reentry|fork ...]\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (pm_registry_open(argv[1], &registry) != PM_OK) {
        fprintf(stderr, "%s\n", pm_last_error());
        return 2;
    }
    int all = argc == 2;
    for (int i = all ? 1 : 2; i < (all ? 2 : argc); i++) {
        const char *which = all ? NULL : argv[i];
        if (all || strcmp(which, "swap") == 0) test_swap();
        if (all || strcmp(which, "reentry") == 0) test_reentry();
        if (all || strcmp(which, "fork") == 0) test_fork();
    }
    pm_registry_close(registry);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
