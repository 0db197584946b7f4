package main

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-sh/strata/repo"
)

func init() { register("port", newPortCommand) }

func newPortCommand(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "port NAME [PRIVATE[/PROTO]] [--format json]",
		Short: "List the ports a detached run publishes (-p, -P), as docker port",
		Long: `List the ports a running detached run publishes (run -p, -P), as docker
port: one a line, "80/tcp -> 127.0.0.1:8080", by container port. With
PRIVATE (a container port, /tcp unless /udp or /sctp follows), only
the host addresses it is published at, "127.0.0.1:8080"; a PRIVATE
published nowhere (an sctp port always: a run publishes tcp and udp)
is an error, "no public port '80/sctp' published for NAME", as
docker's. An ephemeral port (run
-p :80, -p 80, -P) is shown as bound, with the port the kernel picked,
as soon as run -d returns. A run that has ended publishes nothing.

--format json prints an array, one object a published port, in the same
order: "container_port" and "protocol" (80, "tcp"), "host_ip" and
"host_port" (the address it is bound at); [] for none.

Exit status: 0 on success, 1 on errors (PRIVATE is not published, or
is no port: docker's "invalid port"), 2 on usage errors.`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			return forEachRun(cmd.Context(), g, args[:1], func(r *repo.Repo, s *svc) error {
				// As docker's: the run first, then PRIVATE, a bad one
				// an error (exit 1), not a usage error.
				var private, asked string
				if len(args) == 2 {
					var err error
					if private, err = privatePort(args[1]); err != nil {
						return err
					}
					asked = args[1]
				}
				return printPorts(g, s, private, asked, format == "json")
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "output format: text or json")
	return cmd
}

// privatePort reads port's PRIVATE[/PROTO] as a port key, "80/tcp":
// a port 1-65535 and tcp (without PROTO), udp or sctp, which no run
// publishes (its proxy carries tcp and udp) but is a port docker has.
func privatePort(arg string) (string, error) {
	port, proto, _ := strings.Cut(arg, "/")
	if proto == "" {
		proto = "tcp"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || proto != "tcp" && proto != "udp" && proto != "sctp" {
		return "", fmt.Errorf("port %s: invalid port: want a container port, 1-65535, and /tcp, /udp or /sctp", arg)
	}
	return strconv.Itoa(n) + "/" + proto, nil
}

// publishedPort is one of a run's -p: its container side ("80/tcp") and
// its host address ("127.0.0.1:8080").
type publishedPort struct {
	private, host string
	port          int
}

// portJSON is one published port as port --format json prints it.
type portJSON struct {
	ContainerPort int    `json:"container_port"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"host_ip"`
	HostPort      int    `json:"host_port"`
}

// printPorts prints the ports the run s publishes while it runs, all of
// them, or where private ("80/tcp") is published; as JSON if asJSON.
// asked is private as the user gave it ("80"), for the error that it is
// published nowhere, as docker's.
func printPorts(g *globals, s *svc, private, asked string, asJSON bool) error {
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
	if private != "" {
		ports = slices.DeleteFunc(ports, func(p publishedPort) bool { return p.private != private })
		if len(ports) == 0 {
			return fmt.Errorf("no public port '%s' published for %s", asked, s.st.Name)
		}
	}
	if asJSON {
		out := []portJSON{}
		for _, p := range ports {
			_, proto, _ := strings.Cut(p.private, "/")
			ip, port, _ := net.SplitHostPort(p.host)
			n, _ := strconv.Atoi(port)
			out = append(out, portJSON{ContainerPort: p.port, Protocol: proto, HostIP: ip, HostPort: n})
		}
		return writeJSON(g.stdout, out)
	}
	for _, p := range ports {
		if private == "" {
			fmt.Fprintf(g.stdout, "%s -> %s\n", p.private, p.host)
		} else {
			fmt.Fprintln(g.stdout, p.host)
		}
	}
	return nil
}
