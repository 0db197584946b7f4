package remote

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/strata-sh/strata/internal/treepath"
)

// Endpoint is where a remote URL leads: a registry repository or a layout
// directory. Exactly one of Repo and Dir is set.
type Endpoint struct {
	URL  string
	Repo *name.Repository
	Dir  string
	// inTree: Dir is in a work tree (treepath.Path), pinned when used.
	inTree bool
}

// IsLocal reports whether the endpoint is a directory.
func (e Endpoint) IsLocal() bool { return e.Dir != "" }

func (e Endpoint) String() string {
	if e.Dir != "" {
		return e.Dir
	}
	return e.Repo.String()
}

// ParseEndpoint reads a remote URL: a path (absolute, ./ or ../, file://,
// or an existing directory) is a layout directory; anything else is a
// registry repository such as registry.example.com/team/env. A directory
// holding a .strata is read through its repository, which is a layout.
func ParseEndpoint(url string) (Endpoint, error) {
	if url == "" {
		return Endpoint{}, fmt.Errorf("empty remote URL")
	}
	if p, ok := strings.CutPrefix(url, "file://"); ok {
		return localEndpoint(url, p)
	}
	if isPath(url) {
		return localEndpoint(url, url)
	}
	if err := checkNoUserinfo(url); err != nil {
		return Endpoint{}, err
	}
	if err := checkNoScheme(url); err != nil {
		return Endpoint{}, err
	}
	if _, path, _ := strings.Cut(url, "/"); strings.Contains(url, "@") || strings.Contains(path, ":") {
		return Endpoint{}, fmt.Errorf("remote URL %q: name a repository, without tag or digest", url)
	}
	repo, err := name.NewRepository(url)
	if err == nil {
		err = checkPort(url)
	}
	if err == nil {
		err = checkRepoPath(repo.RepositoryStr())
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("remote URL %q: %w", url, err)
	}
	return Endpoint{URL: url, Repo: &repo}, nil
}

// checkPort refuses a registry HOST:PORT whose port is empty or not
// 1-65535. ggcr takes skopeo's oci:/path as the host "oci:", which
// push then tries to dial.
func checkPort(url string) error {
	host, path, _ := strings.Cut(url, "/")
	i := strings.LastIndex(host, ":")
	if i < 0 || strings.HasSuffix(host, "]") {
		return nil
	}
	switch n, err := strconv.Atoi(host[i+1:]); {
	case host[i+1:] == "":
		return fmt.Errorf("registry %q has an empty port (a layout directory is named by its path alone: /%s)", host, path)
	case err != nil || n < 1 || n > 65535:
		return fmt.Errorf("registry %q: port %s is not 1-65535", host, host[i+1:])
	}
	return nil
}

// pathComponent is one component of a repository's name as the
// distribution spec (and docker, podman, skopeo) take it.
var pathComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)

// checkRepoPath refuses a repository name the distribution spec does
// not allow (a//b, -x, a.-b): ggcr takes any of its characters, and a
// registry then answered the push's upload with 404 and the fetch's tag
// list with nothing.
func checkRepoPath(repo string) error {
	for _, c := range strings.Split(repo, "/") {
		if !pathComponent.MatchString(c) {
			return fmt.Errorf("repository %q: component %q is not lower-case letters and digits joined by '.', '_', '__' or '-'", repo, c)
		}
	}
	return nil
}

// canonicalURL is what the config keeps: a path made absolute (commands
// run from anywhere with -C), a registry name as given.
func (e Endpoint) canonicalURL() string {
	if e.Dir == "" {
		return e.URL
	}
	p := strings.TrimPrefix(e.URL, "file://")
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return e.URL
}

func isPath(s string) bool {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") || s == "." || s == ".." {
		return true
	}
	fi, err := os.Stat(s)
	return err == nil && fi.IsDir()
}

func localEndpoint(url, p string) (Endpoint, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return Endpoint{}, err
	}
	// A layout in a work tree is the container's, where its links lead
	// as it sees them: a link it planted to a host directory is not
	// pushed into, nor fetched from.
	real, inTree, err := treepath.Path(p, true)
	if err != nil {
		return Endpoint{}, err
	}
	if inTree {
		abs = real
	}
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		// An archive (export's) is no remote: it read 'open
		// FILE/oci-layout: not a directory' on the first push.
		return Endpoint{}, fmt.Errorf("%s: not a directory (a remote path is an OCI layout directory; 'strata import oci-archive:FILE' or 'docker-archive:FILE' reads an archive)", p)
	}
	// A link there is not followed: a layout a container holds could
	// name a repository of the host so.
	if fi, err := os.Lstat(filepath.Join(abs, ".strata")); err == nil && fi.IsDir() {
		abs = filepath.Join(abs, ".strata")
	}
	return Endpoint{URL: url, Dir: abs, inTree: inTree}, nil
}

