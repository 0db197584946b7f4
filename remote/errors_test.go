package remote

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strata-sh/strata/refs"
)

// A registry's error answers are quoted in one short line: no Go maps
// (a diagnostic's detail), no body longer than maxQuoted bytes, control
// characters escaped, no request query; a missing tag is said plainly.
func TestRegistryErrorsInOneLine(t *testing.T) {
	h := newHostileRegistry(t)
	h.addImage(t, []byte("layer"), "main")
	r := newRepo(t)
	s := connect(t, r, "origin", h.host+"/env", Options{Jobs: 1})
	_, err := s.Fetch(context.Background(), r, []string{"nosuch"})
	if !errors.Is(err, ErrNotFound) || err.Error() != `no tag "nosuch" in `+h.host+"/env" {
		t.Errorf("fetch of a missing tag: %v", err)
	}

	for _, c := range []struct {
		name, body string
		want       []string
	}{
		{"diagnostic", `{"errors":[{"code":"DENIED_X","message":"no\u001b[2Jway","detail":{"Tag":"main"}}]}`, []string{`registry answered 500 Internal Server Error: DENIED_X: "no\x1b[2Jway"`}},
		{"raw body", strings.Repeat("<html>boom\n", 100), []string{`registry answered 500 Internal Server Error: "<html>boom\n<html>`, `..."`[:3]}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.tagList = func(w http.ResponseWriter, req *http.Request) {
				http.Error(w, c.body, http.StatusInternalServerError)
			}
			_, err := s.Fetch(context.Background(), r, nil)
			if err == nil {
				t.Fatal("fetch succeeded")
			}
			msg := err.Error()
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "map[") || strings.ContainsAny(msg, "\n\x1b") || len(msg) > 400 {
				t.Errorf("error not one short line: %q", msg)
			}
		})
	}
}

// A push whose upload's PUT fails in the network says so without the
// upload's URL query: it holds the registry's state token.
func TestUploadErrorHasNoStateToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch {
		case req.URL.Path == "/v2/":
		case req.Method == http.MethodPost:
			w.Header().Set("Location", "/v2/env/blobs/uploads/u1?_state=SECRETSTATE")
			w.WriteHeader(http.StatusAccepted)
		case req.Method == http.MethodPut:
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	r := newRepo(t)
	commitFile(t, r, "main", "etc/a", "a")
	_, err := connect(t, r, "origin", strings.TrimPrefix(srv.URL, "http://")+"/env", Options{}).Push(context.Background(), r, refs.Heads+"main", PushOptions{})
	if err == nil || strings.Contains(err.Error(), "SECRETSTATE") || strings.Contains(err.Error(), "_state") {
		t.Fatalf("push: %v", err)
	}
}
