package exec

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Spec describes one container process. The zero value of each optional field
// is the documented default.
type Spec struct {
	ID       string   // names the container and its cgroup (see Freeze); default a random id
	Root     string   // prepared root directory (e.g. an overlay mount)
	Args     []string // argv; Args[0] is resolved via PATH from Env inside the root
	Env      []string // environment; PATH defaults to DefaultPath when unset, TERM to xterm with Terminal
	Cwd      string   // working directory inside the new root; default "/"; Run makes it if missing, also in a read-only root
	User     string   // "uid", "uid:gid", "name" or "name:group", resolved from the root's /etc/passwd and /etc/group; default root
	GroupAdd []string // supplementary groups, names or gids, as docker's --group-add
	Hostname string   // default DefaultHostname
	// ExtraHosts are more /etc/hosts lines, "NAME:IP" (docker's
	// --add-host), checked by the caller.
	ExtraHosts []string
	// DNS, DNSSearch and DNSOptions replace the nameserver, search and
	// options lines of the resolv.conf the container gets (docker's
	// --dns, --dns-search, --dns-option), checked by the caller.
	DNS, DNSSearch, DNSOptions []string
	Terminal                   bool // allocate a pty sized like the caller's terminal; raw mode is restored on return
	// Resize, with Terminal, brings new sizes for the pty (a detached
	// run's attachers' terminals) while the container runs.
	Resize <-chan Winsize `json:"-"`

	Stdin  io.Reader // nil means /dev/null
	Stdout io.Writer // nil means /dev/null
	Stderr io.Writer // nil means /dev/null

	Mounts       []Mount
	ReadOnlyRoot bool
	Network      string // NetworkHost (the zero value), NetworkNone or NetworkPrivate; callers choose, the CLI's default is DefaultNetwork
	Ports        []Port // published ports; NetworkPrivate only
	Resources    Resources

	// Sysctls are KEY=VALUE settings of the container's own namespaces
	// (docker's --sysctl), checked by the caller (CheckSysctl).
	Sysctls []string
	// Devices are host device nodes made in the container's /dev, each
	// usable through a device cgroup rule (docker's --device).
	Devices    []Device
	Privileged bool     // all capabilities, no seccomp, no masked or read-only paths, writable /sys, every device
	CapAdd     []string // "NET_ADMIN" or "CAP_NET_ADMIN"; "ALL" adds every capability
	CapDrop    []string // same names; "ALL" drops every default capability
	Init       bool     // run a tiny pid 1 that reaps zombies and forwards signals
	// PrivilegedExec, in Join only, gives the command every capability,
	// those CapDrop takes from the run too (docker's and podman's exec
	// --privileged), but keeps the seccomp filter that
	// Privileged, CapAdd and CapDrop give the run, as runc exec loads the
	// container's: a --privileged run has none.
	PrivilegedExec bool
	// Rlimits are the resource limits of the container's processes, and
	// of a process joined to it (docker's --ulimit); unset ones are
	// inherited from strata.
	Rlimits []Rlimit

	// StopTimeout is how long after a forwarded SIGTERM, SIGINT or SIGHUP
	// the container gets before SIGKILL; 0 waits forever. A second SIGINT
	// always escalates at once.
	StopTimeout time.Duration

	// Parent, in Join, is the parent of the container's pid 1 (its
	// supervisor) when the caller knows it: Join refuses that pid if,
	// once it holds the process, another process is its parent (pid 1
	// ended, and its pid went to another, since the caller looked).
	Parent int `json:"-"`

	// Started, if set, is called with the host pid of the container's
	// pid 1 once the command runs (a supervisor records it); in Join, of
	// the joined command (exec -d returns then).
	Started func(pid int) `json:"-"`
	// Published, if set, is called with Ports as they are bound, before
	// the container starts (and before Started): each ephemeral HostPort
	// (0) is then the port the kernel chose. Binding the host socket is
	// what picks it, so no other process can take it between the pick
	// and the bind. Called on every Run: a restarted run's ephemeral
	// ports may differ, as docker's do.
	Published func(ports []Port) `json:"-"`
	// LongRunning starts the cleanup watchdog before Started is called,
	// not 10 ms after the start: a supervisor killed at any moment after
	// Started then leaves no cgroup behind.
	LongRunning bool
	// CrashUnmount, if set, is a mount the caller made for this run (run
	// --rev's throwaway tree): if the caller dies before Run returns
	// (SIGKILL), the watchdog detaches it once the container is gone,
	// as it removes the cgroup. Only where a watchdog runs (a cgroup).
	CrashUnmount string
}

// Network modes.
const (
	NetworkHost = "host" // share the host's network namespace
	NetworkNone = "none" // a new network namespace with only lo, up
)

// NetworkPrivate gives the container its own network namespace with one
// routed veth link to the host (privnet.go): outbound traffic is
// masqueraded (nat.go), Ports are the only way in (portproxy.go), and the
// container cannot reach the host's loopback services nor another
// container's unpublished ports.
const NetworkPrivate = "private"

