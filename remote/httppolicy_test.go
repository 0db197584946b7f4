package remote

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/refs"
)

func TestPlainHTTPAllowed(t *testing.T) {
	for _, c := range []struct {
		registry string
		insecure bool
		want     bool
	}{
		{"127.0.0.1:5000", false, true},
		{"127.9.8.7:5000", false, true},
		{"localhost:5000", false, true},
		{"localhost", false, true},
		{"LocalHost:5000", false, true},
		{"[::1]:5000", false, true},
		{"10.0.0.5:5000", false, false},
		{"192.168.1.20", false, false},
		{"172.16.0.1:443", false, false},
		{"foo.localhost", false, false},
		{"foo.localhost:5000", false, false},
		{"registry.local:5000", false, false},
		{"localhost.example.com", false, false},
		{"registry.example.com", false, false},
		{"[::ffff:10.0.0.1]:5000", false, false},
		{"10.0.0.5:5000", true, true},
		{"registry.example.com", true, true},
	} {
		if got := plainHTTPAllowed(c.registry, c.insecure); got != c.want {
			t.Errorf("plainHTTPAllowed(%q, insecure=%v) = %v, want %v", c.registry, c.insecure, got, c.want)
		}
	}
}

// guardTransport records every request that reaches the network layer
// and sends only those to loopback: nothing here may leave the machine.
type guardTransport struct {
	mu   sync.Mutex
	seen []string // scheme://host
}

func (g *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	g.mu.Lock()
	g.seen = append(g.seen, req.URL.Scheme+"://"+req.URL.Host)
	g.mu.Unlock()
	if !isLoopbackHost(req.URL.Host) {
		return nil, errors.New("test: no traffic off loopback")
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (g *guardTransport) schemes(host string) map[string]bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]bool{}
	for _, s := range g.seen {
		if u, _ := url.Parse(s); u != nil && u.Host == host {
			out[u.Scheme] = true
		}
	}
	return out
}

// A registry off loopback is asked over https only, whatever
// go-containerregistry thinks of private ranges and *.localhost; with
// --insecure, plain HTTP too. Nothing is sent off the machine: the guard
// refuses it after recording the attempt.
func TestNonLoopbackIsHTTPSOnly(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	for _, c := range []struct {
		url      string
		insecure bool
	}{
		{"10.0.0.5:5000/x", false},
		{"192.168.1.20/x", false},
		{"foo.localhost/x", false},
		{"registry.local:5000/x", false},
		{"10.0.0.5:5000/x", true},
	} {
		t.Run(fmt.Sprintf("%s,insecure=%v", c.url, c.insecure), func(t *testing.T) {
			host := strings.Split(c.url, "/")[0]
			g := &guardTransport{}
			r := newRepo(t)
			s, err := Connect(Remote{Name: "origin", URL: c.url, Insecure: c.insecure}, Options{Transport: g})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Fetch(context.Background(), r, nil); err == nil {
				t.Fatal("fetch from an unreachable registry succeeded")
			}
			if _, err := Login(context.Background(), host, "u", "p", Options{Transport: g, Insecure: c.insecure}); err == nil {
				t.Fatal("login to an unreachable registry succeeded")
			}
			got := g.schemes(host)
			if !got["https"] || got["http"] != c.insecure {
				t.Fatalf("schemes tried for %s: %v (all: %v)", host, got, g.seen)
			}
		})
	}
}

// writeDockerConfig stores user:pass for host where the default keychain
// finds them.
func writeDockerConfig(t *testing.T, host, user, pass string) {
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A blob redirected to another host (blob storage) is fetched without the
// registry's credentials, with basic auth and with a bearer token.
func TestRedirectGetsNoCredentials(t *testing.T) {
	for _, c := range []struct {
		name    string
		bearer  bool
		storage string // host name of the storage server
	}{
		{"basic-other-name", false, "localhost"},
		{"basic-other-port", false, "127.0.0.1"},
		{"bearer-other-name", true, "localhost"},
		{"bearer-other-port", true, "127.0.0.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHostileRegistry(t)
			h.user, h.pass, h.bearer = "alice", "pw-9c1e", c.bearer
			img := h.addImage(t, []byte(strings.Repeat("L", 5000)), "main")
			var mu sync.Mutex
			var leaked []string
			served := 0
			storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				mu.Lock()
				served++
				for k, v := range req.Header {
					if k == "Authorization" || strings.Contains(strings.Join(v, " "), bearerToken) ||
						strings.Contains(strings.Join(v, " "), base64.StdEncoding.EncodeToString([]byte("alice:pw-9c1e"))) {
						leaked = append(leaked, k+": "+strings.Join(v, " "))
					}
				}
				mu.Unlock()
				serveBytes(img.layerRaw)(w, req)
			}))
			t.Cleanup(storage.Close)
			port := storage.URL[strings.LastIndex(storage.URL, ":")+1:]
			h.blobs[img.layer.Digest] = func(w http.ResponseWriter, req *http.Request) {
				http.Redirect(w, req, "http://"+c.storage+":"+port+"/bucket/layer?sig=abc", http.StatusTemporaryRedirect)
			}
			writeDockerConfig(t, h.host, h.user, h.pass)
			r, _, err := fetchFrom(t, h, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !r.Objects.Has(img.layer.Digest) || served == 0 {
				t.Fatalf("the layer did not come from storage (%d requests there)", served)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(leaked) > 0 {
				t.Fatalf("storage received credentials: %v", leaked)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if len(h.auths) == 0 {
				t.Fatal("the registry never received credentials")
			}
		})
	}
}

