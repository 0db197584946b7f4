package remote

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// pull returns the puller and the client that reads blobs, made on first
// use over one authenticated transport (one ping, one token), with pull
// scope only.
func (t *registryTarget) pull(ctx context.Context) (*ggcr.Puller, *http.Client, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.puller != nil {
		return t.puller, t.blobs, nil
	}
	auth, err := authn.Resolve(ctx, t.kc, t.repo)
	if err != nil {
		return nil, nil, err
	}
	// What ggcr wraps its own transport in, since a transport.Wrapper
	// tells it not to: retries of network flakes and the user agent.
	inner := transport.NewUserAgent(transport.NewRetry(t.tr), "strata")
	rt, err := transport.NewWithContext(ctx, t.repo.Registry, auth, inner, []string{t.repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, nil, wrapRegistryErr(err)
	}
	p, err := ggcr.NewPuller(ggcr.WithTransport(rt))
	if err != nil {
		return nil, nil, err
	}
	t.puller = p
	t.blobs = &http.Client{Transport: rt, CheckRedirect: noRedirectInward}
	return t.puller, t.blobs, nil
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
		return nil, err
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
