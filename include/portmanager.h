/*
 * portmanager.h — the C interface of libportmanager.
 *
 * portmanager gives every instance of every service on one host its own host
 * ports, from one YAML registry (dynamicconfig/port_registry.yaml):
 *
 *     final_port = base_port + instance_id * instance_increment (+ environment offset)
 *
 * This header is the contract: what it does not declare is not public.
 *
 * CONVENTIONS (they hold for every function below)
 *
 *  Status.   Functions that can fail return a pm_status: PM_OK (0) on success.
 *            On failure, pm_last_error() holds a message for the calling thread
 *            that names the culprit (file:line:column, service, port, instance).
 *  Arguments. A NULL pointer where one is required yields PM_ERR_INVALID_ARGUMENT;
 *            nothing in this library crashes on bad input.
 *  Out-params are written only on success; on failure they are left untouched
 *            (the one exception is `needed`, below).
 *  Strings.  All strings are NUL-terminated UTF-8, except paths.
 *  Paths.    File and directory paths are NUL-terminated bytes, as the system
 *            takes them: they need not be UTF-8, and are used byte for byte.
 *            Messages show a path escaped: control characters as in JSON (\n,
 *            \u001b), each byte that is not UTF-8 as \xHH; and cut a path
 *            longer than 256 bytes in the middle ("...").
 *  Output.   Variable-sized results use one protocol, as zstd does with its
 *            (dst, dstCapacity) pairs:
 *                (T *buffer, size_t capacity, size_t *needed)
 *            - `capacity` counts elements of T (bytes for strings, including the
 *              terminating NUL); `buffer` may be NULL only when `capacity` is 0;
 *              any capacity that holds the result succeeds, SIZE_MAX included;
 *            - `needed` may be NULL; otherwise it receives the number of elements
 *              the full result takes, on success and on PM_ERR_BUFFER_TOO_SMALL;
 *            - when the result does not fit, the call returns
 *              PM_ERR_BUFFER_TOO_SMALL and writes nothing to `buffer`.
 *            So: call once with (NULL, 0, &needed), allocate, call again.
 *  Threads.  A pm_registry is immutable once opened: any number of threads may
 *            use one handle at once. pm_registry_close() must not race with other
 *            calls on the same handle.
 *  fork().   No lock of the library is held across fork(): a child forked while
 *            other threads are inside the library (logging, too) may call it.
 *            fork() waits at most for the one store transaction in progress in
 *            this process (its own file I/O, milliseconds), never for threads
 *            queued for the store nor for the store's wait (up to 10 s) for
 *            another process. The Swift runtime's lazy initialisation of the library's
 *            paths is done before a fork can interleave with it: the allocation,
 *            name and logging paths when the library is loaded; the registry-file
 *            paths at the first pm_registry_open* of the process, and the store
 *            paths at its first reservation call (once each, in a scratch
 *            directory in /dev/shm or $TMPDIR, removed again; a fork in another
 *            thread waits for it). $PORTMANAGER_LOG is read when the library is loaded.
 *  Logging.  Every port allocation (pm_get_port, pm_get_port_range, pm_get_ports)
 *            is logged at PM_LOG_INFO in the form
 *              port_manager_port_allocated service=kafka instance=1 type=broker_port port=9192 base=9092 increment=100
 *            See pm_set_log_callback().
 */
#ifndef PORTMANAGER_H
#define PORTMANAGER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  define PM_API
#elif defined(__GNUC__) || defined(__clang__)
#  define PM_API __attribute__((visibility("default")))
#else
#  define PM_API
#endif

/* ---------------------------------------------------------------- versions */

#define PM_VERSION_MAJOR 0
#define PM_VERSION_MINOR 1
#define PM_VERSION_PATCH 0
/** MAJOR * 10000 + MINOR * 100 + PATCH. */
#define PM_VERSION_NUMBER (PM_VERSION_MAJOR * 10000 + PM_VERSION_MINOR * 100 + PM_VERSION_PATCH)
#define PM_VERSION_STRING "0.1.0"
/** The ABI version: the number in the soname (libportmanager.so.1). */
#define PM_ABI_VERSION 1

/** The loaded library's PM_VERSION_NUMBER. Compare with the macro to detect a header/library mismatch. */
PM_API uint32_t pm_version_number(void);
/** The loaded library's PM_VERSION_STRING. Static; owned by the library; never NULL. */
PM_API const char *pm_version_string(void);
/** The loaded library's PM_ABI_VERSION. A caller should refuse a library whose ABI differs. */
PM_API uint32_t pm_abi_version(void);

/* ------------------------------------------------------------------ status */

/**
 * Status codes. Values are pinned: never renumbered or reused, and contiguous
 * from PM_OK (0). New codes may be added after the last in later versions, so
 * treat unknown values as failures. This enum is the one place the numbers are
 * written: the library's Swift code and the Python binding derive theirs from it.
 */
typedef enum pm_status {
    PM_OK = 0,                        /**< Success. */
    PM_ERR_INVALID_ARGUMENT = 1,      /**< NULL where a pointer is required, or a value out of range. */
    PM_ERR_NOT_FOUND = 2,             /**< No registry file; the message lists every place tried. */
    PM_ERR_IO = 3,                    /**< A file exists but cannot be read. */
    PM_ERR_PARSE = 4,                 /**< Not a readable YAML document: syntax, encoding, empty, several documents, too deep. */
    PM_ERR_INVALID_REGISTRY = 5,      /**< Well-formed YAML that breaks a registry rule. */
    PM_ERR_UNKNOWN_SERVICE = 6,       /**< No such service in the registry. */
    PM_ERR_UNKNOWN_PORT = 7,          /**< The service has no port of that name. */
    PM_ERR_INSTANCE_OUT_OF_RANGE = 8, /**< instance_id outside 0..max_instances-1. */
    PM_ERR_BUFFER_TOO_SMALL = 9,      /**< The result does not fit; `*needed` tells what does. */
    PM_ERR_PROBE_FAILED = 10,         /**< Port availability cannot be determined (permission, address family, host). */
    PM_ERR_UNKNOWN_ENVIRONMENT = 11,  /**< The registry defines no environment of that name. */
    PM_ERR_LEASED = 12,               /**< Retired: returned by the 0.1 leases, which reservations replaced; no function returns it now. */
    PM_ERR_TOO_LARGE = 13,            /**< The work is past a documented limit (pm_analyze: a lattice past the analysis limit). */
    PM_ERR_RESERVED = 14,             /**< The instance (or with "any", every instance) is reserved by another owner or in use; the message names the owner. */
    PM_ERR_NOT_OWNER = 15,            /**< A release or renewal by someone other than the owner (the message names it), or a renewal of an instance nobody reserved. */
    PM_ERR_STATE = 16,                /**< The reservation store cannot be used safely: a refused directory or file, a corrupt database, a newer schema; the message names the file. */
    PM_ERR_DOCKER = 17                /**< The Docker engine cannot be reached or gave no usable answer (pm_reconcile); the message names the engine's socket and why. */
} pm_status;

