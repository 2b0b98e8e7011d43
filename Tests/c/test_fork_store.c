/*
 * test_fork_store.c: log callbacks that use the store or fork, fork() while
 * threads reserve, and fork() while threads make their first library calls,
 * linked directly against libportmanager.so.
 *
 *   callback-reserve  a log callback that calls pm_reserve and pm_release (on
 *                     the line of a reservation) returns, and both calls succeed.
 *   callback-fork     a log callback that forks: fork() returns, and the child
 *                     can reserve and release.
 *   callback-slow     while a callback of this process is still running (it waits
 *                     for the answer), another process reserves in the same store
 *                     at once (before the fix it waited 10 s, then failed).
 *   fork-latency      FORK_LATENCY_FORKS forks while 8 threads reserve and release in
 *                     a loop; prints the median and largest fork() time. Fails only
 *                     on a fork slower than FORK_LATENCY_LIMIT_MS (generous: a
 *                     noisy machine must not fail it; the goal, 100 ms, is a figure to read).
 *   heldout           HELDOUT_FORKS forks while 3 threads call pm_get_port with INFO
 *                     logging to a callback; each child calls pm_get_port. 0 hung children.
 *   first-calls       FIRST_RUNS fresh processes (this program again); in each, 3
 *                     threads make their first library calls (open, log level, callback,
 *                     pm_get_port; one reserves) while the main thread forks
 *                     FIRST_CHILDREN children at staggered moments. 0 hung children.
 *
 *   test_fork_store REGISTRY [STEP ...]   (default: every step)
 * Every step runs in its own process under alarm(STEP_SECONDS), and every child
 * under alarm(CHILD_SECONDS): a hang is a failure, never a stuck run. Apart from
 * fork-latency's generous bound nothing is timed; the bounds are counts.
 * Prints "N passed, N failed"; exits 1 on any failure.
 */
#define _GNU_SOURCE
#include "portmanager.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef STEP_SECONDS
#define STEP_SECONDS 300
#endif
#ifndef CHILD_SECONDS
#define CHILD_SECONDS 10
#endif
#define RESERVERS 8
#ifndef FORK_LATENCY_FORKS
#define FORK_LATENCY_FORKS 50
#endif
#define FORK_LATENCY_LIMIT_MS 2000.0
#define HELDOUT_THREADS 3
#ifndef HELDOUT_FORKS
#define HELDOUT_FORKS 1000
#endif
#define HELDOUT_BATCH 25
#ifndef FIRST_RUNS
#define FIRST_RUNS 30
#endif
#ifndef FIRST_CHILDREN
#define FIRST_CHILDREN 4
#endif

static int passed, failed;
static const char *registry_path;
static char state_dir[256];

static void check(int ok, int line, const char *what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL test_fork_store.c:%d: %s (pm_last_error: %s)\n", line, what, pm_last_error());
    }
}
#define CHECK(ok, what) check((ok) != 0, __LINE__, (what))

static pm_registry *open_registry(void) {
    pm_registry *registry = NULL;
    if (pm_registry_open(registry_path, &registry) != PM_OK) {
        printf("FAIL pm_registry_open(%s): %s\n", registry_path, pm_last_error());
        exit(1);
    }
    return registry;
}

/* Waits for a child; 1 when it exited 0, 0 otherwise; *hung counts SIGALRM deaths. */
static int reap(pid_t pid, int *hung, const char *what) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return 0;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 1;
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
        if (hung) ++*hung;
    } else if (what) {
        printf("%s: status %#x\n", what, status);
    }
    return 0;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* ------------------------------------------------------ callback-reserve */

static pm_registry *registry;
static atomic_int inner_status = -1, inner_release = -1, inner_calls;

/* On the line of the outer reservation (kafka): reserve and release redis 3. */
static void reserving_callback(int32_t level, const char *message, void *unused) {
    (void)level; (void)unused;
    if (strncmp(message, "port_manager_reserved service=kafka ", 36) != 0) return;
    atomic_fetch_add(&inner_calls, 1);
    int32_t instance = -1, released = 0;
    atomic_store(&inner_status, pm_reserve(registry, state_dir, "redis", 3, "inner", 0, PM_RESERVE_NO_PROBE, &instance));
    atomic_store(&inner_release, pm_release(registry, state_dir, "redis", 3, "inner", 0, &released) == PM_OK && released == 1);
}

