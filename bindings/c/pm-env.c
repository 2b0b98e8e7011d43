/*
 * pm-env: prints the ports and names of one service instance as KEY=VALUE
 * lines, for a shell (eval "$(pm-env kafka 1)"), an env file (docker compose
 * --env-file) or a Makefile.
 *
 *   $ pm-env kafka 1
 *   KAFKA_INSTANCE=1
 *   KAFKA_BROKER_PORT=9192
 *   KAFKA_BROKER_CONTAINER_PORT=9192
 *   KAFKA_CONTROLLER_PORT=19193
 *   KAFKA_CONTROLLER_CONTAINER_PORT=19193
 *   KAFKA_CONTAINER_NAME=kafka-development-1
 *   KAFKA_VOLUME_NAME=kafka-data-1
 *
 * It is also the model of a C program using libportmanager: it checks the
 * library's ABI version at startup, opens the registry once, reads strings
 * with the two-call buffer protocol, reports failures with pm_last_error(),
 * and releases everything it allocated. Build it with
 *
 *   cc -std=c99 -o pm-env pm-env.c $(pkg-config --cflags --libs portmanager)
 *
 * Exit status: 0 success; 1 the query failed (unknown service, instance out
 * of range); 2 usage error, unreadable or invalid registry, wrong library.
 */
#include <portmanager.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_QUERY = 1, EXIT_USAGE = 2 };

static const char *program = "pm-env";

static void usage(FILE *to) {
    fprintf(to,
            "usage: %s [--registry PATH] [--env NAME] [--export] [--prefix PREFIX] SERVICE [INSTANCE]\n"
            "       %s [--registry PATH] --list\n"
            "\n"
            "Prints the host ports, container ports, container name and volume name of\n"
            "instance INSTANCE (default 0) of SERVICE as KEY=VALUE lines:\n"
            "  PREFIX_INSTANCE, PREFIX_<NAME>_PORT and PREFIX_<NAME>_CONTAINER_PORT for each\n"
            "  named port (PREFIX_PORT for a port called 'port'; a range also gives\n"
            "  PREFIX_<NAME>_PORT_RANGE=FIRST-LAST), PREFIX_CONTAINER_NAME, PREFIX_VOLUME_NAME.\n"
            "PREFIX defaults to the service name in upper case, '-' and '.' as '_'.\n"
            "\n"
            "  --registry PATH  the registry file (default: $PORTMANAGER_REGISTRY, then\n"
            "                   ./dynamicconfig/port_registry.yaml)\n"
            "  --env NAME       select an environment of the registry (its port offset)\n"
            "  --export         prefix each line with 'export ' for sh\n"
            "  --prefix PREFIX  the variable prefix instead of the service name\n"
            "  --list           print the service names, one per line\n"
            "  --version        print the library's version\n"
            "\n"
            "Exit status: 0 ok, 1 unknown service or instance out of range, 2 usage or registry error.\n",
            program, program);
}

/* Reports the failure of `what` with the library's message; returns the exit status it deserves. */
static int report(pm_status status, const char *what) {
    fprintf(stderr, "%s: %s: %s (%s)\n", program, what, pm_last_error(), pm_status_str(status));
    switch (status) {
    case PM_ERR_UNKNOWN_SERVICE:
    case PM_ERR_UNKNOWN_PORT:
    case PM_ERR_INSTANCE_OUT_OF_RANGE:
        return EXIT_QUERY;
    default:
        return EXIT_USAGE;
    }
}

/* A getter of the instance names (pm_container_name, pm_volume_name). */
typedef pm_status (*name_getter)(const pm_registry *, const char *, int32_t, char *, size_t, size_t *);

/*
 * The two-call buffer protocol: ask for the size with (NULL, 0, &needed),
 * allocate, then fetch. Returns a malloc'd string (release with free()) or
 * NULL with *status set.
 */
