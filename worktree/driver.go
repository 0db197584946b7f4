package worktree

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// mergeDriver is a user's resolver for some paths: [merge "<pattern>"]
// driver = <command>, as git's merge drivers (which git finds through
// .gitattributes; strata names the pattern in the config itself).
type mergeDriver struct{ pattern, command string }

// mergeDrivers reads merge.<pattern>.driver from the config, in file order.
func (w *Worktree) mergeDrivers() ([]mergeDriver, error) {
	var out []mergeDriver
	for _, p := range w.Repo.Config.Subsections("merge") {
		cmd, ok := w.Repo.Config.Get("merge." + p + ".driver")
		if !ok || cmd == "" {
			continue
		}
		if _, err := path.Match(p, "/"); err != nil {
			return nil, fmt.Errorf("merge.%s.driver: bad pattern: %w", p, err)
		}
		out = append(out, mergeDriver{pattern: p, command: cmd})
	}
	return out, nil
}

// match: a pattern with a slash matches the absolute path, one without
// matches the base name (as .gitattributes).
func (d mergeDriver) match(p string) bool {
	if strings.Contains(d.pattern, "/") {
		ok, _ := path.Match(d.pattern, p)
		return ok
	}
	ok, _ := path.Match(d.pattern, path.Base(p))
	return ok
}

// runDriver runs the first driver that matches p, as git does: %O, %A and
// %B are files holding the base's, ours' and theirs' content, %P the
// path; the driver leaves the result in %A and exits 0 if it resolved the
// merge, non-zero if conflicts remain (the file then holds what the
// driver left). handled is false when no driver matches.
func (w *Worktree) runDriver(ctx context.Context, drivers []mergeDriver, p string, base, ours, theirs []byte) (out []byte, conflicts int, handled bool, err error) {
	var d *mergeDriver
	for i := range drivers {
		if drivers[i].match(p) {
			d = &drivers[i]
			break
		}
	}
	if d == nil {
		return nil, 0, false, nil
	}
	dir, err := os.MkdirTemp(w.Repo.Objects.TempDir(), "driver-")
	if err != nil {
		return nil, 0, false, err
	}
	defer os.RemoveAll(dir)
	files := map[string]string{"%O": filepath.Join(dir, "base"), "%A": filepath.Join(dir, "ours"), "%B": filepath.Join(dir, "theirs")}
	for k, b := range map[string][]byte{"%O": base, "%A": ours, "%B": theirs} {
		if err := os.WriteFile(files[k], b, 0o600); err != nil {
			return nil, 0, false, err
		}
	}
	// The files are named relative to the driver's directory, as git
	// names them: the project directory, in their full paths, may hold
	// spaces or shell syntax, and "%A" or %A then both work.
	cmdline := strings.NewReplacer("%O", "base", "%A", "ours", "%B", "theirs", "%P", shellQuote(p), "%%", "%").Replace(d.command)
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", cmdline)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	runErr := cmd.Run()
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		return nil, 0, false, fmt.Errorf("merge driver for %s (merge.%s.driver): %w", p, d.pattern, runErr)
	}
	if out, err = os.ReadFile(files["%A"]); err != nil {
		return nil, 0, false, fmt.Errorf("merge driver for %s: %w", p, err)
	}
	if runErr != nil {
		return out, 1, true, nil
	}
	return out, 0, true, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
