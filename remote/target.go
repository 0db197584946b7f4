package remote

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/image"
)

// target is the other side of a transfer: a registry repository or a
// layout directory. ref arguments are a tag or a digest string.
type target interface {
	String() string
	// pushBlob sends b unless the target has it; sent says whether it did.
	pushBlob(ctx context.Context, b outBlob) (sent bool, err error)
	// fetchBlob opens blob d. The caller bounds what it reads by d.Size
	// (image.ExactSize) and verifies it against d.Digest.
	fetchBlob(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error)
	// headManifest returns the descriptor a ref names (wraps ErrNotFound).
	headManifest(ctx context.Context, ref string) (ocispec.Descriptor, error)
	// fetchManifest returns a manifest's bytes and descriptor.
	fetchManifest(ctx context.Context, ref string) ([]byte, ocispec.Descriptor, error)
	// pushManifest stores a manifest under a ref (a tag or its digest).
	pushManifest(ctx context.Context, ref string, raw []byte, mediaType string) error
	// tags lists the target's tags; none if the repository does not exist.
	tags(ctx context.Context) ([]string, error)
}

// outBlob is a blob to push: its descriptor, how to read it, and other
// repositories of the same registry it may be mounted from.
type outBlob struct {
	desc      ocispec.Descriptor
	open      func() (io.ReadCloser, error)
	mountFrom []name.Repository
	// absent: the remote almost surely lacks it (the config of a commit
	// it lacks), so no HEAD asks first; if it has it, it is sent again.
	absent bool
}

// Options configure a connection to a remote.
type Options struct {
	// Keychain finds credentials; default authn.DefaultKeychain (docker's
	// config.json and credential helpers).
	Keychain authn.Keychain
	// Transport is the HTTP transport; default ggcr's remote.DefaultTransport.
	Transport http.RoundTripper
	// Insecure allows plain HTTP to the registry's host, and accepts any
	// TLS certificate from it, as docker's insecure-registries; without it
	// only loopback registries are spoken to without TLS (see
	// policyTransport), and every certificate must verify.
	Insecure bool
	// Jobs is how many blobs move at once; default 6, and a push moves
	// up to 16 small ones (up to 1 MiB: configs) beside them.
	Jobs int
	// Progress receives transfer events; nil for none.
	Progress func(Event)
}

// transport is the transport to registry: Options.Transport if set,
// else the default one with the certificates certDirs hold for it, and
// any certificate accepted from it if it is marked insecure.
func (o *Options) transport(registry string) (http.RoundTripper, error) {
	if o == nil || o.Transport == nil {
		return registryTransport(registry, o != nil && o.Insecure)
	}
	return o.Transport, nil
}

// responseTimeout bounds the wait for a registry's answer to begin, once
// a request has been sent: a registry that accepts a connection and never
// answers held a fetch forever. A variable for tests.
var responseTimeout = 2 * time.Minute

// defaultTransport is ggcr's, which bounds dialling and TLS handshakes,
// with responseTimeout as well: one for the process, so that sessions
// share its connections.
func defaultTransport() http.RoundTripper {
	if t, ok := transports.Load(responseTimeout); ok {
		return t.(http.RoundTripper)
	}
	t, ok := ggcr.DefaultTransport.(*http.Transport)
	if !ok {
		return ggcr.DefaultTransport
	}
	t = t.Clone()
	t.ResponseHeaderTimeout = responseTimeout
	got, _ := transports.LoadOrStore(responseTimeout, t)
	return got.(http.RoundTripper)
}

// transports holds defaultTransport's transport by its timeout.
var transports sync.Map

func (o *Options) jobs() int {
	if o == nil || o.Jobs <= 0 {
		return 6
	}
	return o.Jobs
}

func (o *Options) event(e Event) {
	if o != nil && o.Progress != nil {
		o.Progress(e)
	}
}