/**
 * The name of a status, such as "PM_ERR_UNKNOWN_PORT"; "PM_ERR_UNKNOWN_STATUS"
 * for a value this library does not know. Static; owned by the library; never NULL.
 */
PM_API const char *pm_status_str(pm_status status);

/**
 * The message of the calling thread's most recent failure, or "" if it has had
 * none. Successful calls do not clear it. Never NULL. Owned by the library;
 * valid until the calling thread's next failing pm_* call.
 *
 * A failure costs about as much as a success: the message, and with it the
 * did-you-mean of PM_ERR_UNKNOWN_SERVICE (a search of the service names), is
 * formed on the first call of pm_last_error() after the failure. Until then
 * the thread keeps what the message needs (for an unknown service, a reference
 * to the registry's service names, so reading the message after
 * pm_registry_close() is fine); it is dropped when the message is read, at the
 * thread's next failure, or when the thread exits.
 */
PM_API const char *pm_last_error(void);

/** A failure captured from a thread's last error. Opaque; release with pm_error_free(). */
typedef struct pm_error pm_error;

/**
 * A copy of the calling thread's most recent failure that the caller owns, so
 * its message can be read later, on any thread, after other failures: what a
 * binding keeps in an exception whose message is read only if it is printed.
 * Costs about as little as the failure did: the message is formed on the first
 * pm_error_message() call, not here. The thread's own pm_last_error() is left
 * as it is. Returns NULL when the thread has had no failure (or, rarely, when
 * memory is exhausted). Release with pm_error_free().
 */
PM_API pm_error *pm_last_error_capture(void);

/**
 * The message of a captured failure: what pm_last_error() said or would have
 * said for it. error: from pm_last_error_capture(); NULL gives "". Never NULL.
 * Owned by `error`, valid until pm_error_free(error). One pm_error must not be
 * used by two threads at once (the first call forms the message).
 */
PM_API const char *pm_error_message(pm_error *error);

/** Releases a captured failure. NULL is a no-op. */
PM_API void pm_error_free(pm_error *error);

/* ---------------------------------------------------------------- registry */

/** An opened, validated registry. Opaque; immutable; safe to share between threads. */
typedef struct pm_registry pm_registry;

/**
 * Opens and validates a registry file.
 *
 * path: the YAML file (bytes; see Paths above), or NULL for the first registry
 *       of the default search (its order: `portmanager --help`, or
 *       docs/registry.md; PM_ERR_NOT_FOUND names every place tried when none
 *       holds one). It must be a regular
 *       file: a directory, FIFO, socket or device gives PM_ERR_IO at once (a FIFO
 *       is never waited on).
 * out:  receives the handle; required. Release it with pm_registry_close().
 *
 * The environment named by $PORTMANAGER_ENV, when set and not empty, is
 * selected (see pm_registry_open_env()).
 *
 * Returns PM_OK, PM_ERR_INVALID_ARGUMENT, PM_ERR_NOT_FOUND, PM_ERR_IO,
 * PM_ERR_PARSE, PM_ERR_INVALID_REGISTRY or PM_ERR_UNKNOWN_ENVIRONMENT.
 */
PM_API pm_status pm_registry_open(const char *path, pm_registry **out);

/**
 * As pm_registry_open(), selecting the named environment: its offset is added
 * to every host port. environment: a name from the registry's _environments,
 * or NULL for $PORTMANAGER_ENV (or none when that is unset or empty).
 */
PM_API pm_status pm_registry_open_env(const char *path, const char *environment, pm_registry **out);

/**
 * Parses and validates a registry held in memory; no environment is selected.
 *
 * yaml:   the YAML text; required; need not be NUL-terminated.
 * length: its length in bytes.
 * source: the name used in messages in place of a file path; NULL gives "<memory>".
 * out:    receives the handle; required. Release it with pm_registry_close().
 */
PM_API pm_status pm_registry_open_string(const char *yaml, size_t length, const char *source, pm_registry **out);

/** Releases a registry. NULL is a no-op. */
PM_API void pm_registry_close(pm_registry *registry);

/**
 * The registry's source: the file path it was read from (as given when it is
 * UTF-8; otherwise escaped as under Paths above, each byte that is not UTF-8 as
 * \xHH), or the name given to pm_registry_open_string(). Output protocol above.
 */
PM_API pm_status pm_registry_source(const pm_registry *registry, char *buffer, size_t capacity, size_t *needed);

/**
 * The environment in force: its name ("" for none) through the output protocol,
 * and its offset in *out_offset (0 for none). out_offset may be NULL.
 */
PM_API pm_status pm_registry_environment(const pm_registry *registry, char *buffer, size_t capacity, size_t *needed,
                                         int32_t *out_offset);

/* ---------------------------------------------------------------- services */

/** The number of services in the registry, into *out_count (required). */
PM_API pm_status pm_service_count(const pm_registry *registry, size_t *out_count);

/**
 * The name of the service at `index` (0..count-1, in file order). Output protocol above.
 * PM_ERR_INVALID_ARGUMENT when index is out of range.
 */
PM_API pm_status pm_service_name(const pm_registry *registry, size_t index, char *buffer, size_t capacity,
                                 size_t *needed);

/**
 * A service's settings. Each out-param may be NULL when not wanted.
 * out_increment:     instance_increment;
 * out_max_instances: max_instances (valid instance IDs are 0..max-1);
 * out_port_count:    how many named ports it has.
 */
PM_API pm_status pm_service_info(const pm_registry *registry, const char *service, int32_t *out_increment,
                                 int32_t *out_max_instances, size_t *out_port_count);

/**
 * The name of the service's port at `port_index` (0..port_count-1, in file
 * order), such as "broker_port". Output protocol above.
 */
PM_API pm_status pm_port_name(const pm_registry *registry, const char *service, size_t port_index, char *buffer,
                              size_t capacity, size_t *needed);

