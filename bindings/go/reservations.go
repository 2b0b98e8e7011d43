package portmanager

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// AnyInstance asks Reserve for the lowest instance that is neither reserved
// nor (without NoProbe) in use now.
const AnyInstance = -1

// ReserveOptions are the optional arguments of Reserve; nil means all zero.
type ReserveOptions struct {
	// StateDir is the store's directory; "" means $PORTMANAGER_STATE_DIR, else
	// the per-user default (README.md, "Reservations").
	StateDir string
	// Owner is a name (a workflow ID; 1 to 1024 bytes) that keeps the
	// reservation until released or expired; "" means the calling process:
	// the reservation ends when it exits. A reservation is exclusive: an
	// instance another owner holds is ErrReserved.
	Owner string
	// ContainerOwner makes the owner a Docker container (owner kind
	// "container"): the one Owner names, or for Owner "" the container name
	// of the instance reserved ("kafka-development-1"). It lasts while a
	// container of that name exists (docs/reservations.md).
	ContainerOwner bool
	// TTL is how long the reservation lasts unless renewed, in whole seconds;
	// 0 for no expiry.
	TTL time.Duration
	// NoProbe skips the check that every port is free now (pm_probe); without
	// it, an instance whose ports a process without a reservation uses is
	// refused (or, with AnyInstance, skipped).
	NoProbe bool
}

// ReleaseOptions are the optional arguments of Release and Renew; nil means all zero.
type ReleaseOptions struct {
	StateDir       string // as in ReserveOptions
	Owner          string // as in ReserveOptions; only the owner may release, unless Force
	ContainerOwner bool   // as in ReserveOptions
	Force          bool   // Release only: release whoever owns the reservation
}

// Reservation is one reservation in the store, as Status lists them.
type Reservation struct {
	Service     string
	Environment string // "" for none
	Instance    int
	Owner       string // the name, or "process 1234"
	OwnerKind   string // "process", "name" or "container"
	PID         int    // the owning process; 0 for a name or container
	Command     string // the owning process's command; "" for a name or container
	Since       time.Time
	Expires     time.Time // the zero Time when it does not expire
	Ports       []NamedPort
	HostPorts   []int // every host port held (each port of a range)
}

// ttlSeconds converts a TTL to the library's whole seconds, refusing what it would round.
func ttlSeconds(ttl time.Duration) (int64, error) {
	if ttl%time.Second != 0 {
		return 0, invalid(fmt.Sprintf("TTL %v is not a whole number of seconds", ttl))
	}
	return int64(ttl / time.Second), nil
}

func (o *ReleaseOptions) owner() (string, bool) {
	if o == nil {
		return "", false
	}
	return o.Owner, o.Owner != ""
}

// Reserved is what ReserveInstance made.
type Reserved struct {
	Instance int  // the instance reserved
	Fresh    bool // true when this call made the reservation; false when the owner held it already (a retry)
}

// Reserve is ReserveInstance returning the instance alone.
func (r *Registry) Reserve(service string, instance int, opts *ReserveOptions) (int, error) {
	reserved, err := r.ReserveInstance(service, instance, opts)
	if err != nil {
		return 0, err
	}
	return reserved.Instance, nil
}

