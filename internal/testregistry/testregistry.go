// Package testregistry starts the real registry (Debian's docker-registry,
// distribution v2) for tests: on a free loopback port, storing in a
// temporary directory, optionally behind htpasswd basic auth. It is
// stopped when the test ends. A missing binary fails the test: it is a
// setup error (apt-get install docker-registry), never a skip.
package testregistry

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Binary is the registry executable.
const Binary = "docker-registry"

// Registry is a running registry.
type Registry struct {
	Host string // 127.0.0.1:PORT
	Dir  string // storage root
	// Config is the path of its config file (for garbage-collect).
	Config string
	// TLS: the certificates of a registry started WithTLS; else nil.
	TLS *TLS
	cmd *exec.Cmd
	out *syncBuffer
}

type options struct {
	user, pass      string
	accessLog       bool
	tls, clientAuth bool
}

// Option configures Start.
type Option func(*options)

// WithAuth protects the registry with htpasswd basic auth for one user.
// It needs htpasswd (apt-get install apache2-utils).
func WithAuth(user, pass string) Option {
	return func(o *options) { o.user, o.pass = user, pass }
}

// WithAccessLog logs every request (Apache's combined format) to Log,
// so that a test can count what a client sent.
func WithAccessLog() Option {
	return func(o *options) { o.accessLog = true }
}

// Start runs a registry until the test ends.
func Start(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	bin, err := exec.LookPath(Binary)
	if err != nil {
		t.Fatalf("testregistry: %s not found: apt-get install docker-registry", Binary)
	}
	dir := t.TempDir()
	auth := ""
	if o.user != "" {
		hp, err := exec.LookPath("htpasswd")
		if err != nil {
			t.Fatalf("testregistry: htpasswd not found: apt-get install apache2-utils")
		}
		pw := filepath.Join(dir, "htpasswd")
		cmd := exec.Command(hp, "-Bbc", pw, o.user, o.pass)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("testregistry: htpasswd: %v: %s", err, out)
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: strata-test\n    path: %s\n", pw)
	}
	var certs *TLS
	if o.tls {
		var tlsCfg string
		var err error
		if certs, tlsCfg, err = makeTLS(dir, o.clientAuth); err != nil {
			t.Fatalf("testregistry: certificates: %v", err)
		}
		auth = tlsCfg + auth
	}
	r, err := launch(bin, dir, auth, !o.accessLog, certs)
	if err != nil {
		t.Fatalf("testregistry: %v", err)
	}
	t.Cleanup(r.stop)
	return r
}

// Launch runs a plain registry (no auth, no TLS, no access log) storing
// under dir until Stop, for a caller with no testing.TB: a CLI story's
// command.
func Launch(dir string) (*Registry, error) {
	bin, err := exec.LookPath(Binary)
	if err != nil {
		return nil, fmt.Errorf("%s not found: apt-get install docker-registry", Binary)
	}
	return launch(bin, dir, "", true, nil)
}

// Stop kills the registry.
func (r *Registry) Stop() { r.stop() }

// launch starts the registry, on another free port if one was taken
// meanwhile.
func launch(bin, dir, extra string, noAccessLog bool, certs *TLS) (*Registry, error) {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		r, err := start(bin, dir, extra, noAccessLog, certs)
		if err == nil {
			return r, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// start runs the registry; extra is YAML of its http section (tls) and
// after it (auth).
func start(bin, dir, extra string, noAccessLog bool, certs *TLS) (*Registry, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	host := fmt.Sprintf("127.0.0.1:%d", port)
	store := filepath.Join(dir, "storage")
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: %t
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
%s`, noAccessLog, store, host, extra)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	out := &syncBuffer{}
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	r := &Registry{Host: host, Dir: store, Config: cfgPath, TLS: certs, cmd: cmd, out: out}
	client, scheme, err := probeClient(certs)
	if err != nil {
		cmd.Process.Kill()
		<-exited
		return nil, err
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("%s exited: %v: %s", bin, err, out.String())
		default:
		}
		resp, err := client.Get(scheme + "://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				go func() { <-exited }()
				return r, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	<-exited
	return nil, fmt.Errorf("%s did not answer on %s: %s", bin, host, out.String())
}

func (r *Registry) stop() {
	if r.cmd.Process != nil {
		r.cmd.Process.Kill()
	}
}

// Repo is the registry name of repository path, e.g. Repo("team/env").
func (r *Registry) Repo(path string) string { return r.Host + "/" + strings.TrimPrefix(path, "/") }

// Log is what the registry printed.
func (r *Registry) Log() string { return r.out.String() }

// GarbageCollect runs the registry's garbage collector (deleting blobs no
// manifest references) on its storage, while it runs. flags go before
// the config: "--delete-untagged" also deletes every manifest no tag
// names.
func (r *Registry) GarbageCollect(flags ...string) error {
	args := append(append([]string{"garbage-collect"}, flags...), r.Config)
	out, err := exec.Command(Binary, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("garbage-collect: %v: %s", err, out)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