static void test_callback_reserve(void) {
    pm_set_log_level(PM_LOG_INFO);
    CHECK(pm_set_log_callback(reserving_callback, NULL) == PM_OK, "pm_set_log_callback");
    int32_t instance = -1, released = 0;
    CHECK(pm_reserve(registry, state_dir, "kafka", 2, "outer", 0, PM_RESERVE_NO_PROBE, &instance) == PM_OK && instance == 2,
          "pm_reserve whose log callback reserves returns");
    CHECK(atomic_load(&inner_calls) == 1, "the callback saw the reservation's line once");
    CHECK(atomic_load(&inner_status) == PM_OK, "pm_reserve inside the log callback succeeds");
    CHECK(atomic_load(&inner_release) == 1, "pm_release inside the log callback succeeds");
    CHECK(pm_release(registry, state_dir, "kafka", 2, "outer", 0, &released) == PM_OK && released == 1, "pm_release");
    pm_set_log_callback(NULL, NULL);
    pm_set_log_level(PM_LOG_WARNING);
    printf("callback-reserve: a callback reserved and released inside pm_reserve's log line: status %d\n",
           atomic_load(&inner_status));
}

/* --------------------------------------------------------- callback-fork */

static atomic_int forked_child = -1;

static void forking_callback(int32_t level, const char *message, void *unused) {
    (void)level; (void)unused;
    if (strncmp(message, "port_manager_reserved service=kafka ", 36) != 0) return;
    pid_t pid = fork();
    if (pid == 0) {
        alarm(CHILD_SECONDS);
        pm_set_log_callback(NULL, NULL);
        int32_t instance = -1, released = 0;
        if (pm_reserve(registry, state_dir, "redis", 4, "child", 0, PM_RESERVE_NO_PROBE, &instance) != PM_OK) _exit(3);
        if (pm_release(registry, state_dir, "redis", 4, "child", 0, &released) != PM_OK || released != 1) _exit(4);
        _exit(0);
    }
    atomic_store(&forked_child, pid);
}

static void test_callback_fork(void) {
    pm_set_log_level(PM_LOG_INFO);
    CHECK(pm_set_log_callback(forking_callback, NULL) == PM_OK, "pm_set_log_callback");
    int32_t instance = -1, released = 0;
    CHECK(pm_reserve(registry, state_dir, "kafka", 3, "outer", 0, PM_RESERVE_NO_PROBE, &instance) == PM_OK,
          "pm_reserve whose log callback forks returns");
    pm_set_log_callback(NULL, NULL);
    pm_set_log_level(PM_LOG_WARNING);
    int pid = atomic_load(&forked_child), hung = 0;
    CHECK(pid > 0, "fork() inside the log callback succeeded");
    if (pid > 0) CHECK(reap(pid, &hung, "callback-fork child"), "the child forked in the callback reserves and releases");
    CHECK(hung == 0, "the child forked in the callback does not hang");
    CHECK(pm_release(registry, state_dir, "kafka", 3, "outer", 0, &released) == PM_OK && released == 1, "pm_release");
    printf("callback-fork: fork() inside a log callback returned; the child %s\n", hung ? "hung" : "finished");
}

/* --------------------------------------------------------- callback-slow */

static int to_helper[2], from_helper[2];
static atomic_int helper_answer = -1;

/* Runs in a process forked before this one touched the store: reserves when told. */
static void helper(void) {
    alarm(60);
    char go;
    if (read(to_helper[0], &go, 1) != 1) _exit(2);
    pm_registry *own = open_registry();
    int32_t instance = -1;
    int32_t status = pm_reserve(own, state_dir, "redis", 1, "helper", 0, PM_RESERVE_NO_PROBE, &instance);
    if (write(from_helper[1], &status, sizeof status) != sizeof status) _exit(3);
    _exit(0);
}

/* Holds this process's log call open until the other process has reserved. */
static void waiting_callback(int32_t level, const char *message, void *unused) {
    (void)level; (void)unused;
    if (strncmp(message, "port_manager_reserved service=kafka ", 36) != 0) return;
    int32_t status = -1;
    if (write(to_helper[1], "g", 1) == 1 && read(from_helper[0], &status, sizeof status) == sizeof status) {
        atomic_store(&helper_answer, status);
    }
}

