package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeListsEveryDoc: the README's documentation list names every
// chapter in docs/, so a new chapter cannot be left unlinked.
func TestReadmeListsEveryDoc(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs found: %v", err)
	}
	for _, d := range docs {
		link := "(docs/" + filepath.Base(d) + ")"
		if !strings.Contains(string(readme), link) {
			t.Errorf("README.md does not link %s", link)
		}
	}
	for _, want := range []string{"debootstrap", "strata clone"} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md never says how to get a rootfs with %q", want)
		}
	}
}
