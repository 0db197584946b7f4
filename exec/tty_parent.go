//go:build !strata_init

package exec

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// recvMaster receives the pty master from the container init. EOF means the
// init failed before it got that far.
func recvMaster(sock *os.File) (*os.File, error) { return recvFile(sock, "pty master") }

// recvFile receives the one file that sock brings (what names it). EOF
// means the sender ended before it sent it.
func recvFile(sock *os.File, what string) (*os.File, error) {
	fd, err := recvFd(sock, what)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), what), nil
}

// recvFd is recvFile's descriptor, as it came.
func recvFd(sock *os.File, what string) (int, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("receive %s: %w", what, err)
	}
	if n == 0 {
		return -1, io.EOF
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return -1, fmt.Errorf("receive %s: bad control message", what)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("receive %s: bad rights", what)
	}
	return fds[0], nil
}

// The caller's side of the terminal (is it one, raw mode, its size) is
// golang.org/x/term. What x/term cannot do stays on x/sys/unix: opening
// and unlocking the pty inside the container (TIOCSPTLCK, TIOCGPTN),
// making it the controlling terminal (TIOCSCTTY), and setting a size on
// the pty master (TIOCSWINSZ), for x/term only reads sizes.

// TerminalOf returns the fd of v (an *os.File) when it is a terminal.
func TerminalOf(v any) (int, bool) {
	f, ok := v.(*os.File)
	if !ok || f == nil || !term.IsTerminal(int(f.Fd())) {
		return -1, false
	}
	return int(f.Fd()), true
}

// TerminalSize is the rows and columns of terminal fd, ok false when it
// has none (a pty nobody sized reports 0x0).
func TerminalSize(fd int) (rows, cols uint16, ok bool) {
	w, h, err := term.GetSize(fd)
	if err != nil || h <= 0 || w <= 0 || h > 0xffff || w > 0xffff {
		return 0, 0, false
	}
	return uint16(h), uint16(w), true
}

// copySize copies the window size of terminal fd to the pty master.
func copySize(fd int, master *os.File) {
	if rows, cols, ok := TerminalSize(fd); ok {
		unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
	}
}

// terminalSocket makes the socket pair a container's init (or a joined
// process) sends its pty master back over, and picks the caller's
// terminal: the parent's end is returned, the child's is c.ttyChild.
func terminalSocket(c *container) (*os.File, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, runtimeErr("socketpair: %w", err)
	}
	c.ttyChild = os.NewFile(uintptr(pair[1]), "tty-child")
	c.pickTerminal()
	return os.NewFile(uintptr(pair[0]), "tty-parent"), nil
}

// pickTerminal makes the caller's terminal (stdin's, else stdout's) the one
// the container's pty follows.
func (c *container) pickTerminal() {
	if fd, ok := TerminalOf(c.spec.Stdin); ok {
		c.ttyFd = fd
	} else if fd, ok := TerminalOf(c.spec.Stdout); ok {
		c.ttyFd = fd
	}
}

// sizeTerminal asks cfg for a pty the size of the caller's terminal
// (80x24 without one), as it is now.
func (c *container) sizeTerminal(cfg *initConfig) {
	cfg.Terminal, cfg.Rows, cfg.Cols = true, 24, 80
	if c.ttyFd >= 0 {
		if rows, cols, ok := TerminalSize(c.ttyFd); ok {
			cfg.Rows, cfg.Cols = rows, cols
		}
	}
}

// canonicalInput reads the complete lines and ends of file that terminal
// fd, still canonical, holds: each end of file becomes the EOF character
// (^D) the pty passes on as one. Left queued, an end of file (^D typed
// before the command ran; script(1) queues one when its own stdin ends)
// reads as a NUL once the terminal is raw, which reached the command as
// a character it echoed: "^@".
func canonicalInput(fd int) []byte {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil || t.Lflag&unix.ICANON == 0 {
		return nil
	}
	var pending []byte
	buf := make([]byte, 4096)
	for len(pending) < 1<<16 {
		// Canonical: readable only with a whole line or an end of file.
		ready := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(ready, 0); err != nil || n == 0 || ready[0].Revents&unix.POLLIN == 0 {
			break
		}
		n, err := unix.Read(fd, buf)
		if err != nil {
			break
		}
		if n == 0 {
			pending = append(pending, t.Cc[unix.VEOF])
			continue
		}
		pending = append(pending, buf[:n]...)
	}
	return pending
}
