package change

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/exec"
)

// ErrBad is wrapped by errors about a --change instruction.
var ErrBad = errors.New("bad --change instruction")

// Apply applies Dockerfile instructions to an image config, as
// docker commit --change does: ENV, CMD, ENTRYPOINT, WORKDIR, USER,
// EXPOSE, LABEL, VOLUME and STOPSIGNAL, in JSON or shell form. Their
// words but CMD's and ENTRYPOINT's expand $VAR and ${VAR:-default} from
// the environment before the instruction, quotes and backslashes read
// by the shell lexer strata build uses (buildkit's). Each is checked
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
	ex := newExpander(cfg.Env)
	switch strings.ToUpper(op) {
	case "ENV":
		kvs, err := keyValues(arg, ex)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			setEnv(cfg, kv[0], kv[1])
		}
	case "LABEL":
		kvs, err := keyValues(arg, ex)
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
		*cmdSet = true
	case "ENTRYPOINT":
		cfg.Entrypoint = execForm(arg)
		if !*cmdSet {
			cfg.Cmd = nil // an inherited CMD does not outlive a new ENTRYPOINT (docker)
		}
	case "WORKDIR":
		dir, err := ex.word(arg)
		if err != nil {
			return err
		}
		cfg.WorkingDir = workdir(cfg.WorkingDir, dir)
	case "USER":
		user, err := ex.word(arg)
		if err != nil {
			return err
		}
		cfg.User = user
	case "STOPSIGNAL":
		sig, err := ex.word(arg)
		if err != nil {
			return err
		}
		if !exec.ValidSignal(sig) {
			return fmt.Errorf("%s: not a signal (SIGTERM, TERM, 15, SIGRTMIN+3)", sig)
		}
		cfg.StopSignal = sig
	case "EXPOSE":
		return expose(cfg, arg, ex)
	case "VOLUME":
		return volume(cfg, arg, ex)
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
// no tool reading the image takes for a port. A word may expand to
// several ($PORTS of "80 443"), as docker's EXPOSE alone does.
func expose(cfg *ocispec.ImageConfig, arg string, ex expander) error {
	var keys []string
	for _, raw := range strings.Fields(arg) {
		words, err := ex.words(raw)
		if err != nil {
			return err
		}
		for _, w := range words {
			ports, err := exec.ParseExposeWord(w)
			if err != nil {
				return fmt.Errorf("%s: %w", w, err)
			}
			keys = append(keys, ports...)
		}
	}
	if cfg.ExposedPorts == nil {
		cfg.ExposedPorts = map[string]struct{}{}
	}
	for _, k := range keys {
		cfg.ExposedPorts[k] = struct{}{}
	}
	return nil
}

// volume adds VOLUME's paths, a JSON list or words, each expanded
// alone; an empty list or path is an error, as buildkit's.
func volume(cfg *ocispec.ImageConfig, arg string, ex expander) error {
	var vols []string
	if !strings.HasPrefix(arg, "[") || json.Unmarshal([]byte(arg), &vols) != nil {
		vols = strings.Fields(arg)
	}
	if len(vols) == 0 {
		return errors.New("VOLUME requires at least one argument")
	}
	for i, v := range vols {
		var err error
		if vols[i], err = ex.word(v); err != nil {
			return err
		}
		if strings.TrimSpace(vols[i]) == "" {
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

// keyValues parses ENV's and LABEL's "K=V K2="v 2"" or the old form
// "K V", as docker's parser splits them (quotes kept), and expands each
// key and value as docker's dispatch does: quotes and backslashes
// removed, $VAR and ${VAR:-default} from the Env before the
// instruction ("ENV A=1 B=$A" sets B to the A before it), and nothing
// in single quotes or after a backslash.
func keyValues(arg string, ex expander) ([][2]string, error) {
	words, err := rawWords(arg)
	if err != nil {
		return nil, err
	}
	var raw [][2]string
	if len(words) > 0 && !strings.Contains(words[0], "=") {
		// The key is the first word, the value all the rest.
		v := strings.TrimSpace(strings.TrimPrefix(arg, words[0]))
		if v == "" {
			// As docker's parser: "ENV A" sets nothing, it is a mistake.
			return nil, fmt.Errorf("%q: want KEY=VALUE or KEY VALUE", arg)
		}
		raw = [][2]string{{words[0], v}}
	} else {
		for _, w := range words {
			k, v, ok := strings.Cut(w, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("%q: want KEY=VALUE", w)
			}
			raw = append(raw, [2]string{k, v})
		}
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%q: want KEY=VALUE", arg)
	}
	out := make([][2]string, len(raw))
	for i, kv := range raw {
		for j := range kv {
			if out[i][j], err = ex.word(kv[j]); err != nil {
				return nil, err
			}
		}
		if out[i][0] == "" {
			return nil, fmt.Errorf("%q: want KEY=VALUE", kv[0]+"="+kv[1])
		}
	}
	return out, nil
}

// rawWords splits on blanks outside quotes, keeping the quotes and
// backslashes for the expander (docker's parseWords).
func rawWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	quote, esc := byte(0), false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && quote != '\'':
			esc = true
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == ' ' || c == '\t':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteByte(c)
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out, nil
}

// expander expands an instruction's words as docker's dispatch does,
// with the shell lexer strata build uses (buildkit's), from the Env as
// it was before the instruction.
type expander struct {
	lex *shell.Lex
	env shell.EnvGetter
}

func newExpander(env []string) expander {
	return expander{lex: shell.NewLex('\\'), env: shell.EnvsFromSlice(append([]string(nil), env...))}
}

// word expands w into one word.
func (e expander) word(w string) (string, error) {
	out, _, err := e.lex.ProcessWord(w, e.env)
	return out, err
}

// words expands w into the words it splits into (EXPOSE's).
func (e expander) words(w string) ([]string, error) {
	return e.lex.ProcessWords(w, e.env)
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