// SplitRef splits what clone is given, REPO[:TAG], into the remote URL and
// the tag ("" if none). A path's tag follows its last ':' only if the
// whole string is not itself an existing path.
func SplitRef(s string) (url, tag string, err error) {
	if s == "" {
		return "", "", fmt.Errorf("empty source")
	}
	if strings.HasPrefix(s, "file://") || isPath(s) {
		if _, err := os.Stat(strings.TrimPrefix(s, "file://")); err == nil {
			return s, "", nil
		}
		if i := strings.LastIndex(s, ":"); i > 0 && !strings.Contains(s[i:], "/") {
			return s[:i], s[i+1:], nil
		}
		return s, "", nil
	}
	if err := checkNoUserinfo(s); err != nil {
		return "", "", err
	}
	if err := checkNoScheme(s); err != nil {
		return "", "", err
	}
	if strings.Contains(s, "@") {
		return "", "", fmt.Errorf("%s: clone a tag, not a digest", s)
	}
	last := s[strings.LastIndex(s, "/")+1:]
	if i := strings.LastIndex(last, ":"); i >= 0 && (strings.Contains(s, "/") || !isDigits(last[i+1:])) {
		return s[:len(s)-len(last)+i], last[i+1:], nil
	}
	return s, "", nil
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// ErrCredentials: a registry remote or name carries USER[:PASSWORD]@, as
// a git https URL may. strata reads credentials from docker's store
// ('strata login') only, and never repeats a password it was given.
var ErrCredentials = errors.New("a registry URL holds no user or password")

// checkNoUserinfo refuses USER[:PASSWORD]@HOST/..., with or without a
// scheme, naming it with the password hidden and saying what to run.
func checkNoUserinfo(s string) error {
	_, rest, ok := splitUserinfo(s)
	if !ok {
		return nil
	}
	host, _, _ := strings.Cut(rest, "/")
	return &credentialsError{url: Redact(s), hint: fmt.Sprintf(": run 'strata login %s', then use %s", host, strings.TrimSuffix(rest, "/"))}
}

// credentialsError is ErrCredentials for one URL (its password hidden),
// with what to do instead.
type credentialsError struct{ url, hint string }

func (e *credentialsError) Error() string { return e.url + ": " + e.bare() }
func (e *credentialsError) Unwrap() error { return ErrCredentials }

// bare is the message without the URL, for a caller that names it.
func (e *credentialsError) bare() string { return ErrCredentials.Error() + e.hint }

// splitUserinfo splits USER[:PASSWORD]@ off s, after any scheme: an '@'
// in the host part, before the first '/'. NAME@sha256:... is a digest.
func splitUserinfo(s string) (userinfo, rest string, ok bool) {
	if _, r, ok := splitScheme(s); ok {
		s = r
	}
	host, _, _ := strings.Cut(s, "/")
	i := strings.LastIndex(host, "@")
	if i < 0 || isDigest(host[i+1:]) {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

func isDigest(s string) bool {
	for _, alg := range []string{"sha256:", "sha384:", "sha512:"} {
		if strings.HasPrefix(s, alg) {
			return true
		}
	}
	return false
}

// Redact is s with the password of a USER:PASSWORD@ in it (see
// splitUserinfo) written ***, as a message may name s.
func Redact(s string) string {
	user, rest, ok := splitUserinfo(s)
	if !ok {
		return s
	}
	name, _, hasPassword := strings.Cut(user, ":")
	if !hasPassword {
		return s
	}
	prefix := s[:len(s)-len(rest)-1-len(user)] // the scheme, if any
	return prefix + name + ":***@" + rest
}

// ErrScheme: a registry remote was written as a URL with a scheme
// (https://host/repo). ggcr would read the scheme as the host's name.
var ErrScheme = errors.New("a registry remote has no scheme")

// checkNoScheme refuses SCHEME://REST, but file:// (a layout directory),
// saying what to write instead.
func checkNoScheme(s string) error {
	scheme, rest, ok := splitScheme(s)
	if !ok || scheme == "file" {
		return nil
	}
	rest = strings.TrimSuffix(rest, "/")
	hint := "; use " + rest
	if scheme == "http" && !isLoopbackHost(strings.SplitN(rest, "/", 2)[0]) {
		hint += " with --insecure (plain HTTP off loopback)"
	}
	if rest == "" {
		hint = ""
	}
	return &schemeError{url: s, hint: hint}
}

// schemeError is ErrScheme for one URL, with what to write instead.
type schemeError struct{ url, hint string }

func (e *schemeError) Error() string { return e.url + ": " + e.bare() }
func (e *schemeError) Unwrap() error { return ErrScheme }

// bare is the message without the URL, for a caller that names it.
func (e *schemeError) bare() string { return ErrScheme.Error() + e.hint }

// splitScheme splits SCHEME://REST, where SCHEME is an RFC 3986 scheme.
func splitScheme(s string) (scheme, rest string, ok bool) {
	scheme, rest, ok = strings.Cut(s, "://")
	if !ok || scheme == "" || !isLetter(scheme[0]) || strings.TrimLeft(strings.ToLower(scheme), "abcdefghijklmnopqrstuvwxyz0123456789+.-") != "" {
		return "", "", false
	}
	return strings.ToLower(scheme), rest, true
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// RegistryHost is the registry login and logout name, host[:port]: as
// docker does, an http:// or https:// prefix and any path are dropped
// (https://registry.example.com/v2/ is registry.example.com). Any other
// scheme, and a USER[:PASSWORD]@, are refused, in words that leave arg
// to the caller (which names it through Redact).
func RegistryHost(arg string) (string, error) {
	if scheme, rest, ok := splitScheme(arg); ok {
		if scheme != "http" && scheme != "https" {
			return "", fmt.Errorf("a registry is host[:port], with no %s:// scheme", scheme)
		}
		arg = rest
	}
	if _, rest, ok := splitUserinfo(arg); ok {
		host, _, _ := strings.Cut(rest, "/")
		return "", fmt.Errorf("%w: give %s", ErrCredentials, host)
	}
	host, _, _ := strings.Cut(arg, "/")
	if host == "" {
		return "", errors.New("empty registry name")
	}
	return host, nil
}
