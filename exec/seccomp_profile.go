//go:build !strata_init

package exec

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// seccompProgram compiles Docker's default profile, as it applies to a
// container with the given bounding capabilities, to a BPF program for the
// native architecture. A foreign architecture (i386 on amd64) gets the
// default action: its syscall numbers differ and a static profile cannot
// cover them; x32, and every number newer than the profile, ENOSYS.
// The program is the linear one of seccompLinear behind a search tree on
// the syscall number (seccompTree): the same decisions, cheaper to attach.
func seccompProgram(caps []string) ([]unix.SockFilter, error) {
	prog, err := seccompLinear(caps)
	if err != nil {
		return nil, err
	}
	tree := seccompTree(prog)
	slog.Debug("seccomp program", "instructions", len(prog), "with tree", len(tree))
	return tree, nil
}

// DefaultSeccompJSON is the profile Run confines a container with the
// default capabilities by (Docker's default, for the native architecture
// only, as Run's program), in the OCI runtime spec's linux.seccomp form.
// bench/run.sh gives it to crun and runc, so that both sides of the
// comparison load the same filter.
func DefaultSeccompJSON() ([]byte, error) {
	caps, err := capSet(false, nil, nil)
	if err != nil {
		return nil, err
	}
	prof, err := defaultProfile(caps)
	if err != nil {
		return nil, err
	}
	switch runtime.GOARCH {
	case "amd64":
		prof.Architectures = []specs.Arch{specs.ArchX86_64}
	case "arm64":
		prof.Architectures = []specs.Arch{specs.ArchAARCH64}
	}
	return json.Marshal(prof)
}

// defaultProfile is Docker's default profile for a container with the
// given bounding capabilities.
func defaultProfile(caps []string) (*specs.LinuxSeccomp, error) {
	rs := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}}}
	prof, err := seccomp.GetDefaultProfile(rs)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: %w", err)
	}
	return prof, nil
}
