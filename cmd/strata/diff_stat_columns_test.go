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
	} {
		t.Setenv("COLUMNS", c.columns)
		if got := termColumns(c.out); got != c.want {
			t.Errorf("COLUMNS=%q, output %T: %d columns, want %d", c.columns, c.out, got, c.want)
		}
	}
}
