package main

import (
	"bytes"
	"io"
	"testing"

	"github.com/creack/pty"
)

// termColumns is git's term_columns: $COLUMNS when it reads as a number
// above 0, else the width of the terminal standard output is, else 80.
func TestTermColumns(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 117}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		columns string
		out     io.Writer
		want    int
	}{
		{"", tty, 117},
		{"", &bytes.Buffer{}, 80},
		{"", ptmx, 117}, // the master has the size too
		{"70", tty, 70},
		{"70", &bytes.Buffer{}, 70},
		{" +70 wide", &bytes.Buffer{}, 70},
		{"0", tty, 117},
		{"-3", &bytes.Buffer{}, 80},
		{"wide", tty, 117},
		// Huge: as git's atoi, cut to a 32-bit int (glibc's values).
		{"4294967376", &bytes.Buffer{}, 80},
		{"-4294967216", &bytes.Buffer{}, 80},
		{"2147483648", tty, 117},
		{"99999999999999999999", &bytes.Buffer{}, 80},
		{"99999999999", &bytes.Buffer{}, 1215752191},
	} {
		t.Setenv("COLUMNS", c.columns)
		if got := termColumns(c.out); got != c.want {
			t.Errorf("COLUMNS=%q, output %T: %d columns, want %d", c.columns, c.out, got, c.want)
		}
	}
}

// atoi reads as glibc's atoi, which git's term_columns calls: these are
// its answers, taken from libc.so.6 on x86-64.
func TestAtoiAsGlibc(t *testing.T) {
	for s, want := range map[string]int{
		"99999999999": 1215752191, "2147483648": -2147483648, "4294967376": 80,
		"99999999999999999999": -1, "-4294967216": 80, "-99999999999999999999": 0,
		" +70x": 70, "9223372036854775807": -1, "9223372036854775808": -1,
		"-9223372036854775808": 0, "-9223372036854775809": 0, "\v\f12": 12,
		"": 0, "-": 0, "abc": 0, "0x70": 0, "2147483647": 2147483647,
	} {
		if got := atoi(s); got != want {
			t.Errorf("atoi(%q) = %d, want glibc's %d", s, got, want)
		}
	}
}
