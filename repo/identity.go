package repo

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
)

// Identity is "Name <email>" for commits and reflogs, found as git finds
// an author: $GIT_AUTHOR_NAME and $GIT_AUTHOR_EMAIL, else user.name and
// user.email from the repository's config, then the user's and the
// system's git config (their include.path files followed), else $EMAIL,
// else user@hostname.
func (r *Repo) Identity() (string, error) {
	name, email := os.Getenv("GIT_AUTHOR_NAME"), os.Getenv("GIT_AUTHOR_EMAIL")
	if name == "" {
		name, _ = r.Config.Get("user.name")
	}
	if email == "" {
		email, _ = r.Config.Get("user.email")
	}
	if name == "" || email == "" {
		gn, ge := gitIdentity()
		if name == "" {
			name = gn
		}
		if email == "" {
			email = ge
		}
	}
	if email == "" {
		email = os.Getenv("EMAIL")
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

// gitConfigFiles are the user's git config files that git reads, the
// one that wins last: /etc/gitconfig (unless $GIT_CONFIG_NOSYSTEM),
// then $GIT_CONFIG_GLOBAL, or else $XDG_CONFIG_HOME/git/config and
// ~/.gitconfig.
func gitConfigFiles() []string {
	var files []string
	if os.Getenv("GIT_CONFIG_NOSYSTEM") == "" {
		files = append(files, "/etc/gitconfig")
	}
	if g := os.Getenv("GIT_CONFIG_GLOBAL"); g != "" {
		return append(files, g)
	}
	home, xdg := userGitConfigs()
	return append(files, xdg, home)
}

// userGitConfigs are ~/.gitconfig and $XDG_CONFIG_HOME/git/config
// (~/.config/git/config without it).
func userGitConfigs() (home, xdg string) {
	dir, _ := os.UserHomeDir()
	x := os.Getenv("XDG_CONFIG_HOME")
	if x == "" && dir != "" {
		x = filepath.Join(dir, ".config")
	}
	return filepath.Join(dir, ".gitconfig"), filepath.Join(x, "git", "config")
}

// GlobalGitConfig is the file git config --global writes:
// $GIT_CONFIG_GLOBAL, else ~/.gitconfig, else the XDG file if only it
// exists.
func GlobalGitConfig() string {
	if g := os.Getenv("GIT_CONFIG_GLOBAL"); g != "" {
		return g
	}
	home, xdg := userGitConfigs()
	if _, err := os.Stat(home); err != nil {
		if _, err := os.Stat(xdg); err == nil {
			return xdg
		}
	}
	return home
}

// gitIdentity reads user.name and user.email from the user's git config
// files, the last value winning, as git reads them.
func gitIdentity() (name, email string) {
	for _, p := range gitConfigFiles() {
		for _, e := range configEntries(p, 0) {
			switch e.Key {
			case "user.name":
				name = e.Value
			case "user.email":
				email = e.Value
			}
		}
	}
	return name, email
}

// expandHome is a git config path value with a leading "~/" read as the
// home directory.
func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		home, _ := os.UserHomeDir()
		return filepath.Join(home, rest)
	}
	return p
}

// maxIncludeDepth is git's: deeper include.path chains are an error to
// git (a loop, most likely); here they stop.
const maxIncludeDepth = 10

// configEntries are the entries of the git config file at path in
// order, with each include.path file's entries in its place, as git
// reads them: a relative path is the including file's directory's, and
// "~/" is the home directory. A file that cannot be read has none.
func configEntries(path string, depth int) []Entry {
	c, err := LoadConfig(path)
	if err != nil || depth > maxIncludeDepth {
		return nil
	}
	var out []Entry
	for _, e := range c.All() {
		if e.Key != "include.path" || e.NoValue {
			out = append(out, e)
			continue
		}
		inc := expandHome(e.Value)
		if !filepath.IsAbs(inc) {
			inc = filepath.Join(filepath.Dir(path), inc)
		}
		out = append(out, configEntries(inc, depth+1)...)
	}
	return out
}
