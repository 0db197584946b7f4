package remote

import (
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
)

// Session is a connection to one remote, reused across the refs of one
// command so that authentication happens once.
type Session struct {
	// Name is the remote's name, "" when a URL was given directly; only
	// named remotes get remote-tracking refs.
	Name string
	ep   Endpoint
	t    target
	o    *Options
	// mountFrom are other repositories of the same registry (other
	// remotes) that blobs may be mounted from; mountRemotes the remotes
	// they are, in the same order.
	mountFrom    []Endpoint
	mountRemotes []Remote
	// noAncestors: neither read nor write ancestor lists (tests: a
	// registry without them).
	noAncestors bool
	// pre: configs fetched during the history walk, for receiveSmall.
	pre prefetched
	// planned: the bytes of manifests planned for the fetch, spooled;
	// plannedHeld what is held of them in memory (toPlanned).
	planned, plannedHeld atomic.Int64
	// spool: where planned manifests wait (fetch makes it); table: the
	// planned commits' layers.
	spool     *manifestSpool
	table     *layerTable
	tableOnce sync.Once
	// refmap: the refspecs that map remote tags to remote-tracking
	// refs (remote.NAME.fetch, or --refmap); none for an unnamed remote.
	refmap []refs.Refspec
}

// Connect prepares a session with rem. Nothing is sent yet.
func Connect(rem Remote, o Options) (*Session, error) {
	ep, err := ParseEndpoint(rem.URL)
	if err != nil {
		if rem.Name != "" {
			// A URL configured before such URLs were refused.
			return nil, fmt.Errorf("remote %s: %w (strata remote set-url %s ...)", rem.Name, err, rem.Name)
		}
		return nil, err
	}
	o.Insecure = o.Insecure || rem.Insecure
	var refmap []refs.Refspec
	if rem.Name != "" {
		vals := rem.Fetch
		if len(vals) == 0 {
			vals = []string{refs.DefaultFetch(rem.Name)}
		}
		if refmap, err = refs.ParseRefspecs(vals); err != nil {
			return nil, fmt.Errorf("remote.%s.fetch: %w", rem.Name, err)
		}
	}
	t, err := openTarget(ep, &o)
	if err != nil {
		return nil, err
	}
	return &Session{Name: rem.Name, ep: ep, t: t, o: &o, refmap: refmap}, nil
}

// MountFrom names other remotes whose repositories may hold the blobs
// (same registry): the registry is asked to mount them instead of
// receiving them again.
func (s *Session) MountFrom(others []Remote) {
	for _, r := range others {
		if ep, err := ParseEndpoint(r.URL); err == nil && ep.Repo != nil {
			s.mountFrom = append(s.mountFrom, ep)
			s.mountRemotes = append(s.mountRemotes, r)
			if rt, ok := s.t.(*registryTarget); ok {
				rt.mounts = append(rt.mounts, *ep.Repo)
			}
		}
	}
}

// Endpoint is where the session leads.
func (s *Session) Endpoint() Endpoint { return s.ep }

// trackingRef is the remote-tracking ref of a remote tag, as the
// remote's refspecs map it (refs.Tracking; branch: the tag is a branch's,
// not mapped through a refspec written refs/tags/...); "" for none (an
// unnamed remote).
func (s *Session) trackingRef(tag string, branch bool) string {
	return refs.Tracking(s.refmap, tag, branch)
}

// Tracking is the remote-tracking ref that stands for the remote's
// branch tag, as its fetch refspecs map it (repo.Repo.Upstream's
// mapping); "" for none.
func (s *Session) Tracking(tag string) string { return s.trackingRef(tag, true) }

// Compiled on first use: every strata process, the container init
// included, would otherwise pay for it at start-up.
var tagRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`) })

// CheckTag validates a registry tag name.
func CheckTag(tag string) error {
	if !tagRE().MatchString(tag) {
		return fmt.Errorf("%q is not a valid registry tag (letters, digits, '_', '.', '-'; no '/')", tag)
	}
	return nil
}

func short(d digest.Digest) string {
	return objects.Short(d)
}
