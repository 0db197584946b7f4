package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// certDirs are where docker and podman keep the certificates of one
// registry, in a directory named as the registry is (host or host:port):
// CA certificates (*.crt) trusted beside the system's, and client
// certificates (NAME.cert with NAME.key) offered to a registry that asks
// for one. strata reads them as both do, so a registry either tool
// trusts is trusted here too. ~ is the user's home directory. A
// variable for tests.
var certDirs = []string{"/etc/docker/certs.d", "/etc/containers/certs.d", "~/.config/containers/certs.d"}

// registryTLS reads the certificates certDirs hold for registry; nil
// when they hold none.
func registryTLS(registry string) (*tls.Config, error) {
	var cfg *tls.Config
	for _, base := range certDirs {
		if rest, ok := strings.CutPrefix(base, "~/"); ok {
			home, err := os.UserHomeDir()
			if err != nil {
				continue
			}
			base = filepath.Join(home, rest)
		}
		dir := filepath.Join(base, registry)
		ents, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("certificates for %s: %w", registry, err)
		}
		if cfg == nil {
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			cfg = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		if err := addCertDir(cfg, dir, ents); err != nil {
			return nil, fmt.Errorf("certificates for %s: %w", registry, err)
		}
	}
	return cfg, nil
}

// addCertDir adds the CAs and client certificates of one directory, as
// docker's daemon reads /etc/docker/certs.d/HOST.
func addCertDir(cfg *tls.Config, dir string, ents []fs.DirEntry) error {
	for _, e := range ents {
		name := e.Name()
		p := filepath.Join(dir, name)
		switch {
		case strings.HasSuffix(name, ".crt"):
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if !cfg.RootCAs.AppendCertsFromPEM(b) {
				return fmt.Errorf("%s: no PEM certificate in it", p)
			}
		case strings.HasSuffix(name, ".cert"):
			key := strings.TrimSuffix(p, ".cert") + ".key"
			pair, err := tls.LoadX509KeyPair(p, key)
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s: no key beside it (%s)", p, filepath.Base(key))
			}
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			cfg.Certificates = append(cfg.Certificates, pair)
		case strings.HasSuffix(name, ".key"):
			if _, err := os.Stat(strings.TrimSuffix(p, ".key") + ".cert"); err != nil {
				return fmt.Errorf("%s: no certificate beside it (%s)", p, strings.TrimSuffix(name, ".key")+".cert")
			}
		}
	}
	return nil
}

// registryTransport is the transport for registry: the default one, or,
// when certDirs hold certificates for it or it is marked insecure, a copy
// that trusts and offers them. One per registry for the process, so that
// its sessions share connections.
func registryTransport(registry string, insecure bool) (http.RoundTripper, error) {
	key := transportKey{registry, insecure, responseTimeout}
	if t, ok := tlsTransports.Load(key); ok {
		return t.(http.RoundTripper), nil
	}
	cfg, err := registryTLS(registry)
	if err != nil || cfg == nil && !insecure {
		return defaultTransport(), err
	}
	base, ok := defaultTransport().(*http.Transport)
	if !ok {
		return defaultTransport(), nil
	}
	t := base.Clone()
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	t.TLSClientConfig = cfg
	if insecure {
		t.DialTLSContext = skipVerifyFor(registry, t)
	}
	got, _ := tlsTransports.LoadOrStore(key, t)
	return got.(http.RoundTripper), nil
}

// skipVerifyFor dials TLS as t would, but accepts any certificate from
// the host of registry (on any port, as plain HTTP is allowed to it):
// what docker's insecure-registries does. Every other host a request
// meets (a token server elsewhere, the storage a blob is redirected to)
// must still present a certificate that verifies.
func skipVerifyFor(registry string, t *http.Transport) func(ctx context.Context, network, addr string) (net.Conn, error) {
	marked := hostOf(registry)
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host := hostOf(addr)
		cfg := t.TLSClientConfig.Clone()
		cfg.ServerName = host
		cfg.InsecureSkipVerify = host == marked
		raw, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		conn := tls.Client(raw, cfg)
		if err := conn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return conn, nil
	}
}

// hostOf is the host of HOST[:PORT], without brackets.
func hostOf(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

type transportKey struct {
	registry string
	insecure bool
	timeout  time.Duration
}

// tlsTransports holds registryTransport's transports.
var tlsTransports sync.Map
