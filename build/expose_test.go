package build

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// EXPOSE writes what docker's builder writes: one "port/proto" per port
// of a range, the protocol lower case, words of an expanded variable
// apart, an ip and host port dropped; a word that is not a port is an
// error with its line, in run --expose's words (exec.ParseExposed reads
// both). Before the fix "8000-8002/udp", "80/TCP", "80 443/tcp" and
// "abc/tcp" went into the config as they were.
func TestExposeAsDocker(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{"a": "a"})
	r := newRepo(t, false)
	recipe := "FROM scratch\nENV PORTS=\"80 443\"\nEXPOSE 8000-8002/udp 53/TCP $PORTS 127.0.0.1:8080:9000 7/sctp\n"
	res, err := buildIn(t, r, ctxDir, recipe)
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(maps.Keys(res.Commit.Config.Config.ExposedPorts))
	want := []string{"443/tcp", "53/tcp", "7/sctp", "80/tcp", "8000/udp", "8001/udp", "8002/udp", "9000/tcp"}
	if !slices.Equal(got, want) {
		t.Errorf("ExposedPorts %v, want %v", got, want)
	}
	for word, why := range map[string]string{
		"abc":       `abc: invalid port 'abc': not a port number (1-65535)`,
		"80/http":   `80/http: invalid proto: http`,
		"9000-8000": `9000-8000: invalid port range: 9000-8000`,
		"70000":     `70000: invalid port '70000': not a port number (1-65535)`,
		"80-":       `80-: invalid end port '': not a port number (1-65535)`,
		"0":         `0: invalid port '0': not a port number (1-65535)`,
	} {
		_, err := buildIn(t, r, ctxDir, "FROM scratch\nEXPOSE "+word+"\n")
		if want := "Dockerfile:2: step 2: EXPOSE " + word + ": " + why; err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("EXPOSE %s: %v, want %q", word, err, want)
		}
	}
}
