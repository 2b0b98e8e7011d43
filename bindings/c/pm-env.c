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
            "Prints the variables of instance INSTANCE (default 0) of SERVICE as KEY=VALUE\n"
            "lines, as `portmanager env SERVICE --instance INSTANCE` does:\n"
            "  PREFIX_<PORT> for each named port (its host port; FIRST-LAST for a range,\n"
            "  which also gives PREFIX_<PORT>_FIRST and PREFIX_<PORT>_LAST), then\n"
            "  PREFIX_<PORT>_CONTAINER when the port inside the container differs, and\n"
            "  PREFIX_CONTAINER_NAME and PREFIX_VOLUME_NAME.\n"
            "<PORT> is the port name and PREFIX the service name, in upper case with\n"
            "anything but letters and digits as '_' (kafka broker_port: KAFKA_BROKER_PORT).\n"
            "Values are single-quoted when a shell needs it.\n"
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

/* malloc(), or exit 2 with a message when memory is exhausted. */
static void *checked_malloc(size_t size) {
    void *memory = malloc(size);
    if (!memory) {
        fprintf(stderr, "%s: out of memory\n", program);
        exit(EXIT_USAGE);
    }
    return memory;
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
    char *text = checked_malloc(needed);
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
    char *text = checked_malloc(needed);
    *status = pm_port_name(registry, service, index, text, needed, &needed);
    if (*status != PM_OK) {
        free(text);
        return NULL;
    }
    return text;
}

/*
 * The variable names. They follow the rules of `portmanager env`, the reference
 * (README, "Environment variables"); the C ABI has no function that names them,
 * so they are written here too, and scripts/test-c.sh diffs the two outputs for
 * every instance of the shipped registry.
 */

/* [A-Za-z0-9_], in ASCII whatever the locale. */
static int is_word_byte(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

/* A shell variable name: [A-Za-z_][A-Za-z0-9_]*. */
static int is_identifier(const char *text) {
    if (!*text || (*text >= '0' && *text <= '9')) return 0;
    for (; *text; text++) {
        if (!is_word_byte((unsigned char)*text)) return 0;
    }
    return 1;
}

/*
 * `text` in upper case with every byte other than an ASCII letter or digit as
 * '_', and a leading '_' when it would start with a digit: "kafka" -> "KAFKA",
 * "mongo-express" -> "MONGO_EXPRESS", "broker_port" -> "BROKER_PORT". A malloc'd copy.
 */
static char *variable_key(const char *text) {
    size_t length = strlen(text);
    char *out = checked_malloc(length + 2);
    size_t o = 0;
    if (text[0] >= '0' && text[0] <= '9') out[o++] = '_';
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        out[o++] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : is_word_byte(c) ? (char)c : '_';
    }
    out[o] = 0;
    return out;
}

/* A value that needs no quoting in a POSIX shell or an env file: [A-Za-z0-9_.:/@+,-]+. */
static int is_plain(const char *value) {
    if (!*value) return 0;
    for (; *value; value++) {
        unsigned char c = (unsigned char)*value;
        if (!is_word_byte(c) && !strchr(".-:/@+,", c)) return 0;
    }
    return 1;
}

/* KEY=VALUE, the value as one shell word: as is when plain, else single-quoted. */
static void print_assignment(const char *lead, const char *key, const char *value) {
    printf("%s%s=", lead, key);
    if (is_plain(value)) {
        fputs(value, stdout);
    } else {
        putchar('\'');
        for (; *value; value++) {
            if (*value == '\'') fputs("'\\''", stdout);
            else putchar(*value);
        }
        putchar('\'');
    }
    putchar('\n');
}

/* The assignments of one instance, collected before any is printed. */
struct assignments {
    char **keys;
    char **values;
    size_t count, capacity;
};

