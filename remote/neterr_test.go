package remote

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/strata-sh/strata/refs"
)

// A registry whose TLS certificate is not trusted is said so, with what
// to do, for fetch and login alike. On loopback strata tries plain HTTP
// after https, and a TLS server answers that with 400 "Client sent an
// HTTP request to an HTTPS server": that was the message, and the
// certificate went unmentioned.
func TestUntrustedCertificateSaysSo(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes strata gives up
	srv.StartTLS()                                   // a self-signed certificate
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	want := host + ": TLS certificate signed by an unknown authority (trust the CA that signed it: as ca.crt in /etc/docker/certs.d/" + host + "/ for this registry, as docker and podman do, or for every host: copy it to /usr/local/share/ca-certificates/ and run update-ca-certificates)"
	r := newRepo(t)
	s := connect(t, r, "origin", host+"/env", Options{})
	if _, err := s.Fetch(context.Background(), r, nil); err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("fetch: %v\nwant it to end in %q", err, want)
	}
	if _, err := Login(context.Background(), host, "u", "pw", Options{}); err == nil || err.Error() != strings.TrimPrefix(want, host+": ") {
		t.Errorf("login: %v", err)
	}

	// A certificate for another name: the reason, in x509's words.
	trusting := srv.Client().Transport.(*http.Transport).Clone()
	trusting.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	s = connect(t, r, "other", "registry.test/env", Options{Transport: trusting})
	_, err := s.Fetch(context.Background(), r, nil)
	if want := "registry.test: TLS certificate refused: x509: certificate is valid for example.com, *.example.com, not registry.test"; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("fetch: %v\nwant it to end in %q", err, want)
	}
}

// A plain HTTP registry off loopback, not marked insecure, is said so
// with the flag that allows it, where Go's "http: server gave HTTP
// response to HTTPS client" named no way out.
func TestPlainHTTPRegistrySaysInsecure(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	want := "registry.test:5000: the registry speaks plain HTTP, not https (allow it with --insecure, or remote.NAME.insecure = true for a remote)"
	r := newRepo(t)
	s := connect(t, r, "origin", "registry.test:5000/env", Options{Transport: tr})
	if _, err := s.Fetch(context.Background(), r, nil); err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("fetch: %v\nwant it to end in %q", err, want)
	}
	if _, err := Login(context.Background(), "registry.test:5000", "u", "pw", Options{Transport: tr}); err == nil || err.Error() != strings.TrimPrefix(want, "registry.test:5000: ") {
		t.Errorf("login: %v", err)
	}
}

// A registry that drops the connection when a blob is asked for is one
// line naming it, as for any other request, not net/http's
// 'Get "http://HOST/v2/env/blobs/sha256:...": EOF'.
func TestBlobConnectionDroppedSaysSo(t *testing.T) {
	h := newHostileRegistry(t)
	img := h.addImage(t, []byte("layer"), "main")
	h.blobs[img.layer.Digest] = func(w http.ResponseWriter, req *http.Request) {
		c, _, _ := w.(http.Hijacker).Hijack()
		c.Close()
	}
	_, _, err := fetchFrom(t, h, Options{})
	if want := "receive blob " + short(img.layer.Digest) + ": " + h.host + ": the registry closed the connection without answering"; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("fetch: %v\nwant it to end in %q", err, want)
	}
}

// A rate limit (429) or a passing failure (5xx) on a request that sends
// nothing is tried again, as ggcr's own transport (crane) and podman do:
// one such answer failed the whole fetch.
func TestReadsRetriedOnPassingFailure(t *testing.T) {
	var mu sync.Mutex
	armed := false
	failed := map[string]bool{}
	url := inProcessRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			kind := ""
			switch {
			case strings.HasSuffix(req.URL.Path, "/tags/list"):
				kind = "tags"
			case strings.Contains(req.URL.Path, "/manifests/"):
				kind = "manifest"
			case strings.Contains(req.URL.Path, "/blobs/sha256:"):
				kind = "blob"
			}
			mu.Lock()
			fail := armed && kind != "" && !failed[kind]
			if fail {
				failed[kind] = true
			}
			mu.Unlock()
			if fail {
				w.WriteHeader(map[string]int{"tags": http.StatusTooManyRequests, "manifest": http.StatusServiceUnavailable, "blob": http.StatusBadGateway}[kind])
				return
			}
			h.ServeHTTP(w, req)
		})
	}) + "/env"
	a, tip := threeCommits(t)
	if _, err := connect(t, a, "origin", url, Options{}).Push(context.Background(), a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	armed = true
	mu.Unlock()
	r := newRepo(t)
	if _, err := connect(t, r, "origin", url, Options{}).Fetch(context.Background(), r, nil); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, r, refs.Remotes+"origin/main"); got != tip || len(failed) != 3 {
		t.Fatalf("origin/main = %s, want %s; failed once: %v", got, tip, failed)
	}
}
