package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/objects"
)

// stepKey is a step's cache key: its parent, the instruction as it runs,
// and what else decides its result (the files a COPY copies, the args a
// RUN sees).
func stepKey(parent *objects.Commit, text, extra string) string {
	h := sha256.New()
	p := "scratch"
	if parent != nil {
		p = parent.ID.String()
	}
	fmt.Fprintf(h, "strata-build-v1\x00%s\x00%s\x00%s", p, text, extra)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// stepKey is the package's stepKey for a step of this build on s: under
// SOURCE_DATE_EPOCH (Options.Reproducible) the commit date is part of
// the key, since it is part of the commit, and a commit cached by a build
// without it has another date and unclamped layer mtimes: a hit on it
// would make the result depend on the cache, not the recipe. So is the
// default PATH the stage added (a commit cached without it lacks it).
func (b *builder) stepKey(s *state, text, extra string) string {
	if b.o.Reproducible {
		extra += "\x00date:" + strconv.FormatInt(b.o.Date.Unix(), 10)
	}
	if s.pathAdded {
		extra += defaultPathKey
	}
	return stepKey(s.parent, text, extra)
}

// defaultPathKey is what the default PATH adds to a key (setDefaultPath).
const defaultPathKey = "\x00env:default PATH"

// meta applies an instruction that changes only the image config, as one
// commit without a layer (its history entry is empty_layer).
func (b *builder) meta(ctx context.Context, s *state, c instructions.Command, text string) (*objects.Commit, bool, error) {
	cfg := cloneConfig(s.cfg)
	switch c := c.(type) {
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			cfg.Env = setEnv(cfg.Env, kv.Key, kv.Value)
		}
	case *instructions.LabelCommand:
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		for _, kv := range c.Labels {
			cfg.Labels[kv.Key] = kv.Value
		}
	case *instructions.UserCommand:
		cfg.User = c.User
	case *instructions.ExposeCommand:
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range c.Ports {
			ports, err := exposedPorts(p)
			if err != nil {
				return nil, false, err
			}
			for _, p := range ports {
				cfg.ExposedPorts[p] = struct{}{}
			}
		}
	case *instructions.VolumeCommand:
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		for _, v := range c.Volumes {
			cfg.Volumes[v] = struct{}{}
		}
	case *instructions.StopSignalCommand:
		if !exec.ValidSignal(c.Signal) {
			return nil, false, fmt.Errorf("%s: not a signal (SIGTERM, TERM, 15, SIGRTMIN+3)", quoteWord(c.Signal))
		}
		cfg.StopSignal = c.Signal
	case *instructions.CmdCommand:
		cfg.Cmd = s.argv(c.ShellDependantCmdLine)
		s.cmdSet = true
	case *instructions.EntrypointCommand:
		cfg.Entrypoint = s.argv(c.ShellDependantCmdLine)
		if !s.cmdSet {
			cfg.Cmd = nil // an inherited CMD does not outlive a new ENTRYPOINT (docker)
		}
	case *instructions.ShellCommand:
		// The OCI config has no Shell: it holds for the rest of the
		// stage only (buildah does the same for OCI images).
		s.shell = append([]string(nil), c.Shell...)
	case *instructions.HealthCheckCommand:
		// Nor a Healthcheck: recorded in the history alone, as buildah
		// does for OCI images.
	default:
		return nil, false, fmt.Errorf("%s is not supported", strings.ToUpper(c.Name()))
	}
	// The key holds every input of the result besides the parent and
	// the instruction: SHELL (a shell-form CMD or ENTRYPOINT depends on
	// it) and the config made, which also depends on the stage's state
	// (ENTRYPOINT keeps a CMD of the same stage only).
	cj, err := json.Marshal(cfg)
	if err != nil {
		return nil, false, err
	}
	key := b.stepKey(s, text, jsonText(s.shell)+"\x00config:"+string(cj))
	if hit := b.lookup(key); hit != nil {
		return hit, true, nil
	}
	commit, err := b.commit(ctx, s, nil, cfg, text, key)
	return commit, false, err
}

// argv is a shell-form command line wrapped in the stage's SHELL, or an
// exec-form one as written.
func (s *state) argv(c instructions.ShellDependantCmdLine) []string {
	if c.PrependShell {
		return append(append([]string(nil), s.shell...), strings.Join(c.CmdLine, " "))
	}
	return append([]string(nil), c.CmdLine...)
}

func setEnv(env []string, k, v string) []string {
	for i, kv := range env {
		if key, _, _ := strings.Cut(kv, "="); key == k {
			out := append([]string(nil), env...)
			out[i] = k + "=" + v
			return out
		}
	}
	return append(append([]string(nil), env...), k+"="+v)
}

func cloneConfig(c ocispec.ImageConfig) ocispec.ImageConfig {
	var out ocispec.ImageConfig
	b, _ := json.Marshal(c)
	json.Unmarshal(b, &out)
	return out
}

func jsonText(v []string) string {
	if v == nil {
		v = []string{} // ENTRYPOINT [] as written, not null
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// workdir sets the working directory and, as docker does, makes it in
// the image (with its missing parents, 0755, owned by the stage's USER
// as buildkit makes them): the step's layer, none if it exists.
func (b *builder) workdir(ctx context.Context, s *state, c *instructions.WorkdirCommand, text string) (*objects.Commit, bool, error) {
	cfg := cloneConfig(s.cfg)
	cfg.WorkingDir = absPath(cfg.WorkingDir, c.Path)
	cj, err := json.Marshal(cfg)
	if err != nil {
		return nil, false, err
	}
	key := b.stepKey(s, text, "workdir\x00config:"+string(cj))
	if hit := b.lookup(key); hit != nil {
		return hit, true, nil
	}
	var layers []objects.Layer
	if cfg.WorkingDir != "/" {
		ov, err := b.mount(ctx, s.parent, inMemory(nil))
		if err != nil {
			return nil, false, err
		}
		defer ov.close()
		root, err := os.OpenRoot(ov.target)
		if err != nil {
			return nil, false, err
		}
		uid, gid, err := lookupOwner(root, cfg.User)
		root.Close()
		if err != nil {
			return nil, false, fmt.Errorf("USER %s: %w", cfg.User, err)
		}
		if err := mkdirAllInRoot(ov.target, cfg.WorkingDir, uid, gid); err != nil {
			return nil, false, err
		}
		if layers, err = b.layer(ctx, ov, s.parent); err != nil {
			return nil, false, err
		}
	}
	commit, err := b.commit(ctx, s, layers, cfg, text, key)
	return commit, false, err
}

// exposedPorts is what docker's builder writes into the config for one
// EXPOSE word (exec.ParseExposeWord), the word quoted in its error.
func exposedPorts(word string) ([]string, error) {
	ports, err := exec.ParseExposeWord(word)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", quoteWord(word), err)
	}
	return ports, nil
}