// ReserveInstance reserves every host port of one instance of a service in
// the reservation store (pm_reserve_instance), all or nothing, and returns the
// instance reserved and whether this call made the reservation. instance is
// AnyInstance for the lowest free one. A reservation is exclusive: an
// instance another owner holds is ErrReserved. The same owner reserving the
// same instance again succeeds, sets the new TTL, and is not Fresh: a failure
// path releases only a Fresh reservation (docs/reservations.md).
//
// Errors: ErrReserved (the message names the owner), ErrState (the message
// names the directory or file), ErrUnknownService, ErrInstanceOutOfRange,
// ErrInvalidArgument.
func (r *Registry) ReserveInstance(service string, instance int, opts *ReserveOptions) (Reserved, error) {
	if opts == nil {
		opts = &ReserveOptions{}
	}
	if err := noNUL("service", service); err != nil {
		return Reserved{}, err
	}
	if err := noNUL("owner", opts.Owner); err != nil {
		return Reserved{}, err
	}
	if err := noNUL("state directory", opts.StateDir); err != nil {
		return Reserved{}, err
	}
	ttl, err := ttlSeconds(opts.TTL)
	if err != nil {
		return Reserved{}, err
	}
	var flags int32
	if opts.NoProbe {
		flags |= flagNoProbe
	}
	if opts.ContainerOwner {
		flags |= flagContainerOwner
	}
	h, err := r.acquire()
	if err != nil {
		return Reserved{}, err
	}
	defer r.mu.RUnlock()
	if !fitsInt32(instance) {
		return Reserved{}, wideInstance(h, service, instance, "")
	}
	return cReserve(h, opts.StateDir, service, int32(instance), opts.Owner, opts.Owner != "", ttl, flags)
}

// Bind hands the reservation of one instance from its owner (opts.Owner,
// opts.ContainerOwner as in Release; "" for the calling process) to a
// container, once the container is started (pm_reservation_bind_container):
// it then lasts while a container of that name exists, and its TTL is
// dropped. container "" means the instance's container name. Binding to the
// container that holds it already succeeds. opts.Force is refused.
//
// Errors: ErrNotOwner (reserved by another owner, another container
// included, or not reserved at all), ErrInvalidArgument (a name Docker
// refuses), ErrUnknownService, ErrInstanceOutOfRange, ErrState.
func (r *Registry) Bind(service string, instance int, container string, opts *ReleaseOptions) error {
	if opts == nil {
		opts = &ReleaseOptions{}
	}
	if opts.Force {
		return invalid("Bind takes no Force: only the owner may hand a reservation over")
	}
	if err := checkReleaseArgs(service, opts); err != nil {
		return err
	}
	if err := noNUL("container", container); err != nil {
		return err
	}
	var flags int32
	if opts.ContainerOwner {
		flags |= flagContainerOwner
	}
	h, err := r.acquire()
	if err != nil {
		return err
	}
	defer r.mu.RUnlock()
	if !fitsInt32(instance) {
		return wideInstance(h, service, instance, "")
	}
	owner, hasOwner := opts.owner()
	return cBindContainer(h, opts.StateDir, service, int32(instance), owner, hasOwner, container, flags)
}

// Release releases the reservation of one instance (pm_release): its ports
// are free at once. It reports whether there was one; releasing a free
// instance succeeds and reports false.
//
// Errors: ErrNotOwner (the message names the owner), ErrUnknownService,
// ErrInstanceOutOfRange, ErrInvalidArgument, ErrState.
func (r *Registry) Release(service string, instance int, opts *ReleaseOptions) (bool, error) {
	if opts == nil {
		opts = &ReleaseOptions{}
	}
	if err := checkReleaseArgs(service, opts); err != nil {
		return false, err
	}
	var flags int32
	if opts.Force {
		flags |= flagForce
	}
	if opts.ContainerOwner {
		flags |= flagContainerOwner
	}
	h, err := r.acquire()
	if err != nil {
		return false, err
	}
	defer r.mu.RUnlock()
	if !fitsInt32(instance) {
		return false, wideInstance(h, service, instance, "")
	}
	owner, hasOwner := opts.owner()
	return cRelease(h, opts.StateDir, service, int32(instance), owner, hasOwner, flags)
}