/**
 * A port's definition for instance 0, before any environment offset. Each
 * out-param may be NULL when not wanted.
 * out_base:      the first host port;
 * out_count:     1 for a single port, the width of a range otherwise;
 * out_container: the first port inside the container, the same for every
 *                instance (the base port unless the registry fixes another),
 *                or 0 when it follows the host port (`container: host`);
 *                docs/registry.md, "Container ports".
 */
PM_API pm_status pm_port_definition(const pm_registry *registry, const char *service, const char *port_name,
                                    uint16_t *out_base, uint16_t *out_count, uint16_t *out_container);

/* -------------------------------------------------------------- allocation */

/**
 * The host port of one named port of one instance: base + instance_id * increment
 * (+ the environment's offset). For a range, its first port. Logged at PM_LOG_INFO.
 *
 * service, port_name, out_port: required. port_name is "port" for single-port services.
 * Returns PM_OK, PM_ERR_INVALID_ARGUMENT, PM_ERR_UNKNOWN_SERVICE, PM_ERR_UNKNOWN_PORT
 * or PM_ERR_INSTANCE_OUT_OF_RANGE (the message states the allowed range).
 */
PM_API pm_status pm_get_port(const pm_registry *registry, const char *service, int32_t instance_id,
                             const char *port_name, uint16_t *out_port);

/**
 * As pm_get_port(), giving the first and last host port (equal for a single port).
 * out_first and out_last: required.
 */
PM_API pm_status pm_get_port_range(const pm_registry *registry, const char *service, int32_t instance_id,
                                   const char *port_name, uint16_t *out_first, uint16_t *out_last);

/**
 * The container-side port of one named port of one instance: the base port
 * by default, the registry's fixed `container:` port, or the instance's host
 * port for `container: host` (docs/registry.md, "Container ports"). For a
 * range, its first port. Not logged: no host port is allocated.
 */
PM_API pm_status pm_get_container_port(const pm_registry *registry, const char *service, int32_t instance_id,
                                       const char *port_name, uint16_t *out_port);

/**
 * Every host port of one instance, in the order of pm_port_name(): ports[i] is
 * the port named by pm_port_name(..., i, ...). Ranges give their first port.
 * Output protocol above, counting uint16_t elements. Each allocation is logged.
 */
PM_API pm_status pm_get_ports(const pm_registry *registry, const char *service, int32_t instance_id,
                              uint16_t *ports, size_t capacity, size_t *needed);

/* ------------------------------------------------------------------- names */

/**
 * The container name of an instance: "STEM[-ENVIRONMENT][-N]", the service's
 * container stem, then the name of the registry handle's environment when one
 * is selected, then "-N" for instance N > 0: "kafka-development",
 * "kafka-development-1", and in environment "ci" "kafka-development-ci",
 * "kafka-development-ci-1" (docs/registry.md, "Names"). Output protocol above.
 */
PM_API pm_status pm_container_name(const pm_registry *registry, const char *service, int32_t instance_id,
                                   char *buffer, size_t capacity, size_t *needed);

/** The volume name of an instance, as pm_container_name() from the volume stem: "kafka-data", "kafka-data-1", "kafka-data-ci-1". Output protocol above. */
PM_API pm_status pm_volume_name(const pm_registry *registry, const char *service, int32_t instance_id,
                                char *buffer, size_t capacity, size_t *needed);

/* --------------------------------------------------------------- instances */
/*
 * One service instance, everything about it resolved at once (ports with
 * their protocols, host IPs and container ports, names, labels): what the
 * CLI's docker-args, env and compose print, computed by the same code.
 * Reading, not allocating: these functions never log.
 */

/**
 * The instance as Docker runs it, as one JSON object on one line through the
 * output protocol (the schema is docs/schema/docker.schema.json):
 *   {"name": "kafka-development-1", "volume": "kafka-data-1", "image": "apache/kafka" | null,
 *    "labels": {"io.portmanager.service": "kafka", "io.portmanager.instance": "1",
 *               "io.portmanager.environment": ""},
 *    "ports": [{"name": "broker_port", "protocol": "tcp", "host_ip": null | "127.0.0.1",
 *               "host_port": 9192, "host_port_last": 9192,
 *               "container_port": 9192, "container_port_last": 9192}, ...]}
 * "name" and "volume" are the container and volume names (pm_container_name(),
 * pm_volume_name()); "image" the registry's `image:`; "labels" the three labels
 * every container portmanager describes carries (the environment's name, ""
 * for none); "ports" one element per named port and protocol ("tcp" or "udp":
 * a tcp+udp port gives two), in registry order, each with its host IP (null for
 * every address), its host ports and its ports inside the container
 * (docs/registry.md, "Container ports"); "_last" equals the first for a single
 * port.
 *
 * registry, service: required. instance_id: 0..max_instances-1.
 * Returns PM_OK, PM_ERR_INVALID_ARGUMENT, PM_ERR_UNKNOWN_SERVICE,
 * PM_ERR_INSTANCE_OUT_OF_RANGE or PM_ERR_BUFFER_TOO_SMALL.
 */
PM_API pm_status pm_instance_docker_json(const pm_registry *registry, const char *service, int32_t instance_id,
                                         char *buffer, size_t capacity, size_t *needed);

/**
 * The instance's environment variables, the vocabulary of `portmanager env`
 * (docs/environment.md), as "KEY=VALUE" lines, each ending in "\n", through
 * the output protocol:
 *   KAFKA_BROKER_PORT=9192
 *   KAFKA_CONTROLLER_PORT=19193
 *   KAFKA_CONTAINER_NAME=kafka-development-1
 *   KAFKA_VOLUME_NAME=kafka-data-1
 * One line per named port (its host port, or FIRST-LAST for a range, which
 * adds KEY_FIRST and KEY_LAST; KEY_CONTAINER when the port inside the container
 * is another number), then the container and volume names. Values are port
 * numbers and Docker names: the lines are POSIX shell assignments and a
 * `docker compose --env-file` as they are, with no quoting needed.
 *
 * registry, service: required. instance_id: 0..max_instances-1.
 * prefix: replaces the service part of every key ("KAFKA"); a shell variable
 *         name ([A-Za-z_][A-Za-z0-9_]*), or NULL for the service name in upper
 *         case with every other character than a letter or digit as '_'.
 * Returns PM_OK, PM_ERR_INVALID_ARGUMENT (a NULL argument, a prefix that is not
 * a variable name, or two ports of the service giving one key; the message
 * names it), PM_ERR_UNKNOWN_SERVICE, PM_ERR_INSTANCE_OUT_OF_RANGE or
 * PM_ERR_BUFFER_TOO_SMALL.
 */
