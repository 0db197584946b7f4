package build

import (
	"fmt"
	"runtime"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

func (s *state) env() []string {
	out := append([]string(nil), s.cfg.Env...)
	have := map[string]bool{}
	for _, kv := range out {
		k, _, _ := strings.Cut(kv, "=")
		have[k] = true
	}
	for _, k := range s.argOrder {
		if !have[k] && !s.unset[k] {
			out = append(out, k+"="+s.args[k])
		}
	}
	return out
}

// argsText is the build args a RUN sees, as docker's cache key has them.
func (s *state) argsText() string {
	if len(s.argOrder) == 0 {
		return ""
	}
	keys := append([]string(nil), s.argOrder...)
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if s.unset[k] {
			fmt.Fprintf(&b, "%s\n", k) // unset, not empty
			continue
		}
		fmt.Fprintf(&b, "%s=%s\n", k, s.args[k])
	}
	return b.String()
}

func (b *builder) arg(s *state, a *instructions.ArgCommand) {
	meta := map[string]string{}
	for _, kv := range b.global {
		k, v, _ := strings.Cut(kv, "=")
		meta[k] = v
	}
	for _, kv := range a.Args {
		v, ok := b.o.BuildArgs[kv.Key]
		if !ok && kv.Value != nil {
			v, ok = *kv.Value, true
		} else if !ok {
			v, ok = meta[kv.Key]
		}
		if _, seen := s.args[kv.Key]; !seen {
			s.argOrder = append(s.argOrder, kv.Key)
		}
		s.args[kv.Key] = v
		if s.unset == nil {
			s.unset = map[string]bool{}
		}
		// No value from anywhere: declared, unset (buildah, docker).
		s.unset[kv.Key] = !ok
	}
}

// globalArgs is the global scope (FROM's, and what a stage's ARG NAME
// without a value takes), as buildkit makes it: the automatic platform
// ARGs, then each ARG before the first FROM, with --build-arg's value
// or its default expanded with the ARGs before it (ARG REF=${IMG}).
func (b *builder) globalArgs() ([]string, error) {
	env := platformArgs(b.o.BuildArgs)
	for _, a := range b.rc.metaArgs {
		for _, kv := range a.Args {
			v, ok := b.o.BuildArgs[kv.Key]
			if !ok && kv.Value != nil {
				var err error
				if v, err = b.expandWith(*kv.Value, env); err != nil {
					return nil, lineError(b.rc.name, a.Location()[0].Start.Line, fmt.Errorf("ARG %s: %w", kv.Key, err))
				}
				ok = true
			}
			if ok {
				env = setEnv(env, kv.Key, v)
			}
		}
	}
	return env, nil
}

// platformArgs are docker's automatic platform ARGs (TARGETARCH, ...):
// this machine's platform, which is the one strata's commits name, with
// no variant, as they have none. --build-arg overrides them, as in
// buildkit.
func platformArgs(buildArgs map[string]string) []string {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	var env []string
	for _, kv := range [][2]string{
		{"BUILDPLATFORM", platform}, {"BUILDOS", runtime.GOOS}, {"BUILDARCH", runtime.GOARCH}, {"BUILDVARIANT", ""},
		{"TARGETPLATFORM", platform}, {"TARGETOS", runtime.GOOS}, {"TARGETARCH", runtime.GOARCH}, {"TARGETVARIANT", ""},
	} {
		v, ok := buildArgs[kv[0]]
		if !ok {
			v = kv[1]
		}
		env = append(env, kv[0]+"="+v)
	}
	return env
}

func (b *builder) expandWith(word string, env []string) (string, error) {
	out, _, err := b.lex.ProcessWord(word, shell.EnvsFromSlice(env))
	return out, err
}

// unusedArgs are the --build-arg names that no ARG of the stages up to
// end declares and that are none of docker's predefined ARGs (the
// proxies, the platform): a misspelt name would otherwise do nothing,
// unseen.
func (b *builder) unusedArgs(end int) []string {
	declared := map[string]bool{}
	declare := func(a *instructions.ArgCommand) {
		for _, kv := range a.Args {
			declared[kv.Key] = true
		}
	}
	for i := range b.rc.metaArgs {
		declare(&b.rc.metaArgs[i])
	}
	for _, st := range b.rc.stages[:end+1] {
		for _, sp := range st.steps {
			if a, ok := sp.cmd.(*instructions.ArgCommand); ok {
				declare(a)
			}
		}
	}
	for _, kv := range platformArgs(nil) {
		k, _, _ := strings.Cut(kv, "=")
		declared[k] = true
	}
	var out []string
	for k := range b.o.BuildArgs {
		if !declared[k] && !isProxyArg(k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
