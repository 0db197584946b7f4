package exec

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// seccompCache holds one compiled program per capability set (the key is
// strings.Join(caps, ",")); the entry's once makes a compile that Prewarm
// started and Run's own share the work.
var seccompCache struct {
	mu sync.Mutex
	m  map[string]*seccompEntry
}

type seccompEntry struct {
	once sync.Once
	b    []byte
	err  error
}

// seccompBytes returns the program for caps in the kernel's sock_filter
// layout, compiled once per capability set and process.
func seccompBytes(caps []string) ([]byte, error) {
	key := strings.Join(caps, ",")
	seccompCache.mu.Lock()
	if seccompCache.m == nil {
		seccompCache.m = map[string]*seccompEntry{}
	}
	e := seccompCache.m[key]
	if e == nil {
		e = &seccompEntry{}
		seccompCache.m[key] = e
	}
	seccompCache.mu.Unlock()
	e.once.Do(func() {
		if key == precompiledSeccompKey && precompiledSeccomp != "" {
			e.b = []byte(precompiledSeccomp)
			return
		}
		prog, err := seccompProgram(caps)
		if err != nil {
			e.err = err
			return
		}
		e.b = seccompEncode(prog)
	})
	return e.b, e.err
}

// seccompEncode lays prog out as the kernel's sock_filter array.
func seccompEncode(prog []unix.SockFilter) []byte {
	b := make([]byte, 0, 8*len(prog))
	for _, f := range prog {
		b = binary.NativeEndian.AppendUint16(b, f.Code)
		b = append(b, f.Jt, f.Jf)
		b = binary.NativeEndian.AppendUint32(b, f.K)
	}
	return b
}

// seccompFromBytes is the inverse of seccompBytes.
func seccompFromBytes(b []byte) []unix.SockFilter {
	prog := make([]unix.SockFilter, len(b)/8)
	for i := range prog {
		r := b[8*i:]
		prog[i] = unix.SockFilter{Code: binary.NativeEndian.Uint16(r), Jt: r[2], Jf: r[3], K: binary.NativeEndian.Uint32(r[4:])}
	}
	return prog
}

// loadSeccomp installs prog on the calling thread. no_new_privs must be set.
func loadSeccomp(prog []unix.SockFilter) error {
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&fprog)), 0, 0); err != nil {
		return fmt.Errorf("load seccomp filter: %w", err)
	}
	return nil
}
