package change

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/exec"
)

// ErrBad is wrapped by errors about a --change instruction.
var ErrBad = errors.New("bad --change instruction")

// Apply applies Dockerfile instructions to an image config, as
// docker commit --change does: ENV, CMD, ENTRYPOINT, WORKDIR, USER,
// EXPOSE, LABEL, VOLUME and STOPSIGNAL, in JSON or shell form. Their
// words but CMD's and ENTRYPOINT's (ENV's and LABEL's values) expand
// $VAR and ${VAR} from the environment set so far. Each is checked
// as strata build checks it (EXPOSE's ports, STOPSIGNAL's signal, an
// argument for every instruction); a relative WORKDIR is taken from the
// one before, and an ENTRYPOINT drops the CMD unless a change before it
// set one, as docker's. On an error cfg may be half changed: callers
// apply changes to a copy they drop on error.
func Apply(cfg *ocispec.ImageConfig, changes []string) error {
	cmdSet := false
	for _, ch := range changes {
		if err := applyChange(cfg, strings.TrimSpace(ch), &cmdSet); err != nil {
			return fmt.Errorf("%w %q: %v", ErrBad, ch, err)
		}
	}
	return nil
}

func applyChange(cfg *ocispec.ImageConfig, ch string, cmdSet *bool) error {
	op, arg := ch, ""
	if i := strings.IndexAny(ch, " \t"); i >= 0 {
		op, arg = ch[:i], strings.TrimSpace(ch[i+1:])
	}
	if arg == "" {
		return errors.New("missing argument")
	}
	// $VAR and ${VAR} from the environment so far, as docker's dispatch
	// expands every instruction's words but CMD's and ENTRYPOINT's.
	expand := func(s string) string { return os.Expand(s, func(k string) string { return getEnv(cfg, k) }) }
	switch strings.ToUpper(op) {
	case "ENV":
		kvs, err := keyValues(arg)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			setEnv(cfg, kv[0], expand(kv[1]))
		}
	case "LABEL":
		kvs, err := keyValues(arg)
		if err != nil {
			return err
		}
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		for _, kv := range kvs {
			cfg.Labels[kv[0]] = expand(kv[1])
		}
	case "CMD":
		cfg.Cmd = execForm(arg)
		*cmdSet = true
	case "ENTRYPOINT":
		cfg.Entrypoint = execForm(arg)
		if !*cmdSet {
			cfg.Cmd = nil // an inherited CMD does not outlive a new ENTRYPOINT (docker)
		}
	case "WORKDIR":
		cfg.WorkingDir = workdir(cfg.WorkingDir, expand(arg))
	case "USER":
		cfg.User = expand(arg)
	case "STOPSIGNAL":
		sig := expand(arg)
		if !exec.ValidSignal(sig) {
			return fmt.Errorf("%s: not a signal (SIGTERM, TERM, 15, SIGRTMIN+3)", sig)
		}
		cfg.StopSignal = sig
	case "EXPOSE":
		return expose(cfg, expand(arg))
	case "VOLUME":
		return volume(cfg, expand(arg))
	default:
		return fmt.Errorf("unknown instruction %s (ENV, CMD, ENTRYPOINT, WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL)", op)
	}
	return nil
}

// workdir is a WORKDIR's directory: an absolute one as it is (cleaned),
// a relative one under the current (or /), as build and docker take it.
func workdir(cur, dir string) string {
	if path.IsAbs(dir) {
		return path.Clean(dir)
	}
	return path.Join("/", cur, dir)
}

// expose adds EXPOSE's ports, each word read as build reads it
// (exec.ParseExposeWord): "abc" or "80/http" is an error, not a key that
// no tool reading the image takes for a port.
func expose(cfg *ocispec.ImageConfig, arg string) error {
	var keys []string
	for _, w := range strings.Fields(arg) {
		ports, err := exec.ParseExposeWord(w)
		if err != nil {
			return fmt.Errorf("%s: %w", w, err)
		}
		keys = append(keys, ports...)
	}
	if cfg.ExposedPorts == nil {
		cfg.ExposedPorts = map[string]struct{}{}
	}
	for _, k := range keys {
		cfg.ExposedPorts[k] = struct{}{}
	}
	return nil
}

// volume adds VOLUME's paths, a JSON list or words; an empty list or
// path is an error, as buildkit's.
func volume(cfg *ocispec.ImageConfig, arg string) error {
	var vols []string
	if !strings.HasPrefix(arg, "[") || json.Unmarshal([]byte(arg), &vols) != nil {
		vols = strings.Fields(arg)
	}
	if len(vols) == 0 {
		return errors.New("VOLUME requires at least one argument")
	}
	for _, v := range vols {
		if strings.TrimSpace(v) == "" {
			return errors.New("VOLUME specified can not be an empty string")
		}
	}
	if cfg.Volumes == nil {
		cfg.Volumes = map[string]struct{}{}
	}
	for _, v := range vols {
		cfg.Volumes[strings.TrimSpace(v)] = struct{}{}
	}
	return nil
}

// execForm parses ["a","b"] or wraps a shell command in /bin/sh -c.
func execForm(arg string) []string {
	var v []string
	if strings.HasPrefix(arg, "[") && json.Unmarshal([]byte(arg), &v) == nil {
		return v
	}
	return []string{"/bin/sh", "-c", arg}
}

// keyValues parses "K=V K2="v 2"" or the old form "K V".
func keyValues(arg string) ([][2]string, error) {
	words, err := shellWords(arg)
	if err != nil {
		return nil, err
	}
	if len(words) > 0 && !strings.Contains(words[0], "=") {
		k, v, _ := strings.Cut(arg, " ")
		if v = strings.TrimSpace(v); v == "" {
			// As docker's parser: "ENV A" sets nothing, it is a mistake.
			return nil, fmt.Errorf("%q: want KEY=VALUE or KEY VALUE", arg)
		}
		return [][2]string{{k, v}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: want KEY=VALUE", w)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// shellWords splits on blanks, honouring quotes and backslashes.
func shellWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in, quote, esc := false, byte(0), false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			cur.WriteByte(c)
			esc = false
		case c == '\\' && quote != '\'':
			esc, in = true, true
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}

func getEnv(cfg *ocispec.ImageConfig, k string) string {
	for _, e := range cfg.Env {
		if name, v, _ := strings.Cut(e, "="); name == k {
			return v
		}
	}
	return ""
}

func setEnv(cfg *ocispec.ImageConfig, k, v string) {
	for i, e := range cfg.Env {
		if name, _, _ := strings.Cut(e, "="); name == k {
			cfg.Env[i] = k + "=" + v
			return
		}
	}
	cfg.Env = append(cfg.Env, k+"="+v)
}
