package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-sh/strata/repo"
)

// TestRemoveSvcAtOnce: stop returns once the run's lock file is gone,
// and ps lists every directory with a state.json. removeSvc deleted the
// files one by one, so a stop could return while ps still listed the run
// (services_stop.txtar failed so, once: "gone" after stop of a --rm run).
// The run must vanish from both at once.
func TestRemoveSvcAtOnce(t *testing.T) {
	root := t.TempDir()
	r := &repo.Repo{Root: root}
	s := &svc{dir: filepath.Join(servicesDir(r), "gone"), st: svcState{Name: "gone"}}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Many files, so that removing them one by one takes a while.
	for i := range 2000 {
		if err := os.WriteFile(s.path(fmt.Sprintf("f%04d", i)), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.save(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.path("lock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- removeSvc(r, s) }()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if ents, _ := os.ReadDir(servicesDir(r)); len(ents) != 0 {
				t.Fatalf("left in services: %v", ents)
			}
			return
		default:
		}
		_, lockErr := os.Stat(s.path("lock"))
		_, loadErr := loadSvc(r, "gone")
		if lockErr != nil && loadErr == nil {
			<-done
			t.Fatal("the run's lock was gone (stop returns) while ps still listed it")
		}
	}
}
