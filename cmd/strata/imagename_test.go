//go:build !strata_front

package main

import "testing"

// TestImageName: export's default image name, from the project
// directory, is one docker load accepts.
func TestImageName(t *testing.T) {
	for dir, want := range map[string]string{
		"env": "env", "My Env": "my-env", "-x_": "x", "...": "strata", "a.b_c-d": "a.b_c-d", "été": "t",
	} {
		if got := imageName(dir); got != want {
			t.Errorf("imageName(%q) = %q, want %q", dir, got, want)
		}
	}
}
