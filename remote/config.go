package remote

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"

	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// Remote is a remote as the repository config names it.
type Remote struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	Insecure bool   `json:"insecure,omitempty"` // plain HTTP even off loopback
}

// Compiled on first use: every strata process, the container init
// included, would otherwise pay for it at start-up.
var remoteName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`) })

// CheckName validates a remote name: it becomes a config subsection and a
// directory under refs/remotes.
func CheckName(name string) error {
	if !remoteName().MatchString(name) {
		return fmt.Errorf("remote name %q: use letters, digits, '-' and '_'", name)
	}
	return nil
}

// List returns the configured remotes in config order.
func List(cfg *repo.Config) []Remote {
	var out []Remote
	for _, n := range cfg.Subsections("remote") {
		if r, err := Get(cfg, n); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// Get returns remote name.
func Get(cfg *repo.Config, name string) (Remote, error) {
	url, ok := cfg.Get("remote." + name + ".url")
	if !ok {
		return Remote{}, fmt.Errorf("%s: %w", name, ErrNoSuchRemote)
	}
	r := Remote{Name: name, URL: url}
	if v, ok := cfg.Get("remote." + name + ".insecure"); ok {
		r.Insecure, _ = strconv.ParseBool(v)
	}
	return r, nil
}

// Add configures a new remote.
func Add(cfg *repo.Config, r Remote) error {
	if err := CheckName(r.Name); err != nil {
		return err
	}
	if _, err := Get(cfg, r.Name); err == nil {
		return fmt.Errorf("%s: %w", r.Name, ErrRemoteExists)
	}
	ep, err := ParseEndpoint(r.URL)
	if err != nil {
		return err
	}
	r.URL = ep.canonicalURL()
	if err := cfg.Set("remote."+r.Name+".url", r.URL); err != nil {
		return err
	}
	if r.Insecure {
		return cfg.Set("remote."+r.Name+".insecure", "true")
	}
	return nil
}

// SetURL changes the URL of an existing remote.
func SetURL(cfg *repo.Config, name, url string) error {
	if _, err := Get(cfg, name); err != nil {
		return err
	}
	ep, err := ParseEndpoint(url)
	if err != nil {
		return err
	}
	return cfg.Set("remote."+name+".url", ep.canonicalURL())
}

// Remove drops a remote and its remote-tracking refs.
func Remove(r *repo.Repo, name string) error {
	if _, err := Get(r.Config, name); err != nil {
		return err
	}
	tracking, err := r.Refs.List(refs.Remotes + name + "/")
	if err != nil {
		return err
	}
	for _, ref := range tracking {
		if err := r.Refs.Delete(ref.Name, refs.Any, "remote remove "+name); err != nil {
			return err
		}
	}
	return r.Config.RemoveSubsection("remote", name)
}

// Resolve finds a configured remote by name, or takes arg as a URL. A
// bare word that names no remote is ErrNoSuchRemote, not a registry host.
func Resolve(cfg *repo.Config, arg string) (Remote, error) {
	rem, err := Get(cfg, arg)
	if err == nil {
		return rem, nil
	}
	if CheckName(arg) == nil {
		if _, perr := ParseEndpoint(arg); perr != nil || !looksLikeURL(arg) {
			return rem, fmt.Errorf("%s: %w (see 'strata remote add')", arg, ErrNoSuchRemote)
		}
	}
	if _, err := ParseEndpoint(arg); err != nil {
		var se *schemeError
		if errors.As(err, &se) {
			// The caller's message names arg already.
			return rem, fmt.Errorf("%w%s", ErrScheme, se.hint)
		}
		return rem, err
	}
	return Remote{URL: arg}, nil
}

func looksLikeURL(s string) bool {
	for _, c := range s {
		if c == '/' || c == '.' || c == ':' {
			return true
		}
	}
	return false
}
