package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidSvcName: validSvcName accepts exactly the names run --name's
// error describes, ^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$ (no "/", no "..":
// a name is a directory under .strata/services).
func TestValidSvcName(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$`)
	names := []string{"", "a", "web", "Web-1", "a.b_c-d", "_web", ".web", "-web", "9", "a b", "a/b",
		"a\x00", "é", "web!", strings.Repeat("a", 40), strings.Repeat("a", 41), "a" + strings.Repeat("-", 39), "..", "a\n"}
	for c := 0; c < 256; c++ {
		names = append(names, string(rune(c)), "a"+string([]byte{byte(c)}))
	}
	for _, n := range names {
		if got, want := validSvcName(n), re.MatchString(n); got != want {
			t.Errorf("validSvcName(%q) = %v, the pattern says %v", n, got, want)
		}
	}
}