// openTarget connects to an endpoint. Nothing is sent until it is used.
func openTarget(ep Endpoint, o *Options) (target, error) {
	if o == nil {
		o = &Options{}
	}
	if ep.Dir != "" {
		t, err := openLayout(ep)
		if err != nil {
			return nil, err
		}
		return t, nil
	}
	repo, err := registryRepo(*ep.Repo, o.Insecure)
	if err != nil {
		return nil, err
	}
	kc := o.Keychain
	if kc == nil {
		kc = helperKeychain{podmanFallback{authn.DefaultKeychain}}
	}
	inner, err := o.transport(repo.RegistryStr())
	if err != nil {
		return nil, err
	}
	policy := newPolicyTransport(inner, repo.RegistryStr(), o.Insecure)
	opts := []ggcr.Option{ggcr.WithAuthFromKeychain(kc), ggcr.WithJobs(o.jobs()), ggcr.WithUserAgent("strata"),
		ggcr.WithTransport(policy)}
	pusher, err := ggcr.NewPusher(opts...)
	if err != nil {
		return nil, err
	}
	return &registryTarget{repo: repo, pusher: pusher, kc: kc,
		tr: policy}, nil
}

type registryTarget struct {
	repo   name.Repository
	pusher *ggcr.Pusher // deletes, with their own handshake
	kc     authn.Keychain
	tr     http.RoundTripper // the policy transport, not yet authenticated
	// mounts: other repositories blobs may be mounted from.
	mounts []name.Repository

	mu      sync.Mutex
	pushing bool     // the session pushes: conn asks for push scope at once
	c       *regConn // made by conn on first use
}

func (t *registryTarget) String() string { return t.repo.String() }

func (t *registryTarget) ref(s string) (name.Reference, error) {
	if strings.Contains(s, ":") {
		return name.NewDigest(t.repo.Name()+"@"+s, name.StrictValidation)
	}
	return t.repo.Tag(s), nil
}

func (t *registryTarget) pushBlob(ctx context.Context, b outBlob) (bool, error) {
	sent, err := t.uploadBlob(ctx, b)
	return sent, wrapRegistryErr(err)
}

// wantPush says that the session will push: its one connection gets
// push scope from the first request on.
func (t *registryTarget) wantPush() {
	t.mu.Lock()
	t.pushing = true
	t.mu.Unlock()
}

