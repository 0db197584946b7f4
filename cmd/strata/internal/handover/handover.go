package handover

// Only syscall and what it imports itself (slices among them): strings,
// path or os would make this package wait for theirs (unicode, io, ...),
// which Go initialises after the packages this one is to run before.
import (
	"slices"
	"syscall"
)

// FullName is the full build's file name, beside the front's.
const FullName = "strata-full"

// HandedOverVar marks a process the front exec'd, so that a front copied
// over strata-full fails once instead of exec'ing itself forever. Its
// value is the process's Mark: a user's shell may hold the variable
// (exported, inherited), and it must not make the front refuse what only
// the full build runs.
const HandedOverVar = "STRATA_FRONT_HANDOVER"

// ReexecVar is exec.ModeVar: a process with it set is strata's binary
// re-executed as one of its helpers (a container's init when no smaller
// init is embedded, a join), whose arguments are no command line.
const ReexecVar = "_STRATA_EXEC_MODE"

// fullOnly are the commands only the full build has: the registry
// client's and build's (their packages are left out of the front) and
// docs. A test compares the list with the commands the two builds
// register.
var fullOnly = []string{"build", "clone", "docs", "export", "fetch", "login", "logout", "ls-remote", "pull", "push", "remote"}

// CommandWord is the command args name, after the global flags (-C DIR,
// --chdir DIR, --verbose); "" when there is none, or when it is "",
// which names none (CommandIndex tells them apart).
func CommandWord(args []string) string {
	if i := CommandIndex(args); i >= 0 {
		return args[i]
	}
	return ""
}

// CommandIndex is where in args CommandWord is; -1 when there is none.
func CommandIndex(args []string) int {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-C" || a == "--chdir":
			i++ // its value
		case hasPrefix(a, "-C") || hasPrefix(a, "--chdir=") || hasPrefix(a, "--verbose"):
		default:
			return i
		}
	}
	return -1
}

// Early reports whether the front hands args (without the program name)
// over before it initialises: a command only the full build has, help,
// completion, or no command at all (the command list) or a flag in its
// place (--help, --version), all of which list every command. An unknown
// word is left to the front's main, which hands it over too.
func Early(args []string) bool {
	switch word := CommandWord(args); {
	case word == "" || word == "help" || word == "completion" || hasPrefix(word, "-"):
		return true
	default:
		return slices.Contains(fullOnly, word)
	}
}

// execFull replaces the process with the full build beside the front,
// running argv; it returns only if it could not.
func execFull(argv []string) {
	mark, ok := Mark()
	if !ok || HandedOver() {
		return
	}
	// A helper has no command line. The variable in a user's shell, which
	// Reexec drops (exec.StartedByStrata), only leaves the hand-over to
	// main's.
	if _, set := syscall.Getenv(ReexecVar); set {
		return
	}
	self, err := readlink("/proc/self/exe") // links resolved: a link to strata elsewhere still finds strata-full
	if err != nil {
		return
	}
	full := self[:lastSlash(self)+1] + FullName
	syscall.Exec(full, argv, Env(syscall.Environ(), mark))
}

// early hands the process over if its arguments ask for the full build.
func early() {
	argv, err := cmdline()
	if err != nil || len(argv) == 0 || !Early(argv[1:]) {
		return
	}
	execFull(argv)
}

// cmdline is the process's argv, read from /proc: os.Args is not set
// until os initialises, which is what this package runs before.
func cmdline() ([]string, error) {
	fd, err := syscall.Open("/proc/self/cmdline", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	var b []byte
	buf := make([]byte, 4096)
	for {
		n, err := syscall.Read(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		b = append(b, buf[:n]...)
	}
	// Each argument ends with a NUL, an empty one included.
	var args []string
	for len(b) > 0 {
		i := slices.Index(b, 0)
		if i < 0 {
			i = len(b) // not from the kernel; kept whole all the same
		}
		args = append(args, string(b[:i]))
		b = b[min(i+1, len(b)):]
	}
	return args, nil
}

func readlink(name string) (string, error) {
	for n := 256; ; n *= 2 {
		buf := make([]byte, n)
		k, err := syscall.Readlink(name, buf)
		if err != nil {
			return "", err
		}
		if k < n {
			return string(buf[:k]), nil
		}
	}
}

func hasPrefix(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }

// lastSlash is the index of the last '/' in s, -1 if none.
func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}
