package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	docLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	docHeading = regexp.MustCompile("(?m)^#{1,6} (.+)$")
	docMention = regexp.MustCompile(`\bdocs/[a-z0-9_-]+\.(?:md|svg)\b`)
	slugDrop   = regexp.MustCompile(`[^a-z0-9 _-]`)
)

// headingSlug is the anchor GitHub gives a heading: lower case,
// punctuation dropped, spaces made dashes.
func headingSlug(h string) string {
	return strings.ReplaceAll(slugDrop.ReplaceAllString(strings.ToLower(h), ""), " ", "-")
}

// TestDocsLinksResolve: every relative link of README.md and docs/
// leads to a file, and its #anchor to a heading of that file; every
// docs/NAME.md the text mentions exists. So a renamed heading or chapter
// cannot leave a dead link.
func TestDocsLinksResolve(t *testing.T) {
	root := filepath.Join("..", "..")
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs found: %v", err)
	}
	docs = append(docs, filepath.Join(root, "README.md"))
	links := 0
	for _, d := range docs {
		b, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(root, d)
		for _, m := range docLink.FindAllStringSubmatch(string(b), -1) {
			target, anchor, _ := strings.Cut(m[1], "#")
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			links++
			file := d
			if target != "" {
				file = filepath.Join(filepath.Dir(d), target)
			}
			text, err := os.ReadFile(file)
			if err != nil {
				t.Errorf("%s links %s: %v", name, m[1], err)
				continue
			}
			if anchor != "" && !hasHeading(string(text), anchor) {
				t.Errorf("%s links %s: no heading of %s has the anchor #%s", name, m[1], target, anchor)
			}
		}
		for _, m := range docMention.FindAllString(string(b), -1) {
			if _, err := os.Stat(filepath.Join(root, m)); err != nil {
				t.Errorf("%s mentions %s: %v", name, m, err)
			}
		}
	}
	if links < 20 {
		t.Fatalf("only %d links found: the parser lost them", links)
	}
}

func hasHeading(text, anchor string) bool {
	for _, h := range docHeading.FindAllStringSubmatch(text, -1) {
		if headingSlug(h[1]) == anchor {
			return true
		}
	}
	return false
}