PM_API pm_status pm_instance_env(const pm_registry *registry, const char *service, int32_t instance_id,
                                 const char *prefix, char *buffer, size_t capacity, size_t *needed);

/* ------------------------------------------------------------------- probe */

/**
 * Whether a TCP port can be bound on one host address right now (one bind,
 * with SO_REUSEADDR). pm_probe() below is the probe the way Docker publishes
 * ports (TCP and UDP, IPv4 and IPv6, with the holders).
 *
 * host:          a numeric IPv4/IPv6 address or a host name; NULL gives "127.0.0.1".
 * port:          1..65535 (PM_ERR_INVALID_ARGUMENT otherwise).
 * out_available: required; receives 1 when bind() succeeds, 0 when the port is in use.
 *
 * Returns PM_ERR_PROBE_FAILED when the answer cannot be known (permission
 * denied, as for ports below 1024 without privilege; an address family the
 * kernel lacks; an address not on this host; a name that does not resolve).
 * The answer is a snapshot: another process may take the port a moment later.
 */
PM_API pm_status pm_port_probe(const char *host, int32_t port, int *out_available);

/*
 * The probe the way Docker publishes ports. "Free" means: for each protocol
 * asked, a socket can be bound on the IPv4 wildcard 0.0.0.0 and on the IPv6
 * wildcard [::] (with IPV6_V6ONLY: the families are checked separately), or on
 * `host` only when one is given (a port's host_ip). TCP probes use SO_REUSEADDR,
 * as Docker and servers do (so a connection, TIME_WAIT included, counts only
 * when the socket that holds or left it lacked SO_REUSEADDR, as for the local
 * port of a client's outgoing connection: the bind's answer); UDP probes do not. A family the kernel lacks counts as free, and the JSON's
 * "notes" say so. Three answers stay distinct: free, in use, cannot tell
 * (permission denied for a port below the unprivileged range without root
 * while no socket in /proc/net holds it; a host address not on this machine).
 *
 * When the port is in use, the result lists its holders (TCP sockets listening
 * or bound, UDP sockets bound), read from the kernel's socket tables over
 * NETLINK_SOCK_DIAG, or from /proc/net/tcp, tcp6, udp and udp6 where netlink is
 * refused (some containers), each with the process from /proc/PID/fd where this
 * user may see it (as `ss -p`).
 * A result is a snapshot, fixed when probed: another process may take or free
 * the port a moment later.
 */

/** Protocols of a probe (and of a registry port's `protocol:`), as bits. */
typedef enum pm_protocol {
    PM_PROTOCOL_TCP = 1,
    PM_PROTOCOL_UDP = 2,
    PM_PROTOCOL_BOTH = 3 /**< TCP and UDP: the registry's `tcp+udp`. */
} pm_protocol;

/** The answer of pm_probe(). The values equal the exit codes of `portmanager probe`. */
typedef enum pm_probe_verdict {
    PM_PROBE_FREE = 0,    /**< Every protocol and family can be bound. */
    PM_PROBE_IN_USE = 1,  /**< Some protocol or family is taken; see the holders. */
    PM_PROBE_UNKNOWN = 2  /**< Cannot tell; the JSON's "notes" say why. */
} pm_probe_verdict;

/** A probe result. Opaque; immutable; safe to share between threads. */
typedef struct pm_probe_result pm_probe_result;

/**
 * Probes one port.
 *
 * port:      1..65535 (PM_ERR_INVALID_ARGUMENT otherwise).
 * protocols: PM_PROTOCOL_TCP, PM_PROTOCOL_UDP or PM_PROTOCOL_BOTH; other values
 *            are PM_ERR_INVALID_ARGUMENT.
 * host:      a numeric IPv4 or IPv6 address ("127.0.0.1", "::1") to probe
 *            instead of both wildcards, or NULL. Host names are
 *            PM_ERR_INVALID_ARGUMENT.
 * out:       receives the result; required. Release it with pm_probe_result_free().
 *
 * Returns PM_OK whatever the verdict, PM_ERR_INVALID_ARGUMENT, or PM_ERR_IO
 * when the socket tables needed for the holders cannot be read: a malformed
 * netlink reply (the message names netlink), or a /proc/net table that is
 * unreadable or has a malformed line (the message names the file and the line).
 */
PM_API pm_status pm_probe(int32_t port, int32_t protocols, const char *host, pm_probe_result **out);

/** Releases a probe result. NULL is a no-op. */
PM_API void pm_probe_result_free(pm_probe_result *result);

/**
 * The verdict (a pm_probe_verdict) into *out_verdict and the number of
 * holders into *out_holder_count; each may be NULL when not wanted.
 */
PM_API pm_status pm_probe_result_verdict(const pm_probe_result *result, int32_t *out_verdict,
                                         size_t *out_holder_count);

/**
 * One holder, at `index` (0..holder_count-1; PM_ERR_INVALID_ARGUMENT otherwise).
 * out_pid (may be NULL): its process ID, or -1 when the process is not visible
 * to this user (a process of another user); out_protocol (may be NULL):
 * PM_PROTOCOL_TCP or PM_PROTOCOL_UDP. The buffer receives the socket's local
 * address and port ("0.0.0.0:9092", "[::1]:6831") through the output protocol.
 */
PM_API pm_status pm_probe_result_holder(const pm_probe_result *result, size_t index, int32_t *out_pid,
                                        int32_t *out_protocol, char *buffer, size_t capacity, size_t *needed);

/**
 * The command name of the holder at `index` (from /proc/PID/comm; a name with
 * spaces or control characters comes as a quoted, escaped JSON string
 * literal), or "" when the process is not visible. Output protocol above.
 */
PM_API pm_status pm_probe_result_command(const pm_probe_result *result, size_t index, char *buffer,
                                         size_t capacity, size_t *needed);

/**
 * The whole result as one JSON object on one line, the same as
 * `portmanager probe --json` prints:
 *   {"port": 9092, "protocol": "tcp", "host": null, "available": false,
 *    "verdict": "in use", "holders": [{"pid": 4242, "command": "nc", "uid": 1000,
 *    "protocol": "tcp", "address": "0.0.0.0:9092"}], "notes": []}
 * "available" is true, false or null (cannot tell); a holder's "pid" and
 * "command" are null when the process is not visible. Output protocol above.
 */
