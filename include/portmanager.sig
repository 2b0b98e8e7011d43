# portmanager.sig: the signature of every function declared in portmanager.h,
# for callers that bind the library at run time (libffi, ctypes) and for the
# ABI tests (Tests/c). Tests fail when this table, the PM_API declarations of
# the header and the dynamic symbols of libportmanager.so disagree.
#
# One function per line:  NAME RETURN [ARG ...]
# Types (C ABI classes; libffi type in brackets):
#   void    no value (return only)                 [ffi_type_void]
#   status  pm_status, a C enum: an int            [ffi_type_sint]
#   int     int                                    [ffi_type_sint]
#   i32     int32_t                                [ffi_type_sint32]
#   i64     int64_t                                [ffi_type_sint64]
#   u32     uint32_t                               [ffi_type_uint32]
#   size    size_t                                 [ffi_type_uint64 or _uint32, as size_t]
#   str     const char *: a NUL-terminated string  [ffi_type_pointer]
#   ptr     any other data pointer                 [ffi_type_pointer]
#   fn      a function pointer (pm_log_fn)         [ffi_type_pointer]
# Blank lines and lines starting with '#' are ignored.

# versions
pm_version_number u32
pm_version_string str
pm_abi_version u32

# status
pm_status_str str status
pm_last_error str
pm_last_error_capture ptr
pm_error_message str ptr
pm_error_free void ptr

# registry
pm_registry_open status str ptr
pm_registry_open_env status str str ptr
pm_registry_open_string status str size str ptr
pm_registry_close void ptr
pm_registry_source status ptr ptr size ptr
pm_registry_environment status ptr ptr size ptr ptr

# services
pm_service_count status ptr ptr
pm_service_name status ptr size ptr size ptr
pm_service_info status ptr str ptr ptr ptr
pm_port_name status ptr str size ptr size ptr
pm_port_definition status ptr str str ptr ptr ptr

# allocation
pm_get_port status ptr str i32 str ptr
pm_get_port_range status ptr str i32 str ptr ptr
pm_get_container_port status ptr str i32 str ptr
pm_get_ports status ptr str i32 ptr size ptr

# names
pm_container_name status ptr str i32 ptr size ptr
pm_volume_name status ptr str i32 ptr size ptr

# instances
pm_instance_docker_json status ptr str i32 ptr size ptr
pm_instance_env status ptr str i32 str ptr size ptr

# probe
pm_port_probe status str i32 ptr
pm_probe status i32 i32 str ptr
pm_probe_result_free void ptr
pm_probe_result_verdict status ptr ptr ptr
pm_probe_result_holder status ptr size ptr ptr ptr size ptr
pm_probe_result_command status ptr size ptr size ptr
pm_probe_result_json status ptr ptr size ptr

# logging
pm_set_log_callback status fn ptr
pm_set_log_level status i32
pm_get_log_level i32
pm_allocation_line status ptr str i64 str ptr size ptr

# analysis
pm_analyze status ptr i32 i32 str ptr
pm_analysis_free void ptr
pm_analysis_count status ptr ptr ptr ptr
pm_analysis_finding status ptr size ptr ptr size ptr
pm_analysis_json status ptr ptr size ptr

# reservations
pm_reserve status ptr str str i32 str i64 i32 ptr
pm_reserve_instance status ptr str str i32 str i64 i32 ptr ptr
pm_release status ptr str str i32 str i32 ptr
pm_renew status ptr str str i32 str i64 i32
pm_reservation_bind_container status ptr str str i32 str str i32
pm_reservations_json status ptr str str ptr size ptr
pm_reconcile status ptr str i32 ptr size ptr
pm_instance_states_json status ptr str str i32 ptr size ptr
