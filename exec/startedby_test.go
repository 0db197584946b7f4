package exec

import (
	"os"
	osexec "os/exec"
	"path/filepath"
	"testing"
)

// TestModeVarOfAUser: ModeVar in the environment of a process strata did
// not start (a user's shell exported it) changes nothing, whatever its
// value: the process runs as typed. Each mode took over before: the
// watchdog removed the directory its first argument names, the others
// exited 125. With ChildVar naming its fd 3, a pipe, it is strata's
// helper (the watchdog, then, which finds its pipe ended without "d").
func TestModeVarOfAUser(t *testing.T) {
	// The test binary, told to run no test: "-test.run=^$" is also the
	// watchdog's first argument, the directory it removes.
	arg := "-test.run=^$"
	run := func(t *testing.T, env []string, fd3 *os.File) (dirLeft bool, err error) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, arg), 0o700); err != nil {
			t.Fatal(err)
		}
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := osexec.Command(self, arg)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		if fd3 != nil {
			cmd.ExtraFiles = []*os.File{fd3}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("%s", out)
		}
		_, serr := os.Stat(filepath.Join(dir, arg))
		return serr == nil, err
	}
	pipe := func(t *testing.T) (r *os.File, setting string) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		t.Cleanup(func() { r.Close() })
		if setting, err = ChildSetting(r.Fd()); err != nil {
			t.Fatal(err)
		}
		return r, setting
	}
	for _, mode := range []string{"init", "watchdog", "joincg", "join", "joinfd", "limited", "other"} {
		t.Run(mode, func(t *testing.T) {
			r, setting := pipe(t)
			other, _ := pipe(t)
			for _, c := range []struct {
				what string
				env  []string
				fd3  *os.File
			}{
				{"alone", nil, nil},
				{"with a pipe", nil, r},
				{"with another pipe than ChildVar names", []string{setting}, other},
				{"with ChildVar and no fd 3", []string{setting}, nil},
			} {
				left, err := run(t, append([]string{ModeVar + "=" + mode}, c.env...), c.fd3)
				if err != nil || !left {
					t.Errorf("%s: a process with %s=%s set by its user: %v, the directory of its first argument left: %v; want it run as typed", c.what, ModeVar, mode, err, left)
				}
			}
		})
	}
	// The check holds what it refuses: with ChildVar naming its fd 3, the
	// process is strata's watchdog, and its pipe ended without "d".
	r, setting := pipe(t)
	if left, _ := run(t, []string{ModeVar + "=watchdog", setting}, r); left {
		t.Errorf("a watchdog started as strata starts it kept its directory")
	}
}
