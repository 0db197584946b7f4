package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// The lifecycle commands of detached runs (run -d): ps, logs, stop, kill,
// wait, restart, rm (pause, unpause: cmd_pause.go; top: cmd_top.go; port:
// cmd_port.go; stats: cmd_stats.go). See docs/guide.md, "Running a service".

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
		Use:   "ps [-a] [-q] [--no-trunc] [-f KEY=VALUE]... [--format json|TEMPLATE]",
		Short: "List detached runs (running ones; -a: all)",
		Long: `List detached runs, as docker ps: NAME, REV, STATUS ("Up 2 minutes",
"Up 2 minutes (Paused)", "Exited (0) 5 seconds ago"), PORTS, COMMAND,
CREATED. -a lists ended runs too; -q prints names only. COMMAND is cut
at 30 characters unless --no-trunc.

-f (--filter) keeps the runs that match, as docker's: name=REGEXP (part of
the name), status=created|restarting|running|paused|exited (which lists
ended runs without -a), exited=CODE, label=KEY or label=KEY=VALUE (run's
-l, or its image's). Several of one key: any of them (label: all of
them); of different keys: all of them.

--format TEMPLATE prints each run through a Go template, as docker ps
--format does: {{.Names}} (also {{.ID}}: runs are named), {{.Image}} (the
REV), {{.Command}}, {{.Status}}, {{.State}}, {{.Ports}}, {{.CreatedAt}},
{{.RunningFor}}, {{.Labels}} (KEY=VALUE,...), {{.Label "KEY"}},
{{.Mounts}}; docker's functions json, join, split, lower, upper, title,
pad (up to 1024 spaces a side), truncate, println; "table TEMPLATE" adds
a header row and aligns the columns.

--format json prints an array, one object a run, with docker's "state"
(created, running, paused, restarting, exited) and "status" (the STATUS
column), and "name", "rev", "commit", "command", "pid", "created", "started",
"finished", "exit_code", "restarts", "ports" (as bound at its last start:
an ephemeral one with the port it got), "exposed" (the image's EXPOSE,
--expose, -p), "log", "labels"; then the run's
record, as start, restart and exec read it: "argv" and "cwd" (strata's
command line and directory), "restart", "supervisor_pid",
"supervisor_lock_fd" (its descriptor of the run's lock), "tree" (the
throwaway work tree), "remove" (--rm), "stop_timeout", "stop_signal",
"env", "user", "workdir", "privileged", "cap_add", "cap_drop", "group_add",
"ulimits", "host_paths" (where each host path it names led), and
"config", what commit --from writes besides those: "env" (the image's
Env with -e's, without run's HOSTNAME), "entrypoint" and "cmd" (as run
ran them).

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			var tmpl *rowTemplate
			if format != "" && format != "json" && format != "table" && format != "text" {
				var err error
				if tmpl, err = parseRowTemplate("ps", format, psView{}); err != nil {
					return err
				}
			}
			if quiet && (format == "json" || tmpl != nil) {
				return usagef("ps: -q prints names; it does not combine with --format")
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
			ents, err := readServices(r)
			if err != nil {
				return fmt.Errorf("ps: %w", err)
			}
			finishRemovalsIn(r, ents)
			var rows []psRow
			for _, s := range svcsIn(r, ents) {
				status, code := s.status()
				if status == "running" && s.paused() {
					status = "paused"
				}
				if status == "exited" && !all || !keep(s.st.Name, status, code, s.st.Labels) {
					continue
				}
				st := s.st
				st.Status = status
				if status == "exited" && code >= 0 {
					st.ExitCode = &code
				}
				rows = append(rows, psRow{svcState: st, State: status, Status: describeStatus(s, status, code)})
			}
			if tmpl != nil {
				return printPsTemplate(g.stdout, tmpl, rows, noTrunc)
			}
			if format == "json" {
				if rows == nil {
					rows = []psRow{}
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
				v := x.view(noTrunc)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Names, v.Image, v.Status,
					v.Ports, v.Command, v.RunningFor)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "also list runs that have ended")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the runs' names")
	cmd.Flags().StringArrayVarP(&filters, "filter", "f", nil, "keep the runs that match `KEY=VALUE`: name=REGEXP, status=STATE, exited=CODE, label=KEY[=VALUE]")
	cmd.Flags().StringVar(&format, "format", "", "table (default), json, or a Go template as docker's: '{{.Names}}\\t{{.Status}}', 'table {{.Names}}'")
	cmd.Flags().BoolVar(&noTrunc, "no-trunc", false, "print the whole COMMAND")
	return cmd
}

// describeStatus is docker's STATUS column: "Up 5 seconds", "Exited (0) 3
// minutes ago", "Restarting (1) 2 seconds ago".
func describeStatus(s *svc, status string, code int) string {
	switch status {
	case "running":
		return "Up " + humanSince(s.st.Started)
	case "paused":
		return "Up " + humanSince(s.st.Started) + " (Paused)"
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
