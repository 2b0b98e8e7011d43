/* include/portmanager.h for Swift, header only (nothing here is linked or
 * exported by the library). The header is where the version (the PM_VERSION_*
 * and PM_ABI_VERSION macros) and the status codes (enum pm_status) are written;
 * Swift reads both from here: module PortManager's LibraryVersion and module
 * PortManagerCore's Status. Module PortManagerC implements the header's
 * functions (`@c @implementation`), so the compiler holds each shim to its
 * declaration here. */
#include "../../include/portmanager.h"

static inline const char *portmanager_header_version_string(void) { return PM_VERSION_STRING; }
static inline uint32_t portmanager_header_version_number(void) { return PM_VERSION_NUMBER; }
static inline uint32_t portmanager_header_abi_version(void) { return PM_ABI_VERSION; }

/* The name of each pm_status, spelled by the preprocessor from the enumerator
 * itself (a misspelt one does not compile); NULL for a value the header does
 * not define. Static storage. Tests/c/check_abi.py checks the built library's
 * pm_status_str against the header's enum, so a status missing here fails. */
#define PORTMANAGER_STATUS_NAME(status) case status: return #status;
static inline const char *portmanager_header_status_name(int32_t value) {
    switch (value) {
    PORTMANAGER_STATUS_NAME(PM_OK)
    PORTMANAGER_STATUS_NAME(PM_ERR_INVALID_ARGUMENT)
    PORTMANAGER_STATUS_NAME(PM_ERR_NOT_FOUND)
    PORTMANAGER_STATUS_NAME(PM_ERR_IO)
    PORTMANAGER_STATUS_NAME(PM_ERR_PARSE)
    PORTMANAGER_STATUS_NAME(PM_ERR_INVALID_REGISTRY)
    PORTMANAGER_STATUS_NAME(PM_ERR_UNKNOWN_SERVICE)
    PORTMANAGER_STATUS_NAME(PM_ERR_UNKNOWN_PORT)
    PORTMANAGER_STATUS_NAME(PM_ERR_INSTANCE_OUT_OF_RANGE)
    PORTMANAGER_STATUS_NAME(PM_ERR_BUFFER_TOO_SMALL)
    PORTMANAGER_STATUS_NAME(PM_ERR_PROBE_FAILED)
    PORTMANAGER_STATUS_NAME(PM_ERR_UNKNOWN_ENVIRONMENT)
    PORTMANAGER_STATUS_NAME(PM_ERR_LEASED)
    PORTMANAGER_STATUS_NAME(PM_ERR_TOO_LARGE)
    PORTMANAGER_STATUS_NAME(PM_ERR_RESERVED)
    PORTMANAGER_STATUS_NAME(PM_ERR_NOT_OWNER)
    PORTMANAGER_STATUS_NAME(PM_ERR_STATE)
    PORTMANAGER_STATUS_NAME(PM_ERR_DOCKER)
    default: return (const char *)0;
    }
}
#undef PORTMANAGER_STATUS_NAME
