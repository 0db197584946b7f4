package main

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// TestErrorLineEscapesControls: an error names what a container or image
// chose (a path with an escape sequence that sets the terminal's title
// and clears the screen, a newline that would fake a line of its own);
// strata prints it on one line with its control characters escaped, the
// tab and printable text as they are.
func TestErrorLineEscapesControls(t *testing.T) {
	name := "/d\x1b]0;PWNED\x07\x1b[2J\u0085é\tx"
	var out bytes.Buffer
	code := exitCode(fmt.Errorf("status: %s/.wh.x: name reserved\nsecond line: %w", name, errors.New("why")), &out)
	want := `strata: status: /d\x1b]0;PWNED\a\x1b[2J\u0085é` + "\t" + `x/.wh.x: name reserved second line: why` + "\n"
	if code != exitError || out.String() != want {
		t.Fatalf("code %d, printed\n%q\nwant\n%q", code, out.String(), want)
	}
}

// TestErrorLineEscapesInvalidUTF8: a name's byte that is not UTF-8 is
// written as \x9b, never raw: some terminals read a lone 0x9b as CSI.
func TestErrorLineEscapesInvalidUTF8(t *testing.T) {
	var out bytes.Buffer
	exitCode(fmt.Errorf("rm: /a\x9b2Jb\xff: busy"), &out)
	if want := `strata: rm: /a\x9b2Jb\xff: busy` + "\n"; out.String() != want {
		t.Fatalf("printed\n%q\nwant\n%q", out.String(), want)
	}
	out.Reset()
	exitCode(fmt.Errorf("rm: /x\x1b\x9b: busy"), &out)
	if want := `strata: rm: /x\x1b\x9b: busy` + "\n"; out.String() != want {
		t.Fatalf("printed\n%q\nwant\n%q", out.String(), want)
	}
}
