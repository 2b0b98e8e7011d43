/*
 * pm-env: prints the ports and names of one service instance as KEY=VALUE
 * lines, for a shell (eval "$(pm-env kafka 1)"), an env file (docker compose
 * --env-file) or a Makefile. It prints exactly what `portmanager env SERVICE
 * --instance N` prints, with the same variable names (README, "Environment
 * variables"):
 *
 *   $ pm-env kafka 1
 *   KAFKA_BROKER_PORT=9192
 *   KAFKA_CONTROLLER_PORT=19193
 *   KAFKA_CONTAINER_NAME=kafka-development-1
 *   KAFKA_VOLUME_NAME=kafka-data-1
 *
 * The variables come from the library (pm_instance_env), which `portmanager
 * env` uses too: this program only handles its arguments and prints.
 *
 * It is also the model of a C program using libportmanager: it checks the
 * library's ABI version at startup, opens the registry once, reads strings
 * with the two-call buffer protocol, reports failures with pm_last_error(),
 * and releases everything it allocated. Build it with
 *
 *   cc -std=c99 -o pm-env pm-env.c $(pkg-config --cflags --libs portmanager)
 *
 * Exit status: 0 success; 2 any failure (usage error, unreadable or invalid
 * registry, unknown service, instance out of range, wrong library), as
 * `portmanager env` exits.
 */
#include <portmanager.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_USAGE = 2 };

static const char *program = "pm-env";

static void usage(FILE *to) {
    fprintf(to,
            "usage: %s [--registry PATH] [--env NAME] [--export] [--prefix PREFIX] SERVICE [INSTANCE]\n"
            "       %s [--registry PATH] --list\n"
            "\n"
            "Prints the variables of instance INSTANCE (default 0) of SERVICE as KEY=VALUE\n"
            "lines, as `portmanager env SERVICE --instance INSTANCE` does:\n"
            "  PREFIX_<PORT> for each named port (its host port; FIRST-LAST for a range,\n"
            "  which also gives PREFIX_<PORT>_FIRST and PREFIX_<PORT>_LAST), then\n"
            "  PREFIX_<PORT>_CONTAINER when the port inside the container differs, and\n"
            "  PREFIX_CONTAINER_NAME and PREFIX_VOLUME_NAME.\n"
            "<PORT> is the port name and PREFIX the service name, in upper case with\n"
            "anything but letters and digits as '_' (kafka broker_port: KAFKA_BROKER_PORT).\n"
            "Values are port numbers and Docker names, which need no quoting.\n"
            "\n"
            "  --registry PATH  the registry file (default: $PORTMANAGER_REGISTRY, then\n"
            "                   ./dynamicconfig/port_registry.yaml)\n"
            "  --env NAME       select an environment of the registry (its port offset)\n"
            "  --export         prefix each line with 'export ' for sh\n"
            "  --prefix PREFIX  start every name with PREFIX (a shell variable name) instead\n"
            "                   of the service name\n"
            "  --list           print the service names, one per line\n"
            "  --version        print the library's version\n"
            "\n"
            "Exit status: 0 ok, 2 any failure (as `portmanager env`).\n",
            program, program);
}

/* Reports a failure with the library's message; every failure exits 2, as `portmanager env` does. */
static int report(pm_status status, const char *what) {
    if (what) fprintf(stderr, "%s: %s: %s (%s)\n", program, what, pm_last_error(), pm_status_str(status));
    else fprintf(stderr, "%s: %s\n", program, pm_last_error());
    return EXIT_USAGE;
}

/*
 * The variables of one instance, from the library (pm_instance_env: the one
 * vocabulary, the same code as `portmanager env`), read with the two-call
 * buffer protocol: ask for the size with (NULL, 0, &needed), allocate, fetch.
 * Printed only once whole, so a failure prints nothing on stdout.
 */
static int print_instance(const pm_registry *registry, const char *service, int32_t instance, const char *prefix,
                          int export_lines) {
    size_t needed = 0;
    pm_status status = pm_instance_env(registry, service, instance, prefix, NULL, 0, &needed);
    if (status != PM_ERR_BUFFER_TOO_SMALL) return report(status, NULL); /* PM_OK cannot happen with capacity 0 */
    char *text = malloc(needed);
    if (!text) {
        fprintf(stderr, "%s: out of memory\n", program);
        return EXIT_USAGE;
    }
    status = pm_instance_env(registry, service, instance, prefix, text, needed, &needed);
    if (status != PM_OK) {
        free(text);
        return report(status, NULL);
    }
    /* "KEY=VALUE\n" lines, every value plain: printed as they are. */
    for (char *line = text, *end; *line; line = end + 1) {
        end = strchr(line, '\n');
        if (!end) break;
        printf("%s%.*s\n", export_lines ? "export " : "", (int)(end - line), line);
    }
    free(text);
    return 0;
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
