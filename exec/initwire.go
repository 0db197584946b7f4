package exec

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// The parent and the init talk over pipes in a plain binary layout, not
// JSON: decoding JSON (reflection over initConfig, base64 of the seccomp
// program) took 0.2 ms of every start in the init, and encoding/json was
// the largest package the init linked for it.
//
// The config: a 4-byte length, an 8-byte signature of initConfig's layout
// (wireSignature), then its fields in declaration order: strings and byte slices as a uvarint length and the bytes, lists
// as a uvarint count and their elements, bools as one byte, integers as
// uvarints. TestInitConfigWire fills every field by reflection, so a new
// field that is not sent fails it.

// wireSignature hashes initConfig's field names and types. An init built
// from other sources than the strata that starts it (a stale
// cmd/strata/initbin after "go build" without make) refuses the config
// with a clear error instead of misreading it. Computed when first used:
// a direct start sends no config.
var wireSignature = sync.OnceValue(func() uint64 {
	h := fnv.New64a()
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			h.Write([]byte(f.Name + " " + f.Type.String() + ";"))
			if e := f.Type; e.Kind() == reflect.Slice && e.Elem().Kind() == reflect.Struct {
				walk(e.Elem())
			}
		}
	}
	walk(reflect.TypeOf(initConfig{}))
	return h.Sum64()
})

var errWireSignature = errors.New("strata-init was built from other sources than this strata (the config layout differs): rebuild both with make build")

type wireWriter struct{ b []byte }

