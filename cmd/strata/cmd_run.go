package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/internal/stagedir"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("run", newRunCommand) }

// runOptions are docker run's flags that strata takes.
type runOptions struct {
	rev, message, branch       string
	messageSet                 bool   // --message given, even as ""
	entrypointSet              bool   // --entrypoint given, even as "" (docker's reset)
	path                       string // a second work tree (else found from the cwd)
	commit                     bool
	interactive, tty           bool
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
	memory                     string
	cpus                       float64
	pidsLimit                  int64
	stopTimeout                int
	stopSignal                 string
	detach, rm                 bool
	name, restart              string
	publish                    []string
	// recorded are where a detached run's host paths led when it was
	// made (svcState.HostPaths): its supervisor binds and reads them
	// only while they lead there still.
	recorded map[string]string
}

func newRunCommand(g *globals) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run [flags] [--] [COMMAND [ARG...]]",
		Short: "Run a command confined in the checkout or in a revision",
		Long: `Run a command in new mount, PID, UTS, IPC, cgroup and network namespaces
(as root the network is private: outbound traffic is NATed and -p
publishes ports; --network host shares this machine's, --network none
leaves only lo; without root the default is host), with Docker's
default capabilities and seccomp profile, no_new_privs, runc's masked paths and
runc's device rules (any node may be made; only null, zero, full, random,
urandom, tty, console, ptmx and pts open).

Without --rev the command runs in the checkout (./rootfs): what it changes
stays in the work tree, for 'strata status' and 'strata commit'. With
--rev it runs on a throwaway overlay of that revision, discarded after;
--commit instead commits the changes as a child of the revision when the
command exits 0 (moving the branch --rev names, or -b NEW).

With no COMMAND, the image's Entrypoint and Cmd run, with its Env,
WorkingDir and User. As docker's, HOSTNAME is the host name unless the
image's Env or -e sets it.

Exit status, as docker's: the command's own; 128+N when it was killed by
signal N; 125 when strata failed (including bad flags), 126 when the
command cannot be executed, 127 when it was not found.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.messageSet = cmd.Flags().Changed("message")
			o.entrypointSet = cmd.Flags().Changed("entrypoint")
			err := runRun(cmd.Context(), g, o, args)
			var ec exitCodeError
			if err != nil && !errors.As(err, &ec) {
				return exitCodeError{code: exec.CodeRuntime, err: err}
			}
			return err
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		err = cleanFlagError(err)
		if strings.HasSuffix(err.Error(), "'h' in -h") {
			// -h alone: the user may have meant help.
			err = fmt.Errorf("%w (-h is --hostname, as docker's; help is --help)", err)
		}
		return exitCodeError{code: exec.CodeRuntime, err: err}
	})
	f := cmd.Flags()
	f.SetInterspersed(false) // flags after COMMAND belong to it
	f.StringVar(&o.rev, "rev", "", "run on a throwaway overlay of `REV` instead of the checkout")
	f.StringVar(&o.path, "path", "", "run in the work tree at `DIR` (default: the one the current directory is in; not with --rev)")
	f.BoolVar(&o.commit, "commit", false, "with --rev: commit the changes if the command exits 0")
	f.StringVar(&o.message, "message", "", "with --commit: the commit message (default \"run: COMMAND\")")
	f.StringVarP(&o.branch, "branch", "b", "", "with --commit: put the commit on new branch `NAME`")
	f.BoolVarP(&o.interactive, "interactive", "i", false, "keep stdin attached (with -d: open, for strata attach)")
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
	f.StringArrayVarP(&o.publish, "publish", "p", nil, "publish `[IP:]HOST:CONTAINER[/tcp|udp]` of a private network (IP default "+exec.DefaultPortIP+")")
	f.StringVar(&o.entrypoint, "entrypoint", "", "override the image's Entrypoint (and drop its Cmd); \"\" clears it")
	f.BoolVar(&o.readOnly, "read-only", false, "mount the root read-only")
	f.BoolVar(&o.init, "init", false, "run a tiny init as pid 1 that reaps zombies and forwards signals")
	f.BoolVar(&o.privileged, "privileged", false, "all capabilities, no seccomp, no masked paths")
	f.StringArrayVar(&o.securityOpts, "security-opt", nil, "docker's no-new-privileges (always set: setuid files never elevate); no other option")
	f.StringArrayVar(&o.capAdd, "cap-add", nil, "add a Linux capability")
	f.StringArrayVar(&o.capDrop, "cap-drop", nil, "drop a Linux capability")
	f.StringVarP(&o.memory, "memory", "m", "", "memory limit, such as 256m or 1.5g (binary units, as docker)")
	f.Float64Var(&o.cpus, "cpus", 0, "CPU limit in cores, such as 1.5")
	f.Int64Var(&o.pidsLimit, "pids-limit", 0, "maximum number of processes, --init's included (0 or -1: unlimited)")
	f.BoolVarP(&o.detach, "detach", "d", false, "run in the background under a supervisor; print the run's name")
	f.StringVar(&o.name, "name", "", "name the detached run: 1 to 40 of [a-zA-Z0-9_.-], the first a letter or digit (default: a generated adjective_noun)")
	f.StringVar(&o.restart, "restart", "no", "restart a detached run: no, on-failure[:N], always or unless-stopped")
	f.BoolVar(&o.rm, "rm", false, "remove the run (and its throwaway tree) when it ends")
	f.IntVar(&o.stopTimeout, "stop-timeout", defaultStopTimeout, "seconds between a forwarded SIGTERM, SIGINT or SIGHUP and SIGKILL, and what stop and restart wait for a detached run without -t (0 or -1: forever)")
	f.StringVar(&o.stopSignal, "stop-signal", "", "the signal stop and restart send a detached run first (default: the image's STOPSIGNAL, else TERM)")
	return cmd
}

func runRun(ctx context.Context, g *globals, o runOptions, args []string) error {
	var supervisor string // this is the supervisor of the detached run so named
	if o.detach {
		supervisor = os.Getenv(envSupervise)
	}
	if supervisor == "" { // a supervisor reads them where the run was made
		if err := o.readEnvFiles(); err != nil {
			return err
		}
		var err error
		if o.labelSet, err = o.readLabels(); err != nil {
			return err
		}
	}
	if o.path != "" && o.rev != "" {
		// --rev runs on a throwaway tree of its own: --path would be dropped.
		return usagef("run: --path and --rev name two trees: give one (--rev runs on a throwaway tree)")
	}
	if o.commit && o.rev == "" {
		return fmt.Errorf("run --commit: needs --rev (in the checkout, use 'strata commit' after run)")
	}
	if o.messageSet && !o.commit {
		return usagef("run: --message goes with --commit")
	}
	if o.messageSet && o.message == "" {
		// As commit -m "": an empty message is refused, not replaced.
		return usagef("run: --message is empty: give a message, or leave --message out for \"run: COMMAND\"")
	}
	if o.branch != "" && !o.commit {
		return usagef("run: -b goes with --commit")
	}
	if o.detach {
		if _, err := o.resources(); err != nil {
			return err
		}
		if supervisor != "" {
			os.Unsetenv(envSupervise)
			return supervise(ctx, g, o, args, supervisor)
		}
		return startDetached(ctx, g, o)
	}
	if o.name != "" {
		return usagef("run --name %s: a name is for a detached run: add -d", o.name)
	}
	if o.restart != "no" {
		return usagef("run --restart %s: goes with -d", o.restart)
	}
	if o.interactive && o.tty {
		if err := checkTerminal(g.stdin); err != nil {
			return err
		}
	}
	res, err := o.resources()
	if err != nil {
		return err
	}
	// The container's init starts now and waits for its config while the
	// worktree is opened. Not for --rev: its root is mounted later, and
	// the init's copy of the mount table would not have it.
	id := "run-" + randomHex(6)
	var early *exec.Early
	if fs, err := o.flagSpec(g); err == nil && o.rev == "" {
		fs.ID, fs.Resources = id, res
		early = exec.StartEarly(fs)
	}
	defer early.Close()
	r, wt, err := openCheckedOut(g, o.path)
	if err != nil {
		return err
	}
	// Mounting the tree builds snapshots and their indexes, staged in
	// .strata/tmp: a writer's work, which gc --prune=now must not remove
	// half-way. --commit stages and writes its commit after the
	// container, so it holds the lock to the end; otherwise it goes
	// before the container starts, and a long run holds gc off no more.
	if err := g.holdWrites(r); err != nil {
		return err
	}
	var (
		w    *worktree.Worktree
		base *objects.Commit
	)
	if o.rev == "" {
		w = wt
		// BaseCommit ensures the mount (once: each Ensure takes the lock
		// and reads the state and mountinfo).
		if base, err = w.BaseCommit(ctx); err != nil {
			return checkoutRunError(err)
		}
	} else {
		var unlock func()
		w, base, unlock, err = throwawayWorktree(ctx, r, o.rev)
		if err != nil {
			return fmt.Errorf("run --rev %s: %w", o.rev, err)
		}
		defer unlock() // after the removal: deferred calls run last first
		defer removeWorktree(w)
	}
	var target *commitTarget
	if o.commit {
		if target, err = planCommit(ctx, r, base, o); err != nil {
			return err
		}
	}
	spec, err := o.spec(g, base, args)
	if err != nil {
		return err
	}
	spec.Root, spec.Resources = w.Target(), res
	if o.rev != "" {
		// Killed, strata leaves the throwaway tree to gc, but not its
		// mount: the watchdog detaches it.
		spec.CrashUnmount = w.Target()
	}
	// The record tells commit to freeze the container while it reads the
	// upper, and checkout, reset, pull and umount not to pull the mount
	// from under it.
	release, err := w.RegisterRun(id, "")
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	defer release()
	if !o.commit {
		g.releaseWrites(r)
	}
	spec.ID = id
	// SIGTERM, SIGINT and SIGHUP are the container's to handle: exec.Run
	// forwards them and escalates to SIGKILL itself, so the signal that
	// cancels ctx must not kill the container.
	code, err := early.Run(context.WithoutCancel(ctx), spec)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitCodeError{code: ee.Code, err: err}
	}
	if err != nil {
		return err
	}
	if target != nil && code == 0 {
		if err := commitThrowaway(ctx, g, w, target, o, spec.Args); err != nil {
			return err
		}
	}
	if code != 0 && target != nil {
		// Say it: a user who asked for --commit would otherwise look
		// for a commit that was never made.
		return exitCodeError{code: code, err: fmt.Errorf("the command exited with status %d; no commit was made (--commit commits only on success)", code)}
	}
	if code != 0 {
		return exitCodeError{code: code}
	}
	return nil
}

// throwawayWorktree checks rev out, detached, on an overlay of its own
// under .strata/tmp, removed after the run.
// Its directory is locked until unlock, which the caller calls once it
// removed the work tree: gc removes at once what a killed run left, and
// never a live run's (sweepRuns, stagedir).
func throwawayWorktree(ctx context.Context, r *repo.Repo, rev string) (_ *worktree.Worktree, _ *objects.Commit, unlock func(), err error) {
	tmp, unlock, err := stagedir.Make(r.Objects.TempDir(), stagedir.Run)
	if err != nil {
		return nil, nil, nil, err
	}
	// The work tree takes its name from its directory: run-<random>.
	target := filepath.Join(tmp, filepath.Base(tmp))
	if err := os.Mkdir(target, 0o755); err != nil {
		os.RemoveAll(tmp)
		unlock()
		return nil, nil, nil, err
	}
	w, err := worktree.ForPath(r, target)
	if err != nil {
		os.RemoveAll(tmp)
		unlock()
		return nil, nil, nil, err
	}
	c, err := w.Checkout(ctx, worktree.CheckoutOptions{Rev: rev, Detach: true})
	if err != nil {
		removeWorktree(w)
		unlock()
		return nil, nil, nil, err
	}
	return w, c, unlock, nil
}

// checkoutRunError is the error of a run in the checkout that could not
// be mounted; with nothing checked out, it names --rev too, which runs a
// revision on an overlay of its own.
func checkoutRunError(err error) error {
	if errors.Is(err, worktree.ErrNotCheckedOut) {
		return fmt.Errorf("run: %w, or run a revision with --rev REV", err)
	}
	return fmt.Errorf("run: %w", err)
}

func removeWorktree(w *worktree.Worktree) {
	target := w.Target()
	err := w.Umount()
	if errors.Is(err, worktree.ErrNotCheckedOut) {
		// Its checkout failed. A mount point cannot be removed: if the
		// target can, nothing is mounted there (its marker, written
		// before the mount, goes first).
		if !isMountPoint(target) {
			os.Remove(filepath.Join(target, worktree.MarkerName))
		}
		if rerr := os.Remove(target); rerr == nil || errors.Is(rerr, os.ErrNotExist) {
			err = nil
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "strata: run: remove throwaway overlay: %v\n", err)
		return
	}
	os.RemoveAll(w.Dir)
	os.RemoveAll(filepath.Dir(target))
	w.RemoveHeadLog()
}

// commitTarget is where run --commit puts its commit: the branch --rev
// names or a new -b branch, checked before anything runs.
type commitTarget struct {
	branch string        // full ref name
	old    digest.Digest // what it must still hold ("" for a new branch)
	// checkout is the main work tree when it shows the branch: it is moved
	// with the branch, and must be clean.
	checkout *worktree.Worktree
}

func planCommit(ctx context.Context, r *repo.Repo, base *objects.Commit, o runOptions) (*commitTarget, error) {
	t := &commitTarget{branch: refs.Heads + o.branch}
	if o.branch == "" {
		t.branch, t.old = refs.Heads+o.rev, base.ID
		if d, err := r.Refs.Read(t.branch); err != nil || d != base.ID {
			return nil, usagef("run --commit: %s is not a branch; name a new one with -b", o.rev)
		}
	} else if err := refs.CheckName(t.branch); err != nil {
		return nil, usagef("run -b %s: %w", o.branch, err)
	} else if r.Refs.Exists(t.branch) {
		return nil, fmt.Errorf("run -b %s: branch already exists", o.branch)
	}
	w := worktree.Main(r)
	h, err := r.Refs.ReadHead()
	if err != nil {
		return nil, err
	}
	if _, mounted, _ := w.State(); mounted && h.Branch == t.branch {
		changes, err := w.Status(ctx)
		if err != nil {
			return nil, err
		}
		if len(changes) > 0 {
			return nil, fmt.Errorf("run --commit: %s is checked out with %d uncommitted changes; commit them first", o.rev, len(changes))
		}
		t.checkout = w
	}
	return t, nil
}

// commitThrowaway commits what the run changed as a child of base and
// moves the target branch (and its checkout) there.
func commitThrowaway(ctx context.Context, g *globals, w *worktree.Worktree, t *commitTarget, o runOptions, argv []string) error {
	msg := o.message
	if msg == "" {
		msg = "run: " + strings.Join(argv, " ")
	}
	date, err := commitDate("")
	if err != nil {
		return err
	}
	mt, err := layerMtimes()
	if err != nil {
		return err
	}
	c, _, err := w.Commit(ctx, worktree.CommitOptions{Message: msg, AllowEmpty: true, Date: date, Mtime: mt})
	if err != nil {
		return fmt.Errorf("run --commit: %w", err)
	}
	if t.checkout != nil {
		_, err = t.checkout.Reset(ctx, c.ID.String(), worktree.ResetHard)
	} else {
		err = w.Repo.Refs.Update(t.branch, c.ID, t.old, "run: "+firstLine(msg))
	}
	if err != nil {
		return fmt.Errorf("run --commit: %w", err)
	}
	fmt.Fprintf(g.stderr, "[%s %s] %s\n", refs.ShortName(t.branch), shortID(c.ID), pathquote.Text(firstLine(msg)))
	return nil
}

// readEnvFiles puts the variables of the --env-files before -e's, which
// wins, as in docker.
func (o *runOptions) readEnvFiles() error {
	if len(o.envFiles) == 0 {
		return nil
	}
	fileEnv, err := readEnvFiles(o.envFiles, o.recorded)
	if err != nil {
		return err
	}
	o.env = append(fileEnv, o.env...)
	return nil
}

// spec merges the image config with the flags, as docker run does.
func (o runOptions) spec(g *globals, base *objects.Commit, args []string) (exec.Spec, error) {
	var cfg ocispec.ImageConfig
	if base != nil {
		cfg = base.Config.Config
	}
	// As docker's: --entrypoint replaces the image's Entrypoint and
	// drops its Cmd; --entrypoint "" clears both, leaving COMMAND.
	entry := cfg.Entrypoint
	if o.entrypointSet {
		entry = nil
		if o.entrypoint != "" {
			entry = []string{o.entrypoint}
		}
	}
	cmdArgs := cfg.Cmd
	if len(args) > 0 || o.entrypointSet {
		cmdArgs = args
	}
	argv := append(append([]string{}, entry...), cmdArgs...)
	if len(argv) == 0 && o.entrypointSet {
		return exec.Spec{}, usagef("run: no command given (--entrypoint \"\" clears the image's Entrypoint and Cmd)")
	}
	if len(argv) == 0 {
		return exec.Spec{}, usagef("run: no command given and the image has no Entrypoint or Cmd")
	}
	s, err := o.flagSpec(g)
	if err != nil {
		return s, err
	}
	// HOSTNAME first, as docker sets it: the image's Env and -e win.
	host := "HOSTNAME=" + firstNonEmpty(o.hostname, exec.DefaultHostname)
	s.Args, s.Env = argv, mergeEnv(append([]string{host}, cfg.Env...), o.env)
	s.Cwd, s.User = firstNonEmpty(o.workdir, cfg.WorkingDir), firstNonEmpty(o.user, cfg.User)
	return s, nil
}

// flagSpec is the part of a run's spec its flags set, without the image's.
func (o runOptions) flagSpec(g *globals) (exec.Spec, error) {
	s := exec.Spec{
		Hostname: o.hostname, Terminal: o.tty,
		Stdout: g.stdout, Stderr: g.stderr, ReadOnlyRoot: o.readOnly, Network: o.network,
		Privileged: o.privileged, CapAdd: o.capAdd, CapDrop: o.capDrop, Init: o.init,
		GroupAdd: o.groupAdd, StopTimeout: time.Duration(o.stopTimeout) * time.Second,
	}
	err := checkIDFlags(o.user, o.groupAdd)
	if err != nil {
		return s, err
	}
	if err := checkWorkdir(o.workdir); err != nil {
		return s, err
	}
	if err := checkSecurityOpts(o.securityOpts); err != nil {
		return s, err
	}
	if o.hostname != "" && !validHostname(o.hostname) {
		return s, usagef("--hostname %q: want RFC 1123 labels of letters, digits and '-', dot-separated, at most 63 characters", o.hostname)
	}
	if err := checkEnvNames(o.env); err != nil {
		return s, err
	}
	for _, h := range o.addHosts {
		line, err := parseAddHost(h)
		if err != nil {
			return s, err
		}
		s.ExtraHosts = append(s.ExtraHosts, line)
	}
	if s.Rlimits, err = parseUlimits(o.ulimits); err != nil {
		return s, err
	}
	if s.Devices, err = parseDevices(o.devices); err != nil {
		return s, err
	}
	for _, kv := range o.sysctls {
		if err := exec.CheckSysctl(kv, o.network); err != nil {
			return s, usagef("--sysctl %s: %v", kv, err)
		}
	}
	s.Sysctls = o.sysctls
	if s.DNS, s.DNSSearch, s.DNSOptions, err = o.dnsSettings(); err != nil {
		return s, err
	}
	if o.stopSignal != "" {
		if _, err := parseSignal(o.stopSignal); err != nil {
			return s, usagef("--stop-signal %s: %v", o.stopSignal, err)
		}
	}
	if err := checkNetwork(o.network); err != nil {
		return s, err
	}
	if s.Ports, err = o.ports(); err != nil {
		return s, err
	}
	if o.interactive { // -t alone gives a terminal for output only, as docker's
		s.Stdin = g.stdin
	}
	if s.Mounts, err = o.mounts(); err != nil {
		return s, err
	}
	if err := pinBindSources(s.Mounts, o.recorded); err != nil {
		return s, err
	}
	return s, nil
}

// validHostname reports whether h is a host name as RFC 1123 has it
// (and runc and the kernel take it): dot-separated labels of 1 to 63
// letters, digits and '-', neither first nor last in a label, 63 bytes at
// most in all (HOST_NAME_MAX is 64 with its NUL). It goes into /etc/hosts.
func validHostname(h string) bool {
	if len(h) == 0 || len(h) > 63 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			switch c := label[i]; {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-':
			default:
				return false
			}
		}
	}
	return true
}

// parseAddHost reads docker's --add-host NAME:IP (NAME=IP too; an IPv6
// address as it is or in brackets) into "NAME:IP".
func parseAddHost(v string) (string, error) {
	i := strings.IndexAny(v, ":=")
	if i <= 0 {
		return "", usagef("--add-host %s: want NAME:IP", v)
	}
	name, ip := v[:i], strings.TrimSuffix(strings.TrimPrefix(v[i+1:], "["), "]")
	if ip == "host-gateway" {
		return "", usagef("--add-host %s: host-gateway is docker's own; give the address", v)
	}
	if len(name) > 253 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != "" {
		return "", usagef("--add-host %s: %q is not a host name", v, name)
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "", usagef("--add-host %s: %q is not an IP address", v, ip)
	}
	return name + ":" + addr.String(), nil
}

// checkWorkdir refuses a relative -w, as docker does: it was taken from
// the root, and "-w build" ran in a /build made there.
func checkWorkdir(dir string) error {
	if dir != "" && !path.IsAbs(dir) {
		return usagef("-w %s: the working directory must be an absolute path", dir)
	}
	return nil
}

// checkSecurityOpts takes docker's --security-opt no-new-privileges
// (also with ":true" or "=true", any true of ParseBool), which every run has; any other option
// (seccomp=, apparmor=, label=, no-new-privileges:false) would be
// ignored, so it is refused.
func checkSecurityOpts(opts []string) error {
	for _, opt := range opts {
		key, val, hasVal := strings.Cut(opt, "=")
		if !hasVal {
			key, val, hasVal = strings.Cut(opt, ":")
		}
		if key != "no-new-privileges" {
			return usagef("--security-opt %s: not supported (strata takes only no-new-privileges, which every run has; --privileged runs without seccomp)", opt)
		}
		if on, err := strconv.ParseBool(val); hasVal && (err != nil || !on) {
			return usagef("--security-opt %s: no_new_privs is always set", opt)
		}
	}
	return nil
}

// checkEnvNames refuses -e values without a name ("=x"), as podman
// does: the process would get an environment entry no shell can read.
func checkEnvNames(env []string) error {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == "" {
			return usagef("-e %s: no variable name", kv)
		}
	}
	return nil
}

// checkTerminal refuses -it when stdin is not a terminal, as docker does:
// the terminal would wait for input that can never end it (a pipe's EOF
// is no ^D to a pty).
func checkTerminal(stdin io.Reader) error {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return usagef("the input device is not a TTY (-it needs a terminal; use -i alone for a pipe)")
}

// mergeEnv lays -e values over the image's Env; "-e KEY" copies KEY from
// this process's environment, as docker does.
func mergeEnv(image, flags []string) []string {
	out := append([]string{}, image...)
	index := map[string]int{}
	for i, kv := range out {
		k, _, _ := strings.Cut(kv, "=")
		index[k] = i
	}
	for _, kv := range flags {
		k, _, hasValue := strings.Cut(kv, "=")
		if !hasValue {
			v, ok := os.LookupEnv(k)
			if !ok {
				continue
			}
			kv = k + "=" + v
		}
		if i, ok := index[k]; ok {
			out[i] = kv
		} else {
			index[k] = len(out)
			out = append(out, kv)
		}
	}
	return out
}

func (o runOptions) resources() (exec.Resources, error) {
	res := exec.Resources{CPUs: o.cpus, PidsLimit: o.pidsLimit}
	if o.pidsLimit == -1 {
		res.PidsLimit = 0 // docker's "unlimited"
	}
	if o.stopTimeout < -1 {
		return res, usagef("--stop-timeout %d: want seconds, or 0 or -1 to wait forever", o.stopTimeout)
	}
	if o.pidsLimit < -1 {
		return res, usagef("--pids-limit %d: want a number of processes, or 0 or -1 for no limit", o.pidsLimit)
	}
	if o.pidsLimit > exec.MaxPidsLimit {
		// The kernel refuses more in pids.max, after the container was set up.
		return res, usagef("--pids-limit %d: the kernel's most is %d processes (0 or -1: no limit)", o.pidsLimit, exec.MaxPidsLimit)
	}
	if o.cpus != 0 {
		// As docker's: a quota below 1000 us in 100 ms is refused by
		// the kernel, and more CPUs than there are limits nothing.
		n := runtime.NumCPU()
		if math.IsNaN(o.cpus) || o.cpus < 0.01 || o.cpus > float64(n) {
			return res, usagef("--cpus %v: the range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available (0: no limit)", o.cpus, n, n)
		}
	}
	if o.init && o.pidsLimit == 1 {
		return res, usagef("--pids-limit 1: --init is one process of the limit, and leaves none for the command")
	}
	if o.memory != "" {
		n, err := parseBytes(o.memory)
		if err != nil && o.commit {
			// run --commit -m MSG was the commit message once.
			return res, usagef("--memory %s: %v (-m is --memory, as docker's; the commit message is --message)", o.memory, err)
		}
		if err != nil {
			return res, usagef("--memory %s: %v", o.memory, err)
		}
		if n > 0 && n < minMemory {
			// Less fails in odd places (the cgroup refuses the
			// container's first task, unshare or execve run out).
			return res, usagef("--memory %s: the minimum memory limit allowed is 6m (6 MiB), as docker's", o.memory)
		}
		res.MemoryBytes = n
	}
	return res, nil
}

// minMemory is docker's smallest --memory: 6 MiB.
const minMemory = 6 << 20

// parseBytes reads a size as docker run --memory does (go-units'
// RAMInBytes): 512, 512k, 1.5g, 256mb, 1GiB, binary units; 0 means no
// limit, as with docker. RAMInBytes converts a float, so a size past
// int64 comes back wrapped negative (amd64) or clamped (arm64): refused.
func parseBytes(s string) (int64, error) {
	n, err := units.RAMInBytes(s)
	if err != nil || n < 0 || n == math.MaxInt64 {
		return 0, errors.New("want a size such as 256m or 1g")
	}
	return n, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ports parses the -p flags, which need --network private.
func (o runOptions) ports() ([]exec.Port, error) {
	if len(o.publish) > 0 && o.network != exec.NetworkPrivate {
		return nil, usagef("run -p: needs --network private")
	}
	var ps []exec.Port
	for _, v := range o.publish {
		p, err := exec.ParsePort(v)
		if err != nil {
			return nil, usagef("run -p: %v", err)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// dnsSettings checks --dns (IP addresses), --dns-search (domains) and
// --dns-option (resolver options), as docker's: each is one word.
func (o runOptions) dnsSettings() (dns, search, options []string, err error) {
	for _, ip := range o.dns {
		if _, perr := netip.ParseAddr(ip); perr != nil {
			return nil, nil, nil, usagef("--dns %s: not an IP address", ip)
		}
	}
	for _, l := range [][]string{o.dnsSearch, o.dnsOptions} {
		for _, v := range l {
			if v == "" || strings.ContainsAny(v, " \t\n\r#;") {
				return nil, nil, nil, usagef("--dns-search/--dns-option %q: one word, without spaces, # or ;", v)
			}
		}
	}
	return o.dns, o.dnsSearch, o.dnsOptions, nil
}

// checkNetwork refuses a --network mode strata does not have (run and
// build's RUN steps). Docker's names for its default mode, bridge and
// default, are answered with strata's: private is docker's bridge network
// but for traffic between containers, which it does not let through.
func checkNetwork(mode string) error {
	switch mode {
	case exec.NetworkHost, exec.NetworkNone, exec.NetworkPrivate:
		return nil
	case "bridge", "default":
		return usagef("--network %s: must be host, private or none (private is docker's bridge network, with no traffic between containers)", mode)
	}
	return usagef("--network %s: must be host, private or none", mode)
}
