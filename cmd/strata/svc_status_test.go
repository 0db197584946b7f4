package main

import (
	"os"
	"testing"
	"time"
)

// TestKilledRunEndTime: a run whose supervisor was SIGKILLed after a
// restart showed "Exited (137) 19 minutes ago": the end of the run
// before, earlier than its start. Its end is when strata first found it
// dead, and stays that on the next look.
func TestKilledRunEndTime(t *testing.T) {
	started := time.Now().Add(-time.Minute).UTC()
	s := &svc{dir: t.TempDir(), st: svcState{Name: "k", Status: "running",
		Started: started, Finished: started.Add(-19 * time.Minute)}}
	status, code := s.status()
	if status != "exited" || code != 137 {
		t.Fatalf("status %s (%d), want exited (137)", status, code)
	}
	first := s.st.Finished
	if first.Before(started) {
		t.Fatalf("finished %v, before the run started (%v)", first, started)
	}
	again := &svc{dir: s.dir, st: svcState{Name: "k", Status: "running",
		Started: started, Finished: started.Add(-19 * time.Minute)}}
	again.status()
	if !again.st.Finished.Equal(first) {
		t.Errorf("second look: finished %v, want %v (the first)", again.st.Finished, first)
	}
	// A later start makes an older notice stale.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(s.path("ended"), old, old)
	later := &svc{dir: s.dir, st: svcState{Name: "k", Status: "running", Started: started}}
	later.status()
	if later.st.Finished.Before(started) {
		t.Errorf("stale notice used: finished %v, started %v", later.st.Finished, started)
	}
}

// TestHumanSinceAsDocker: ps's "Up ...", "Exited (0) ... ago" and
// CREATED read as docker's, whose daemon and CLI print go-units'
// HumanDuration: "Up Less than a second", "About a minute ago", weeks
// past two weeks.
func TestHumanSinceAsDocker(t *testing.T) {
	for _, c := range []struct {
		ago  time.Duration
		want string
	}{
		{0, "Less than a second"},
		{3 * time.Second, "3 seconds"},
		{90 * time.Second, "About a minute"},
		{5 * time.Minute, "5 minutes"},
		{70 * time.Minute, "About an hour"},
		{5*time.Hour + 40*time.Minute, "6 hours"},
		{3 * 24 * time.Hour, "3 days"},
		{21 * 24 * time.Hour, "3 weeks"},
	} {
		if got := humanSince(time.Now().Add(-c.ago)); got != c.want {
			t.Errorf("%v ago: %q, want %q", c.ago, got, c.want)
		}
	}
}