static char *fetch_name(name_getter get, const pm_registry *registry, const char *service, int32_t instance,
                        pm_status *status) {
    size_t needed = 0;
    *status = get(registry, service, instance, NULL, 0, &needed);
    if (*status != PM_ERR_BUFFER_TOO_SMALL) return NULL; /* a real error; PM_OK cannot happen with capacity 0 */
    char *text = malloc(needed);
    if (!text) {
        fprintf(stderr, "%s: out of memory\n", program);
        exit(EXIT_USAGE);
    }
    *status = get(registry, service, instance, text, needed, &needed);
    if (*status != PM_OK) {
        free(text);
        return NULL;
    }
    return text;
}

/* The same protocol for the name of the service's port at `index`. */
static char *fetch_port_name(const pm_registry *registry, const char *service, size_t index, pm_status *status) {
    size_t needed = 0;
    *status = pm_port_name(registry, service, index, NULL, 0, &needed);
    if (*status != PM_ERR_BUFFER_TOO_SMALL) return NULL;
    char *text = malloc(needed);
    if (!text) {
        fprintf(stderr, "%s: out of memory\n", program);
        exit(EXIT_USAGE);
    }
    *status = pm_port_name(registry, service, index, text, needed, &needed);
    if (*status != PM_OK) {
        free(text);
        return NULL;
    }
    return text;
}

/* "kafka" -> "KAFKA", "mongo-express.v2" -> "MONGO_EXPRESS_V2" (a malloc'd copy). */
static char *variable_stem(const char *text) {
    char *out = malloc(strlen(text) + 1);
    if (!out) exit(EXIT_USAGE);
    size_t i = 0;
    for (; text[i]; i++) {
        unsigned char c = (unsigned char)text[i];
        out[i] = isalnum(c) ? (char)toupper(c) : '_';
    }
    out[i] = 0;
    return out;
}

/* One named port: PREFIX_NAME_PORT, PREFIX_NAME_CONTAINER_PORT, and PREFIX_NAME_PORT_RANGE for a range. */
static int print_port(const char *lead, const char *prefix, const pm_registry *registry, const char *service,
                      int32_t instance, const char *port_name) {
    uint16_t first = 0, last = 0, container = 0;
    pm_status status = pm_get_port_range(registry, service, instance, port_name, &first, &last);
    if (status == PM_OK) status = pm_get_container_port(registry, service, instance, port_name, &container);
    if (status != PM_OK) return report(status, port_name);

    /* "broker_port" -> stem "BROKER" -> BROKER_PORT and BROKER_CONTAINER_PORT; "port" -> PORT, CONTAINER_PORT. */
    char *upper = variable_stem(port_name);
    size_t length = strlen(upper);
    if (length >= 5 && strcmp(upper + length - 5, "_PORT") == 0) {
        upper[length - 5] = 0;
        printf("%s%s_%s_PORT=%u\n", lead, prefix, upper, first);
        printf("%s%s_%s_CONTAINER_PORT=%u\n", lead, prefix, upper, container);
        if (last != first) printf("%s%s_%s_PORT_RANGE=%u-%u\n", lead, prefix, upper, first, last);
    } else { /* "port" */
        printf("%s%s_%s=%u\n", lead, prefix, upper, first);
        printf("%s%s_CONTAINER_%s=%u\n", lead, prefix, upper, container);
        if (last != first) printf("%s%s_%s_RANGE=%u-%u\n", lead, prefix, upper, first, last);
    }
    free(upper);
    return 0;
}

static int print_instance(const pm_registry *registry, const char *service, int32_t instance, const char *prefix,
                          int export_lines) {
    const char *lead = export_lines ? "export " : "";
    size_t port_count = 0;
    pm_status status = pm_service_info(registry, service, NULL, NULL, &port_count);
    if (status != PM_OK) return report(status, service);

    /* Resolve everything before printing, so a failure prints nothing on stdout. */
    char *container = fetch_name(pm_container_name, registry, service, instance, &status);
    if (!container) return report(status, service);
    char *volume = fetch_name(pm_volume_name, registry, service, instance, &status);
    if (!volume) {
        free(container);
        return report(status, service);
    }
    char *stem = prefix ? variable_stem(prefix) : variable_stem(service);

    int result = 0;
    printf("%s%s_INSTANCE=%d\n", lead, stem, (int)instance);
    for (size_t i = 0; i < port_count && result == 0; i++) {
        char *port_name = fetch_port_name(registry, service, i, &status);
        if (!port_name) {
            result = report(status, "port name");
            break;
        }
        result = print_port(lead, stem, registry, service, instance, port_name);
        free(port_name);
    }
    if (result == 0) {
        printf("%s%s_CONTAINER_NAME=%s\n", lead, stem, container);
        printf("%s%s_VOLUME_NAME=%s\n", lead, stem, volume);
    }
    free(stem);
    free(volume);
    free(container);
    return result;
}

