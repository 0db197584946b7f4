package main

import (
	"github.com/spf13/pflag"

	"github.com/strata-sh/strata/exec"
)

// runOptions are docker run's flags that strata takes.
type runOptions struct {
	rev, message, branch       string
	messageSet                 bool   // --message given, even as ""
	entrypointSet              bool   // --entrypoint given, even as "" (docker's reset)
	path                       string // a second work tree (else found from the cwd)
	commit                     bool
	interactive, tty           bool
	attach                     attachStreams // -a
	env, volumes, tmpfs        []string
	mountFlags                 []string // --mount
	addHosts                   []string // --add-host
	ulimits                    []string // --ulimit
	dns, dnsSearch, dnsOptions []string // --dns, --dns-search, --dns-option
	shmSize                    string   // --shm-size
	securityOpts               []string // --security-opt
	envFiles                   []string
	labels, labelFiles         []string          // -l, --label-file
	devices                    []string          // --device
	sysctls                    []string          // --sysctl
	labelSet                   map[string]string // what they set (readLabels), read where the run is made
	workdir, user, hostname    string
	network, entrypoint        string
	readOnly, init, privileged bool
	capAdd, capDrop, groupAdd  []string
	memory, memorySwap         string // -m, --memory-swap
	cpusetCpus, cpusetMems     string // --cpuset-cpus, --cpuset-mems
	cpus                       float64
	pidsLimit                  int64
	stopTimeout                int
	stopSignal                 string
	detach, rm                 bool
	name, restart              string
	cidfile                    string   // --cidfile
	publish, expose            []string // -p, --expose
	publishAll                 bool     // -P
	// recorded are where a detached run's host paths led when it was
	// made (svcState.HostPaths): its supervisor binds and reads them
	// only while they lead there still.
	recorded map[string]string
}

