package repo

import (
	"os"
	"path/filepath"
	"testing"
)

// TestAutoSetupMerge: branch.autoSetupMerge reads as git 2.39 reads it:
// always, inherit and simple as written, anything else as a boolean
// (the key alone is true), unset as true; another word is an error.
func TestAutoSetupMerge(t *testing.T) {
	for text, want := range map[string]string{
		"":                                     TrackTrue,
		"[branch]\n\tautoSetupMerge = always":  TrackAlways,
		"[branch]\n\tautoSetupMerge = inherit": TrackInherit,
		"[branch]\n\tautosetupmerge = simple":  TrackSimple,
		"[branch]\n\tautoSetupMerge = yes":     TrackTrue,
		"[branch]\n\tautoSetupMerge = 0":       TrackFalse,
		"[branch]\n\tautoSetupMerge =":         TrackFalse,
		"[branch]\n\tautoSetupMerge":           TrackTrue,
		"[branch]\n\tautoSetupMerge = Always":  "error",
		"[branch]\n\tautoSetupMerge = bogus":   "error",
	} {
		path := filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(path, []byte(text+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := (&Repo{Config: c}).AutoSetupMerge()
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("%q: AutoSetupMerge() = %q (%v), want %q", text, got, err, want)
		}
	}
}