static int print_services(const pm_registry *registry) {
    size_t count = 0;
    pm_status status = pm_service_count(registry, &count);
    if (status != PM_OK) return report(status, "services");
    for (size_t i = 0; i < count; i++) {
        char name[256]; /* names are short; fall back to the protocol's size when one is not */
        size_t needed = 0;
        status = pm_service_name(registry, i, name, sizeof name, &needed);
        if (status == PM_OK) {
            puts(name);
        } else if (status == PM_ERR_BUFFER_TOO_SMALL) {
            char *long_name = malloc(needed);
            if (!long_name) return EXIT_USAGE;
            status = pm_service_name(registry, i, long_name, needed, NULL);
            if (status == PM_OK) puts(long_name);
            free(long_name);
        }
        if (status != PM_OK) return report(status, "service name");
    }
    return 0;
}

static int parse_instance(const char *text, int32_t *out) {
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != 0 || value < INT32_MIN || value > INT32_MAX) return 0;
    *out = (int32_t)value;
    return 1;
}

int main(int argc, char **argv) {
    /* 1. The library we loaded must speak the ABI this program was compiled against. */
    if (pm_abi_version() != PM_ABI_VERSION) {
        fprintf(stderr, "%s: libportmanager ABI %u is loaded, but this program needs ABI %d\n", program,
                (unsigned)pm_abi_version(), PM_ABI_VERSION);
        return EXIT_USAGE;
    }

    const char *registry_path = NULL, *environment = NULL, *prefix = NULL, *service = NULL, *instance_text = NULL;
    int export_lines = 0, list = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(arg, "--version") == 0) {
            printf("pm-env (libportmanager %s, ABI %u)\n", pm_version_string(), (unsigned)pm_abi_version());
            return 0;
        } else if (strcmp(arg, "--export") == 0) {
            export_lines = 1;
        } else if (strcmp(arg, "--list") == 0) {
            list = 1;
        } else if (strcmp(arg, "--registry") == 0 || strcmp(arg, "--env") == 0 || strcmp(arg, "--prefix") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: %s needs a value\n", program, arg);
                return EXIT_USAGE;
            }
            const char *value = argv[++i];
            if (arg[2] == 'r') registry_path = value;
            else if (arg[2] == 'e') environment = value;
            else prefix = value;
        } else if (arg[0] == '-' && arg[1] != 0 && !(service && !instance_text && isdigit((unsigned char)arg[1]))) {
            fprintf(stderr, "%s: unknown option %s (see --help)\n", program, arg);
            return EXIT_USAGE;
        } else if (!service) {
            service = arg;
        } else if (!instance_text) {
            instance_text = arg;
        } else {
            fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", program, arg);
            return EXIT_USAGE;
        }
    }
    int32_t instance = 0;
    if (!list && !service) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (instance_text && !parse_instance(instance_text, &instance)) {
        fprintf(stderr, "%s: INSTANCE must be an integer, not '%s'\n", program, instance_text);
        return EXIT_USAGE;
    }

    /* 2. Open the registry once; the handle is immutable and could be shared by threads. */
    pm_registry *registry = NULL;
    pm_status status = pm_registry_open_env(registry_path, environment, &registry);
    if (status != PM_OK) {
        report(status, "cannot open the port registry");
        return EXIT_USAGE; /* whatever the status: without a registry there is no answer */
    }

    /* 3. Query, then 4. release. */
    int result = list ? print_services(registry) : print_instance(registry, service, instance, prefix, export_lines);
    pm_registry_close(registry);
    if (result == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "%s: cannot write the output\n", program);
        return EXIT_USAGE;
    }
    return result;
}
