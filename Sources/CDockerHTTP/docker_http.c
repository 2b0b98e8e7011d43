/* One HTTP GET over a unix socket through a dlopen'd libcurl: see docker_http.h.
 *
 * curl/curl.h gives the option and error constants and the function types
 * (Debian's libcurl4-openssl-dev, a build dependency of headers only); nothing
 * of libcurl is linked. Each library name is loaded once and kept for the life
 * of the process (never dlclose'd: curl_global_cleanup is not safe while other
 * threads of a host may use libcurl themselves). */
#define CURL_DISABLE_TYPECHECK 1
#define CURL_DISABLE_DEPRECATION 1   /* CURLOPT_PROTOCOLS, the fallback before 7.85 */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker_http.h"

const char *const docker_http_default_library = "libcurl.so.4";

/* The functions of one loaded libcurl, resolved once. */
typedef struct curl_api {
    char name[128];
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *easy, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *easy);
    CURLcode (*easy_getinfo)(CURL *easy, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *easy);
    const char *(*easy_strerror)(CURLcode code);
} curl_api;

/* The default name, and a few others for tests (a missing one is never kept). */
enum { MAX_LIBRARIES = 4 };
static curl_api libraries[MAX_LIBRARIES];
static int library_count;
static pthread_mutex_t library_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* A child forked while another thread loads libcurl must not inherit the lock
 * taken: fork waits for the load to finish. */
static void lock_before_fork(void) { pthread_mutex_lock(&library_lock); }
static void unlock_after_fork(void) { pthread_mutex_unlock(&library_lock); }
static void register_fork_handlers(void) {
    pthread_atfork(lock_before_fork, unlock_after_fork, unlock_after_fork);
}

/* Registered when the library is loaded, before any thread can load libcurl.
 * Registered at the first load instead, they could be registered while another
 * thread forks: glibc then runs neither their prepare handler nor their child
 * handler for that fork, and the child inherits the lock taken for the load
 * (test_fork_store's first-calls found such children hung). */
__attribute__((constructor)) static void register_fork_handlers_at_load(void) {
    pthread_once(&atfork_once, register_fork_handlers);
}

__attribute__((format(printf, 2, 3)))
static void say(docker_http_response *out, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(out->message, sizeof out->message, format, arguments);
    va_end(arguments);
}

/* Loads `name`, resolves its functions and runs curl_global_init, with the lock held. */
static const curl_api *load_locked(const char *name, docker_http_response *out) {
    if (strlen(name) >= sizeof libraries[0].name) {
        say(out, "the library name is too long");
        return NULL;
    }
    if (library_count == MAX_LIBRARIES) {
        say(out, "cannot load %s: %s", name, "too many libcurl names tried in one process");
        return NULL;
    }
    (void)dlerror();
    void *handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *why = dlerror();
        if (why != NULL) say(out, "%s", why);
        else say(out, "%s: cannot be loaded", name);
        return NULL;
    }
    curl_api api;
    memset(&api, 0, sizeof api);
    const char *missing = NULL;
#define FIND(field, symbol) \
    do { \
        void *found = dlsym(handle, symbol); \
        if (found == NULL && missing == NULL) missing = symbol; \
        memcpy(&api.field, &found, sizeof found); \
    } while (0)
    FIND(global_init, "curl_global_init");
    FIND(easy_init, "curl_easy_init");
    FIND(easy_setopt, "curl_easy_setopt");
    FIND(easy_perform, "curl_easy_perform");
    FIND(easy_getinfo, "curl_easy_getinfo");
    FIND(easy_cleanup, "curl_easy_cleanup");
    FIND(easy_strerror, "curl_easy_strerror");
#undef FIND
    if (missing != NULL) {
        say(out, "%s has no function %s", name, missing);
        dlclose(handle);
        return NULL;
    }
    CURLcode code = api.global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        say(out, "curl_global_init failed: %s", api.easy_strerror(code));
        return NULL;   /* the handle stays open: libcurl may be half initialised */
    }
    memcpy(api.name, name, strlen(name) + 1);
    libraries[library_count] = api;
    return &libraries[library_count++];
}

/* The loaded `name`, loading it on its first use. Entries are written once,
 * under the lock, before they are counted, and never change afterwards. */
static const curl_api *load(const char *name, docker_http_response *out) {
    pthread_once(&atfork_once, register_fork_handlers);
    pthread_mutex_lock(&library_lock);
    const curl_api *api = NULL;
    for (int i = 0; i < library_count && api == NULL; i++) {
        if (strcmp(libraries[i].name, name) == 0) api = &libraries[i];
    }
    if (api == NULL) api = load_locked(name, out);
    pthread_mutex_unlock(&library_lock);
    return api;
}

/* The body as it arrives, refused past `max` bytes. */
typedef struct body_sink {
    unsigned char *data;
    size_t length, capacity, max;
    int too_large, out_of_memory;
} body_sink;

