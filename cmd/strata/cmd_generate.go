package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
)

func init() { register("generate", newGenerateCommand) }

func newGenerateCommand(g *globals) *cobra.Command {
	gen := &cobra.Command{
		Use:   "generate",
		Short: "Generate files for other tools (systemd units)",
		Args:  noSubcommand,
		RunE:  func(c *cobra.Command, args []string) error { return c.Help() },
	}
	var stopTimeout int
	sd := &cobra.Command{
		Use:   "systemd NAME",
		Short: "Print a systemd unit that starts the detached run NAME at boot",
		Long: `Print a systemd service unit for the detached run NAME (made with
'strata run -d --name NAME'), as 'podman generate systemd' does:

  strata generate systemd web > /etc/systemd/system/strata-web.service
  systemctl daemon-reload && systemctl enable --now strata-web

The unit starts the run again from its recorded command line (strata
restart), tracks its supervisor by its pid file, and stops it with
'strata stop'. The run's --restart policy stays the supervisor's job;
systemd restarts the supervisor only if it dies. A run made with --rm
is refused: the unit's stop would remove it. The unit runs strata by the
path you ran it by (a link in PATH, such as /usr/local/bin/strata, stays
that link, so an upgrade that re-points it upgrades the unit too).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			exe, err := unitExecutable()
			if err != nil {
				return err
			}
			for _, p := range []string{exe, r.Dir} {
				if strings.ContainsFunc(p, unicode.IsControl) {
					return fmt.Errorf("generate systemd: %q holds a control character, which a unit file cannot", p)
				}
			}
			s, err := loadSvc(r, args[0])
			if err != nil {
				return err
			}
			if s.st.Remove {
				// ExecStop's stop would remove the run, and the next
				// ExecStart's restart find none.
				return fmt.Errorf("generate systemd: %s was run with --rm: the unit's stop would remove it, and nothing could start it again; run it without --rm", s.st.Name)
			}
			strata := systemdQuote(exe) + " -C " + systemdQuote(r.Dir)
			// stop's -t, and how long systemd gives it: the run's
			// --stop-timeout unless -t says otherwise; forever is -1.
			secs, stopSec := stopTimeout, ""
			if d := s.stopTimeout(); !cmd.Flags().Changed("time") {
				secs = int(d / time.Second)
				if d < 0 {
					secs = -1
				}
			}
			if secs < 0 {
				secs, stopSec = -1, "infinity"
			} else {
				stopSec = strconv.Itoa(secs + 10)
			}
			fmt.Fprintf(g.stdout, `# strata-%[1]s.service, made by: strata generate systemd %[1]s
[Unit]
Description=strata run %[1]s (%[2]s)
Wants=network-online.target
After=network-online.target
RequiresMountsFor=%[3]s

[Service]
Type=forking
ExecStart=%[4]s restart -t %[6]d %[1]s
ExecStop=%[4]s stop -t %[6]d %[1]s
PIDFile=%[5]s
TimeoutStopSec=%[7]s
Restart=on-failure

[Install]
WantedBy=multi-user.target
`, s.st.Name, systemdText(strings.Join(s.st.Command, " ")), systemdListPath(r.Dir), strata,
				systemdPath(s.path("supervisor.pid")), secs, stopSec)
			return nil
		},
	}
	sd.Flags().IntVarP(&stopTimeout, "time", "t", defaultStopTimeout, "seconds stop waits before SIGKILL (default: the run's --stop-timeout, else 10; -1: forever)")
	saidDefault(sd.Flags(), "time")
	gen.AddCommand(sd)
	return gen
}

// systemdText makes s one line of a unit file's free text (Description=):
// quoted as Go quotes, so that a newline in it (a run's command comes from
// its image) cannot start a line of its own, such as ExecStartPre=, and
// with every specifier's % doubled.
func systemdText(s string) string {
	return strings.ReplaceAll(strconv.Quote(s), "%", "%%")
}

// systemdPath writes a path for a setting that takes one path, such as
// PIDFile=: systemd unquotes none (a quoted one is a relative path, put
// under /run), so only its specifiers' % are doubled.
func systemdPath(s string) string {
	return strings.ReplaceAll(s, "%", "%%")
}

// systemdListPath writes a path for a setting that takes a list of
// paths, such as RequiresMountsFor=: systemd splits it at spaces and
// unquotes it, but expands no $VARIABLE there as on a command line.
func systemdListPath(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"'\\%") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `%`, `%%`)
	return `"` + r.Replace(s) + `"`
}

// systemdQuote quotes a word for a unit file's command line when needed.
func systemdQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"'\\$%;") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `$$`, `%`, `%%`)
	return `"` + r.Replace(s) + `"`
}

// unitExecutable is the strata the unit runs: the path it was invoked by
// (a link in PATH, such as /usr/local/bin/strata, which an upgrade
// re-points), if it leads to this executable, else this executable's
// own path (links resolved, which an upgrade under a versioned
// directory leaves stale).
func unitExecutable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	invoked := os.Args[0]
	if !strings.Contains(invoked, "/") {
		if invoked, err = exec.LookPath(invoked); err != nil {
			return exe, nil
		}
	}
	if invoked, err = filepath.Abs(invoked); err != nil {
		return exe, nil
	}
	a, errA := os.Stat(invoked)
	b, errB := os.Stat(exe)
	if errA != nil || errB != nil || !os.SameFile(a, b) {
		return exe, nil
	}
	return invoked, nil
}