// DefaultPortIP is the host address a Port without one is published on:
// loopback, so that a published port is never open to the network by
// accident (docker's default of every interface is a common surprise).
const DefaultPortIP = "127.0.0.1"

// Port is a published port: connections to HostIP:HostPort on the host are
// forwarded to ContainerPort inside a private network.
type Port struct {
	HostIP   string // default DefaultPortIP; "0.0.0.0" for every interface
	HostPort int    // 0: an ephemeral port, which the kernel picks as the run binds it
	// HostPortLast, when not 0, makes HostPort to HostPortLast a range
	// the host port is picked from, as docker's -p 8000-8002:80: the
	// first free one as the run binds it (Spec.Published tells which).
	HostPortLast  int
	ContainerPort int
	Proto         string // "tcp" (default) or "udp"; ParsePorts reads "sctp", which a run refuses
}

// DefaultNetwork is the network a run gets unless it asks: private as
// root, because isolation is why a service runs in a container; host
// without root, where a private network cannot be set up (it needs
// CAP_NET_ADMIN on the host for its veth pair and NAT rules).
func DefaultNetwork() string {
	if os.Geteuid() == 0 {
		return NetworkPrivate
	}
	return NetworkHost
}

// DefaultPath is the PATH used to resolve Args[0] when Env has none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// DefaultHostname is the container's host name when Spec.Hostname is "".
const DefaultHostname = "strata"

// Mount is a bind mount of a host path or a tmpfs inside the container.
type Mount struct {
	Type     string // "bind" (default) or "tmpfs"
	Source   string // host path for bind, absolute with no symbolic link on the way (else the start fails with ErrLinkInBindSource's words); ignored for tmpfs
	Target   string // absolute path inside the container
	ReadOnly bool
	Options  string // tmpfs options as docker's --tmpfs takes them: "rw,exec,size=64m,mode=1777"; noexec, nosuid and nodev unless exec, suid, dev
}

// Resources are cgroup limits. Zero means unlimited. Every container run as
// root gets a cgroup (for the device rules and the freezer); the limits only
// add controllers to it.
type Resources struct {
	MemoryBytes int64 // memory limit
	// MemorySwap is docker's --memory-swap, with MemoryBytes only:
	// memory and swap together, at least MemoryBytes; -1 for no limit
	// on swap; 0 for MemoryBytes (no swap).
	MemorySwap int64
	CPUs       float64 // CPU quota in cores, e.g. 0.5
	PidsLimit  int64   // maximum number of tasks, at most MaxPidsLimit
	// CpusetCpus and CpusetMems are the CPUs and memory nodes the
	// container may use, as lists ("0-3,6"; see CheckCpuset); "" for all.
	CpusetCpus, CpusetMems string
}

// MaxPidsLimit is the largest pids.max the kernel takes: PID_MAX_LIMIT on
// a 64-bit kernel, as many tasks as it can ever have.
const MaxPidsLimit = 4 << 20

func (r Resources) any() bool {
	return r.MemoryBytes > 0 || r.CPUs > 0 || r.PidsLimit > 0 || r.cpuset()
}

func (r Resources) cpuset() bool { return r.CpusetCpus != "" || r.CpusetMems != "" }

// Exit codes for failures before the user's process runs, as docker uses them.
const (
	CodeRuntime       = 125 // the runtime failed to set up or start the container
	CodeNotExecutable = 126 // Args[0] exists but cannot be executed
	CodeNotFound      = 127 // Args[0] was not found
)

// Sentinel errors, matched with errors.Is on an *ExitError.
var (
	ErrRuntime       = errors.New("container runtime failure")
	ErrNotExecutable = errors.New("command not executable")
	ErrNotFound      = errors.New("command not found")
	// ErrRootless is wrapped when the caller is not root and a user
	// namespace cannot provide what the spec needs.
	ErrRootless = errors.New("rootless mode unavailable")
	// ErrNotRunning is wrapped by Freeze when no container has the id.
	ErrNotRunning = errors.New("container not running")
)

// ExitError reports that the container's process could not be started.
// Code is the exit status a shell should use: 125, 126 or 127.
type ExitError struct {
	Code int
	Err  error // one-line cause, e.g. "start container: pivot_root: ..."
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Is lets errors.Is(err, ErrNotFound) and friends match by exit code.
func (e *ExitError) Is(target error) bool {
	switch target {
	case ErrRuntime:
		return e.Code == CodeRuntime
	case ErrNotExecutable:
		return e.Code == CodeNotExecutable
	case ErrNotFound:
		return e.Code == CodeNotFound
	}
	return false
}

// startPrefix begins the errors of a container's start (Join drops it).
const startPrefix = "start container: "

func runtimeErr(format string, args ...any) *ExitError {
	return &ExitError{Code: CodeRuntime, Err: fmt.Errorf(startPrefix+format, args...)}
}

// Winsize is a terminal's size in characters.
type Winsize struct{ Rows, Cols uint16 }
