package handover

import "syscall"

// The front marks the process it hands over with HandedOverVar, so that
// a front installed as strata-full refuses instead of exec'ing itself
// forever. The variable alone proved nothing: set in a user's shell it
// made the front refuse every command only the full build has ("is not
// strata's full build"). Its value is now Mark, what an exec keeps and
// no other process has: the process id and the time it started (a
// process id alone is used again once its process has gone). Reading it
// costs a read of /proc/self/stat, made only on the way to the full
// build, never on a front command's.

// Mark is this process's "PID:START" (START from /proc/self/stat, in
// clock ticks since boot); false when /proc cannot tell it.
func Mark() (string, bool) {
	b, ok := readSmall("/proc/self/stat")
	if !ok {
		return "", false
	}
	start, ok := statStart(b)
	if !ok {
		return "", false
	}
	return itoa(syscall.Getpid()) + ":" + start, true
}

// HandedOver reports whether the front exec'd this very process: it has
// HandedOverVar set to its own Mark.
func HandedOver() bool {
	v, set := syscall.Getenv(HandedOverVar)
	if !set {
		return false
	}
	mark, ok := Mark()
	return ok && v == mark
}

// Env is env with HandedOverVar set to mark, for the full build exec'd
// in this process. A setting env already held is dropped, not shadowed:
// the first of two settings is the one getenv finds.
func Env(env []string, mark string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !hasPrefix(kv, HandedOverVar+"=") {
			out = append(out, kv)
		}
	}
	return append(out, HandedOverVar+"="+mark)
}

// statStart is field 22 of /proc/PID/stat, the start time. The second
// field, the command name in parentheses, may hold spaces and ')': the
// fields are counted from the last ')'.
func statStart(b []byte) (string, bool) {
	i := len(b) - 1
	for i >= 0 && b[i] != ')' {
		i--
	}
	if i < 0 {
		return "", false
	}
	field := 2 // the one ending at b[i]
	for j := i + 1; j < len(b); j++ {
		if b[j] != ' ' {
			continue
		}
		field++
		if field == 22 {
			k := j + 1
			for k < len(b) && b[k] >= '0' && b[k] <= '9' {
				k++
			}
			if k == j+1 {
				return "", false
			}
			return string(b[j+1 : k]), true
		}
	}
	return "", false
}

// readSmall reads a file of at most 4 KiB (a /proc file of numbers).
func readSmall(name string) ([]byte, bool) {
	fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer syscall.Close(fd)
	buf := make([]byte, 4096)
	for {
		n, err := syscall.Read(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return nil, false
		}
		return buf[:n], true
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}
