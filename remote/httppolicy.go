package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/strata-sh/strata/image"
)

// The HTTP policy. go-containerregistry speaks plain HTTP to private-range
// addresses and *.local(host) names and its ping falls back from https to
// http; strata decides the scheme itself instead: plain HTTP only to
// loopback (127.0.0.0/8, ::1, localhost) and to a registry the user marked
// insecure. policyTransport, under every request, enforces it.

// isLoopbackHost reports whether host[:port] names the loopback interface.
func isLoopbackHost(hostport string) bool {
	h := hostname(hostport)
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func hostname(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

// plainHTTPAllowed is the scheme decision for a registry (host[:port]):
// whether strata may speak plain HTTP to it at all.
func plainHTTPAllowed(registry string, insecure bool) bool {
	return insecure || isLoopbackHost(registry)
}

// registryRepo is repo as go-containerregistry should see it: marked
// insecure (https tried first, then http) exactly when plain HTTP is
// allowed. Registries it would otherwise treat as http (10.0.0.0/8,
// *.localhost) are held to https by policyTransport.
func registryRepo(repo name.Repository, insecure bool) (name.Repository, error) {
	if !plainHTTPAllowed(repo.RegistryStr(), insecure) {
		return repo, nil
	}
	return name.NewRepository(repo.Name(), name.Insecure)
}

// policyTransport is the bottom of every connection to a registry. It
// refuses plain HTTP to any host but loopback and the registry the user
// marked insecure (so credentials never cross the network in clear text,
// token servers and redirect targets included), drops credentials from
// requests redirected to another host, and caps what an answer may hold.
type policyTransport struct {
	inner    http.RoundTripper
	registry string // host[:port]
	insecure bool
}

func newPolicyTransport(inner http.RoundTripper, registry string, insecure bool) *policyTransport {
	return &policyTransport{inner: inner, registry: registry, insecure: insecure}
}

func (t *policyTransport) plainOK(host string) bool {
	return isLoopbackHost(host) || (t.insecure && strings.EqualFold(hostname(host), hostname(t.registry)))
}

func (t *policyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" && !t.plainOK(req.URL.Host) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("%s %s://%s: plain HTTP refused: only loopback registries, and those marked insecure (--insecure, or remote.NAME.insecure = true), are spoken to without TLS",
			req.Method, req.URL.Scheme, req.URL.Host)
	}
	if first := firstRequest(req); first != req && hostPort(first.URL) != hostPort(req.URL) && req.Header.Get("Authorization") != "" {
		// A redirect to another host (blob storage) gets no credentials.
		req = req.Clone(req.Context())
		req.Header.Del("Authorization")
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	req = req.WithContext(ctx)
	resp, err := t.inner.RoundTrip(req)
	if err != nil {
		cancel(nil)
		return resp, err
	}
	resp.Body = newIdleBody(resp.Body, cancel, req.URL.Host, requestName(req))
	if limit := responseLimit(req, resp); limit > 0 {
		if resp.ContentLength > limit {
			resp.Body.Close()
			return nil, fmt.Errorf("%s %s: answer of %d bytes, more than %s: %w", req.Method, req.URL.Redacted(), resp.ContentLength, image.CapText(limit), ErrBadImage)
		}
		resp.Body = &cappedBody{rc: resp.Body, left: limit, limit: limit, what: requestName(req)}
	}
	return resp, nil
}

// requestName is a request as errors name it: method and URL without
// its query, which may hold an upload's state token.
func requestName(req *http.Request) string {
	u := url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host, Path: req.URL.Path}
	return req.Method + " " + u.String()
}

// firstRequest follows a redirected request back to the one the client
// was asked to send.
func firstRequest(req *http.Request) *http.Request {
	for req.Response != nil && req.Response.Request != nil {
		req = req.Response.Request
	}
	return req
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return strings.ToLower(u.Hostname()) + ":" + port
}

type blobKey struct{}

// blobContext marks requests that download a blob: their body is bounded
// by the blob's descriptor (image.ExactSize), not by a response cap.
func blobContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, blobKey{}, true)
}

// responseLimit is the most an answer's body may hold; 0 for a blob
// download, which the reader bounds by the descriptor's size, and for
// HEAD.
func responseLimit(req *http.Request, resp *http.Response) int64 {
	if req.Method == http.MethodHead {
		return 0 // no body; Content-Length is the blob's or manifest's size
	}
	ok := resp.StatusCode/100 == 2
	if ok && req.Context().Value(blobKey{}) != nil && (strings.Contains(req.URL.Path, "/blobs/") || req.Response != nil) {
		return 0
	}
	if ok && strings.Contains(req.URL.Path, "/manifests/") {
		return image.MaxManifestSize
	}
	return maxResponseSize
}

// cappedBody fails once more than limit bytes arrive.
type cappedBody struct {
	rc    io.ReadCloser
	left  int64
	limit int64
	what  string
}

func (c *cappedBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var b [1]byte
		n, err := c.rc.Read(b[:])
		if n > 0 {
			return 0, fmt.Errorf("%s: answer larger than %s: %w", c.what, image.CapText(c.limit), ErrBadImage)
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *cappedBody) Close() error { return c.rc.Close() }

// bodyIdleTimeout bounds a pause in an answer's body: a registry that
// sends a byte now and then (or stops mid-blob) held a fetch forever,
// as only the wait for the headers was bounded (responseTimeout). Only
// the time a read waits counts, not the time the reader spends between
// reads. A variable for tests.
var bodyIdleTimeout = 2 * time.Minute

// ErrStalled: a registry stopped sending in the middle of an answer.
var ErrStalled = errors.New("the registry stopped sending")

// idleBody fails a read that waits more than bodyIdleTimeout for a byte,
// by cancelling the request's context (which ends the read), and says so.
type idleBody struct {
	rc      io.ReadCloser
	cancel  context.CancelCauseFunc
	host    string
	what    string
	idle    time.Duration
	timer   *time.Timer
	stalled atomic.Bool
}

func newIdleBody(rc io.ReadCloser, cancel context.CancelCauseFunc, host, what string) *idleBody {
	b := &idleBody{rc: rc, cancel: cancel, host: host, what: what, idle: bodyIdleTimeout}
	b.timer = time.AfterFunc(b.idle, func() {
		b.stalled.Store(true)
		cancel(ErrStalled)
	})
	b.timer.Stop()
	return b
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.timer.Reset(b.idle)
	n, err := b.rc.Read(p)
	b.timer.Stop()
	if err != nil && b.stalled.Load() {
		return n, fmt.Errorf("%s: %s sent nothing for %s: %w", b.what, b.host, b.idle, ErrStalled)
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}
