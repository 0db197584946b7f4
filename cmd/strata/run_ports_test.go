package main

import (
	"slices"
	"testing"

	"github.com/strata-sh/strata/exec"
)

// TestRunPortsPublishAll: -P publishes each exposed tcp and udp port of
// the image and --expose on an ephemeral port, but for those -p
// publishes, and not sctp (the proxy carries tcp and udp).
func TestRunPortsPublishAll(t *testing.T) {
	o := runOptions{network: exec.NetworkPrivate, publishAll: true,
		expose: []string{"81", "82-83/udp", "84/sctp"}, publish: []string{"127.0.0.1:8080:80"}}
	image := map[string]struct{}{"80/tcp": {}, "9000": {}, "5000/SCTP": {}, "x/tcp": {}}
	got, err := o.ports(image)
	if err != nil {
		t.Fatal(err)
	}
	want := []exec.Port{
		{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
		{ContainerPort: 81, Proto: "tcp"},
		{ContainerPort: 82, Proto: "udp"},
		{ContainerPort: 83, Proto: "udp"},
		{ContainerPort: 9000, Proto: "tcp"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ports: %+v\nwant %+v", got, want)
	}
	exposed, err := o.exposedPorts(image)
	wantExposed := []string{"x/tcp", "80/tcp", "81/tcp", "82/udp", "83/udp", "84/sctp", "5000/sctp", "9000/tcp"} // a key that is no port sorts first; kept, as the image has it
	if err != nil || !slices.Equal(exposed, wantExposed) {
		t.Errorf("exposed: %q, %v\nwant %q", exposed, err, wantExposed)
	}
	// Without -P, exposed ports stay unpublished.
	o.publishAll = false
	if got, err := o.ports(image); err != nil || len(got) != 1 {
		t.Errorf("without -P: %+v, %v; want -p's port alone", got, err)
	}
}
