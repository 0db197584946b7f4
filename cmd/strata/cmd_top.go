package main

import (
	"bytes"
	"errors"
	"fmt"
	osexec "os/exec"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/repo"
)

func init() { register("top", newTopCommand) }

func newTopCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "top NAME [ps OPTIONS]",
		Short: "List the processes of a detached run (the host's ps, as docker top)",
		Long: `List the processes of a running detached run, as docker top: those in
its cgroup (its pid 1, what that started, and what exec runs there), by
their host pids, as the host's ps (procps) shows them with the OPTIONS
given after NAME (default -ef: UID PID PPID C STIME TTY TIME CMD). ps
itself picks the run's processes (its -q PID,...), so any columns do,
with or without PID. The columns are aligned as docker's; a process's
name and arguments are printed as ps escapes them, and control
characters escaped once more.

  strata top web                 # UID PID PPID C STIME TTY TIME CMD
  strata top web -o pid,rss,args # ps's own columns
  strata top web aux             # BSD options, as ps takes them

There is no --format json, as docker top has none: the columns are ps's.

Exit status: 0 on success, 1 on errors (a run that is not running, or
ps failing: its message), 2 on usage errors.`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEachRun(cmd.Context(), g, args[:1], func(r *repo.Repo, s *svc) error {
				return topSvc(g, s, args[1:])
			})
		},
	}
	// ps's options come after NAME, as they are: -o, -e, aux.
	cmd.Flags().SetInterspersed(false)
	return cmd
}

// topSvc prints the processes of the run s through ps with psArgs.
func topSvc(g *globals, s *svc, psArgs []string) error {
	if _, ok := s.containerPid(); !ok {
		return s.notRunning()
	}
	pids, err := exec.Pids(s.id)
	if errors.Is(err, exec.ErrNotRunning) {
		if _, ok := s.containerPid(); ok {
			return fmt.Errorf("%s has no cgroup to list (a rootless run without limits)", s.st.Name)
		}
		return s.notRunning()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", s.st.Name, err)
	}
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	list := make([]string, len(pids))
	for i, p := range pids {
		list[i] = strconv.Itoa(p)
	}
	ps := osexec.Command("ps", append(psArgs, "-q", strings.Join(list, ","))...)
	var stderr bytes.Buffer
	ps.Stderr = &stderr
	out, err := ps.Output()
	var ee *osexec.ExitError
	// ps exits 1 with no error when none of the pids is left: the run
	// has just ended, its listing the title alone.
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1 && stderr.Len() == 0) {
		msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		if msg != "" {
			return fmt.Errorf("ps %s: %w: %s", strings.Join(psArgs, " "), err, msg)
		}
		return fmt.Errorf("ps %s: %w", strings.Join(psArgs, " "), err)
	}
	printTop(g, out)
	return nil
}

// printTop prints ps's output as docker top does: its title's words as
// columns, each line's words under them, the last column taking the
// rest of the line (CMD and its arguments).
func printTop(g *globals, out []byte) {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	titles := strings.Fields(lines[0])
	if len(titles) == 0 {
		return
	}
	tw := tabwriter.NewWriter(g.stdout, 20, 1, 3, ' ', 0)
	fmt.Fprintln(tw, escapeControls(strings.Join(titles, "\t")))
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) > len(titles) {
			f[len(titles)-1] = strings.Join(f[len(titles)-1:], " ")
			f = f[:len(titles)]
		}
		fmt.Fprintln(tw, escapeControls(strings.Join(f, "\t")))
	}
	tw.Flush()
}
