package exec

import (
	"errors"
	"fmt"
	"testing"
)

// ParseExposed is the one reader of docker's exposed-port syntax: run
// --expose and build's EXPOSE both call it.
func TestParseExposed(t *testing.T) {
	for in, want := range map[string]string{
		"80":              "[80/tcp] <nil>",
		"53/UDP":          "[53/udp] <nil>",
		"7/sctp":          "[7/sctp] <nil>",
		"8000-8002/udp":   "[8000/udp 8001/udp 8002/udp] <nil>",
		"80/http":         "[] invalid proto: http",
		"9000-8000":       "[] invalid port range: 9000-8000",
		"0":               "[] invalid port '0': not a port number (1-65535)",
		"abc/tcp":         "[] invalid port 'abc': not a port number (1-65535)",
		"80-/udp":         "[] invalid end port '': not a port number (1-65535)",
		"65535-65535/tcp": "[65535/tcp] <nil>",
	} {
		got, err := ParseExposed(in)
		if s := fmt.Sprintf("%v %v", got, err); s != want {
			t.Errorf("ParseExposed(%q) = %s; want %s", in, s, want)
		}
	}
	if _, err := ParseExposed("80/http"); !errors.Is(err, ErrPortProto) {
		t.Errorf("ParseExposed(80/http): %v; want ErrPortProto", err)
	}
}
