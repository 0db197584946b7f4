package exec

import (
	"fmt"
	"testing"
)

// ValidSignal takes what docker's signal.ParseSignal takes for
// STOPSIGNAL (build and commit --change read it): 1 to 64, a name with or
// without SIG in any case, RTMIN+n and RTMAX-n for n 1 to 30.
func TestValidSignal(t *testing.T) {
	for s, want := range map[string]bool{
		"15": true, "1": true, "64": true, "0": false, "65": false, "-1": false,
		"TERM": true, "SIGTERM": true, "sigquit": true, "hup": true,
		"SIGRTMIN": true, "RTMIN+3": true, "SIGRTMAX-30": true,
		"RTMIN-3": false, "RTMAX+1": false, "RTMIN+31": false, "RTMIN+": false,
		"FOO": false, "SIG": false, "": false, "TERM x": false,
	} {
		if got := ValidSignal(s); got != want {
			t.Errorf("ValidSignal(%q) = %v, want %v", s, got, want)
		}
	}
}

// ParseExposeWord drops an EXPOSE word's ip and host port, as docker's
// builder does, and reads the rest as ParseExposed.
func TestParseExposeWord(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8080:9000": "[9000/tcp] <nil>",
		"8080:53/udp":         "[53/udp] <nil>",
		"80":                  "[80/tcp] <nil>",
		"1.2.3.4:80:abc":      "[] invalid port 'abc': not a port number (1-65535)",
		// One protocol: docker's nat.SplitProtoPort cuts at the first
		// '/' (go-connections 0.6; before, "tcp/udp" read as tcp).
		"80/tcp/udp": "[] invalid proto: tcp/udp",
		"80/":        "[80/tcp] <nil>",
	} {
		got, err := ParseExposeWord(in)
		if s := fmt.Sprintf("%v %v", got, err); s != want {
			t.Errorf("ParseExposeWord(%q) = %s; want %s", in, s, want)
		}
	}
}
