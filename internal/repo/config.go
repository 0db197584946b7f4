package repo

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	gitconfig "github.com/go-git/go-git/v5/plumbing/format/config"
	"github.com/strata-sh/strata/internal/atomicfile"
)

// Config is the repository's .strata/config, in git-config syntax.
type Config struct {
	path string
	raw  *gitconfig.Config
}

// LoadConfig reads a git-config file; a missing file is an empty config.
func LoadConfig(path string) (*Config, error) {
	c := &Config{path: path, raw: gitconfig.New()}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	if err := gitconfig.NewDecoder(bytes.NewReader(b)).Decode(c.raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// splitKey splits "section.key" or "section.subsection.key".
func splitKey(key string) (section, sub, name string, err error) {
	parts := strings.Split(key, ".")
	if len(parts) < 2 || parts[0] == "" || parts[len(parts)-1] == "" {
		return "", "", "", fmt.Errorf("key %q: must be section.name or section.subsection.name", key)
	}
	section, name = parts[0], parts[len(parts)-1]
	sub = strings.Join(parts[1:len(parts)-1], ".")
	return section, sub, name, nil
}

// Get returns the value of key and whether it is set.
func (c *Config) Get(key string) (string, bool) {
	section, sub, name, err := splitKey(key)
	if err != nil || !c.raw.HasSection(section) {
		return "", false
	}
	s := c.raw.Section(section)
	var opts gitconfig.Options
	if sub == "" {
		opts = s.Options
	} else {
		if !s.HasSubsection(sub) {
			return "", false
		}
		opts = s.Subsection(sub).Options
	}
	if !opts.Has(name) {
		return "", false
	}
	return opts.Get(name), true
}

// Set sets key to value and saves the file atomically.
func (c *Config) Set(key, value string) error {
	section, sub, name, err := splitKey(key)
	if err != nil {
		return err
	}
	c.raw.SetOption(section, sub, name, value)
	return c.save()
}

// Unset removes key and saves the file.
func (c *Config) Unset(key string) error {
	section, sub, name, err := splitKey(key)
	if err != nil {
		return err
	}
	if _, ok := c.Get(key); !ok {
		return fmt.Errorf("key %q is not set", key)
	}
	if sub == "" {
		c.raw.Section(section).RemoveOption(name)
	} else {
		c.raw.Section(section).Subsection(sub).RemoveOption(name)
	}
	return c.save()
}

// RemoveSubsection drops [section "sub"] entirely (remote remove).
func (c *Config) RemoveSubsection(section, sub string) error {
	c.raw.Section(section).RemoveSubsection(sub)
	return c.save()
}

// Subsections lists the subsection names of section, e.g. remotes.
func (c *Config) Subsections(section string) []string {
	if !c.raw.HasSection(section) {
		return nil
	}
	var out []string
	for _, s := range c.raw.Section(section).Subsections {
		out = append(out, s.Name)
	}
	return out
}

// All returns every key=value, in file order.
func (c *Config) All() [][2]string {
	var out [][2]string
	for _, s := range c.raw.Sections {
		for _, o := range s.Options {
			out = append(out, [2]string{s.Name + "." + o.Key, o.Value})
		}
		for _, ss := range s.Subsections {
			for _, o := range ss.Options {
				out = append(out, [2]string{s.Name + "." + ss.Name + "." + o.Key, o.Value})
			}
		}
	}
	return out
}

func (c *Config) save() error {
	var buf bytes.Buffer
	if err := gitconfig.NewEncoder(&buf).Encode(c.raw); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Dir(c.path), c.path, buf.Bytes(), 0o644)
}

// Identity is "Name <email>" for commits and reflogs: the repository's
// [user], else the user's global git config, else user@hostname.
func (r *Repo) Identity() (string, error) {
	name, _ := r.Config.Get("user.name")
	email, _ := r.Config.Get("user.email")
	if name == "" || email == "" {
		gn, ge := globalGitIdentity()
		if name == "" {
			name = gn
		}
		if email == "" {
			email = ge
		}
	}
	if name == "" || email == "" {
		u := "root"
		if cu, err := user.Current(); err == nil {
			u = cu.Username
		}
		host, _ := os.Hostname()
		if name == "" {
			name = u
		}
		if email == "" {
			email = u + "@" + host
		}
	}
	return fmt.Sprintf("%s <%s>", name, email), nil
}

// globalGitIdentity reads user.name and user.email from the user's git
// config files ($XDG_CONFIG_HOME/git/config, then ~/.gitconfig wins).
func globalGitIdentity() (name, email string) {
	home, _ := os.UserHomeDir()
	xdg := os.Getenv("XDG_CONFIG_HOME")
	if xdg == "" && home != "" {
		xdg = filepath.Join(home, ".config")
	}
	for _, p := range []string{filepath.Join(xdg, "git", "config"), filepath.Join(home, ".gitconfig")} {
		c, err := LoadConfig(p)
		if err != nil {
			continue
		}
		if v, ok := c.Get("user.name"); ok {
			name = v
		}
		if v, ok := c.Get("user.email"); ok {
			email = v
		}
	}
	return name, email
}
