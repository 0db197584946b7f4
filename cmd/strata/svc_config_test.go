package main

import (
	"maps"
	"slices"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// applyTo lays a run's settings over its commit's config as docker
// commit writes a container's Config: the record's config (Env,
// Entrypoint, Cmd) when it has one, else the commit's own; workdir,
// user, stop signal and labels from the record; exposed ports added to
// the commit's, an image's "80" standing for the run's "80/tcp".
func TestSvcApplyTo(t *testing.T) {
	image := func() ocispec.ImageConfig {
		return ocispec.ImageConfig{Env: []string{"A=image"}, Cmd: []string{"sh"}, WorkingDir: "/",
			Labels: map[string]string{"from": "image"}, ExposedPorts: map[string]struct{}{"80": {}}}
	}
	st := svcState{Workdir: "/srv", User: "1000", StopSignal: "HUP",
		Labels:  map[string]string{"from": "image", "team": "web"},
		Exposed: []string{"80/tcp", "53/udp"}}

	old := image()
	st.applyTo(&old) // a record made before svcState.Config
	if !slices.Equal(old.Env, []string{"A=image"}) || !slices.Equal(old.Cmd, []string{"sh"}) {
		t.Errorf("a record without config changed Env %q, Cmd %q", old.Env, old.Cmd)
	}
	st.Config = &runConfig{Env: []string{"A=run"}, Entrypoint: []string{"/bin/e"}}
	c := image()
	st.applyTo(&c)
	if !slices.Equal(c.Env, []string{"A=run"}) || !slices.Equal(c.Entrypoint, []string{"/bin/e"}) || c.Cmd != nil {
		t.Errorf("Env %q, Entrypoint %q, Cmd %q; want the run's", c.Env, c.Entrypoint, c.Cmd)
	}
	for _, cfg := range []ocispec.ImageConfig{old, c} {
		if cfg.WorkingDir != "/srv" || cfg.User != "1000" || cfg.StopSignal != "HUP" || cfg.Labels["team"] != "web" {
			t.Errorf("WorkingDir %q, User %q, StopSignal %q, Labels %v; want the run's", cfg.WorkingDir, cfg.User, cfg.StopSignal, cfg.Labels)
		}
		if got := slices.Sorted(maps.Keys(cfg.ExposedPorts)); !slices.Equal(got, []string{"53/udp", "80"}) {
			t.Errorf("ExposedPorts %v, want [53/udp 80]", got)
		}
	}
	st.Labels["team"] = "changed"
	if c.Labels["team"] != "web" {
		t.Error("the config shares the record's labels map")
	}
}
