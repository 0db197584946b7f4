package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/exec"
)

// A detached run's supervisor serves the container's stdio to 'strata
// attach' on a unix socket in the run's directory, which the container
// cannot see (its root is elsewhere) and only root reaches (the
// directory is 0700, the socket 0600). Both sides speak in frames: a
// type byte, a big-endian uint32 length, that many bytes.
const (
	attachSocket = "attach.sock"
	frameStdout  = 'o' // supervisor to attacher: output (a -t run's is all stdout)
	frameStderr  = 'e'
	frameExit    = 'x' // the container's exit code, 4 bytes; the last frame
	frameStdin   = 'i' // attacher to supervisor: input (-i runs only)
	frameResize  = 'w' // rows and columns, 2 bytes each (-t runs only)
	// attachMaxFrame bounds a frame either side reads.
	attachMaxFrame = 64 << 10
	// attachQueue is how many chunks of output wait for one attacher;
	// beyond that, output is dropped for it, not waited for: the
	// container writes on, and the supervisor holds at most this many
	// chunks (of at most attachMaxFrame) per attacher.
	attachQueue = 64
)

func makeFrame(typ byte, p []byte) []byte {
	b := make([]byte, 5+len(p))
	b[0] = typ
	binary.BigEndian.PutUint32(b[1:5], uint32(len(p)))
	copy(b[5:], p)
	return b
}

func readFrame(r io.Reader) (byte, []byte, error) {
	var h [5]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(h[1:])
	if n > attachMaxFrame {
		return 0, nil, fmt.Errorf("a frame of %d bytes", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, err
	}
	return h[0], p, nil
}

// attachAddr is the socket's address: through the run's directory's fd
// under /proc/self/fd, as sun_path holds 108 bytes and the directory
// may be deeper than that. dir must stay open while the address is used.
func attachAddr(dir *os.File) *net.UnixAddr {
	return &net.UnixAddr{Net: "unix", Name: fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), attachSocket)}
}

// attachHub is the supervisor's side: it sends the container's output
// to every attacher, and what they type and their terminal's size to the
// container.
type attachHub struct {
	ln     *net.UnixListener
	path   string
	tty    bool
	stdinR *os.File // -i without -t: the container's stdin, held open across restarts
	stdinW *os.File
	// ttyIn is, with -i and -t (ttyStdin), what attachers type for the
	// pty of the run now (or the next): a channel of each run's own, so
	// that the old run's reader, which exec's copy to its pty may call
	// after it ended, never takes what is typed for the next.
	ttyIn    chan []byte
	ttyStdin bool
	resize   chan exec.Winsize

	mu      sync.Mutex
	conns   map[*attacher]struct{}
	running bool
	code    int
	closed  bool           // the last run has ended: no more attachers
	senders sync.WaitGroup // the attachers' send goroutines
	runDone chan struct{}  // closed when the run now ends: ttyInput's end
}

type attacher struct {
	conn *net.UnixConn
	out  chan []byte
	quit chan struct{} // closed when the run ends: code is its exit code
	code int
	keep bool // keep the connection open after code: the supervisor's end closes it
}

// listenAttach makes s's socket and serves it; interactive and tty are
// run's -i and -t.
func listenAttach(s *svc, interactive, tty bool) (*attachHub, error) {
	h := &attachHub{path: s.path(attachSocket), tty: tty, conns: map[*attacher]struct{}{},
		resize: make(chan exec.Winsize, 1)}
	if interactive && tty {
		h.ttyIn, h.ttyStdin = make(chan []byte), true
	} else if interactive {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		h.stdinR, h.stdinW = r, w
	}
	dir, err := os.Open(s.dir)
	if err != nil {
		h.closeStdin()
		return nil, err
	}
	defer dir.Close()
	os.Remove(h.path) // a dead supervisor's
	h.ln, err = net.ListenUnix("unix", attachAddr(dir))
	if err == nil {
		h.ln.SetUnlinkOnClose(false) // its name under /proc/self/fd is gone
		err = os.Chmod(h.path, 0o600)
	}
	if err != nil {
		if h.ln != nil {
			h.ln.Close()
		}
		h.closeStdin()
		return nil, fmt.Errorf("attach socket: %w", err)
	}
	go h.serve()
	return h, nil
}

func (h *attachHub) closeStdin() {
	if h.stdinR != nil {
		h.stdinR.Close()
		h.stdinW.Close()
	}
}

// close ends the socket; attachers have had their run's end (finish).
func (h *attachHub) close() {
	h.ln.Close()
	os.Remove(h.path)
	h.closeStdin()
}

// prepare readies the hub for the next run, and returns what its
// container reads: nil without -i.
func (h *attachHub) prepare() io.Reader {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.runDone = make(chan struct{})
	switch {
	case h.stdinR != nil:
		return h.stdinR
	case h.ttyStdin:
		return &ttyInput{in: h.ttyIn, done: h.runDone}
	}
	return nil
}

// started is the run's start: attachers from now on see it.
func (h *attachHub) started() {
	h.mu.Lock()
	h.running = true
	h.mu.Unlock()
}

// finish ends every attacher with the run's exit code, after the output
// queued for it. After the last run (final), their connections stay
// open until the supervisor exits: an attach that returns then leaves a
// run that rm and start take as ended.
func (h *attachHub) finish(code int, final bool) {
	h.mu.Lock()
	if h.runDone != nil {
		close(h.runDone)
		h.runDone = nil
	}
	if h.ttyStdin {
		h.ttyIn = make(chan []byte) // the next run's
	}
	h.running, h.code, h.closed = false, code, final
	for a := range h.conns {
		a.code, a.keep = code, final
		// One that stopped reading gets 5 seconds for what is queued
		// and the code, then is dropped.
		a.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		close(a.quit)
		delete(h.conns, a)
	}
	h.mu.Unlock()
	if final {
		// The supervisor exits next: its attachers get the code first.
		h.senders.Wait()
	}
}