static size_t write_body(char *bytes, size_t size, size_t count, void *context) {
    body_sink *sink = context;
    size_t n = size * count;   /* size is always 1 */
    if (n > sink->max - sink->length) {
        sink->too_large = 1;
        return 0;              /* anything but n: libcurl stops with CURLE_WRITE_ERROR */
    }
    if (n > sink->capacity - sink->length) {
        size_t capacity = sink->capacity ? sink->capacity : 16384;
        while (capacity - sink->length < n) capacity = capacity > sink->max / 2 ? sink->max : capacity * 2;
        unsigned char *grown = realloc(sink->data, capacity);
        if (grown == NULL) {
            sink->out_of_memory = 1;
            return 0;
        }
        sink->data = grown;
        sink->capacity = capacity;
    }
    if (n > 0) memcpy(sink->data + sink->length, bytes, n);
    sink->length += n;
    return n;
}

static docker_http_outcome outcome_of(CURLcode code, const body_sink *sink) {
    switch (code) {
    case CURLE_OK: return DOCKER_HTTP_ANSWERED;
    case CURLE_OPERATION_TIMEDOUT: return DOCKER_HTTP_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST: return DOCKER_HTTP_UNREACHABLE;
    case CURLE_FILESIZE_EXCEEDED: return DOCKER_HTTP_TOO_LARGE;
    case CURLE_WRITE_ERROR: return sink->too_large ? DOCKER_HTTP_TOO_LARGE : DOCKER_HTTP_FAILED;
    case CURLE_UNSUPPORTED_PROTOCOL:   /* an HTTP/0.9 answer: no status line */
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:         /* closed before it read the request */
    case CURLE_PARTIAL_FILE:
    case CURLE_BAD_CONTENT_ENCODING:
        return DOCKER_HTTP_NOT_HTTP;
    default: return DOCKER_HTTP_FAILED;
    }
}

docker_http_outcome docker_http_get(const char *library, const char *socket_path, const char *url,
                                    long timeout_ms, size_t max_body, docker_http_response *out) {
    memset(out, 0, sizeof *out);
    const curl_api *api = load(library ? library : docker_http_default_library, out);
    if (api == NULL) return out->outcome = DOCKER_HTTP_UNLOADABLE;
    CURL *easy = api->easy_init();
    if (easy == NULL) {
        say(out, "curl_easy_init failed");
        return out->outcome = DOCKER_HTTP_FAILED;
    }
    char error[CURL_ERROR_SIZE] = "";
    body_sink sink = {.max = max_body};
    if (timeout_ms < 1) timeout_ms = 1;   /* 0 would mean no timeout at all */
    CURLcode code = CURLE_OK;
    const char *option = NULL;
#define SET(name, value) \
    do { \
        if (code == CURLE_OK) { code = api->easy_setopt(easy, name, value); option = #name; } \
    } while (0)
    SET(CURLOPT_ERRORBUFFER, error);
    SET(CURLOPT_URL, url);
    SET(CURLOPT_UNIX_SOCKET_PATH, socket_path);
    SET(CURLOPT_NOSIGNAL, 1L);                       /* library code in threaded hosts */
    SET(CURLOPT_TIMEOUT_MS, timeout_ms);             /* the whole request */
    SET(CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    SET(CURLOPT_PROXY, "");                          /* no http_proxy, ALL_PROXY, ... */
    SET(CURLOPT_NOPROXY, "*");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_HTTP09_ALLOWED, 0L);                 /* bytes without a status line are not an answer */
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_body);
    SET(CURLOPT_WRITEFUNCTION, write_body);
    SET(CURLOPT_WRITEDATA, &sink);
    SET(CURLOPT_USERAGENT, "portmanager");
    if (code == CURLE_OK) {
        code = api->easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http");   /* libcurl >= 7.85 */
        option = "CURLOPT_PROTOCOLS_STR";
        if (code == CURLE_UNKNOWN_OPTION) {
            code = api->easy_setopt(easy, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTP);
            option = "CURLOPT_PROTOCOLS";
        }
    }
#undef SET
    if (code != CURLE_OK) {
        say(out, "libcurl refuses %s: %s", option, api->easy_strerror(code));
        api->easy_cleanup(easy);
        return out->outcome = (code == CURLE_UNKNOWN_OPTION || code == CURLE_NOT_BUILT_IN)
            ? DOCKER_HTTP_UNLOADABLE : DOCKER_HTTP_FAILED;
    }

    code = api->easy_perform(easy);
    out->outcome = outcome_of(code, &sink);
    if (out->outcome == DOCKER_HTTP_ANSWERED) {
        long status = 0;
        if (api->easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK) out->status = status;
        out->body = sink.data;
        out->length = sink.length;
        sink.data = NULL;
    } else {
        if (out->outcome == DOCKER_HTTP_UNREACHABLE) {
            long os_errno = 0;
            if (api->easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK) out->os_errno = (int)os_errno;
        }
        if (sink.out_of_memory) say(out, "out of memory for the answer's body");
        else say(out, "%s", error[0] ? error : api->easy_strerror(code));
    }
    free(sink.data);
    api->easy_cleanup(easy);
    return out->outcome;
}

void docker_http_response_free(docker_http_response *response) {
    if (response == NULL) return;
    free(response->body);
    response->body = NULL;
    response->length = 0;
}
