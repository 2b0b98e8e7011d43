/* The floor of the one-port probe (not a test): the system calls
 * portmanager.probe(port, "both") makes for a free port, timed in C with no
 * Python and no Swift around them, against the calls portpicker.is_port_free
 * makes, also in C, on the same port in the same run. Their ratio is the best
 * any binding of this probe can reach against portpicker on this machine.
 *
 *   portmanager, free port, TCP+UDP: per protocol one dual-stack [::] socket:
 *     socket, setsockopt(IPV6_V6ONLY=0), bind, close            (2 sockets)
 *   portpicker.is_port_free: per protocol, for AF_INET6 then AF_INET:
 *     socket, setsockopt(SO_REUSEADDR), bind, listen (TCP), getsockname,
 *     shutdown, close                                           (4 sockets)
 *
 * Usage: syscall_floor [PORT]   (default: a port the kernel picks, free for TCP and UDP)
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int bind_port(int fd, int family, int port) {
    if (family == AF_INET6) {
        struct sockaddr_in6 a;
        memset(&a, 0, sizeof a);
        a.sin6_family = AF_INET6;
        a.sin6_port = htons((unsigned short)port);
        return bind(fd, (struct sockaddr *)&a, sizeof a);
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    return bind(fd, (struct sockaddr *)&a, sizeof a);
}

static int ours(int port) {
    int free = 1;
    for (int type = 0; type < 2; type++) {
        int fd = socket(AF_INET6, (type ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        int zero = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        free &= bind_port(fd, AF_INET6, port) == 0;
        close(fd);
    }
    return free;
}

static int picker(int port) {
    int free = 1;
    for (int type = 0; type < 2; type++) {
        int families[2] = {AF_INET6, AF_INET};
        for (int f = 0; f < 2; f++) {
            int fd = socket(families[f], type ? SOCK_DGRAM : SOCK_STREAM, 0);
            int one = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            free &= bind_port(fd, families[f], port) == 0;
            if (!type) listen(fd, 1);
            struct sockaddr_storage s;
            socklen_t n = sizeof s;
            getsockname(fd, (struct sockaddr *)&s, &n);
            shutdown(fd, SHUT_RDWR);
            close(fd);
        }
    }
    return free;
}

static double median_us(int (*probe)(int), int port) {
    enum { N = 2000, ROUNDS = 7 };
    double t[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        double start = now();
        for (int i = 0; i < N; i++) probe(port);
        t[r] = (now() - start) / N * 1e6;
    }
    for (int i = 0; i < ROUNDS; i++)
        for (int j = i + 1; j < ROUNDS; j++)
            if (t[j] < t[i]) { double x = t[i]; t[i] = t[j]; t[j] = x; }
    return t[ROUNDS / 2];
}

/* A port free for TCP and UDP on both families: the kernel's pick for a dual-stack TCP socket. */
static int free_port(void) {
    for (int tries = 0; tries < 50; tries++) {
        int fd = socket(AF_INET6, SOCK_STREAM, 0), zero = 0, port = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        struct sockaddr_in6 a;
        socklen_t n = sizeof a;
        if (bind_port(fd, AF_INET6, 0) == 0 && getsockname(fd, (struct sockaddr *)&a, &n) == 0) port = ntohs(a.sin6_port);
        close(fd);
        if (port && ours(port) && picker(port)) return port;
    }
    return 0;
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : free_port();
    if (port <= 0 || port > 65535 || !ours(port) || !picker(port)) {
        fprintf(stderr, "usage: syscall_floor PORT (a port free for TCP and UDP)\n");
        return 2;
    }
    double a = median_us(picker, port), b = median_us(ours, port);
    printf("the system calls alone, in C (port %d), median of 7 rounds of 2000:\n", port);
    printf("  portpicker.is_port_free's calls (4 sockets): %8.2f us\n", a);
    printf("  portmanager's calls, free port (2 sockets):  %8.2f us  -> ratio %.3f (the floor)\n", b, b / a);
    return 0;
}
