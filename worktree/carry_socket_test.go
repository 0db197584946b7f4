package worktree

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
)

// TestSocketAcrossSwitch pins what docs/checkout.md says of a socket in
// the tree, with a real listener bound there: a switch that carries the
// same upper leaves its node, a staged carry (a copy of the changes: no
// layer holds a socket) drops it, and either way the listener is no
// longer reached through that path (the overlay mounted is a new one). As
// git's, status shows no socket as a change.
func TestSocketAcrossSwitch(t *testing.T) {
	for _, stacked := range []bool{false, true} {
		t.Run(map[bool]string{false: "same upper", true: "staged"}[stacked], func(t *testing.T) {
			_, _, w := carrySetup(t, func(dir string) {
				must(t, os.MkdirAll(dir+"/etc", 0o755))
				must(t, write(dir+"/etc/motd", "hello\n"))
			})
			if stacked {
				stackOnMount(t, w)
			}
			root := w.Target()
			l, err := net.Listen("unix", root+"/s.sock")
			must(t, err)
			defer l.Close()
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
			if c, err := net.Dial("unix", root+"/s.sock"); err != nil {
				t.Fatalf("the listener before the switch: %v", err)
			} else {
				c.Close()
			}
			must(t, write(root+"/new.txt", "new\n"))
			if _, err := w.Checkout(context.Background(), CheckoutOptions{Rev: "new"}); err != nil {
				t.Fatalf("switch with a socket in the tree: %v", err)
			}
			checkCarried(t, w, []string{"A /new.txt"}, map[string]string{"/new.txt": "new\n"})
			fi, err := os.Lstat(root + "/s.sock")
			switch {
			case stacked && !errors.Is(err, os.ErrNotExist):
				t.Errorf("the socket after a staged carry: %v, %v; want none", fi, err)
			case !stacked && (err != nil || fi.Mode()&os.ModeSocket == 0):
				t.Errorf("the socket after a carry of the same upper: %v, %v; want its node", fi, err)
			}
			_, err = net.Dial("unix", root+"/s.sock")
			if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ENOENT) {
				t.Errorf("the listener through the path after the switch: %v; want refused or none", err)
			}
		})
	}
}
