package main

import (
	"strings"
	"testing"
)

// TestParseBytes: --memory reads sizes as docker run does (go-units'
// RAMInBytes, binary units), and refuses what is not a size.
func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"100", 100},
		{"100b", 100},
		{"512k", 512 << 10},
		{"512K", 512 << 10},
		{"256m", 256 << 20},
		{"256mb", 256 << 20},
		{"1.5g", 3 << 29},
		{"1GiB", 1 << 30},
		{"2 g", 2 << 30},
		{"1t", 1 << 40},
		{"0", 0}, // no limit, as with docker
	} {
		got, err := parseBytes(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "lots", "-1", "-1g", "1x", "1gg", "1.5.5g", "g", "1e19", "99999999999p"} {
		if got, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", in, got)
		}
	}
}

func TestMemoryFlagError(t *testing.T) {
	// Below docker's 6 MiB minimum too: less failed in odd places.
	for _, in := range []string{"lots", "-1g", "1e19", "1", "1k", "64k", "200k", "6291455"} {
		_, err := runOptions{memory: in}.resources()
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "--memory "+in+": ") {
			t.Errorf("--memory %s: %v, want a one-line error naming the flag", in, err)
		}
	}
	res, err := runOptions{memory: "1.5g"}.resources()
	if err != nil || res.MemoryBytes != 3<<29 {
		t.Errorf("--memory 1.5g: %d, %v", res.MemoryBytes, err)
	}
	for in, want := range map[string]int64{"6m": 6 << 20, "0": 0} {
		if res, err := (runOptions{memory: in}).resources(); err != nil || res.MemoryBytes != want {
			t.Errorf("--memory %s: %d, %v; want %d", in, res.MemoryBytes, err, want)
		}
	}
}

// TestHumanSize: sizes print as docker's BytesSize, with a space.
func TestHumanSize(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{882, "882 B"},
		{1023, "1023 B"},
		{1024, "1 KiB"},
		{1536, "1.5 KiB"},
		{10 << 20, "10 MiB"},
		{1234567, "1.177 MiB"},
		{3 << 29, "1.5 GiB"},
		{1 << 62, "4 EiB"},
	} {
		if got := humanSize(tc.n); got != tc.want {
			t.Errorf("humanSize(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
