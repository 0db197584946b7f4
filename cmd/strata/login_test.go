package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoginSaysItOnce: login with the wrong password says so once
// ("strata: login HOST: 401 ..."), not "login HOST: log in to HOST: ...";
// stored in config.json, the credentials get one strata line on stderr,
// not docker's four-line banner, and a world-readable config.json 0600.
func TestLoginSaysItOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != "pw" {
			w.Header().Set("WWW-Authenticate", `Basic realm="t"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfg, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	login := func(pw string) (string, error) {
		cmd := strataCmd(dir, "login", "-u", "u", "--password-stdin", "https://"+host+"/v2/")
		cmd.Env = append(cmd.Env, "DOCKER_CONFIG="+dir)
		cmd.Stdin = strings.NewReader(pw + "\n")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := login("wrong")
	if want := "strata: login https://" + host + "/v2/: 401 Unauthorized: check the user name and password\n"; err == nil || out != want {
		t.Errorf("wrong password: %v %q, want %q", err, out, want)
	}
	out, err = login("pw")
	want := "strata: login: credentials stored unencrypted in " + cfg + ", which others could read: now 0600 (a credential helper encrypts them: credsStore in that file)\nLogin Succeeded\n"
	if err != nil || out != want {
		t.Errorf("login: %v\n%q, want\n%q", err, out, want)
	}
	if fi, _ := os.Stat(cfg); fi.Mode().Perm() != 0o600 {
		t.Errorf("config.json mode %v", fi.Mode())
	}
	if b, _ := os.ReadFile(cfg); !strings.Contains(string(b), `"`+host+`"`) {
		t.Errorf("config.json: %s", b)
	}
}

// TestLoginToNoRegistry: login to a web server that is no registry (its
// /v2/ a 404 page) printed ggcr's text: the https attempt's TLS failure,
// then the http answer with its whole body. Now one short line: the
// request, the status, and the body capped.
func TestLoginToNoRegistry(t *testing.T) {
	page := "<html>" + strings.Repeat("lorem ipsum ", 1000) + "</html>"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, page)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	dir := t.TempDir()
	cmd := strataCmd(dir, "login", "-u", "u", "--password-stdin", host)
	cmd.Env = append(cmd.Env, "DOCKER_CONFIG="+dir)
	cmd.Stdin = strings.NewReader("pw\n")
	out, err := cmd.CombinedOutput()
	want := "strata: login " + host + ": GET http://" + host + "/v2/: registry answered 404 Not Found: <html>lorem ipsum "
	if err == nil || !strings.HasPrefix(string(out), want) || len(out) > 400 || strings.Count(string(out), "\n") != 1 {
		t.Errorf("login: %v\n%q, want one line starting\n%q", err, out, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
		t.Errorf("config.json written")
	}
}
