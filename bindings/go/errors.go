package portmanager

// #include <portmanager.h>
import "C"

// Status is a pm_status of include/portmanager.h. Every value but the zero one
// (PM_OK) is a failure and is itself an error, so errors.Is(err, ErrReserved)
// matches any *Error of that status. The numbers come from the header through
// cgo; the header says new codes may be added, so treat unknown values as
// failures (their String is "PM_ERR_UNKNOWN_STATUS").
type Status int32

// The statuses of the header, each with the value cgo reads from it.
const (
	ErrInvalidArgument    Status = C.PM_ERR_INVALID_ARGUMENT      // NULL where a pointer is required, or a value out of range.
	ErrNotFound           Status = C.PM_ERR_NOT_FOUND             // No registry file; the message lists every place tried.
	ErrIO                 Status = C.PM_ERR_IO                    // A file exists but cannot be read.
	ErrParse              Status = C.PM_ERR_PARSE                 // Not a readable YAML document.
	ErrInvalidRegistry    Status = C.PM_ERR_INVALID_REGISTRY      // Well-formed YAML that breaks a registry rule.
	ErrUnknownService     Status = C.PM_ERR_UNKNOWN_SERVICE       // No such service in the registry.
	ErrUnknownPort        Status = C.PM_ERR_UNKNOWN_PORT          // The service has no port of that name.
	ErrInstanceOutOfRange Status = C.PM_ERR_INSTANCE_OUT_OF_RANGE // instance_id outside 0..max_instances-1.
	ErrBufferTooSmall     Status = C.PM_ERR_BUFFER_TOO_SMALL      // Never returned by this package: it sizes its buffers.
	ErrProbeFailed        Status = C.PM_ERR_PROBE_FAILED          // Port availability cannot be determined.
	ErrUnknownEnvironment Status = C.PM_ERR_UNKNOWN_ENVIRONMENT   // The registry defines no environment of that name.
	ErrLeased             Status = C.PM_ERR_LEASED                // Retired: no function returns it now.
	ErrTooLarge           Status = C.PM_ERR_TOO_LARGE             // Past a documented limit (Check: the analysis limit).
	ErrReserved           Status = C.PM_ERR_RESERVED              // Reserved by another owner or in use; the message names the owner.
	ErrNotOwner           Status = C.PM_ERR_NOT_OWNER             // A release or renewal by someone other than the owner.
	ErrState              Status = C.PM_ERR_STATE                 // The reservation store cannot be used safely; the message names the file.
	ErrDocker             Status = C.PM_ERR_DOCKER                // The Docker engine cannot be reached or gave no usable answer.
	statusOK              Status = C.PM_OK
)

// knownStatuses lists every failure constant above once; a test checks it
// against the statuses the loaded library names, so a status added to the
// header without a constant here fails the tests.
var knownStatuses = []Status{
	ErrInvalidArgument, ErrNotFound, ErrIO, ErrParse, ErrInvalidRegistry,
	ErrUnknownService, ErrUnknownPort, ErrInstanceOutOfRange, ErrBufferTooSmall,
	ErrProbeFailed, ErrUnknownEnvironment, ErrLeased, ErrTooLarge, ErrReserved,
	ErrNotOwner, ErrState, ErrDocker,
}

// String is the header's name of the status, such as "PM_ERR_UNKNOWN_PORT"
// (pm_status_str).
func (s Status) String() string { return statusName(s) }

// Error makes a Status usable as a sentinel with errors.Is; it is the status's name.
func (s Status) Error() string { return "portmanager: " + statusName(s) }

// Error is a failure reported by libportmanager (or found by this binding
// before calling it): the status and the message naming the culprit.
type Error struct {
	Status  Status
	Message string
}

// Error is "portmanager: " and the library's message.
func (e *Error) Error() string {
	if e.Message == "" {
		return "portmanager: " + e.Status.String()
	}
	return "portmanager: " + e.Message
}

// Unwrap gives the Status, so errors.Is(err, ErrUnknownService) works.
func (e *Error) Unwrap() error { return e.Status }

// invalid is an ErrInvalidArgument found by the binding itself.
func invalid(message string) error { return &Error{Status: ErrInvalidArgument, Message: message} }