// writer is a stream of the container's output for the attachers.
func (h *attachHub) writer(typ byte) io.Writer { return hubWriter{h, typ} }

type hubWriter struct {
	h   *attachHub
	typ byte
}

// Write queues p for every attacher; one whose queue is full misses it.
func (w hubWriter) Write(p []byte) (int, error) {
	w.h.mu.Lock()
	defer w.h.mu.Unlock()
	if len(w.h.conns) == 0 {
		return len(p), nil
	}
	for rest := p; len(rest) > 0; {
		chunk := rest[:min(len(rest), attachMaxFrame)]
		rest = rest[len(chunk):]
		f := makeFrame(w.typ, chunk)
		for a := range w.h.conns {
			select {
			case a.out <- f:
			default:
			}
		}
	}
	return len(p), nil
}

func (h *attachHub) serve() {
	for {
		conn, err := h.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // EMFILE and the like
			continue
		}
		// Only our own user (root) is served; the directory already
		// keeps others out.
		if cred, err := peerCred(conn); err != nil || int(cred.Uid) != os.Geteuid() {
			conn.Close()
			continue
		}
		h.add(conn, false)
	}
}

// add serves conn as an attacher: of the run now, or of the next one
// to start if first (start -a's); else, between restarts, it gets the
// last run's end.
func (h *attachHub) add(conn *net.UnixConn, first bool) {
	a := &attacher{conn: conn, out: make(chan []byte, attachQueue), quit: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		conn.Close()
		return
	}
	if h.running || first {
		h.conns[a] = struct{}{}
	} else { // between restarts: the last run's end
		a.code = h.code
		close(a.quit)
	}
	h.senders.Add(1)
	go h.send(a)
	go h.receive(a)
}

// envAttachFirst tells a supervisor that start -a (or -i) started that
// its fd 4 is a connection to its first attacher, which is served before
// the container starts and so misses none of its output, as docker's
// start -a attaches before it starts the container.
const envAttachFirst = "_STRATA_ATTACH_FIRST"

// adoptFirst serves fd 4 as the first attacher if start -a passed one.
func (h *attachHub) adoptFirst() error {
	if os.Getenv(envAttachFirst) == "" {
		return nil
	}
	os.Unsetenv(envAttachFirst)
	f := os.NewFile(4, "attach")
	c, err := net.FileConn(f) // a CLOEXEC copy: the container gets none
	f.Close()
	if err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	conn, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return fmt.Errorf("attach: fd 4 is not a unix socket")
	}
	h.add(conn, true)
	return nil
}

func peerCred(conn *net.UnixConn) (*unix.Ucred, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var cerr error
	err = raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err == nil {
		err = cerr
	}
	return cred, err
}

// send writes a's output, then the run's exit code once it ends.
func (h *attachHub) send(a *attacher) {
	defer h.senders.Done()
	for {
		select {
		case f := <-a.out:
			if _, err := a.conn.Write(f); err != nil {
				h.drop(a)
				return
			}
		case <-a.quit:
		queued:
			for {
				select {
				case f := <-a.out:
					if _, err := a.conn.Write(f); err != nil {
						a.conn.Close()
						return
					}
				default:
					break queued
				}
			}
			a.conn.Write(makeFrame(frameExit, binary.BigEndian.AppendUint32(nil, uint32(a.code))))
			if !a.keep {
				a.conn.Close()
			}
			return
		}
	}
}

// drop forgets an attacher that went away, and ends its send.
func (h *attachHub) drop(a *attacher) {
	a.conn.Close()
	h.mu.Lock()
	if _, ok := h.conns[a]; ok {
		delete(h.conns, a)
		close(a.quit)
	}
	h.mu.Unlock()
}

// receive takes what a sends: input for the container, its terminal's
// size. Anything else ends it.
func (h *attachHub) receive(a *attacher) {
	defer h.drop(a)
	for {
		typ, p, err := readFrame(a.conn)
		if err != nil {
			return
		}
		switch {
		case typ == frameStdin && h.stdinW != nil:
			h.stdinW.Write(p) // fails only once the supervisor ends
		case typ == frameStdin && h.ttyStdin:
			h.mu.Lock()
			in, done := h.ttyIn, h.runDone
			h.mu.Unlock()
			select {
			case in <- p:
			case <-done: // its run ended before it read p
			case <-a.quit:
				return
			}
		case typ == frameResize && len(p) == 4 && h.tty:
			ws := exec.Winsize{Rows: binary.BigEndian.Uint16(p), Cols: binary.BigEndian.Uint16(p[2:])}
			select { // only the latest size matters
			case <-h.resize:
			default:
			}
			select {
			case h.resize <- ws:
			default:
			}
		case typ == frameStdin || typ == frameResize:
			// Not this run's: no stdin (no -i), no terminal (no -t).
		default:
			return
		}
	}
}

// ttyInput is what attachers type, for one run's pty: it ends with
// the run, and the next run's reads what comes then, from a channel of
// its own.
type ttyInput struct {
	in   <-chan []byte
	done <-chan struct{}
	rest []byte
}

func (t *ttyInput) Read(p []byte) (int, error) {
	if len(t.rest) == 0 {
		select {
		case t.rest = <-t.in:
		case <-t.done:
			return 0, io.EOF
		}
	}
	n := copy(p, t.rest)
	t.rest = t.rest[n:]
	return n, nil
}
