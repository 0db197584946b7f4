package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ErrBadChange is wrapped by errors about a --change instruction.
var ErrBadChange = errors.New("bad --change instruction")

// ApplyChanges applies Dockerfile instructions to an image config, as
// docker commit --change does: ENV, CMD, ENTRYPOINT, WORKDIR, USER,
// EXPOSE, LABEL, VOLUME and STOPSIGNAL, in JSON or shell form. ENV values
// expand $VAR and ${VAR} from the environment set so far.
func ApplyChanges(cfg *ocispec.ImageConfig, changes []string) error {
	for _, ch := range changes {
		if err := applyChange(cfg, strings.TrimSpace(ch)); err != nil {
			return fmt.Errorf("%w %q: %v", ErrBadChange, ch, err)
		}
	}
	return nil
}

func applyChange(cfg *ocispec.ImageConfig, ch string) error {
	op, arg, _ := strings.Cut(ch, " ")
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return errors.New("missing argument")
	}
	switch strings.ToUpper(op) {
	case "ENV":
		kvs, err := keyValues(arg)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			setEnv(cfg, kv[0], os.Expand(kv[1], func(k string) string { return getEnv(cfg, k) }))
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
			cfg.Labels[kv[0]] = kv[1]
		}
	case "CMD":
		cfg.Cmd = execForm(arg)
	case "ENTRYPOINT":
		cfg.Entrypoint = execForm(arg)
	case "WORKDIR":
		cfg.WorkingDir = arg
	case "USER":
		cfg.User = arg
	case "STOPSIGNAL":
		cfg.StopSignal = arg
	case "EXPOSE":
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range strings.Fields(arg) {
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			cfg.ExposedPorts[p] = struct{}{}
		}
	case "VOLUME":
		var vols []string
		if json.Unmarshal([]byte(arg), &vols) != nil {
			vols = strings.Fields(arg)
		}
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		for _, v := range vols {
			cfg.Volumes[v] = struct{}{}
		}
	default:
		return fmt.Errorf("unknown instruction %s (ENV, CMD, ENTRYPOINT, WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL)", op)
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
