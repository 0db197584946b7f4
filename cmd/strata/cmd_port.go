package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-sh/strata/repo"
)

func init() { register("port", newPortCommand) }

func newPortCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "port NAME [PRIVATE[/PROTO]]",
		Short: "List the ports a detached run publishes (-p, -P), as docker port",
		Long: `List the ports a running detached run publishes (run -p, -P), as docker
port: one a line, "80/tcp -> 127.0.0.1:8080", by container port. With
PRIVATE (a container port, /tcp unless /udp follows), only the host
addresses it is published at, "127.0.0.1:8080". An ephemeral port (run
-p :80, -p 80, -P) is shown as bound, with the port the kernel picked,
as soon as run -d returns. A run that has ended publishes nothing.

Exit status: 0 on success, 1 on errors (PRIVATE is not published), 2 on
usage errors.`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var private string
			if len(args) == 2 {
				port, proto, _ := strings.Cut(args[1], "/")
				if proto == "" {
					proto = "tcp"
				}
				n, err := strconv.Atoi(port)
				if err != nil || n < 1 || n > 65535 || proto != "tcp" && proto != "udp" {
					return usagef("port %s: want a container port, 1-65535, and /tcp or /udp", args[1])
				}
				private = strconv.Itoa(n) + "/" + proto
			}
			return forEachRun(cmd.Context(), g, args[:1], func(r *repo.Repo, s *svc) error {
				return printPorts(g, s, private)
			})
		},
	}
}

// publishedPort is one of a run's -p: its container side ("80/tcp") and
// its host address ("127.0.0.1:8080").
type publishedPort struct {
	private, host string
	port          int
}

// printPorts prints the ports the run s publishes while it runs, all of
// them, or where private ("80/tcp") is published.
func printPorts(g *globals, s *svc, private string) error {
	var ports []publishedPort
	if _, ok := s.containerPid(); ok {
		// Recorded by run as exec.Port's String: 127.0.0.1:8080->80/tcp.
		for _, p := range s.st.Ports {
			host, ctr, ok := strings.Cut(p, "->")
			port, _, _ := strings.Cut(ctr, "/")
			n, err := strconv.Atoi(port)
			if ok && err == nil {
				ports = append(ports, publishedPort{private: ctr, host: host, port: n})
			}
		}
	}
	slices.SortStableFunc(ports, func(a, b publishedPort) int {
		if a.port != b.port {
			return a.port - b.port
		}
		return strings.Compare(a.private+" "+a.host, b.private+" "+b.host)
	})
	found := false
	for _, p := range ports {
		switch {
		case private == "":
			fmt.Fprintf(g.stdout, "%s -> %s\n", p.private, p.host)
		case p.private == private:
			fmt.Fprintln(g.stdout, p.host)
			found = true
		}
	}
	if private != "" && !found {
		return fmt.Errorf("no public port '%s' published for %s", private, s.st.Name)
	}
	return nil
}