PM_API pm_status pm_probe_result_json(const pm_probe_result *result, char *buffer, size_t capacity, size_t *needed);

/* ----------------------------------------------------------------- logging */

/** Log levels; the values equal Python's logging levels. */
typedef enum pm_log_level {
    PM_LOG_DEBUG = 10,
    PM_LOG_INFO = 20,
    PM_LOG_WARNING = 30,
    PM_LOG_ERROR = 40,
    PM_LOG_OFF = 100 /**< As a threshold only: log nothing. */
} pm_log_level;

/**
 * A log sink. level: a pm_log_level; message: one line, without a newline,
 * valid only during the call; context: the pointer given to pm_set_log_callback().
 * May be called from any thread that calls the library, and concurrently; never
 * after pm_set_log_callback() has replaced it (see there).
 */
typedef void (*pm_log_fn)(int32_t level, const char *message, void *context);

/**
 * Replaces the process-wide log sink. callback: the new sink, or NULL to restore
 * the default sink, which writes "portmanager: LEVEL: message" lines to stderr.
 * context (may be NULL) is passed back to every call; the library never reads it.
 *
 * Replacement is final: when this returns PM_OK, no thread is inside the previous
 * callback and none will call it again, so its context may be freed (or a
 * binding's thunk released) at once. To get there, the call waits for the calls
 * of the previous callback that are in progress in other threads to return
 * (messages logged meanwhile go to the new callback). Hence a callback must not
 * wait for a thread that is inside pm_set_log_callback().
 *
 * A callback may itself log (call the library); the nested message goes to the
 * callback then in force. Called from inside a callback on the same thread,
 * pm_set_log_callback() would wait for itself: it changes nothing and returns
 * PM_ERR_INVALID_ARGUMENT (pm_last_error() says why).
 *
 * Delivery takes no lock, so a fork() while other threads are inside a callback
 * leaves the child free to log and to replace the callback. The reservation
 * calls deliver their messages after their transaction has committed and every
 * lock of the library is released, so a callback may call any function of the
 * library (pm_reserve and pm_release too), fork(), or take its time without
 * holding up other threads or processes.
 *
 * Returns PM_OK, or PM_ERR_INVALID_ARGUMENT from inside a callback.
 */
PM_API pm_status pm_set_log_callback(pm_log_fn callback, void *context);

/**
 * Sets the process-wide threshold: messages below `level` are dropped before
 * they are formatted. The default comes from $PORTMANAGER_LOG (debug, info,
 * warning, error, off) and is PM_LOG_WARNING when unset, so allocations are
 * silent unless asked for. level: 0..100, else PM_ERR_INVALID_ARGUMENT.
 */
PM_API pm_status pm_set_log_level(int32_t level);

/** The current threshold. */
PM_API int32_t pm_get_log_level(void);

/**
 * The line the library logs at PM_LOG_INFO for one allocation, without logging
 * it: "port_manager_port_allocated service=kafka instance=1 type=broker_port
 * port=9192 base=9092 increment=100" (the form is described under "Logging"
 * above). A binding that answers repeated allocations itself, without calling
 * the library, logs this text so that its lines equal the library's.
 *
 * service, port_name: required; as for pm_get_port().
 * instance_id:        an int64_t, unlike pm_get_port()'s int32_t, so that a
 *                     binding whose integers are wider gets an error message
 *                     naming the value its caller gave.
 * Output protocol above. Never logs. Returns PM_OK, PM_ERR_INVALID_ARGUMENT,
 * PM_ERR_UNKNOWN_SERVICE, PM_ERR_UNKNOWN_PORT, PM_ERR_INSTANCE_OUT_OF_RANGE or
 * PM_ERR_BUFFER_TOO_SMALL, in the order pm_get_port() checks them.
 */
PM_API pm_status pm_allocation_line(const pm_registry *registry, const char *service, int64_t instance_id,
                                    const char *port_name, char *buffer, size_t capacity, size_t *needed);

/* ---------------------------------------------------------------- analysis */
/*
 * Whole-lattice analysis: proves a registry conflict-free, or says where it is
 * not. The lattice is every host port of every named port and range of every
 * service, for every instance 0..max_instances-1, with no environment and with
 * each environment of the registry's _environments (environments exist to share
 * one host, so ports of different environments must not meet either). The
 * environment selected on the handle does not matter. docs/analysis.md has the
 * details and the JSON schema.
 *
 * Findings, each with a severity and a source location:
 *   collision      (error)   (service, instance, port)s sharing a host port; a
 *                            pattern repeated over instances is one finding;
 *                            carries a suggested fix (a free base port verified
 *                            against the whole lattice, or a smaller max_instances);
 *   environment    (error)   an environment offset moves a port outside 1..65535;
 *   privileged     (warning) a port below 1024 (binding needs root or a capability);
 *   ephemeral      (warning) a port inside the ephemeral range and not reserved,
 *                            which the kernel may give to an outgoing connection;
 *   name           (error)   two instances (across services, instances and
 *                            environments) that get one container or volume
 *                            name (see pm_container_name()).
 */

/** An analysis result. Opaque; immutable; safe to share between threads. */
typedef struct pm_analysis pm_analysis;

/** How serious a finding is. */
typedef enum pm_severity {
    PM_SEVERITY_NOTE = 0,    /**< Worth knowing; never fails a check. */
    PM_SEVERITY_WARNING = 1, /**< Works, but is risky (privileged or ephemeral port). */
    PM_SEVERITY_ERROR = 2    /**< The registry cannot be used as written (collision, bad offset). */
} pm_severity;

/**
 * Analyzes a whole registry.
 *
 * registry:       required.
 * ephemeral_low, ephemeral_high:
 *                 the kernel's ephemeral port range, 1 <= low <= high <= 65535;
 *                 both 0: read /proc/sys/net/ipv4/ip_local_port_range;
 *                 both -1: no ephemeral check.
 * reserved_ports: ports exempt from the ephemeral check, in the syntax of
 *                 /proc/sys/net/ipv4/ip_local_reserved_ports ("8080,9000-9100";
 *                 "" for none); NULL: read that file when the range is read
 *                 from the kernel (both 0), none otherwise.
 * out:            receives the result; required. Release it with pm_analysis_free().
 *
 * Returns PM_OK (whatever the findings), PM_ERR_INVALID_ARGUMENT (a bad range
 * or reserved list; the message names it), PM_ERR_IO (a /proc file cannot be
 * read or parsed; the message names the file) or PM_ERR_TOO_LARGE (the lattice,
 * every port of every instance in every environment, has more points than the
 * analysis limit of docs/analysis.md; the message gives both numbers and the
 * largest service; nothing is allocated for it). Memory grows with the lattice
 * points and the findings, never with the number of overlapping pairs: dense
 * chains of overlapping ranges are summarised (docs/analysis.md).
 */
