/* The version is written once: the PM_VERSION_* and PM_ABI_VERSION macros of
 * include/portmanager.h. This shim hands them to Swift (module PortManager's
 * LibraryVersion) as inline functions; nothing here is exported by the library. */
#include "../../include/portmanager.h"

static inline const char *portmanager_header_version_string(void) { return PM_VERSION_STRING; }
static inline uint32_t portmanager_header_version_number(void) { return PM_VERSION_NUMBER; }
static inline uint32_t portmanager_header_abi_version(void) { return PM_ABI_VERSION; }
