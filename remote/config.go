package remote

import (
	"errors"
	"fmt"
	"strings"

	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// Remote is a remote as the repository config names it.
type Remote struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	Insecure bool   `json:"insecure,omitempty"` // plain HTTP even off loopback
	// Fetch is remote.NAME.fetch: the refspecs that map its tags to
	// local refs (Connect reads them; none: git's default, refs.DefaultFetch).
	Fetch []string `json:"-"`
}

// CheckName validates a remote name with git's rules (check-ref-format
// of refs/remotes/NAME/x; HEAD refused), and one component: the name is a
// config subsection and the directory refs/remotes/NAME, and "a" beside
// "a/b" would share refs/remotes/a/.
func CheckName(name string) error {
	switch {
	case name == "" || name == refs.HEAD || name == "@":
		return fmt.Errorf("remote name %q: %w", name, ErrBadRemoteName)
	case strings.HasPrefix(name, "-"):
		return fmt.Errorf("remote name %q: starts with '-': %w", name, ErrBadRemoteName)
	case strings.Contains(name, "/"):
		return fmt.Errorf("remote name %q: contains '/': %w", name, ErrBadRemoteName)
	}
	full := refs.Remotes + name + "/x"
	if err := refs.CheckName(full); err != nil {
		// The reason alone: the ref name checked is strata's business.
		why := strings.TrimPrefix(err.Error(), fmt.Sprintf("%q: %v: ", full, refs.ErrBadName))
		return fmt.Errorf("remote name %q: %s: %w", name, why, ErrBadRemoteName)
	}
	return nil
}

// ErrBadRemoteName: a remote name git would refuse, or one with '/'.
var ErrBadRemoteName = errors.New("not a valid remote name")

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
	r.Insecure, _, _ = cfg.Bool("remote." + name + ".insecure")
	r.Fetch = cfg.GetAll("remote." + name + ".fetch")
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
	// As git's remote add and clone write it.
	if err := cfg.Set("remote."+r.Name+".fetch", refs.DefaultFetch(r.Name)); err != nil {
		return err
	}
	if r.Insecure {
		return cfg.Set("remote."+r.Name+".insecure", "true")
	}
	return nil
}

// SetURL changes the URL of an existing remote; insecure sets
// remote.NAME.insecure. Without it, a remote marked insecure that now
// leads to another registry host (or a directory) loses the mark: it
// allowed plain HTTP to the host the user named with it, not to any
// host the remote may lead to later. droppedFor is then the host name
// that the mark was for.
func SetURL(cfg *repo.Config, name, url string, insecure bool) (droppedFor string, err error) {
	old, err := Get(cfg, name)
	if err != nil {
		return "", err
	}
	ep, err := ParseEndpoint(url)
	if err != nil {
		return "", err
	}
	if err := cfg.Set("remote."+name+".url", ep.canonicalURL()); err != nil {
		return "", err
	}
	if insecure {
		return "", cfg.Set("remote."+name+".insecure", "true")
	}
	if !old.Insecure {
		return "", nil
	}
	was := registryHostname(old.URL)
	if ep.Repo != nil && strings.EqualFold(was, hostname(ep.Repo.RegistryStr())) {
		return "", nil
	}
	if was == "" {
		was = Redact(old.URL) // a directory, or a URL no longer valid
	}
	return was, cfg.Unset("remote."+name+".insecure", true)
}

// registryHostname is the host name of a registry remote's URL ("" for a
// directory): the HTTP policy's insecure mark covers all its ports.
func registryHostname(url string) string {
	ep, err := ParseEndpoint(url)
	if err != nil || ep.Repo == nil {
		return ""
	}
	return hostname(ep.Repo.RegistryStr())
}

// Remove drops a remote, its remote-tracking refs and their reflogs, and
// the upstream of the branches that tracked it (branch.B.remote and
// branch.B.merge) and the push remotes that named it
// (branch.B.pushRemote, remote.pushDefault), as git's remote remove
// does.
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
	if err := r.Refs.RemoveLogs(refs.Remotes + name); err != nil {
		return err
	}
	for _, b := range branchesOf(r.Config, name) {
		for _, k := range []string{"remote", "merge"} {
			if _, ok := r.Config.Get("branch." + b + "." + k); ok {
				if err := r.Config.Unset("branch."+b+"."+k, true); err != nil {
					return err
				}
			}
		}
	}
	if err := movePushRemotes(r.Config, name, ""); err != nil {
		return err
	}
	return r.Config.RemoveSubsection("remote", name)
}

