package exec

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ValidSignal says whether s names a signal as docker's
// signal.ParseSignal reads STOPSIGNAL: a number from 1 to 64, or a name
// with or without SIG (RTMIN+n and RTMAX-n too), in any case.
func ValidSignal(s string) bool {
	if n, err := strconv.Atoi(s); err == nil {
		return n >= 1 && n <= 64
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	for _, base := range []string{"RTMIN", "RTMAX"} {
		if rest, ok := strings.CutPrefix(name, base); ok {
			if rest == "" {
				return true
			}
			n, err := strconv.Atoi(rest[1:])
			return len(rest) > 1 && (rest[0] == '+' && base == "RTMIN" || rest[0] == '-' && base == "RTMAX") && err == nil && n >= 1 && n <= 30
		}
	}
	return unix.SignalNum("SIG"+name) != 0
}