// Go's client copies a caller's Authorization header to a redirect on the
// same host name (any port); policyTransport drops it there too.
func TestPolicyTransportDropsAuthOnRedirect(t *testing.T) {
	got := make(chan string, 1)
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		got <- req.Header.Get("Authorization")
	}))
	t.Cleanup(b.Close)
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, b.URL+"/x", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(a.Close)
	c := &http.Client{Transport: newPolicyTransport(http.DefaultTransport, strings.TrimPrefix(a.URL, "http://"), false)}
	req, _ := http.NewRequest(http.MethodGet, a.URL+"/v2/", nil)
	req.Header.Set("Authorization", "Basic c2VjcmV0")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := <-got; h != "" {
		t.Fatalf("redirect target received Authorization: %q", h)
	}
}

// A loopback registry that redirects a blob to plain HTTP off loopback is
// refused before anything is sent there.
func TestRedirectToPlainHTTPRefused(t *testing.T) {
	h := newHostileRegistry(t)
	img := h.addImage(t, []byte("layer"), "main")
	h.blobs[img.layer.Digest] = func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, "http://203.0.113.7:9000/bucket/layer", http.StatusTemporaryRedirect)
	}
	g := &guardTransport{}
	r, _, err := fetchFrom(t, h, Options{Transport: g})
	if err == nil || !strings.Contains(err.Error(), "plain HTTP refused") {
		t.Fatalf("fetch redirected to plain HTTP: %v", err)
	}
	if s := g.schemes("203.0.113.7:9000"); len(s) != 0 {
		t.Fatalf("request reached the network for 203.0.113.7: %v", g.seen)
	}
	assertNothingStored(t, r, img)
}

// Answers are capped, except blob downloads (bounded by their descriptor)
// and HEAD, whose Content-Length is the size of what it describes.
func TestPolicyTransportCaps(t *testing.T) {
	big := int64(40 << 20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(big))
		if req.Method == http.MethodGet {
			w.Write(make([]byte, big))
		}
	}))
	t.Cleanup(srv.Close)
	c := &http.Client{Transport: newPolicyTransport(http.DefaultTransport, strings.TrimPrefix(srv.URL, "http://"), false)}
	for _, tc := range []struct {
		method, path string
		blob, ok     bool
	}{
		{http.MethodHead, "/v2/env/blobs/sha256:00", false, true},
		{http.MethodHead, "/v2/env/manifests/main", false, true},
		{http.MethodGet, "/v2/env/blobs/sha256:00", true, true},
		{http.MethodGet, "/v2/env/blobs/sha256:00", false, false},
		{http.MethodGet, "/v2/env/manifests/main", true, false},
		{http.MethodGet, "/v2/env/tags/list", false, false},
	} {
		ctx := context.Background()
		if tc.blob {
			ctx = blobContext(ctx)
		}
		req, _ := http.NewRequestWithContext(ctx, tc.method, srv.URL+tc.path, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		if (err == nil) != tc.ok {
			t.Errorf("%s %s (blob context %v): %v", tc.method, tc.path, tc.blob, err)
		}
	}
}

// Blobs are read with strata's own GET (no second hash), over the same
// authenticated transport as the manifests: a clone pings the registry
// once.
func TestCloneAuthenticatesOnce(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	a, _ := threeCommits(t)
	url := reg.Repo("once")
	if _, err := connect(t, a, "origin", url, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	pings, blobs := 0, 0
	// Answered requests only: the https attempt before plain HTTP on
	// loopback never reaches the registry.
	count := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return resp, err
		}
		mu.Lock()
		switch {
		case req.URL.Path == "/v2/":
			pings++
		case strings.Contains(req.URL.Path, "/blobs/"):
			blobs++
		}
		mu.Unlock()
		return resp, err
	})
	if _, _, err := Clone(ctx, url+":main", filepath.Join(t.TempDir(), "b"), Options{Transport: count}); err != nil {
		t.Fatal(err)
	}
	if pings != 1 || blobs == 0 {
		t.Fatalf("clone: %d pings, %d blob requests; want 1 ping", pings, blobs)
	}
}

func TestNoRedirectInward(t *testing.T) {
	req := func(u string) *http.Request { r, _ := http.NewRequest(http.MethodGet, u, nil); return r }
	from := []*http.Request{req("https://registry.example.com/v2/x/blobs/sha256:00")}
	for u, ok := range map[string]bool{
		"https://registry.example.com/elsewhere":  true,
		"https://storage.example.net/blob":        true,
		"https://93.184.216.34/blob":              true,
		"http://169.254.169.254/latest/meta-data": false,
		"http://10.0.0.5/blob":                    false,
		"http://127.0.0.1:8080/blob":              false,
		"http://[::ffff:192.168.1.1]/blob":        false,
		"http://[fe80::1%25eth0]/blob":            false,
	} {
		if err := noRedirectInward(req(u), from); (err == nil) != ok {
			t.Errorf("redirect to %s: %v, want allowed %v", u, err, ok)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
