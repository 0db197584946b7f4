package testregistry

import (
	"net/http"
	"testing"
)

func TestStart(t *testing.T) {
	r := Start(t)
	resp, err := http.Get("http://" + r.Host + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/: %s", resp.Status)
	}
}

func TestStartWithAuth(t *testing.T) {
	r := Start(t, WithAuth("alice", "s3cret"))
	resp, err := http.Get("http://" + r.Host + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /v2/ without credentials: %s, want 401", resp.Status)
	}
	req, _ := http.NewRequest("GET", "http://"+r.Host+"/v2/", nil)
	req.SetBasicAuth("alice", "s3cret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ with credentials: %s", resp.Status)
	}
}
