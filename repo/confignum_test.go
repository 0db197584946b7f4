package repo

import (
	"os"
	"path/filepath"
	"testing"
)

// TestParseSize: numbers as git 2.39's git_parse_ulong reads them (each
// checked with git -c core.bigFileThreshold=V diff --numstat).
func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		err  string
	}{
		{in: "40", want: 40},
		{in: "0", want: 0},
		{in: "1k", want: 1024},
		{in: "1K", want: 1024},
		{in: "2m", want: 2 << 20},
		{in: "1G", want: 1 << 30},
		{in: "0x0b", want: 11},
		{in: "013", want: 11},
		{in: " 11", want: 11},
		{in: "+11", want: 11},
		{in: "k", want: 0},
		{in: "18446744073709551615", want: 1<<64 - 1},
		{in: "", err: "invalid unit"},
		{in: "abc", err: "invalid unit"},
		{in: "-1", err: "invalid unit"},
		{in: "1x", err: "invalid unit"},
		{in: "11 ", err: "invalid unit"},
		{in: "08", err: "invalid unit"},
		{in: "18446744073709551616", err: "out of range"},
		{in: "17179869184g", err: "out of range"},
	} {
		got, err := ParseSize(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParseSize(%q) = %d, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

// TestConfigSize: the error names the value and the key as git's does.
func TestConfigSize(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(p, []byte("[core]\n\tbigFileThreshold = 1x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	_, set, err := c.Size("core.bigFileThreshold")
	want := "bad numeric config value '1x' for 'core.bigfilethreshold': invalid unit"
	if !set || err == nil || err.Error() != want {
		t.Fatalf("Size = %v, %v; want set and %q", set, err, want)
	}
}

// ParseInt reads what git_parse_int reads (git 2.39's
// diff.statGraphWidth took each value below the same way).
func TestParseInt(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
		err  error
	}{
		{"5", 5, nil},
		{"-3", -3, nil},
		{" +7", 7, nil},
		{"1k", 1024, nil},
		{"0x10", 16, nil},
		{"010", 8, nil},
		{"-1m", -1 << 20, nil},
		{"2147483647", 1<<31 - 1, nil},
		{"-2147483647", -(1<<31 - 1), nil},
		{"-2147483648", 0, errRange},
		{"2147483648", 0, errRange},
		{"2g", 0, errRange},
		{"", 0, errUnit},
		{"x", 0, errUnit},
		{"-", 0, errUnit},
		{"-+3", 0, errUnit},
		{"5x", 0, errUnit},
	} {
		got, err := ParseInt(c.in)
		if got != c.want || err != c.err {
			t.Errorf("ParseInt(%q) = %d, %v; want %d, %v", c.in, got, err, c.want, c.err)
		}
	}
}