// movePushRemotes makes each branch.NAME.pushRemote and remote.pushDefault
// that names remote old name new, or unsets it when new is "", as git's
// remote rename and remove do.
func movePushRemotes(cfg *repo.Config, old, new string) error {
	keys := []string{"remote.pushDefault"}
	for _, b := range cfg.Subsections("branch") {
		keys = append(keys, "branch."+b+".pushRemote")
	}
	for _, k := range keys {
		if v, ok := cfg.Get(k); !ok || v != old {
			continue
		}
		var err error
		if new == "" {
			err = cfg.Unset(k, true)
		} else {
			err = cfg.Set(k, new)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Rename renames remote old to new, as git's remote rename: its config,
// its remote-tracking refs (with their reflogs), the branches that
// track it and the push remotes that name it (movePushRemotes).
func Rename(r *repo.Repo, old, new string) error {
	if _, err := Get(r.Config, old); err != nil {
		return err
	}
	if err := CheckName(new); err != nil {
		return err
	}
	if _, err := Get(r.Config, new); err == nil {
		return fmt.Errorf("%s: %w", new, ErrRemoteExists)
	}
	tracking, err := r.Refs.List(refs.Remotes + old + "/")
	if err != nil {
		return err
	}
	// Refs left under the new name (its config section removed by hand)
	// would stop the renames halfway, after the config had moved: refuse
	// before changing anything.
	stale, err := r.Refs.List(refs.Remotes + new + "/")
	if err != nil {
		return err
	}
	if len(stale) > 0 {
		return fmt.Errorf("%s%s/ already holds %s, of no configured remote: choose another name",
			refs.Remotes, new, strings.TrimPrefix(stale[0].Name, refs.Remotes))
	}
	if err := r.Config.RenameSubsection("remote", old, new); err != nil {
		return err
	}
	if err := renameFetch(r.Config, old, new); err != nil {
		return err
	}
	for _, b := range branchesOf(r.Config, old) {
		if err := r.Config.Set("branch."+b+".remote", new); err != nil {
			return err
		}
	}
	if err := movePushRemotes(r.Config, old, new); err != nil {
		return err
	}
	for _, ref := range tracking {
		to := refs.Remotes + new + "/" + strings.TrimPrefix(ref.Name, refs.Remotes+old+"/")
		if err := r.Refs.Rename(ref.Name, to, "remote: renamed "+ref.Name+" to "+to); err != nil {
			return err
		}
	}
	return r.Refs.RemoveLogs(refs.Remotes + old) // the directories left
}

// branchesOf lists the branches whose upstream remote is name.
func branchesOf(cfg *repo.Config, name string) []string {
	var out []string
	for _, b := range cfg.Subsections("branch") {
		if v, ok := cfg.Get("branch." + b + ".remote"); ok && v == name {
			out = append(out, b)
		}
	}
	return out
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
		// The caller's message names arg already (its password hidden).
		var se *schemeError
		if errors.As(err, &se) {
			return rem, fmt.Errorf("%w%s", ErrScheme, se.hint)
		}
		var ce *credentialsError
		if errors.As(err, &ce) {
			return rem, fmt.Errorf("%w%s", ErrCredentials, ce.hint)
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

// renameFetch rewrites remote old's configured refspecs for its new
// name, as git's remote rename: a destination under refs/remotes/OLD/
// moves to refs/remotes/NEW/.
func renameFetch(cfg *repo.Config, old, new string) error {
	key := "remote." + new + ".fetch"
	vals := cfg.GetAll(key)
	from, to := ":"+refs.Remotes+old+"/", ":"+refs.Remotes+new+"/"
	changed := false
	for i, v := range vals {
		if strings.Contains(v, from) {
			vals[i] = strings.Replace(v, from, to, 1)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if err := cfg.Unset(key, true); err != nil {
		return err
	}
	for _, v := range vals {
		if err := cfg.Add(key, v); err != nil {
			return err
		}
	}
	return nil
}
