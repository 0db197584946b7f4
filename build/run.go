package build

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/objects"
)

// run carries out a RUN on a throwaway overlay of the parent, confined
// as strata run confines, and commits what it changed. A failing command
// commits nothing.
func (b *builder) run(ctx context.Context, s *state, cmd *instructions.RunCommand, text string) (*objects.Commit, bool, error) {
	argv := s.argv(runCmdLine(cmd))
	extra := "argv=" + jsonText(argv) + "\n" + s.argsText()
	key := b.stepKey(s, text, extra)
	if hit := b.lookup(key); hit != nil {
		return hit, true, nil
	}
	ov, err := b.mount(ctx, s.parent, 0)
	if err != nil {
		return nil, false, err
	}
	defer ov.close()
	if wd := s.cfg.WorkingDir; wd != "" && wd != "/" {
		// As docker: RUN's working directory exists, whoever made it.
		// Its path resolves in the image (/var/run -> /run is followed).
		if err := mkdirAllInRoot(ov.target, wd, -1, -1); err != nil {
			return nil, false, fmt.Errorf("WORKDIR %s: %w", wd, err)
		}
	}
	spec := exec.Spec{
		ID: "build-" + randomHex(6), Root: ov.target, Args: argv, Env: withProxy(s.env(), b.o.BuildArgs),
		Cwd: s.cfg.WorkingDir, User: s.cfg.User, Network: b.o.Network,
		Stdout: b.o.Out, Stderr: b.o.Out, StopTimeout: runStopTimeout,
	}
	// exec.Run forwards SIGINT and SIGTERM to the container itself, and
	// kills it runStopTimeout later: a command that is its pid 1 (make,
	// sleep) ignores both, and the build would wait for it to end.
	code, err := exec.Run(context.WithoutCancel(ctx), spec)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil, false, &exitError{code: ee.Code, err: err}
	}
	if err != nil {
		return nil, false, err
	}
	if code != 0 {
		return nil, false, &exitError{code: code, err: fmt.Errorf("the command exited with status %d; nothing was committed", code)}
	}
	layers, err := b.layer(ctx, ov, s.parent)
	if err != nil {
		return nil, false, err
	}
	c, err := b.commit(ctx, s, layers, s.cfg, text, key)
	return c, false, err
}

// proxyArgs are docker's predefined ARGs: a --build-arg of one of
// these names (in any case) reaches every RUN without an ARG.
var proxyArgs = []string{"HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY"}

func isProxyArg(k string) bool {
	for _, name := range proxyArgs {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// withProxy adds the proxy build args to a RUN's environment, in both
// spellings as buildkit sets them, unless the stage sets the name. As in
// buildkit they are not part of the step's key: a proxy is how the
// command reaches the network, not what it makes.
func withProxy(env []string, buildArgs map[string]string) []string {
	have := map[string]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		have[k] = true
	}
	keys := make([]string, 0, len(buildArgs))
	for k := range buildArgs {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the last of HTTP_PROXY and http_proxy wins, as in buildkit
	for _, name := range proxyArgs {
		v, ok := "", false
		for _, k := range keys {
			if strings.EqualFold(k, name) {
				v, ok = buildArgs[k], true
			}
		}
		if !ok || v == "" {
			continue
		}
		for _, k := range []string{name, strings.ToLower(name)} {
			if !have[k] {
				env = append(env, k+"="+v)
			}
		}
	}
	return env
}

// runStopTimeout is what a RUN gets between a SIGINT or SIGTERM to the
// build and SIGKILL: strata run's (and docker stop's) default.
const runStopTimeout = 10 * time.Second

type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
