package main

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/strata-sh/strata/exec"
)

func init() { register("inspect", newInspectCommand) }

func newInspectCommand(g *globals) *cobra.Command {
	var format, typ string
	cmd := &cobra.Command{
		Use:   "inspect [--type container|image] [--format json|TEMPLATE] NAME...",
		Short: "Show detached runs and revisions as JSON, as docker inspect",
		Long: `Show detached runs, running or ended, as docker inspect shows
containers, and revisions as it shows images: a JSON array, one object
a NAME, with docker's keys (named as docker's, for its scripts and
templates, not in the lower_case of strata's other listings).

A NAME is a run's name or id first, else a revision (main, v1,
HEAD~2, a commit id), as docker takes a container before an image;
--type container takes only runs, --type image only revisions (a run
named as a branch hides the branch without it).

A run has:

  Id            the run's container id (its cgroup's name; run --cidfile
                writes it, and every command takes it for the name,
                before any run's name, as docker's)
  Name          "/" and the name, as docker's
  Created       when run -d made it
  Path, Args    its command: the program and its arguments
  State         Status (created, running, paused, restarting, exited),
                Running (true while restarting too, as docker's),
                Paused, Restarting, Pid (the host pid of its pid 1; 0
                when not running), ExitCode, StartedAt, FinishedAt
                (0001-01-01T00:00:00Z when it has not; a restarted run's
                last end, as docker's)
  Image         the commit it runs (its id)
  RestartCount  how often its supervisor restarted it
  Config        Image (the REV given to run, "" for the checkout),
                Entrypoint and Cmd (as the run ran them: the image's,
                --entrypoint's, COMMAND; null for none), Env, WorkingDir, User, StopSignal, Labels (run's -l and
                --label-file over the image's; {} for none), Tty and
                OpenStdin (run's -t and -i)
  HostConfig    NetworkMode (private, host or none), PortBindings
                ({"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}),
                Memory (bytes; 0: no limit), MemorySwap (memory and
                swap together: Memory for no swap, -1 for no limit on
                swap; 0 without Memory), NanoCpus (CPUs x 10^9),
                CpusetCpus, CpusetMems (lists; "" for all), PidsLimit,
                Privileged, CapAdd, CapDrop, Devices ([{PathOnHost,
                PathInContainer, CgroupPermissions}]: run's --device;
                [] for none), Sysctls ({"KEY": "VALUE"}: run's --sysctl;
                left out for none), RestartPolicy {Name,
                MaximumRetryCount}

A revision has:

  Id            the commit's id
  RepoTags      the branches and tags at it ([] for none)
  Parent        its parent's id ("" for a root commit)
  Comment, Author, Created   its message, author and date
  Config        the image's Cmd, Entrypoint, Env, ExposedPorts
                ({"80/tcp": {}}), Labels, WorkingDir, User, StopSignal,
                Volumes ({"/data": {}}); each left out when the image
                has none, as docker's
  Architecture, Variant, Os   its platform
  Size          its layers' bytes, as stored (compressed)
  RootFS        Type ("layers") and Layers: the layers' diff ids, base
                first

--format json prints the same array. --format TEMPLATE runs a Go
template on each NAME, one line each, as docker's: '{{.State.Pid}}',
'{{json .Config}}', '{{.State.Status}}', '{{.RootFS.Layers}}'; with
ps's functions (json, join, split, lower, upper, title, pad, truncate,
println).

A name that is nothing inspect takes is an error ("no such run or
revision: NAME"; with --type, "no such run: NAME", "no such revision:
NAME"), after the others are printed, as docker's.

Exit status: 0 on success, 1 on errors (a name that is nothing inspect
takes), 2 on usage errors (a template that does not parse, a --type
other than container or image).`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkInspectType(typ); err != nil {
				return err
			}
			var tmpl *template.Template
			if format != "" && format != "json" {
				text := strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(format)
				var err error
				if tmpl, err = template.New("").Funcs(templateFuncs).Option("missingkey=error").Parse(text); err != nil {
					return usagef("inspect --format: %v", err)
				}
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			thawOrphans()
			var found []any
			var failed []error
			for _, n := range args {
				x, err := inspectOne(g, r, n, typ)
				if err != nil {
					failed = append(failed, err)
					continue
				}
				found = append(found, x)
			}
			if tmpl != nil {
				for _, x := range found {
					var b bytes.Buffer
					if err := tmpl.Execute(&b, x); err != nil {
						return fmt.Errorf("inspect --format: %w", err)
					}
					b.WriteByte('\n')
					g.stdout.Write(b.Bytes())
				}
			} else {
				if found == nil {
					found = []any{}
				}
				if err := writeJSON(g.stdout, found); err != nil {
					return err
				}
			}
			// As docker's: each name not found, after the others.
			for i, err := range failed {
				if i == len(failed)-1 {
					return err
				}
				// As main prints the last: on one line, controls escaped.
				printError(g.stderr, fmt.Errorf("inspect: %w", err))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "json, or a Go template as docker's: '{{.State.Pid}}', '{{json .Config}}'")
	cmd.Flags().StringVar(&typ, "type", "", "inspect only runs (container) or only revisions (image)")
	return cmd
}

// inspectRun is a run as docker inspect shows a container.
type inspectRun struct {
	Id              string
	Name            string
	Created         time.Time
	Path            string
	Args            []string
	State           inspectState
	Image           string
	RestartCount    int
	Config          inspectConfig
	HostConfig      inspectHostConfig
	NetworkSettings inspectNetwork
}

// inspectNetwork is docker's NetworkSettings, of it the ports: while the
// run runs, each exposed port with where it is published (as bound: an
// ephemeral one with the host port it got), null if nowhere; {} once
// it has ended.
type inspectNetwork struct {
	Ports map[string][]inspectPort
}

type inspectState struct {
	Status                      string
	Running, Paused, Restarting bool
	Pid, ExitCode               int
	StartedAt, FinishedAt       time.Time
}

type inspectConfig struct {
	Image      string
	Entrypoint []string // null for none, as docker's
	Cmd, Env   []string
	WorkingDir string
	User       string
	StopSignal string `json:",omitempty"`
	Labels     map[string]string
	Tty        bool // run's -t
	OpenStdin  bool // run's -i: its stdin stays open, for attach
	// ExposedPorts are the image's, --expose's and -p's, as docker's.
	ExposedPorts map[string]struct{} `json:",omitempty"`
}

type inspectHostConfig struct {
	NetworkMode     string
	PortBindings    map[string][]inspectPort // -p as given: HostPort "" for an ephemeral port, as docker's
	PublishAllPorts bool                     // -P
	Memory          int64
	MemorySwap      int64 // memory and swap together: Memory when no swap, -1 for no limit on swap
	NanoCpus        int64
	CpusetCpus      string
	CpusetMems      string
	PidsLimit       int64
	Privileged      bool
	CapAdd          []string
	CapDrop         []string
	Devices         []inspectDevice   // run's --device; [] for none, as docker's
	Sysctls         map[string]string `json:",omitempty"` // run's --sysctl, as docker's
	RestartPolicy   inspectRestart
}

type inspectDevice struct{ PathOnHost, PathInContainer, CgroupPermissions string }

type inspectPort struct{ HostIp, HostPort string }

type inspectRestart struct {
	Name              string
	MaximumRetryCount int
}

// inspectSvc is what inspect shows of the run s.
func inspectSvc(g *globals, s *svc) inspectRun {
	status, code := s.status()
	pid, running := s.containerPid()
	if status == "running" && s.paused() {
		status = "paused"
	}
	if code < 0 {
		code = 0
	}
	x := inspectRun{
		Id: s.id, Name: "/" + s.st.Name, Created: s.st.Created, Image: s.st.Commit,
		RestartCount: s.st.Restarts,
		// Running while restarting too, as docker's.
		State: inspectState{Status: status, Running: running || status == "restarting", Paused: status == "paused",
			Restarting: status == "restarting", Pid: pid, ExitCode: code,
			StartedAt: s.st.Started, FinishedAt: s.st.Finished},
		Config: inspectConfig{Image: s.st.Rev, Cmd: s.st.Command, Env: s.st.Env,
			WorkingDir: s.st.Workdir, User: s.st.User, StopSignal: s.st.StopSignal,
			Tty: s.st.Tty, OpenStdin: s.st.OpenStdin, Labels: s.st.Labels},
	}
	if c := s.st.Config; c != nil {
		// As docker's: the Entrypoint apart from the Cmd (Path and Args
		// are both, run). A record made before Config was has the
		// whole command line only.
		x.Config.Entrypoint, x.Config.Cmd = c.Entrypoint, c.Cmd
	}
	if x.Config.Labels == nil {
		x.Config.Labels = map[string]string{} // docker's: {}
	}
	if len(s.st.Command) > 0 {
		x.Path, x.Args = s.st.Command[0], s.st.Command[1:]
	}
	if x.Args == nil {
		x.Args = []string{}
	}
	for _, p := range s.st.Exposed {
		if x.Config.ExposedPorts == nil {
			x.Config.ExposedPorts = map[string]struct{}{}
		}
		x.Config.ExposedPorts[p] = struct{}{}
	}
	x.HostConfig = recordedHostConfig(g, s)
	x.NetworkSettings.Ports = map[string][]inspectPort{}
	if running { // paused too; not while restarting, between two binds
		x.NetworkSettings.Ports = boundPorts(s)
	}
	return x
}

// boundPorts are the run's exposed ports with where each is published.
func boundPorts(s *svc) map[string][]inspectPort {
	m := map[string][]inspectPort{}
	for _, p := range s.st.Exposed {
		m[p] = nil
	}
	for _, p := range s.st.Ports { // 127.0.0.1:8080->80/tcp
		host, ctr, ok := strings.Cut(p, "->")
		i := strings.LastIndexByte(host, ':')
		if ok && i >= 0 {
			m[ctr] = append(m[ctr], inspectPort{HostIp: strings.Trim(host[:i], "[]"), HostPort: host[i+1:]})
		}
	}
	return m
}

// recordedHostConfig reads the run's limits, network and ports from the
// command line it was made with (its record keeps it to start it again).
func recordedHostConfig(g *globals, s *svc) inspectHostConfig {
	h := inspectHostConfig{PortBindings: map[string][]inspectPort{}, Privileged: s.st.Privileged,
		CapAdd: s.st.CapAdd, CapDrop: s.st.CapDrop}
	kind, n, _ := parseRestart(s.st.Restart)
	h.RestartPolicy = inspectRestart{Name: kind, MaximumRetryCount: n}
	flags := runFlagsOf(g, s.st.Argv)
	publish, _ := flags.GetStringArray("publish")
	for _, v := range publish {
		ports, _ := exec.ParsePorts(v) // checked when the run was made
		for _, p := range ports {
			b := inspectPort{HostIp: firstNonEmpty(p.HostIP, exec.DefaultPortIP)}
			if p.HostPort != 0 {
				b.HostPort = strconv.Itoa(p.HostPort)
			}
			if p.HostPortLast != 0 { // a range, as docker shows it
				b.HostPort += "-" + strconv.Itoa(p.HostPortLast)
			}
			k := portKey(p.ContainerPort, p.Proto)
			h.PortBindings[k] = append(h.PortBindings[k], b)
		}
	}
	h.PublishAllPorts, _ = flags.GetBool("publish-all")
	h.NetworkMode, _ = flags.GetString("network")
	if m, _ := flags.GetString("memory"); m != "" {
		h.Memory, _ = parseBytes(m)
	}
	if h.Memory > 0 { // as the run's cgroup has it (resources, swap)
		sw, _ := flags.GetString("memory-swap")
		h.MemorySwap, _ = runOptions{memorySwap: sw}.swap(h.Memory)
		if h.MemorySwap == 0 {
			h.MemorySwap = h.Memory
		}
	}
	h.CpusetCpus, _ = flags.GetString("cpuset-cpus")
	h.CpusetMems, _ = flags.GetString("cpuset-mems")
	cpus, _ := flags.GetFloat64("cpus")
	h.NanoCpus = int64(cpus * 1e9)
	h.PidsLimit, _ = flags.GetInt64("pids-limit")
	devices, _ := flags.GetStringArray("device")
	h.Devices = recordedDevices(devices)
	sysctls, _ := flags.GetStringArray("sysctl")
	for _, kv := range sysctls {
		if h.Sysctls == nil {
			h.Sysctls = map[string]string{}
		}
		k, v, _ := strings.Cut(kv, "=")
		h.Sysctls[k] = v
	}
	return h
}

// recordedDevices are a run's --device flags as docker inspect shows
// them: the container's path is the host's and the permissions rwm
// unless given.
func recordedDevices(values []string) []inspectDevice {
	out := []inspectDevice{}
	for _, v := range values {
		host, ctr, perms, err := splitDevice(v)
		if err != nil {
			continue // the run was refused: it made no run to inspect
		}
		out = append(out, inspectDevice{PathOnHost: host, PathInContainer: firstNonEmpty(ctr, host), CgroupPermissions: firstNonEmpty(perms, "rwm")})
	}
	return out
}

// runFlagsOf parses argv, a run's recorded command line, with run's
// flags.
func runFlagsOf(g *globals, argv []string) *pflag.FlagSet {
	flags := newRunCommand(g).Flags()
	if i := slices.Index(argv, "run"); i >= 0 {
		flags.Parse(argv[i+1:]) // it was parsed once: what it gives is what ran
	}
	return flags
}
