package remote

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/refs"
)

// A registry whose certificate a private CA signed, and that wants a
// client certificate, is reached through the certificates docker and
// podman keep for it (certs.d/HOST:PORT: ca.crt, client.cert and
// client.key), and not without them.
func TestCertsDirTrustsRegistry(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	reg := testregistry.Start(t, testregistry.WithTLS(true))
	certs := t.TempDir()
	saved := certDirs
	certDirs = []string{filepath.Join(t.TempDir(), "none"), certs}
	t.Cleanup(func() { certDirs = saved })
	ctx := context.Background()
	a := newRepo(t)
	commitFile(t, a, "main", "/f", "one")
	connect(t, a, "origin", reg.Repo("env"), Options{}) // adds the remote
	push := func() error {
		tlsTransports.Clear() // each command is a new process
		rem, err := Get(a.Config, "origin")
		if err != nil {
			t.Fatal(err)
		}
		s, err := Connect(rem, Options{})
		if err != nil {
			return err
		}
		_, err = s.Push(ctx, a, refs.Heads+"main", PushOptions{})
		return err
	}

	if err := push(); err == nil || !strings.Contains(err.Error(), "TLS certificate signed by an unknown authority") {
		t.Fatalf("push with no certificates for %s: %v", reg.Host, err)
	}
	dir := filepath.Join(certs, reg.Host)
	copyFile(t, reg.TLS.CA, filepath.Join(dir, "ca.crt"))
	// Refused for want of a client certificate: how it is worded depends
	// on which of the https and http attempts ggcr's ping heard last
	// (TestClientCertRefusedSaysSo has the words).
	if err := push(); err == nil || strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("push offering no client certificate: %v", err)
	}
	copyFile(t, reg.TLS.ClientCert, filepath.Join(dir, "client.cert"))
	if err := push(); err == nil || !strings.Contains(err.Error(), "client.cert: no key beside it (client.key)") {
		t.Fatalf("a client certificate without its key: %v", err)
	}
	copyFile(t, reg.TLS.ClientKey, filepath.Join(dir, "client.key"))
	if err := push(); err != nil {
		t.Fatalf("push with the registry's certificates: %v", err)
	}
	b := newRepo(t)
	if _, err := connect(t, b, "origin", reg.Repo("env"), Options{}).Fetch(ctx, b, nil); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if _, err := Login(ctx, reg.Host, "u", "pw", Options{}); err != nil && strings.Contains(err.Error(), "certificate") {
		t.Errorf("login: %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A registry's TLS alert refusing a connection for its client
// certificate says where docker and podman keep one.
func TestClientCertRefusedSaysSo(t *testing.T) {
	for _, alert := range []string{"tls: certificate required", "tls: bad certificate"} {
		err := wrapNetworkErr(&url.Error{Op: "Get", URL: "https://reg.test:5000/v2/",
			Err: &net.OpError{Op: "remote error", Err: errors.New(alert)}})
		want := "reg.test:5000: the registry wants a client certificate it accepts (" + alert + "): put client.cert and client.key in /etc/docker/certs.d/reg.test:5000/, as for docker and podman"
		if err == nil || err.Error() != want || !isCertificateErr(err) {
			t.Errorf("%s: %v\nwant %s", alert, err, want)
		}
	}
	other := &url.Error{Op: "Get", URL: "https://reg.test/v2/", Err: &net.OpError{Op: "remote error", Err: errors.New("tls: handshake failure")}}
	if isCertificateErr(other) {
		t.Error("a handshake failure taken for a client certificate refused")
	}
}

// --insecure accepts any certificate from the registry's host, as
// docker's insecure-registries does, and from no other host.
func TestInsecureSkipsVerifyForItsHostOnly(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	saved := certDirs
	certDirs = nil
	t.Cleanup(func() { certDirs = saved })
	reg := testregistry.Start(t, testregistry.WithTLS(false))
	ctx := context.Background()
	a := newRepo(t)
	commitFile(t, a, "main", "/f", "one")
	push := func(insecure bool) error {
		tlsTransports.Clear()
		_, err := connect(t, a, "origin", reg.Repo("env"), Options{Insecure: insecure}).Push(ctx, a, refs.Heads+"main", PushOptions{})
		return err
	}
	if err := push(false); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("push to a registry with an untrusted certificate: %v", err)
	}
	if err := push(true); err != nil {
		t.Fatalf("push --insecure: %v", err)
	}

	// Marked as localhost:PORT, the same server as 127.0.0.1:PORT is
	// another host: its certificate must verify.
	_, port, _ := net.SplitHostPort(reg.Host)
	rt, err := registryTransport("localhost:"+port, true)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: rt}
	resp, err := client.Get("https://localhost:" + port + "/v2/")
	if err != nil {
		t.Fatalf("the marked host: %v", err)
	}
	resp.Body.Close()
	if _, err := client.Get("https://127.0.0.1:" + port + "/v2/"); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("another host through the marked registry's transport: %v, want its certificate refused", err)
	}
}