func (t *registryTarget) headManifest(ctx context.Context, s string) (ocispec.Descriptor, error) {
	ref, err := t.ref(s)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	p, _, err := t.pull(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	d, err := p.Head(ctx, ref)
	if err != nil {
		return ocispec.Descriptor{}, wrapRegistryErr(err)
	}
	return ociDesc(*d), nil
}

func (t *registryTarget) fetchManifest(ctx context.Context, s string) ([]byte, ocispec.Descriptor, error) {
	ref, err := t.ref(s)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	p, _, err := t.pull(ctx)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	d, err := p.Get(ctx, ref)
	if err != nil {
		return nil, ocispec.Descriptor{}, wrapRegistryErr(err)
	}
	if len(d.Manifest) > image.MaxManifestSize {
		return nil, ocispec.Descriptor{}, fmt.Errorf("manifest %s: more than %s: %w", s, image.CapText(image.MaxManifestSize), ErrBadImage)
	}
	return d.Manifest, ociDesc(d.Descriptor), nil
}

func (t *registryTarget) pushManifest(ctx context.Context, s string, raw []byte, mediaType string) error {
	ref, err := t.ref(s)
	if err != nil {
		return err
	}
	c, err := t.conn(ctx, true)
	if err != nil {
		return err
	}
	return wrapRegistryErr(c.pusher.Put(ctx, ref, rawManifest{raw, types.MediaType(mediaType)}))
}

func (t *registryTarget) tags(ctx context.Context) ([]string, error) {
	p, _, err := t.pull(ctx)
	if err != nil {
		return nil, err
	}
	tags, err := t.listTags(ctx, p)
	if errors.Is(wrapRegistryErr(err), ErrNotFound) {
		return nil, nil
	}
	return tags, wrapRegistryErr(err)
}

// wrapRegistryErr makes "not found" answers match ErrNotFound, says what
// to do about a refusal, and words any other registry error as one short
// line (registryError), and a registry out of reach too (networkError).
func wrapRegistryErr(err error) error {
	var terr *transport.Error
	if !errors.As(err, &terr) || isCertificateErr(err) {
		return wrapNetworkErr(err)
	}
	switch terr.StatusCode {
	case http.StatusNotFound:
		return &registryError{terr: terr, sentinel: ErrNotFound}
	case http.StatusUnauthorized, http.StatusForbidden:
		host := "REGISTRY"
		if terr.Request != nil {
			host = terr.Request.URL.Host
		}
		return fmt.Errorf("%w (%d): run 'strata login %s' with an account that may do this", ErrUnauthorized, terr.StatusCode, host)
	}
	return &registryError{terr: terr}
}

// maxQuoted is the most of a registry's own words (an error's message, a
// body it sent) that a message quotes.
const maxQuoted = 200

// registryError is a registry's error answer in one line: the request
// without its query (an upload's state token), the status, and what the
// registry said, each message capped and quoted; never ggcr's text,
// which holds whole bodies and Go maps (a diagnostic's detail).
type registryError struct {
	terr     *transport.Error
	sentinel error // ErrNotFound, or nil
}

func (e *registryError) Unwrap() []error {
	if e.sentinel == nil {
		return []error{e.terr}
	}
	return []error{e.sentinel, e.terr}
}

func (e *registryError) Error() string {
	var said []string
	for _, d := range e.terr.Errors {
		said = append(said, quoteCapped(string(d.Code))+": "+quoteCapped(d.Message))
	}
	if len(said) == 0 {
		// ggcr keeps a body it could not parse only in its own text.
		if _, body, ok := strings.Cut(e.terr.Error(), http.StatusText(e.terr.StatusCode)+": "); ok {
			said = append(said, quoteCapped(body))
		}
	}
	what := strings.Join(said, "; ")
	if e.sentinel != nil {
		if what == "" {
			return e.sentinel.Error()
		}
		return e.sentinel.Error() + " (" + what + ")"
	}
	msg := fmt.Sprintf("registry answered %d %s", e.terr.StatusCode, http.StatusText(e.terr.StatusCode))
	if req := e.terr.Request; req != nil {
		msg = requestName(req) + ": " + msg
	}
	if what != "" {
		msg += ": " + what
	}
	return msg
}

// quoteCapped is s, cut to maxQuoted bytes, with anything but printable
// text escaped (Go's quoting, without the quotes when none was needed).
func quoteCapped(s string) string {
	cut := len(s) > maxQuoted
	if cut {
		s = strings.ToValidUTF8(s[:maxQuoted], "")
	}
	q := strconv.Quote(s)
	if q[1:len(q)-1] == s && !strings.ContainsAny(s, `"`) {
		q = s
	}
	if cut {
		q += "..."
	}
	return q
}

func ociDesc(d v1.Descriptor) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: string(d.MediaType), Digest: digest.Digest(d.Digest.String()), Size: d.Size}
}

type rawManifest struct {
	b  []byte
	mt types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.b, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// A registry pages its tag list with Link: rel="next" headers, and one
// that never stops paging held a fetch forever, its memory growing. A
// page's next URL seen before ends the list with an error; so do more
// than maxTagPages pages or maxTags tags (variables for tests).
var (
	maxTags     = 100_000
	maxTagPages = 10_000
)

// ErrTagList: the registry's tag list loops or is too long.
var ErrTagList = errors.New("tag list refused")

// listTags reads every page of the repository's tag list, within bounds.
func (t *registryTarget) listTags(ctx context.Context, p *ggcr.Puller) ([]string, error) {
	l, err := p.Lister(ctx, t.repo)
	if err != nil {
		return nil, err
	}
	var tags []string
	seen := map[[sha256.Size]byte]bool{} // of next URLs, each up to a header's size
	for pages := 0; l.HasNext(); pages++ {
		page, err := l.Next(ctx)
		if err != nil {
			return nil, err
		}
		tags = append(tags, page.Tags...)
		switch {
		case len(tags) > maxTags:
			return nil, fmt.Errorf("%s lists more than %d tags: %w", t.repo.RegistryStr(), maxTags, ErrTagList)
		case pages+1 >= maxTagPages && page.Next != "":
			return nil, fmt.Errorf("%s pages its tag list past %d pages: %w", t.repo.RegistryStr(), maxTagPages, ErrTagList)
		case page.Next != "" && seen[sha256.Sum256([]byte(page.Next))]:
			return nil, fmt.Errorf("%s pages its tag list in a loop (page %d links back to an earlier one): %w", t.repo.RegistryStr(), pages+1, ErrTagList)
		}
		seen[sha256.Sum256([]byte(page.Next))] = true
	}
	return tags, nil
}