/* Appends KEY = stem + "_" + middle + suffix and its value (both copied). */
static void add(struct assignments *list, const char *stem, const char *middle, const char *suffix,
                const char *value) {
    if (list->count == list->capacity) {
        list->capacity = list->capacity ? 2 * list->capacity : 16;
        char **keys = realloc(list->keys, list->capacity * sizeof *keys);
        if (keys) list->keys = keys;
        char **values = realloc(list->values, list->capacity * sizeof *values);
        if (values) list->values = values;
        if (!keys || !values) {
            fprintf(stderr, "%s: out of memory\n", program);
            exit(EXIT_USAGE);
        }
    }
    size_t length = strlen(stem) + 1 + strlen(middle) + strlen(suffix) + 1;
    char *key = checked_malloc(length);
    snprintf(key, length, "%s_%s%s", stem, middle, suffix);
    char *copy = checked_malloc(strlen(value) + 1);
    strcpy(copy, value);
    list->keys[list->count] = key;
    list->values[list->count] = copy;
    list->count++;
}

static void release(struct assignments *list) {
    for (size_t i = 0; i < list->count; i++) {
        free(list->keys[i]);
        free(list->values[i]);
    }
    free(list->keys);
    free(list->values);
}

/* "9192", or "31101-31103" for a range. */
static void port_text(char out[12], unsigned first, unsigned last) {
    if (first == last) snprintf(out, 12, "%u", first);
    else snprintf(out, 12, "%u-%u", first, last);
}

/*
 * One named port: KEY (the host port, or FIRST-LAST), for a range KEY_FIRST and
 * KEY_LAST, and KEY_CONTAINER when the container side is another number.
 */
static int add_port(struct assignments *list, const char *stem, const pm_registry *registry, const char *service,
                    int32_t instance, const char *port_name) {
    uint16_t first = 0, last = 0, container = 0;
    pm_status status = pm_get_port_range(registry, service, instance, port_name, &first, &last);
    if (status == PM_OK) status = pm_get_container_port(registry, service, instance, port_name, &container);
    if (status != PM_OK) return report(status, port_name);

    char *key = variable_key(port_name);
    char text[12];
    port_text(text, first, last);
    add(list, stem, key, "", text);
    if (last != first) {
        snprintf(text, sizeof text, "%u", (unsigned)first);
        add(list, stem, key, "_FIRST", text);
        snprintf(text, sizeof text, "%u", (unsigned)last);
        add(list, stem, key, "_LAST", text);
    }
    if (container != first) {
        port_text(text, container, (unsigned)container + (unsigned)(last - first)); /* as wide as the host range */
        add(list, stem, key, "_CONTAINER", text);
    }
    free(key);
    return 0;
}

static int print_instance(const pm_registry *registry, const char *service, int32_t instance, const char *prefix,
                          int export_lines) {
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
    char *stem = prefix ? strcpy(checked_malloc(strlen(prefix) + 1), prefix) : variable_key(service);

    struct assignments list = {0};
    int result = 0;
    for (size_t i = 0; i < port_count && result == 0; i++) {
        char *port_name = fetch_port_name(registry, service, i, &status);
        if (!port_name) {
            result = report(status, "port name");
            break;
        }
        result = add_port(&list, stem, registry, service, instance, port_name);
        free(port_name);
    }
    if (result == 0) {
        add(&list, stem, "CONTAINER_NAME", "", container);
        add(&list, stem, "VOLUME_NAME", "", volume);
    }
    for (size_t i = 0; i < list.count && result == 0; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(list.keys[i], list.keys[j]) == 0) {
                fprintf(stderr, "%s: service '%s' gives the variable %s twice; its port names differ only in case or "
                        "punctuation\n", program, service, list.keys[i]);
                result = EXIT_USAGE;
                break;
            }
        }
    }
    const char *lead = export_lines ? "export " : "";
    for (size_t i = 0; i < list.count && result == 0; i++) print_assignment(lead, list.keys[i], list.values[i]);
    release(&list);
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
    if (prefix && !is_identifier(prefix)) {
        fprintf(stderr, "%s: --prefix '%s' is not a shell variable name; use letters, digits and '_', not starting "
                "with a digit\n", program, prefix);
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