static void test_callback_slow(void) {
    if (pipe(to_helper) != 0 || pipe(from_helper) != 0) { CHECK(0, "pipe"); return; }
    pid_t pid = fork();
    if (pid == 0) helper();
    pm_set_log_level(PM_LOG_INFO);
    CHECK(pm_set_log_callback(waiting_callback, NULL) == PM_OK, "pm_set_log_callback");
    int32_t instance = -1, released = 0;
    double start = now_ms();
    CHECK(pm_reserve(registry, state_dir, "kafka", 4, "outer", 0, PM_RESERVE_NO_PROBE, &instance) == PM_OK, "pm_reserve");
    double took = now_ms() - start;
    pm_set_log_callback(NULL, NULL);
    pm_set_log_level(PM_LOG_WARNING);
    CHECK(reap(pid, NULL, "callback-slow helper"), "the other process finished");
    CHECK(atomic_load(&helper_answer) == PM_OK,
          "another process reserves while this process's log callback runs (not after the store's 10 s busy timeout)");
    CHECK(pm_release(registry, state_dir, "kafka", 4, "outer", 0, &released) == PM_OK && released == 1, "pm_release");
    CHECK(pm_release(registry, state_dir, "redis", 1, "helper", 0, &released) == PM_OK && released == 1, "pm_release helper's");
    printf("callback-slow: another process reserved while a callback ran: status %d (%.0f ms)\n",
           atomic_load(&helper_answer), took);
}

/* ---------------------------------------------------------- fork-latency */

static atomic_int stop;
static atomic_long reserves, reserve_failures;

