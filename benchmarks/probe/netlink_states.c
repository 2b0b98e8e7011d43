/*
 * What reading TCP connections costs the many-port probe: two NETLINK_SOCK_DIAG
 * TCP dumps (IPv4, IPv6) limited to ports 40000-40999, asking for LISTEN only
 * (what the probe asked before it had to see connections' local ports) against
 * every state (what it asks now), interleaved, best of 50. The difference is
 * the kernel's walk of its connection hash, whatever the ports asked.
 * Not a test: prints figures only. Built and run by run.sh.
 */
#define _GNU_SOURCE
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* One dump of TCP sockets of `family` in `states` with a local port in lo..hi; the count, or -1. */
static int dump(int fd, int family, unsigned states, unsigned short lo, unsigned short hi) {
    struct {
        struct nlmsghdr header;
        struct inet_diag_req_v2 request;
        struct nlattr attribute;
        struct inet_diag_bc_op ops[4];
    } message;
    memset(&message, 0, sizeof message);
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    message.request.sdiag_family = (unsigned char)family;
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = states;
    message.attribute.nla_len = sizeof(struct nlattr) + sizeof message.ops;
    message.attribute.nla_type = INET_DIAG_REQ_BYTECODE;
    message.ops[0] = (struct inet_diag_bc_op){INET_DIAG_BC_S_GE, 8, 20};
    message.ops[1] = (struct inet_diag_bc_op){0, 0, lo};
    message.ops[2] = (struct inet_diag_bc_op){INET_DIAG_BC_S_LE, 8, 12};
    message.ops[3] = (struct inet_diag_bc_op){0, 0, hi};
    if (send(fd, &message, sizeof message, 0) != (ssize_t)sizeof message) return -1;
    static char buffer[65536];
    int count = 0;
    for (;;) {
        int n = (int)recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return -1;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buffer; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE) return count;
            if (h->nlmsg_type == NLMSG_ERROR) return -1;
            count++;
        }
    }
}

int main(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0 || dump(fd, AF_INET, 1u << 10, 40000, 40999) < 0) {
        printf("netlink_states: NETLINK_SOCK_DIAG refused here; skipped\n");
        return 0;
    }
    double best[2] = {1e300, 1e300};
    for (int round = 0; round < 50; round++) {
        for (int k = 0; k < 2; k++) {
            unsigned states = k ? 0xFFFFFFFFu : 1u << 10;
            double t0 = now_ns();
            dump(fd, AF_INET, states, 40000, 40999);
            dump(fd, AF_INET6, states, 40000, 40999);
            double t = now_ns() - t0;
            if (t < best[k]) best[k] = t;
        }
    }
    printf("TCP dumps (IPv4+IPv6) of ports 40000-40999: every state %9.1f us   LISTEN only %8.1f us   %6.2fx\n",
           best[1] / 1e3, best[0] / 1e3, best[1] / best[0]);
    close(fd);
    return 0;
}
