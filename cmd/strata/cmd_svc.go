package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// The lifecycle commands of detached runs (run -d): ps, logs, stop, kill,
// wait, restart, rm. See docs/guide.md, "Running a service".

func init() {
	register("ps", newPsCommand)
	register("logs", newLogsCommand)
	register("stop", newStopCommand)
	register("kill", newKillCommand)
	register("wait", newWaitCommand)
	register("restart", newRestartCommand)
	register("rm", newRmCommand)
}

func newPsCommand(g *globals) *cobra.Command {
	var all, quiet, noTrunc bool
	var format string
	var filters []string
	cmd := &cobra.Command{
		Use:   "ps [-a] [-q] [--no-trunc] [-f KEY=VALUE]... [--format json]",
		Short: "List detached runs (running ones; -a: all)",
		Long: `List detached runs, as docker ps: NAME, REV, STATUS ("Up 2 minutes",
"Exited (0) 5 seconds ago"), PORTS, COMMAND, CREATED. -a lists ended
runs too; -q prints names only. COMMAND is cut at 30 characters unless
--no-trunc.

-f (--filter) keeps the runs that match, as docker's: name=REGEXP (part of
the name), status=created|restarting|running|exited (which lists ended
runs without -a), exited=CODE. Several of one key: any of them; of
different keys: all of them.

--format json prints one object a run, with docker's "state" (created,
running, restarting, exited) and "status" (the STATUS column), and
"name", "rev", "commit", "command", "pid", "created", "started",
"finished", "exit_code", "restarts", "ports", "log".

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "" && format != "json" && format != "table" && format != "text" {
				return usagef("ps --format %s: must be table (or text) or json", format)
			}
			if quiet && format == "json" {
				return usagef("ps: -q prints names; it does not combine with --format json")
			}
			keep, listEnded, err := parsePsFilters(filters)
			if err != nil {
				return err
			}
			all = all || listEnded
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			thawOrphans()
			svcs, err := listSvcs(r)
			if err != nil {
				return fmt.Errorf("ps: %w", err)
			}
			// docker ps's keys: State is the word (running, exited),
			// Status the sentence the STATUS column shows ("Up 1 minute");
			// this Status hides the state file's.
			type row struct {
				svcState
				State  string `json:"state"`
				Status string `json:"status"`
			}
			var rows []row
			for _, s := range svcs {
				status, code := s.status()
				if status == "exited" && !all || !keep(s.st.Name, status, code) {
					continue
				}
				st := s.st
				st.Status = status
				if status == "exited" && code >= 0 {
					st.ExitCode = &code
				}
				rows = append(rows, row{svcState: st, State: status, Status: describeStatus(s, status, code)})
			}
			if format == "json" {
				if rows == nil {
					rows = []row{}
				}
				return writeJSON(g.stdout, rows)
			}
			if quiet {
				// docker ps -q: one name a line, for 'strata rm $(strata ps -aq)'.
				for _, x := range rows {
					fmt.Fprintln(g.stdout, x.Name)
				}
				return nil
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 3, ' ', 0)
			fmt.Fprintln(tw, "NAME\tREV\tSTATUS\tPORTS\tCOMMAND\tCREATED")
			for _, x := range rows {
				rev := x.Rev
				if rev == "" {
					rev = "(checkout)"
				}
				command := strings.Join(x.Command, " ")
				if r := []rune(command); len(r) > 30 && !noTrunc {
					command = string(r[:29]) + "…" // whole characters
				}
				ports := ""
				if x.State == "running" { // docker shows no ports of an ended run
					ports = strings.Join(x.Ports, ",")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%q\t%s ago\n", x.Name, rev, x.Status,
					ports, command, humanSince(x.Created))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "also list runs that have ended")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the runs' names")
	cmd.Flags().StringArrayVarP(&filters, "filter", "f", nil, "keep the runs that match `KEY=VALUE`: name=REGEXP, status=STATE, exited=CODE")
	cmd.Flags().StringVar(&format, "format", "", "table (default) or json")
	cmd.Flags().BoolVar(&noTrunc, "no-trunc", false, "print the whole COMMAND")
	return cmd
}

// describeStatus is docker's STATUS column: "Up 5 seconds", "Exited (0) 3
// minutes ago", "Restarting (1) 2 seconds ago".
func describeStatus(s *svc, status string, code int) string {
	switch status {
	case "running":
		return "Up " + humanSince(s.st.Started)
	case "restarting":
		return fmt.Sprintf("Restarting (%d) %s ago", code, humanSince(s.st.Finished))
	case "created":
		return "Created"
	}
	if s.st.Finished.IsZero() {
		return fmt.Sprintf("Exited (%d)", code)
	}
	return fmt.Sprintf("Exited (%d) %s ago", code, humanSince(s.st.Finished))
}