static void *reserver(void *argument) {
    int index = (int)(intptr_t)argument;
    char owner[32];
    snprintf(owner, sizeof owner, "thread-%d", index);
    while (!atomic_load(&stop)) {
        int32_t instance = -1, released = 0;
        if (pm_reserve(registry, state_dir, "kafka", index, owner, 0, PM_RESERVE_NO_PROBE, &instance) != PM_OK
            || pm_release(registry, state_dir, "kafka", index, owner, 0, &released) != PM_OK) {
            atomic_fetch_add(&reserve_failures, 1);
        }
        atomic_fetch_add(&reserves, 1);
    }
    return NULL;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_fork_latency(void) {
    pthread_t threads[RESERVERS];
    atomic_store(&stop, 0);
    for (int t = 0; t < RESERVERS; t++) pthread_create(&threads[t], NULL, reserver, (void *)(intptr_t)t);
    double took[FORK_LATENCY_FORKS];
    int bad_children = 0, hung = 0;
    for (int i = 0; i < FORK_LATENCY_FORKS; i++) {
        /* Fork only while the threads reserve (a count, not a clock). */
        long seen = atomic_load(&reserves);
        while (atomic_load(&reserves) < seen + RESERVERS) sched_yield();
        double start = now_ms();
        pid_t pid = fork();
        if (pid == 0) {
            alarm(CHILD_SECONDS);
            _exit(0);
        }
        took[i] = now_ms() - start;
        if (pid < 0 || !reap(pid, &hung, "fork-latency child")) bad_children++;
    }
    atomic_store(&stop, 1);
    for (int t = 0; t < RESERVERS; t++) pthread_join(threads[t], NULL);
    qsort(took, FORK_LATENCY_FORKS, sizeof took[0], by_value);
    printf("fork-latency: %d forks while %d threads reserved (%ld reserve+release cycles, %ld failed):"
           " median %.2f ms, 90th %.2f ms, max %.2f ms (goal 100 ms, fails over %.0f ms)\n",
           FORK_LATENCY_FORKS, RESERVERS, atomic_load(&reserves), atomic_load(&reserve_failures),
           took[FORK_LATENCY_FORKS / 2], took[FORK_LATENCY_FORKS * 9 / 10], took[FORK_LATENCY_FORKS - 1],
           FORK_LATENCY_LIMIT_MS);
    CHECK(bad_children == 0, "every fork() succeeds and its child exits");
    CHECK(atomic_load(&reserve_failures) == 0, "every reserve and release of the threads succeeds");
    CHECK(took[FORK_LATENCY_FORKS - 1] < FORK_LATENCY_LIMIT_MS, "no fork() waits longer than the bound");
}

/* --------------------------------------------------------------- heldout */

static atomic_long logged;

static void counting_callback(int32_t level, const char *message, void *unused) {
    (void)level; (void)message; (void)unused;
    atomic_fetch_add(&logged, 1);
}

static void *getter(void *unused) {
    (void)unused;
    uint16_t port;
    while (!atomic_load(&stop)) pm_get_port(registry, "kafka", 1, "broker_port", &port);
    return NULL;
}

static void test_heldout(void) {
    pm_set_log_level(PM_LOG_INFO);
    CHECK(pm_set_log_callback(counting_callback, NULL) == PM_OK, "pm_set_log_callback");
    atomic_store(&stop, 0);
    pthread_t threads[HELDOUT_THREADS];
    for (int t = 0; t < HELDOUT_THREADS; t++) pthread_create(&threads[t], NULL, getter, NULL);
    int hung = 0, wrong = 0;
    for (int i = 0; i < HELDOUT_FORKS; i += HELDOUT_BATCH) {
        pid_t pids[HELDOUT_BATCH];
        int n = HELDOUT_FORKS - i < HELDOUT_BATCH ? HELDOUT_FORKS - i : HELDOUT_BATCH;
        for (int k = 0; k < n; k++) {
            long seen = atomic_load(&logged);
            while (atomic_load(&logged) < seen + HELDOUT_THREADS) sched_yield();
            pids[k] = fork();
            if (pids[k] == 0) {
                alarm(CHILD_SECONDS);
                uint16_t port = 0;
                _exit(pm_get_port(registry, "kafka", 1, "broker_port", &port) == PM_OK && port == 9192 ? 0 : 3);
            }
        }
        for (int k = 0; k < n; k++) {
            if (pids[k] < 0 || !reap(pids[k], &hung, NULL)) wrong++;
        }
    }
    atomic_store(&stop, 1);
    for (int t = 0; t < HELDOUT_THREADS; t++) pthread_join(threads[t], NULL);
    pm_set_log_callback(NULL, NULL);
    printf("heldout: %d forks while %d threads called pm_get_port logging at INFO to a callback:"
           " %d hung children (killed after %d s), %d failed\n", HELDOUT_FORKS, HELDOUT_THREADS, hung,
           CHILD_SECONDS, wrong - hung);
    CHECK(hung == 0, "no child hangs");
    CHECK(wrong == 0, "every child gets its port");
}

/* ----------------------------------------------------------- first-calls */

static atomic_int go;

/* A thread's first library calls: open, level, callback, then allocations (and, for one, reservations). */
static void *first_caller(void *argument) {
    int index = (int)(intptr_t)argument;
    while (!atomic_load(&go)) {}
    pm_registry *own = open_registry();
    pm_set_log_level(PM_LOG_INFO);
    pm_set_log_callback(counting_callback, NULL);
    char owner[32];
    snprintf(owner, sizeof owner, "first-%d", index);
    for (int i = 0; i < 200 && !atomic_load(&stop); i++) {
        uint16_t port;
        pm_get_port(own, "kafka", 1, "broker_port", &port);
        if (index == 0) {
            int32_t instance = -1, released = 0;
            pm_reserve(own, state_dir, "kafka", 5, owner, 0, PM_RESERVE_NO_PROBE, &instance);
            pm_release(own, state_dir, "kafka", 5, owner, 0, &released);
        }
    }
    pm_registry_close(own);
    return NULL;
}

/* One fresh process: fork while the threads make their first calls. Exit status: hung children. */
static int first_calls_run(int run) {
    pthread_t threads[HELDOUT_THREADS];
    for (int t = 0; t < HELDOUT_THREADS; t++) pthread_create(&threads[t], NULL, first_caller, (void *)(intptr_t)t);
    atomic_store(&go, 1);
    pid_t pids[FIRST_CHILDREN];
    for (int k = 0; k < FIRST_CHILDREN; k++) {
        /* Staggered, and shifted by the run: 0, then a few yields more each time. */
        for (int y = 0; y < (run % 5) * 3 + k * 20; y++) sched_yield();
        pids[k] = fork();
        if (pids[k] == 0) {
            alarm(CHILD_SECONDS);
            pm_registry *mine = open_registry();
            pm_set_log_callback(counting_callback, NULL);
            uint16_t port = 0;
            int32_t instance = -1, released = 0;
            char owner[32];
            snprintf(owner, sizeof owner, "child-%d-%d", run, k);
            if (pm_get_port(mine, "kafka", 2, "broker_port", &port) != PM_OK || port != 9292) _exit(3);
            if (pm_reserve(mine, state_dir, "kafka", 6 + k % 4, owner, 0, PM_RESERVE_NO_PROBE, &instance) != PM_OK) _exit(4);
            if (pm_release(mine, state_dir, "kafka", 6 + k % 4, owner, 0, &released) != PM_OK) _exit(5);
            _exit(0);
        }
    }
    int hung = 0, wrong = 0;
    for (int k = 0; k < FIRST_CHILDREN; k++) {
        if (pids[k] < 0 || !reap(pids[k], &hung, "first-calls child")) wrong++;
    }
    atomic_store(&stop, 1);
    for (int t = 0; t < HELDOUT_THREADS; t++) pthread_join(threads[t], NULL);
    return hung * 16 + (wrong - hung);
}

static void test_first_calls(const char *self) {
    int hung = 0, wrong = 0, runs_with_hang = 0, crashed = 0;
    for (int run = 0; run < FIRST_RUNS; run++) {
        char number[16];
        snprintf(number, sizeof number, "%d", run);
        pid_t pid = fork();
        if (pid == 0) {
            execl(self, self, registry_path, "--first-calls-run", number, state_dir, (char *)NULL);
            _exit(127);
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        if (!WIFEXITED(status)) { crashed++; printf("first-calls run %d: status %#x\n", run, status); continue; }
        int h = WEXITSTATUS(status) / 16, w = WEXITSTATUS(status) % 16;
        hung += h; wrong += w; runs_with_hang += h > 0;
    }
    printf("first-calls: %d fresh processes, %d children each forked while 3 threads made their first calls:"
           " %d hung children (in %d of the runs), %d failed, %d runs crashed\n", FIRST_RUNS, FIRST_CHILDREN, hung,
           runs_with_hang, wrong, crashed);
    CHECK(hung == 0, "no child hangs");
    CHECK(wrong == 0 && crashed == 0, "every child gets its port, reserves and releases");
}

/* ------------------------------------------------------------------ main */

typedef void (*step_fn)(void);

static void run_step(const char *name, step_fn function, const char *self) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(STEP_SECONDS);
        passed = failed = 0;
        registry = open_registry();
        if (function) function(); else test_first_calls(self);
        pm_registry_close(registry);
        fflush(stdout);
        _exit(failed > 255 ? 255 : failed);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        passed++;
        printf("ok   %s\n", name);
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
        failed++;
        printf("FAIL %s: hung (killed after %d s)\n", name, STEP_SECONDS);
    } else {
        failed++;
        printf("FAIL %s: status %#x\n", name, status);
    }
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 5 && strcmp(argv[2], "--first-calls-run") == 0) {
        registry_path = argv[1];
        snprintf(state_dir, sizeof state_dir, "%s", argv[4]);
        return first_calls_run(atoi(argv[3]));
    }
    if (argc < 2) {
        fprintf(stderr, "usage: %s REGISTRY [callback-reserve|callback-fork|callback-slow|fork-latency|heldout|first-calls ...]\n", argv[0]);
        return 2;
    }
    registry_path = argv[1];
    snprintf(state_dir, sizeof state_dir, "/tmp/pm-fork-store-XXXXXX");
    if (!mkdtemp(state_dir)) { perror("mkdtemp"); return 2; }
    static const struct { const char *name; step_fn function; } steps[] = {
        {"callback-reserve", test_callback_reserve}, {"callback-fork", test_callback_fork},
        {"callback-slow", test_callback_slow}, {"fork-latency", test_fork_latency},
        {"heldout", test_heldout}, {"first-calls", NULL},
    };
    int n = (int)(sizeof steps / sizeof steps[0]);
    for (int s = 0; s < n; s++) {
        int wanted = argc == 2;
        for (int a = 2; a < argc; a++) wanted |= strcmp(argv[a], steps[s].name) == 0;
        if (wanted) run_step(steps[s].name, steps[s].function, "/proc/self/exe");
    }
    char command[300];
    snprintf(command, sizeof command, "rm -rf '%s'", state_dir);
    if (system(command) != 0) printf("note: could not remove %s\n", state_dir);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