// Renew makes a reservation expire ttl (whole seconds, 1 or more) from now
// (pm_renew). opts.Force is refused.
//
// Errors: ErrNotOwner (reserved by another owner, or not reserved at all),
// ErrUnknownService, ErrInstanceOutOfRange, ErrInvalidArgument, ErrState.
func (r *Registry) Renew(service string, instance int, ttl time.Duration, opts *ReleaseOptions) error {
	if opts == nil {
		opts = &ReleaseOptions{}
	}
	if opts.Force {
		return invalid("Renew takes no Force: only the owner may renew a reservation")
	}
	if err := checkReleaseArgs(service, opts); err != nil {
		return err
	}
	seconds, err := ttlSeconds(ttl)
	if err != nil {
		return err
	}
	var flags int32
	if opts.ContainerOwner {
		flags |= flagContainerOwner
	}
	h, err := r.acquire()
	if err != nil {
		return err
	}
	defer r.mu.RUnlock()
	if !fitsInt32(instance) {
		return wideInstance(h, service, instance, "")
	}
	owner, hasOwner := opts.owner()
	return cRenew(h, opts.StateDir, service, int32(instance), owner, hasOwner, seconds, flags)
}

func checkReleaseArgs(service string, opts *ReleaseOptions) error {
	if err := noNUL("service", service); err != nil {
		return err
	}
	if err := noNUL("owner", opts.Owner); err != nil {
		return err
	}
	return noNUL("state directory", opts.StateDir)
}

// reservationJSON is one element of pm_reservations_json (include/portmanager.h).
type reservationJSON struct {
	Service     string          `json:"service"`
	Environment string          `json:"environment"`
	Instance    int             `json:"instance"`
	Owner       string          `json:"owner"`
	OwnerKind   string          `json:"owner_kind"`
	PID         *int            `json:"pid"`
	Command     *string         `json:"command"`
	Since       int64           `json:"since"`
	Expires     *int64          `json:"expires"`
	Ports       json.RawMessage `json:"ports"`
	HostPorts   []int           `json:"host_ports"`
}

// Status lists the reservations in the store (pm_reservations_json): those of
// one service, or with service "" all of them (of every registry and
// environment), ordered by service, environment and instance. stateDir ""
// means the default store, as in ReserveOptions.
func (r *Registry) Status(service, stateDir string) ([]Reservation, error) {
	if err := noNUL("service", service); err != nil {
		return nil, err
	}
	if err := noNUL("state directory", stateDir); err != nil {
		return nil, err
	}
	h, err := r.acquire()
	if err != nil {
		return nil, err
	}
	text, err := cReservationsJSON(h, stateDir, service)
	r.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	var items []reservationJSON
	if err := json.Unmarshal([]byte(text), &items); err != nil {
		return nil, fmt.Errorf("portmanager: the library's reservations JSON cannot be read: %w", err)
	}
	out := make([]Reservation, 0, len(items))
	for _, item := range items {
		ports, err := orderedPorts(item.Ports)
		if err != nil {
			return nil, fmt.Errorf("portmanager: the ports of a reservation of %q cannot be read: %w", item.Service, err)
		}
		res := Reservation{
			Service: item.Service, Environment: item.Environment, Instance: item.Instance,
			Owner: item.Owner, OwnerKind: item.OwnerKind, Since: time.Unix(item.Since, 0),
			Ports: ports, HostPorts: item.HostPorts,
		}
		if item.PID != nil {
			res.PID = *item.PID
		}
		if item.Command != nil {
			res.Command = *item.Command
		}
		if item.Expires != nil {
			res.Expires = time.Unix(*item.Expires, 0)
		}
		out = append(out, res)
	}
	return out, nil
}

// orderedPorts reads the "ports" object keeping the library's order (a Go map would lose it).
func orderedPorts(raw json.RawMessage) ([]NamedPort, error) {
	decoder := json.NewDecoder(bytes.NewReader(raw))
	if token, err := decoder.Token(); err != nil || token != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object: %s", raw)
	}
	var ports []NamedPort
	for decoder.More() {
		token, err := decoder.Token()
		if err != nil {
			return nil, err
		}
		name, _ := token.(string)
		var port int
		if err := decoder.Decode(&port); err != nil {
			return nil, err
		}
		ports = append(ports, NamedPort{Name: name, Port: port})
	}
	return ports, nil
}
