/* One HTTP GET to the Docker engine over its unix socket, through libcurl
 * loaded with dlopen at first use (libportmanager.so gains no NEEDED entry and
 * works without libcurl). Internal to libportmanager: every symbol is hidden,
 * and none starts with pm_ (the version script exports pm_*).
 *
 * curl_easy_setopt is variadic, which Swift cannot call: this file is the
 * typed side of it. The Swift caller (Sources/PortManager/Docker) turns the
 * outcome into a DockerError and parses the body. */
#ifndef PORTMANAGER_DOCKER_HTTP_H
#define PORTMANAGER_DOCKER_HTTP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DOCKER_HTTP_HIDDEN __attribute__((visibility("hidden")))

/* What became of a request. Only DOCKER_HTTP_ANSWERED carries a status and a body. */
typedef enum docker_http_outcome {
    DOCKER_HTTP_ANSWERED = 0,   /* an HTTP answer, any status: status, body, length */
    DOCKER_HTTP_UNLOADABLE,     /* libcurl cannot be loaded, or lacks a function or an option */
    DOCKER_HTTP_UNREACHABLE,    /* cannot connect to the socket (os_errno says why) */
    DOCKER_HTTP_TIMEOUT,        /* no whole answer within the timeout */
    DOCKER_HTTP_TOO_LARGE,      /* the body is longer than max_body */
    DOCKER_HTTP_NOT_HTTP,       /* the peer's bytes are not an HTTP answer, or it closed early */
    DOCKER_HTTP_FAILED          /* anything else libcurl reports (out of memory, ...) */
} docker_http_outcome;

typedef struct docker_http_response {
    docker_http_outcome outcome;
    long status;                /* the HTTP status, when ANSWERED */
    unsigned char *body;        /* malloc'd (NULL when empty): docker_http_response_free */
    size_t length;
    int os_errno;               /* the connect's errno, when UNREACHABLE (0 when unknown) */
    char message[256];          /* libcurl's or the loader's words, NUL-terminated ("" when none) */
} docker_http_response;

/* GET `url` (http://localhost/PATH) through the unix socket `socket_path`,
 * waiting at most `timeout_ms` (at least 1) in all, and keeping at most
 * `max_body` bytes of body. `library` is the file name given to dlopen
 * (NULL: "libcurl.so.4"); each name is loaded, checked and curl_global_init'ed
 * once per process, under a lock that fork waits for. Never follows redirects,
 * honours no proxy variable, raises no signal. Always fills *out; returns its outcome. */
DOCKER_HTTP_HIDDEN docker_http_outcome docker_http_get(const char *library, const char *socket_path,
                                                       const char *url, long timeout_ms, size_t max_body,
                                                       docker_http_response *out);

/* Frees the body of *response (NULL allowed) and clears it. */
DOCKER_HTTP_HIDDEN void docker_http_response_free(docker_http_response *response);

/* The name docker_http_get loads when given NULL. */
DOCKER_HTTP_HIDDEN extern const char *const docker_http_default_library;

#ifdef __cplusplus
}
#endif
#endif