// addFlags defines run's flags on f, into o.
func (o *runOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.rev, "rev", "", "run on a throwaway overlay of `REV` instead of the checkout")
	f.StringVar(&o.path, "path", "", "run in the work tree at `DIR` (default: the one the current directory is in; not with --rev)")
	f.BoolVar(&o.commit, "commit", false, "with --rev: commit the changes if the command exits 0")
	f.StringVar(&o.message, "message", "", "with --commit: the commit message (default \"run: COMMAND\")")
	f.StringVarP(&o.branch, "branch", "b", "", "with --commit: put the commit on new branch `NAME`")
	f.BoolVarP(&o.interactive, "interactive", "i", false, "keep stdin attached (with -d: open, for strata attach)")
	f.VarP(&o.attach, "attach", "a", "attach the run to `STREAM`: stdin, stdout or stderr, one a flag (default stdout and stderr, stdin with -i; not with -d)")
	f.BoolVarP(&o.tty, "tty", "t", false, "allocate a pseudo-terminal (stdin goes to it with -i, which then needs a terminal)")
	f.StringArrayVarP(&o.env, "env", "e", nil, "set `KEY=VAL` (KEY alone: take it from this environment)")
	f.StringArrayVar(&o.envFiles, "env-file", nil, "read KEY=VAL lines from `FILE`, as docker (-e wins)")
	f.StringArrayVar(&o.sysctls, "sysctl", nil, "set the kernel setting `KEY=VALUE` of the container's own namespaces, as docker's: net.* (not with --network host), fs.mqueue.*, kernel.shm*, kernel.msg*, kernel.sem")
	f.StringArrayVar(&o.devices, "device", nil, "make the host's device node at `HOST[:CONTAINER][:PERMS]` in the container's /dev, usable as PERMS (some of rwm; default rwm)")
	f.StringArrayVarP(&o.labels, "label", "l", nil, "set the label `KEY=VALUE` (KEY alone: empty) on a detached run, for inspect and ps -f label=")
	f.StringArrayVar(&o.labelFiles, "label-file", nil, "read KEY=VALUE label lines from `FILE`, as docker (-l wins)")
	f.StringArrayVarP(&o.volumes, "volume", "v", nil, "bind mount `SRC:DST[:MODES]`: ro or rw (z, Z, cached, delegated, consistent change nothing, as docker's on Linux without SELinux)")
	f.StringArrayVar(&o.mountFlags, "mount", nil, "mount as docker's --mount: `type=bind,source=SRC,target=DST[,readonly]` or type=tmpfs,target=DST[,tmpfs-size=SIZE][,tmpfs-mode=MODE]")
	f.StringArrayVar(&o.tmpfs, "tmpfs", nil, "mount a tmpfs at `PATH[:OPTIONS]` (docker's: noexec,nosuid,nodev unless exec, suid, dev; size=, mode=...)")
	f.StringVarP(&o.workdir, "workdir", "w", "", "working directory inside the container: an absolute path, made if missing")
	f.StringVarP(&o.user, "user", "u", "", "`USER[:GROUP]` to run as (names from the root's /etc/passwd)")
	f.StringArrayVar(&o.groupAdd, "group-add", nil, "add a supplementary `GROUP` (name or gid)")
	f.StringVarP(&o.hostname, "hostname", "h", "", "container host name")
	f.StringArrayVar(&o.addHosts, "add-host", nil, "add `NAME:IP` to the container's /etc/hosts")
	f.StringArrayVar(&o.dns, "dns", nil, "use the DNS server at `IP` (several: in order), in place of the host's")
	f.StringArrayVar(&o.dnsSearch, "dns-search", nil, "search `DOMAIN` for short names, in place of the host's")
	f.StringArrayVar(&o.dnsOptions, "dns-option", nil, "resolver `OPTION` (ndots:2, ...), in place of the host's")
	f.StringArrayVar(&o.dnsOptions, "dns-opt", nil, "the same as --dns-option, as docker's")
	f.StringVar(&o.shmSize, "shm-size", "", "the size of /dev/shm (default 64m, as docker's): 256m, 1g")
	f.StringArrayVar(&o.ulimits, "ulimit", nil, "set a resource limit, `NAME=SOFT[:HARD]` as docker's (nofile=1024:2048, core=0; -1: unlimited); exec'd processes get it too")
	f.Bool("help", false, "help for run") // not -h: that is --hostname, as docker's
	f.StringVar(&o.network, "network", exec.DefaultNetwork(), "private (own namespace, outbound NAT, -p publishes; needs root), host (share this machine's network) or none (only lo)")
	f.StringArrayVarP(&o.publish, "publish", "p", nil, "publish `[[IP:][HOST]:]CONTAINER[/tcp|udp]` of a private network (IP default "+exec.DefaultPortIP+"; no HOST or 0: an ephemeral port, with -d, see strata port; ranges 8000-8001:80-81; 8000-8002:80, with -d: a free port of the range)")
	f.StringArrayVar(&o.expose, "expose", nil, "expose `PORT[/PROTO]` or a range FIRST-LAST[/PROTO] (tcp, udp or sctp), as the image's EXPOSE: for inspect and -P")
	f.BoolVarP(&o.publishAll, "publish-all", "P", false, "publish every exposed port (the image's EXPOSE, --expose; tcp and udp) on an ephemeral host port of "+exec.DefaultPortIP+" (with -d)")
	f.StringVar(&o.entrypoint, "entrypoint", "", "override the image's Entrypoint (and drop its Cmd); \"\" clears it")
	f.BoolVar(&o.readOnly, "read-only", false, "mount the root read-only")
	f.BoolVar(&o.init, "init", false, "run a tiny init as pid 1 that reaps zombies and forwards signals")
	f.BoolVar(&o.privileged, "privileged", false, "all capabilities, no seccomp, no masked paths")
	f.StringArrayVar(&o.securityOpts, "security-opt", nil, "docker's no-new-privileges (always set: setuid files never elevate); no other option")
	f.StringArrayVar(&o.capAdd, "cap-add", nil, "add a Linux capability")
	f.StringArrayVar(&o.capDrop, "cap-drop", nil, "drop a Linux capability")
	f.StringVarP(&o.memory, "memory", "m", "", "memory limit, such as 256m or 1.5g (binary units, as docker)")
	f.StringVar(&o.memorySwap, "memory-swap", "", "with --memory: memory and swap together, `SIZE` at least --memory (default: --memory, no swap; -1: no limit on swap)")
	f.Float64Var(&o.cpus, "cpus", 0, "CPU limit in cores, such as 1.5")
	f.StringVar(&o.cpusetCpus, "cpuset-cpus", "", "the CPUs it may run on: `LIST` such as 0-3 or 0,2")
	f.StringVar(&o.cpusetMems, "cpuset-mems", "", "the memory nodes (NUMA) it may use: `LIST` such as 0-1 or 0")
	f.Int64Var(&o.pidsLimit, "pids-limit", 0, "maximum number of processes, --init's included (0 or -1: unlimited)")
	f.BoolVarP(&o.detach, "detach", "d", false, "run in the background under a supervisor; print the run's name")
	f.StringVar(&o.cidfile, "cidfile", "", "write the run's container id to `FILE`, which must not exist (a detached run's: strata's commands take it for the name)")
	f.StringVar(&o.name, "name", "", "name the detached run: 1 to 40 of [a-zA-Z0-9_.-], the first a letter or digit (default: a generated adjective_noun)")
	f.StringVar(&o.restart, "restart", "no", "restart a detached run: no, on-failure[:N], always or unless-stopped")
	f.BoolVar(&o.rm, "rm", false, "remove the run (and its throwaway tree) when it ends")
	f.IntVar(&o.stopTimeout, "stop-timeout", defaultStopTimeout, "seconds between a forwarded SIGTERM, SIGINT or SIGHUP and SIGKILL, and what stop and restart wait for a detached run without -t (0 or -1: forever)")
	f.StringVar(&o.stopSignal, "stop-signal", "", "the signal stop and restart send a detached run first (default: the image's STOPSIGNAL, else TERM)")
}
