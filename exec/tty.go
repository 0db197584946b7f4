package exec

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// setupTerminal (in the container, after pivot_root) opens a pty in the
// container's own devpts, sends the master to the parent over fdTTY and makes
// the slave stdio, and the controlling terminal if ctty. The pty lives inside the
// container, so /dev/pts/0 and /dev/console name it there.
func setupTerminal(cfg *initConfig, cred credential, ctty bool) error {
	master, slave, err := openTerminal(cfg, cred)
	if err != nil {
		return err
	}
	defer unix.Close(master)
	defer unix.Close(slave)
	if err := unix.Sendmsg(fdTTY, []byte{'m'}, unix.UnixRights(master), nil, 0); err != nil {
		return fmt.Errorf("send pty master: %w", err)
	}
	unix.Close(fdTTY)
	// With Init, the tiny pid 1 leaves the terminal to its child's
	// session, as a joined init that forks the command does.
	if ctty {
		if err := unix.IoctlSetInt(slave, unix.TIOCSCTTY, 0); err != nil {
			return fmt.Errorf("set controlling terminal: %w", err)
		}
	}
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return fmt.Errorf("pty stdio: %w", err)
		}
	}
	return nil
}

// openTerminal opens a pty in the devpts of the calling thread's root (the
// container's), sized as cfg says, its slave owned by cred, and binds the
// slave over /dev/console unless cfg is a joined process. Both fds are
// close-on-exec.
func openTerminal(cfg *initConfig, cred credential) (master, slave int, err error) {
	master, err = unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, -1, fmt.Errorf("open pty: %w", err)
	}
	defer func() {
		if err != nil {
			unix.Close(master)
		}
	}()
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return -1, -1, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(master, unix.TIOCGPTN)
	if err != nil {
		return -1, -1, fmt.Errorf("pty number: %w", err)
	}
	slavePath := fmt.Sprintf("/dev/pts/%d", n)
	slave, err = unix.Open(slavePath, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, -1, fmt.Errorf("open %s: %w", slavePath, err)
	}
	defer func() {
		if err != nil {
			unix.Close(slave)
		}
	}()
	if cfg.Rows > 0 && cfg.Cols > 0 {
		ws := unix.Winsize{Row: cfg.Rows, Col: cfg.Cols}
		if err := unix.IoctlSetWinsize(master, unix.TIOCSWINSZ, &ws); err != nil {
			return -1, -1, fmt.Errorf("set pty size: %w", err)
		}
	}
	if err := unix.Fchown(slave, int(cred.UID), int(cred.GID)); err != nil && !cfg.UserNS {
		return -1, -1, fmt.Errorf("chown %s: %w", slavePath, err)
	}
	// A joined process (exec -t) leaves the running container's console
	// alone: it is the container's, not this process's.
	if !cfg.Joined {
		if fd, err := unix.Open("/dev/console", unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o600); err == nil {
			unix.Close(fd)
			if err := unix.Mount(slavePath, "/dev/console", "", unix.MS_BIND, ""); err != nil {
				return -1, -1, fmt.Errorf("bind /dev/console: %w", err)
			}
		}
	}
	return master, slave, nil
}
