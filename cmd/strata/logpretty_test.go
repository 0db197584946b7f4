package main

import (
	"strings"
	"testing"
	"time"
)

// A template is the user's text: whatever it holds prints, never panics.
func TestExpandTakesAnyTemplate(t *testing.T) {
	e := logEntry{ID: "sha256:" + strings.Repeat("ab", 32), Short: "abababababab", Author: "A <a@b>", Message: "s\n\nb", Date: time.Unix(0, 0).UTC()}
	for tmpl, want := range map[string]string{
		"x%+": "x%+", "%": "%", "%-": "%-", "% ": "% ", "%a": "%a", "%C(": "%C(", "%x4": "%x4", "%xZZ": "%xZZ",
		"%+s": "\ns", "%+b": "\nb\n", "% s": " s", "x\n%-e": "x", "%aN %cE": "A a@b",
	} {
		var b strings.Builder
		h := commitHeader{pretty: &prettyFormat{template: tmpl}}
		h.expand(&b, e)
		if b.String() != want {
			t.Errorf("%q: %q, want %q", tmpl, b.String(), want)
		}
	}
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{"%h %s", "%+b%-n", "%C(red)%x00", "%ad|%ar", "%%%"} {
		f.Add(s)
	}
	e := logEntry{ID: "sha256:" + strings.Repeat("ab", 32), Short: "abababababab", Author: "A <a@b>", Message: "s\n\nb", Parents: []string{"sha256:" + strings.Repeat("cd", 32)}}
	f.Fuzz(func(t *testing.T, tmpl string) {
		var b strings.Builder
		commitHeader{pretty: &prettyFormat{template: tmpl}, now: time.Unix(1e9, 0)}.expand(&b, e)
	})
}