PM_API pm_status pm_analyze(const pm_registry *registry, int32_t ephemeral_low, int32_t ephemeral_high,
                            const char *reserved_ports, pm_analysis **out);

/** Releases an analysis. NULL is a no-op. */
PM_API void pm_analysis_free(pm_analysis *analysis);

/**
 * Counts findings: all of them, the errors, and the warnings. Each out-param
 * may be NULL when not wanted. A registry is conflict-free when *out_errors is 0.
 */
PM_API pm_status pm_analysis_count(const pm_analysis *analysis, size_t *out_count, size_t *out_errors,
                                   size_t *out_warnings);

/**
 * One finding, at `index` (0..count-1; ordered by source location, then
 * severity). out_severity (may be NULL) receives its pm_severity; the buffer
 * receives its line, as compilers print them, through the output protocol:
 *   "FILE:LINE:COLUMN: error: MESSAGE; fix: SUGGESTION"
 * (the "; fix: ..." part only when there is a suggestion).
 * PM_ERR_INVALID_ARGUMENT when index is out of range.
 */
PM_API pm_status pm_analysis_finding(const pm_analysis *analysis, size_t index, int32_t *out_severity,
                                     char *buffer, size_t capacity, size_t *needed);

/**
 * The whole analysis as one JSON object (schema in docs/analysis.md): the
 * ephemeral range used, the counts, and every finding with its kind, severity,
 * location, message, suggestion, host ports and members. Output protocol above.
 */
PM_API pm_status pm_analysis_json(const pm_analysis *analysis, char *buffer, size_t capacity, size_t *needed);

/* ------------------------------------------------------------ reservations */
/*
 * Reservations keep two orchestrators from starting the same instance, even
 * when the process that chose it returns while its container keeps running.
 * A reservation holds every host port of one service instance (the
 * environment's offset included; each port of a range), all or nothing; no
 * host port of one protocol is ever held by two reservations, whatever the
 * service names (a UDP and a TCP port of one number are two ports).
 *
 * A reservation is exclusive: an instance anyone else holds is refused
 * (PM_ERR_RESERVED, naming the holder). The same owner reserving an instance
 * it holds succeeds again (a retry after a crash) and is told so: the
 * reservation is then not fresh (pm_reserve_instance's *out_fresh is 0). A
 * failure path should release only a fresh reservation: one that is not fresh
 * was the owner's before, and may be running.
 *
 * Its owner is either
 *  - a process (pid, start time from /proc/PID/stat, boot id, PID namespace
 *    from /proc/PID/ns/pid): the reservation ends when that process ends (a
 *    zombie has ended); a reused pid or a reboot is detected. An owner in
 *    another PID namespace than the caller's is never judged by its pid (it
 *    names another process here) and never removed by the caller; or
 *  - a name (a workflow ID, a job; any bytes but NUL, 1 to 1024 of them,
 *    compared as bytes): it lasts until released, or until its TTL runs out
 *    (pm_renew extends it); or
 *  - a container, by its Docker name ([a-zA-Z0-9][a-zA-Z0-9_.-]+, a leading
 *    '/' dropped): it lasts while a container of that name exists on the
 *    Docker engine (running or stopped), until released, or until its TTL (if
 *    any) runs out. It is removed only when the engine's container list
 *    (asked at most once per call: $DOCKER_HOST when unix://PATH, else
 *    /var/run/docker.sock) does not hold that name; while the engine cannot be
 *    asked, never; and, while the engine has never listed the container, not
 *    before 300 s after it was made (the container is being created). A
 *    requester's reservation is handed to its container once the container is
 *    started with pm_reservation_bind_container().
 * Expired reservations and those of ended owners are removed by every
 * pm_reserve, pm_release, pm_renew and pm_reservations_json.
 *
 * The store is one SQLite database, reservations.db, in the state directory:
 * `state_dir` when not NULL, else $PORTMANAGER_STATE_DIR, else
 * /var/lib/portmanager for root and $XDG_STATE_HOME/portmanager (default
 * ~/.local/state/portmanager) for other users; a path is used as the bytes it
 * holds. It is created 0700 (the database 0600). The directory is reached by a
 * walk from / checking each directory on its handle: one above it owned by
 * another user than the caller or root, or writable by every user unless
 * sticky, is refused; a symbolic link above it is followed only when the
 * directory holding it is not writable by every user. A state directory that
 * is a symbolic link (trailing '/' or not), not a directory, owned by another
 * user than the caller or root, or writable by every user is refused with
 * PM_ERR_STATE before anything in it is opened, and so is a store file that is
 * a symbolic link, not a regular file (a FIFO), writable or readable by every
 * user, or owned by another user (in a group-writable directory, files of the
 * directory's group are accepted: the shared setup, see README.md). The
 * database is opened through the checked directory's handle
 * (/proc/self/fd/N/reservations.db; /proc must be mounted). A corrupt database
 * or one of a newer schema is refused, never recreated; one of an older schema
 * is migrated.
 * Durability: WAL, synchronous=NORMAL: a reservation survives any process
 * crash; a power loss may roll back the last ones, never corrupt the store.
 *
 * The owner argument of the functions below: NULL for the calling process, or
 * a name; with PM_RESERVE_CONTAINER_OWNER, a container: the one named by
 * owner, or for owner NULL the instance's container name (pm_container_name()).
 * A container name Docker would refuse is PM_ERR_INVALID_ARGUMENT.
 */

/** Flags for pm_reserve(), pm_release() and pm_renew(). */
typedef enum pm_reserve_flags {
    PM_RESERVE_DEFAULT = 0,
    /** pm_reserve: do not also require every port to be free now, as pm_probe()
        answers for its protocols and host IP. Without it, an instance whose ports a process without a
        reservation uses is refused (or skipped); ports that cannot be checked
        never block. */
    PM_RESERVE_NO_PROBE = 1,
    /** pm_release: release whoever owns the reservation. */
    PM_RESERVE_FORCE = 2,
    /** pm_reserve, pm_reserve_instance, pm_release, pm_renew, pm_reservation_bind_container:
        the owner is a container, named by owner, or for owner NULL the instance's
        container name ("kafka-development-1"). */
    PM_RESERVE_CONTAINER_OWNER = 4,
    /** pm_reserve, pm_reserve_instance (with an instance_id, not -1): when the
        instance's container exists without a reservation, reserve the instance
        for that container (owner kind container) instead of refusing it. */
    PM_RESERVE_ADOPT = 8
} pm_reserve_flags;

