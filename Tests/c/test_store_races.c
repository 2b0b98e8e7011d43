/*
 * test_store_races.c: the first reservation in a new store never fails.
 *
 * ROUNDS times, CHILDREN processes (forked from one that has the library loaded
 * and its registry open, so none of them pays for loading) wait on one pipe,
 * then all make the first reservation of an empty state directory at once,
 * each for its own owner and the lowest free instance of SERVICE. Every one
 * must succeed, and no two may get the same instance. SQLite answers
 * SQLITE_BUSY without calling the busy handler while another connection
 * switches a new database to WAL; before the store retried that, about 1 child
 * in 100 failed here on a loaded 2-core machine.
 *
 *   test_store_races REGISTRY SERVICE [ROUNDS]     (default 200 rounds)
 * Each child runs under alarm(CHILD_SECONDS): a hang fails, it never sticks.
 * Prints each failure's message and "N passed, N failed" (rounds); exits 1 on any failure.
 */
#define _GNU_SOURCE
#include "portmanager.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 5
#define CHILD_SECONDS 60

static int remove_tree(const char *dir) {
    char command[4200];
    snprintf(command, sizeof command, "rm -rf -- '%s'", dir);
    return system(command);
}

/* One child: wait for the start, reserve, report the instance (exit 100 + instance) or fail. */
static void child(const pm_registry *registry, const char *dir, const char *service, int start, int index) {
    alarm(CHILD_SECONDS);
    char byte;
    if (read(start, &byte, 1) < 0) _exit(2);
    char owner[32];
    snprintf(owner, sizeof owner, "racer-%d", index);
    int32_t instance = -1;
    pm_status status = pm_reserve(registry, dir, service, -1, owner, 0, PM_RESERVE_NO_PROBE, &instance);
    if (status != PM_OK) {
        fprintf(stderr, "child %d: %s: %s\n", index, pm_status_str(status), pm_last_error());
        _exit(1);
    }
    _exit(instance >= 0 && instance < 100 ? 100 + instance : 3);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s REGISTRY SERVICE [ROUNDS]\n", argv[0]);
        return 2;
    }
    const char *service = argv[2];
    int rounds = argc > 3 ? atoi(argv[3]) : 200;
    if (rounds < 1) {
        fprintf(stderr, "ROUNDS must be 1 or more, not '%s'\n", argv[3]);
        return 2;
    }
    pm_registry *registry = NULL;
    if (pm_registry_open(argv[1], &registry) != PM_OK) {
        fprintf(stderr, "cannot open %s: %s\n", argv[1], pm_last_error());
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    char base[4096];
    snprintf(base, sizeof base, "%s/pm-races.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 2;
    }
    /* One reservation first, in a store of its own: the library's first-use
     * preparation is done before the fork, as in a long-running orchestrator. */
    char warm[4200];
    snprintf(warm, sizeof warm, "%s/warm", base);
    if (pm_reserve(registry, warm, service, -1, "warm", 0, PM_RESERVE_NO_PROBE, NULL) != PM_OK) {
        fprintf(stderr, "warm-up reserve: %s\n", pm_last_error());
        remove_tree(base);
        return 2;
    }

    int passed = 0, failed = 0;
    for (int round = 0; round < rounds; round++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/store-%d", base, round);  /* missing: the library creates it */
        int start[2];
        if (pipe(start) != 0) {
            perror("pipe");
            failed++;
            break;
        }
        pid_t pids[CHILDREN];
        int forked = 0;
        for (int i = 0; i < CHILDREN; i++) {
            pids[i] = fork();
            if (pids[i] == 0) {
                close(start[1]);
                child(registry, dir, service, start[0], i);
            }
            if (pids[i] < 0) {
                perror("fork");
                break;
            }
            forked++;
        }
        close(start[0]);
        close(start[1]);  /* every child's read returns now, together */
        int seen[100] = {0}, ok = forked == CHILDREN;
        for (int i = 0; i < forked; i++) {
            int status = 0;
            while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR) {}
            if (WIFSIGNALED(status)) {
                fprintf(stderr, "round %d: child %d killed by signal %d (hung?)\n", round, i, WTERMSIG(status));
                ok = 0;
            } else if (!WIFEXITED(status) || WEXITSTATUS(status) < 100) {
                fprintf(stderr, "round %d: child %d failed (exit %d)\n", round, i, WEXITSTATUS(status));
                ok = 0;
            } else if (seen[WEXITSTATUS(status) - 100]++) {
                fprintf(stderr, "round %d: instance %d given twice\n", round, WEXITSTATUS(status) - 100);
                ok = 0;
            }
        }
        if (ok) passed++; else failed++;
        remove_tree(dir);
    }
    remove_tree(base);
    pm_registry_close(registry);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
