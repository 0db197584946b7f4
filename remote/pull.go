package remote

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// regConn is a session's authenticated connection to the registry: one
// ping and one token for the whole command, shared by every request.
type regConn struct {
	push   bool         // scoped for push (and pull), not pull only
	puller *ggcr.Puller // manifests and tags
	pusher *ggcr.Pusher // manifest writes; over the same transport
	http   *http.Client // blobs, up and down
}

// conn returns the session's connection, made on first use. It is
// scoped for pull only unless push is asked for, or the session said it
// will push (wantPush): then one connection serves the whole push, and a
// pull-only one made before is replaced.
func (t *registryTarget) conn(ctx context.Context, push bool) (*regConn, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	push = push || t.pushing
	if t.c != nil && (t.c.push || !push) {
		return t.c, nil
	}
	auth, err := authn.Resolve(ctx, t.kc, t.repo)
	if err != nil {
		return nil, err
	}
	scopes := []string{t.repo.Scope(transport.PullScope)}
	if push {
		scopes = []string{t.repo.Scope(transport.PushScope)}
		// A mount reads the other repository: its pull scope, asked for
		// with the rest, saves a second token.
		for _, m := range t.mounts {
			if m.RegistryStr() == t.repo.RegistryStr() && m.RepositoryStr() != t.repo.RepositoryStr() {
				scopes = append(scopes, m.Scope(transport.PullScope))
			}
		}
	}
	// What ggcr wraps its own transport in, since a transport.Wrapper
	// tells it not to: retries of network flakes and the user agent.
	inner := transport.NewUserAgent(retryReads{
		reads:  transport.NewRetry(t.tr, transport.WithRetryBackoff(retryBackoff), transport.WithRetryStatusCodes(retryCodes...)),
		writes: transport.NewRetry(t.tr),
	}, "strata")
	rt, err := transport.NewWithContext(ctx, t.repo.Registry, auth, inner, scopes)
	if err != nil {
		return nil, wrapRegistryErr(err)
	}
	c := &regConn{push: push, http: &http.Client{Transport: rt, CheckRedirect: noRedirectInward}}
	if c.puller, err = ggcr.NewPuller(ggcr.WithTransport(rt)); err != nil {
		return nil, err
	}
	if c.pusher, err = ggcr.NewPusher(ggcr.WithTransport(rt), ggcr.WithUserAgent("strata")); err != nil {
		return nil, err
	}
	t.c = c
	return c, nil
}

// retryCodes are the answers ggcr's own transport (and so crane) tries
// again: a rate limit (429), a registry's or a proxy's passing failure.
// strata tries them again for requests that send nothing (GET, HEAD):
// a retried PUT or POST would go with its body already read.
var retryCodes = []int{
	http.StatusRequestTimeout,
	http.StatusTooManyRequests,
	http.StatusInternalServerError,
	http.StatusBadGateway,
	http.StatusServiceUnavailable,
	http.StatusGatewayTimeout,
}

// retryBackoff is ggcr's: three tries, 1 s and 3 s apart.
var retryBackoff = transport.Backoff{Duration: time.Second, Factor: 3, Jitter: 0.1, Steps: 3}

// retryReads sends GET and HEAD through reads, which tries retryCodes
// again, and any other request through writes.
type retryReads struct{ reads, writes http.RoundTripper }

func (r retryReads) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return r.reads.RoundTrip(req)
	}
	return r.writes.RoundTrip(req)
}

// pull returns the puller and the client that reads blobs.
func (t *registryTarget) pull(ctx context.Context) (*ggcr.Puller, *http.Client, error) {
	c, err := t.conn(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	return c.puller, c.http, nil
}

// fetchBlob opens blob d with a plain GET. ggcr's Layer would hash the
// body on the reading goroutine as well, and the caller checks the digest
// anyway (Store.Receive hashes beside the download): an 85 MB layer was
// hashed twice.
func (t *registryTarget) fetchBlob(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	if err := d.Digest.Validate(); err != nil {
		return nil, err
	}
	_, c, err := t.pull(ctx)
	if err != nil {
		return nil, err
	}
	u := url.URL{Scheme: t.repo.Scheme(), Host: t.repo.RegistryStr(),
		Path: fmt.Sprintf("/v2/%s/blobs/%s", t.repo.RepositoryStr(), d.Digest)}
	req, err := http.NewRequestWithContext(blobContext(ctx), http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, wrapNetworkErr(err)
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		resp.Body.Close()
		return nil, wrapRegistryErr(err)
	}
	// The caller reads exactly d.Size bytes (image.ExactSize), whatever
	// Content-Length says.
	return resp.Body, nil
}

// noRedirectInward refuses a redirect from one host to an address on a
// private, loopback or link-local network (a metadata service), as ggcr's
// own blob client does; the same host and names are allowed.
func noRedirectInward(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return fmt.Errorf("stopped after %d redirects", len(via))
	}
	from, to := via[0].URL.Hostname(), req.URL.Hostname()
	if from == to {
		return nil
	}
	host, _, _ := strings.Cut(to, "%") // the dialer ignores a zone
	if ip, err := netip.ParseAddr(host); err == nil && inward(ip.Unmap()) {
		return fmt.Errorf("redirect from %q to the inward address %q refused", from, to)
	}
	return nil
}

func inward(ip netip.Addr) bool {
	return ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified()
}