/**
 * Reserves every host port of one instance of a service.
 *
 * registry, service: required.
 * state_dir:    the store's directory, or NULL for the default above.
 * instance_id:  the instance, or -1 for the lowest one that is neither
 *               reserved (nor any of its ports) nor taken by a container nor,
 *               without PM_RESERVE_NO_PROBE, in use now (always a new
 *               reservation: an owner may hold several instances).
 * owner:        see above. The same owner reserving the same instance again
 *               succeeds, sets the new TTL, and is not fresh.
 * ttl_seconds:  0 for none, else seconds (1 or more) until it expires.
 * flags:        PM_RESERVE_NO_PROBE, PM_RESERVE_CONTAINER_OWNER,
 *               PM_RESERVE_ADOPT (needs an instance_id); other bits are
 *               PM_ERR_INVALID_ARGUMENT.
 *
 * Containers: the Docker engine is asked for its container list (see above).
 * An instance whose container exists (one labelled io.portmanager.service,
 * io.portmanager.instance and io.portmanager.environment for it, else one with
 * its container name, pm_container_name()), running or stopped, counts as taken
 * even without a reservation, and so does one whose host port a container
 * publishes: refused with PM_ERR_RESERVED naming the container (with -1,
 * skipped), unless PM_RESERVE_ADOPT: the instance is then reserved for its
 * container (owner kind container, its name), fresh. When the engine cannot
 * be reached, neither is checked and the reservation is made as without Docker.
 * out_instance: receives the instance reserved; may be NULL.
 * out_fresh:    receives 1 when this call created the reservation, 0 when the
 *               owner held it already; may be NULL.
 * Both out-parameters are written only on PM_OK.
 *
 * Returns PM_OK, PM_ERR_RESERVED (the instance, or with -1 every instance, is
 * taken; the message names the owner, escaped and shortened),
 * PM_ERR_UNKNOWN_SERVICE, PM_ERR_INSTANCE_OUT_OF_RANGE (instance_id below -1
 * or past max_instances), PM_ERR_INVALID_ARGUMENT (registry or service NULL,
 * an empty or too long owner, a container name Docker refuses, a negative
 * ttl_seconds, unknown flags, PM_RESERVE_ADOPT with instance_id -1) or
 * PM_ERR_STATE (the message names the directory or file).
 */
PM_API pm_status pm_reserve_instance(const pm_registry *registry, const char *state_dir, const char *service,
                                     int32_t instance_id, const char *owner, int64_t ttl_seconds, int32_t flags,
                                     int32_t *out_instance, int32_t *out_fresh);

/**
 * pm_reserve_instance() without out_fresh (the 0.1 function, kept).
 */
PM_API pm_status pm_reserve(const pm_registry *registry, const char *state_dir, const char *service,
                            int32_t instance_id, const char *owner, int64_t ttl_seconds, int32_t flags,
                            int32_t *out_instance);

/**
 * Releases the reservation of one instance: its ports are free at once.
 * Releasing a free instance succeeds (*out_released = 0).
 *
 * registry, service: required. instance_id: 0..max_instances-1.
 * owner:        see above; only the owner may release, unless PM_RESERVE_FORCE.
 * flags:        PM_RESERVE_FORCE, PM_RESERVE_CONTAINER_OWNER.
 * out_released: receives 1 when a reservation was released, 0 when there was none; may be NULL.
 *
 * Returns PM_OK, PM_ERR_NOT_OWNER (the message names the owner),
 * PM_ERR_UNKNOWN_SERVICE, PM_ERR_INSTANCE_OUT_OF_RANGE, PM_ERR_INVALID_ARGUMENT or PM_ERR_STATE.
 */
PM_API pm_status pm_release(const pm_registry *registry, const char *state_dir, const char *service,
                            int32_t instance_id, const char *owner, int32_t flags, int32_t *out_released);

/**
 * Renews a reservation: it now expires ttl_seconds (1 or more) from now.
 * flags: PM_RESERVE_CONTAINER_OWNER or 0.
 *
 * Returns PM_OK, PM_ERR_NOT_OWNER (reserved by another owner, or not reserved
 * at all), PM_ERR_UNKNOWN_SERVICE, PM_ERR_INSTANCE_OUT_OF_RANGE,
 * PM_ERR_INVALID_ARGUMENT or PM_ERR_STATE.
 */
PM_API pm_status pm_renew(const pm_registry *registry, const char *state_dir, const char *service,
                          int32_t instance_id, const char *owner, int64_t ttl_seconds, int32_t flags);

/**
 * Hands a reservation from its owner to a container, once the container is
 * started: it is then owned by the container (and lasts while a container of
 * that name exists, see above); its TTL is dropped. Logged at INFO as
 * port_manager_bound service=... instance=... owner=... container=....
 *
 * registry, service: required. instance_id: 0..max_instances-1.
 * state_dir:      the store's directory, or NULL for the default above.
 * owner:          the reservation's owner now, as above (NULL: the calling
 *                 process; with PM_RESERVE_CONTAINER_OWNER, a container).
 * container_name: the container's Docker name, or NULL for the instance's
 *                 container name (pm_container_name()).
 * flags:          PM_RESERVE_CONTAINER_OWNER or 0.
 *
 * A reservation already bound to that container is left as it is and
 * succeeds, whoever asks.
 *
 * Returns PM_OK, PM_ERR_NOT_OWNER (reserved by another owner, another
 * container included, or not reserved at all; the message names the owner),
 * PM_ERR_UNKNOWN_SERVICE, PM_ERR_INSTANCE_OUT_OF_RANGE,
 * PM_ERR_INVALID_ARGUMENT (registry or service NULL, a name Docker refuses,
 * unknown flags) or PM_ERR_STATE.
 */
PM_API pm_status pm_reservation_bind_container(const pm_registry *registry, const char *state_dir, const char *service,
                                               int32_t instance_id, const char *owner, const char *container_name,
                                               int32_t flags);