func (w *wireWriter) uint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *wireWriter) bytes(s []byte) {
	w.uint(uint64(len(s)))
	w.b = append(w.b, s...)
}
func (w *wireWriter) str(s string) {
	w.uint(uint64(len(s)))
	w.b = append(w.b, s...)
}
func (w *wireWriter) strs(l []string) {
	w.uint(uint64(len(l)))
	for _, s := range l {
		w.str(s)
	}
}
func (w *wireWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

func (w *wireWriter) rlimits(l []Rlimit) {
	w.uint(uint64(len(l)))
	for _, r := range l {
		w.uint(uint64(r.Resource))
		w.uint(r.Soft)
		w.uint(r.Hard)
		w.str(r.Name)
	}
}

var errWire = errors.New("malformed config")

type wireReader struct {
	b   []byte
	err error
}

func (r *wireReader) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err, r.b = errWire, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a length, refusing one larger than the bytes left (every
// byte or list element takes at least a byte).
func (r *wireReader) count() uint64 {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.err, r.b = errWire, nil
		return 0
	}
	return n
}
func (r *wireReader) bytes() []byte {
	n := r.count()
	if n == 0 {
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}
func (r *wireReader) str() string { return string(r.bytes()) }
func (r *wireReader) strs() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	l := make([]string, n)
	for i := range l {
		l[i] = r.str()
	}
	return l
}
func (r *wireReader) rlimits() []Rlimit {
	n := r.count()
	if n == 0 {
		return nil
	}
	l := make([]Rlimit, n)
	for i := range l {
		l[i].Resource = int(r.uint())
		l[i].Soft, l[i].Hard = r.uint(), r.uint()
		l[i].Name = r.str()
	}
	return l
}
func (r *wireReader) bool() bool {
	if len(r.b) == 0 {
		r.err = errWire
		return false
	}
	v := r.b[0] != 0
	r.b = r.b[1:]
	return v
}

// encode lays the config out, length first.
func (c *initConfig) encode() []byte {
	w := &wireWriter{b: make([]byte, 12, 512+len(c.Seccomp))}
	binary.LittleEndian.PutUint64(w.b[4:], wireSignature())
	w.str(c.Root)
	w.strs(c.Args)
	w.strs(c.Env)
	w.str(c.Cwd)
	w.str(c.User)
	w.strs(c.GroupAdd)
	w.str(c.Hostname)
	w.bool(c.Terminal)
	w.uint(uint64(c.Rows))
	w.uint(uint64(c.Cols))
	w.uint(uint64(len(c.Mounts)))
	for _, m := range c.Mounts {
		w.str(m.Type)
		w.str(m.Source)
		w.str(m.Target)
		w.bool(m.ReadOnly)
		w.str(m.Options)
	}
	w.bool(c.ReadOnlyRoot)
	w.bool(c.NewNet)
	w.bool(c.HostDNS)
	w.bool(c.Privileged)
	w.strs(c.Caps)
	w.bytes(c.Seccomp)
	w.str(c.EtcDir)
	w.strs(c.CgroupV1)
	w.bool(c.CgroupV2)
	w.strs(c.JoinTasks)
	w.bool(c.Init)
	w.bool(c.UserNS)
	w.bool(c.Joined)
	w.rlimits(c.Rlimits)
	w.uint(uint64(len(c.Devices)))
	for _, d := range c.Devices {
		w.str(d.Path)
		w.str(d.HostPath)
		w.uint(uint64(d.Type))
		w.uint(uint64(d.Major))
		w.uint(uint64(d.Minor))
		w.uint(uint64(d.Mode))
		w.uint(uint64(d.UID))
		w.uint(uint64(d.GID))
		w.str(d.Access)
	}
	w.strs(c.Sysctls)
	binary.LittleEndian.PutUint32(w.b, uint32(len(w.b)-4))
	return w.b
}

// decode is the inverse of encode, without the length.
func (c *initConfig) decode(b []byte) error {
	if len(b) < 8 {
		return errWire
	}
	if binary.LittleEndian.Uint64(b) != wireSignature() {
		return errWireSignature
	}
	r := &wireReader{b: b[8:]}
	c.Root = r.str()
	c.Args = r.strs()
	c.Env = r.strs()
	c.Cwd = r.str()
	c.User = r.str()
	c.GroupAdd = r.strs()
	c.Hostname = r.str()
	c.Terminal = r.bool()
	c.Rows = uint16(r.uint())
	c.Cols = uint16(r.uint())
	if n := r.count(); n > 0 {
		c.Mounts = make([]Mount, n)
		for i := range c.Mounts {
			m := &c.Mounts[i]
			m.Type, m.Source, m.Target = r.str(), r.str(), r.str()
			m.ReadOnly = r.bool()
			m.Options = r.str()
		}
	}
	c.ReadOnlyRoot = r.bool()
	c.NewNet = r.bool()
	c.HostDNS = r.bool()
	c.Privileged = r.bool()
	c.Caps = r.strs()
	c.Seccomp = r.bytes()
	c.EtcDir = r.str()
	c.CgroupV1 = r.strs()
	c.CgroupV2 = r.bool()
	c.JoinTasks = r.strs()
	c.Init = r.bool()
	c.UserNS = r.bool()
	c.Joined = r.bool()
	c.Rlimits = r.rlimits()
	if n := r.count(); n > 0 {
		c.Devices = make([]Device, n)
		for i := range c.Devices {
			d := &c.Devices[i]
			d.Path, d.HostPath = r.str(), r.str()
			d.Type = byte(r.uint())
			d.Major, d.Minor, d.Mode = uint32(r.uint()), uint32(r.uint()), uint32(r.uint())
			d.UID, d.GID = uint32(r.uint()), uint32(r.uint())
			d.Access = r.str()
		}
	}
	c.Sysctls = r.strs()
	if r.err == nil && len(r.b) != 0 {
		return errWire
	}
	return r.err
}

// readConfig reads the config from fd (the init's end of the pipe).
func readConfig(fd int) (*initConfig, error) {
	b, err := readFrame(fd)
	if err != nil {
		return nil, err
	}
	cfg := &initConfig{}
	return cfg, cfg.decode(b)
}

// readFrame reads what a 4-byte length announces.
func readFrame(fd int) ([]byte, error) {
	var n [4]byte
	if err := readFull(fd, n[:]); err != nil {
		return nil, err
	}
	size := binary.LittleEndian.Uint32(n[:])
	if size > 64<<20 {
		return nil, errWire
	}
	b := make([]byte, size)
	if err := readFull(fd, b); err != nil {
		return nil, err
	}
	return b, nil
}

func readFull(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Read(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrUnexpectedEOF
		}
		b = b[n:]
	}
	return nil
}

// The status: the exit code in decimal, a newline, the message.
func (e initError) encode() []byte {
	return []byte(strconv.Itoa(e.Code) + "\n" + e.Msg)
}

// parseInitError reads a status the init wrote; ok is false when it is
// not one (then the caller reports the raw text).
func parseInitError(b []byte) (e initError, ok bool) {
	code, msg, found := strings.Cut(string(b), "\n")
	n, err := strconv.Atoi(code)
	if !found || err != nil || n == 0 {
		return initError{}, false
	}
	return initError{Code: n, Msg: msg}, true
}