/**
 * The reservations in the store (of every registry and environment), or those
 * of one service (service: NULL for all), as a JSON array through the output
 * protocol. Each element is an object:
 *   {"service": "kafka", "environment": "", "instance": 1,
 *    "owner": "wf-8841" (or "process 1234", or the container's name),
 *    "owner_kind": "process" | "name" | "container",
 *    "pid": 1234 | null, "pid_namespace": 4026531836 | null,
 *    "liveness": "alive" | "unknown" (the owner is in another PID namespace) | null,
 *    "command": "sleep" | null,
 *    "since": UNIX_SECONDS, "expires": UNIX_SECONDS | null,
 *    "ports": {"broker_port": 9192, ...}  (each port name -> its first host port),
 *    "host_ports": [9192, 19193]}
 * ordered by service, environment and instance. The store can change between
 * two calls: call again while the result is PM_ERR_BUFFER_TOO_SMALL.
 *
 * Returns PM_OK, PM_ERR_BUFFER_TOO_SMALL, PM_ERR_UNKNOWN_SERVICE,
 * PM_ERR_INVALID_ARGUMENT or PM_ERR_STATE.
 */
PM_API pm_status pm_reservations_json(const pm_registry *registry, const char *state_dir, const char *service,
                                      char *buffer, size_t capacity, size_t *needed);

/** Flags for pm_reconcile(). */
typedef enum pm_reconcile_flags {
    PM_RECONCILE_DEFAULT = 0,
    /** Change nothing: the actions that would be taken. */
    PM_RECONCILE_DRY_RUN = 1
} pm_reconcile_flags;

/**
 * Brings the store and the Docker engine into line, in one transaction:
 *  1. every container reservation whose container the engine does not list
 *     (past its start grace, see above) is removed ("reap"), in the whole
 *     store;
 *  2. every instance of this registry, in its environment, whose container
 *     exists (labelled io.portmanager.service, io.portmanager.instance and
 *     io.portmanager.environment for it, else named pm_container_name()) and
 *     that has no reservation is reserved for that container (owner kind
 *     container, "adopt"), unless another reservation holds one of its ports
 *     ("skip", the holder named).
 * Each action is logged at INFO (port_manager_reaped, port_manager_adopted).
 *
 * registry: required. state_dir: the store's directory, or NULL (see above).
 * flags:    PM_RECONCILE_DRY_RUN or 0; other bits are PM_ERR_INVALID_ARGUMENT.
 * The actions, as a JSON array through the output protocol, in order (reaps
 * first): each element
 *   {"action": "reap" | "adopt" | "skip", "service": "kafka", "environment": "",
 *    "instance": 1, "container": "kafka-development-1",
 *    "container_state": "running" | "exited" | ... | null (reap: it is gone),
 *    "reason": "the container is gone" | "found by its labels" | "found by its name" | why skipped}
 * When the array does not fit, nothing is changed: PM_ERR_BUFFER_TOO_SMALL
 * with *needed (call again; the store may have changed meanwhile).
 *
 * Returns PM_OK, PM_ERR_BUFFER_TOO_SMALL, PM_ERR_DOCKER (the engine cannot be
 * reached or gave no usable answer: nothing changed; the message names its
 * socket and why), PM_ERR_INVALID_ARGUMENT or PM_ERR_STATE.
 */
PM_API pm_status pm_reconcile(const pm_registry *registry, const char *state_dir, int32_t flags,
                              char *buffer, size_t capacity, size_t *needed);

/** Flags for pm_instance_states_json(). */
typedef enum pm_states_flags {
    PM_STATES_DEFAULT = 0,
    /** Also list the free instances. */
    PM_STATES_ALL = 1
} pm_states_flags;

/**
 * The state of every instance of every service (service NULL) or of one
 * service, in the registry's environment, from the store (expired reservations
 * and those of ended owners and gone containers removed first), a probe of
 * every host port (pm_probe(), each port's protocols and host IP) and the
 * Docker engine's container list (asked once), as one JSON object through the
 * output protocol:
 *   {"docker": {"reachable": true | false, "error": null | "why not"},
 *    "instances": [ROW, ...]}
 * with one ROW per instance that is not free (with PM_STATES_ALL, per instance),
 * by service (registry order) and instance, every key always present:
 *   {"service": "kafka", "environment": "", "instance": 1,
 *    "state": "running" | "stopped" | "reserved" | "in_use" | "conflict" | "free",
 *    "container": "kafka-development-1" | null,
 *    "container_state": "running" | "exited" | ... (Docker's word) | "unknown" (the engine
 *                       could not be asked) | null (no container),
 *    "owner", "owner_kind", "pid", "pid_namespace", "liveness", "command",
 *    "since", "expires": as pm_reservations_json(), null when not reserved,
 *    "reserved_as": {"service", "environment", "instance"} when the reservation
 *                   holding its ports is another instance's, else null,
 *    "port_in_use": 9192 | null, "probe": the pm_probe_result_json() document of
 *                   that port (its holders naming their "container") | null,
 *    "ports": {"broker_port": 9192, ...}}
 * States: reserved and another container (or a process that is not a process
 * owner's or a descendant of it; for a container owner, any process but its
 * docker-proxy) holds a port: "conflict"; else its container (a container
 * owner's, else labelled io.portmanager.service/instance/environment for it,
 * else named pm_container_name()) runs: "running", exists: "stopped"; else
 * reserved: "reserved"; not reserved and a port is held: "in_use"
 * ("container" names the container publishing it, if one does); else "free".
 * When the engine cannot be reached, "docker" says why, no container is known,
 * nothing is reaped, and a reserved instance is "reserved" (never "free").
 *
 * registry: required. state_dir: the store's directory, or NULL (see above).
 * flags:    PM_STATES_ALL or 0; other bits are PM_ERR_INVALID_ARGUMENT.
 *
 * Returns PM_OK, PM_ERR_BUFFER_TOO_SMALL (call again: the states may have
 * changed meanwhile), PM_ERR_UNKNOWN_SERVICE, PM_ERR_INVALID_ARGUMENT,
 * PM_ERR_IO (a /proc/net table cannot be read) or PM_ERR_STATE.
 */
PM_API pm_status pm_instance_states_json(const pm_registry *registry, const char *state_dir, const char *service,
                                         int32_t flags, char *buffer, size_t capacity, size_t *needed);

#ifdef __cplusplus
}
#endif

#endif /* PORTMANAGER_H */
