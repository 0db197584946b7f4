package change

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// A change is checked as build checks its instruction: before, "EXPOSE
// abc" wrote "abc/tcp", "STOPSIGNAL FOO" wrote FOO and "VOLUME []"
// nothing, each without an error.
func TestApplyRefuses(t *testing.T) {
	for ch, why := range map[string]string{
		"EXPOSE abc":         `abc: invalid port 'abc': not a port number (1-65535)`,
		"EXPOSE 80 80/http":  `80/http: invalid proto: http`,
		"expose 9000-8000":   `9000-8000: invalid port range: 9000-8000`,
		"EXPOSE 70000":       `70000: invalid port '70000': not a port number (1-65535)`,
		"STOPSIGNAL FOO":     `FOO: not a signal (SIGTERM, TERM, 15, SIGRTMIN+3)`,
		"STOPSIGNAL 99":      `99: not a signal (SIGTERM, TERM, 15, SIGRTMIN+3)`,
		"VOLUME []":          `VOLUME requires at least one argument`,
		`VOLUME ["/a", " "]`: `VOLUME specified can not be an empty string`,
		"ENV A":              `"A": want KEY=VALUE or KEY VALUE`,
		"USER":               `missing argument`,
		"HEALTHCHECK NONE":   `unknown instruction HEALTHCHECK (ENV, CMD, ENTRYPOINT, WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL)`,
	} {
		cfg := ocispec.ImageConfig{}
		err := Apply(&cfg, []string{ch})
		if want := fmt.Sprintf("bad --change instruction %q: %s", ch, why); err == nil || err.Error() != want || !errors.Is(err, ErrBad) {
			t.Errorf("%s: %v, want %q", ch, err, want)
		}
	}
}

// What a change writes is what docker's and build's dispatch write: the
// ports of an EXPOSE word ([ip:]hostPort: dropped, a range one key each,
// the protocol lower case), a WORKDIR relative to the one before, and
// an ENTRYPOINT that drops an inherited CMD but not one set by a change
// before it. Before, "8000-8001/UDP" was one key and "WORKDIR app" set
// "app".
func TestApplyAsDocker(t *testing.T) {
	cfg := ocispec.ImageConfig{WorkingDir: "/srv", Cmd: []string{"old"}}
	if err := Apply(&cfg, []string{"EXPOSE 127.0.0.1:8080:9000 8000-8001/UDP\t53/udp", "WORKDIR app", "WORKDIR\t../b/./c", "STOPSIGNAL SIGRTMIN+3", "ENTRYPOINT [\"/bin/e\"]"}); err != nil {
		t.Fatal(err)
	}
	if got, want := slices.Sorted(maps.Keys(cfg.ExposedPorts)), []string{"53/udp", "8000/udp", "8001/udp", "9000/tcp"}; !slices.Equal(got, want) {
		t.Errorf("ExposedPorts %v, want %v", got, want)
	}
	if cfg.WorkingDir != "/srv/b/c" {
		t.Errorf("WorkingDir %q, want /srv/b/c", cfg.WorkingDir)
	}
	if cfg.StopSignal != "SIGRTMIN+3" {
		t.Errorf("StopSignal %q", cfg.StopSignal)
	}
	if cfg.Cmd != nil {
		t.Errorf("Cmd %q after a new ENTRYPOINT, want none (docker drops the inherited CMD)", cfg.Cmd)
	}
	if err := Apply(&cfg, []string{"CMD serve", "ENTRYPOINT /bin/e2", "WORKDIR /abs//x/"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Cmd, " "); got != "/bin/sh -c serve" {
		t.Errorf("Cmd %q, want the CMD set before the ENTRYPOINT", got)
	}
	if cfg.WorkingDir != "/abs/x" {
		t.Errorf("WorkingDir %q, want /abs/x", cfg.WorkingDir)
	}
}

// As docker's dispatch (and build), every instruction but CMD and
// ENTRYPOINT expands $VAR from the Env so far: 'EXPOSE $PORTS' is the
// ports of PORTS, word by word. Before, only ENV expanded, and EXPOSE
// wrote "$PORTS/tcp".
func TestApplyExpands(t *testing.T) {
	cfg := ocispec.ImageConfig{Env: []string{"PORTS=80 53/udp", "DIR=/srv", "SIG=HUP", "WHO=app"}}
	err := Apply(&cfg, []string{"EXPOSE $PORTS", "WORKDIR ${DIR}/www", "STOPSIGNAL $SIG", "USER $WHO", "VOLUME $DIR/data", "LABEL home=$DIR", "CMD echo $DIR"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := slices.Sorted(maps.Keys(cfg.ExposedPorts)), []string{"53/udp", "80/tcp"}; !slices.Equal(got, want) {
		t.Errorf("ExposedPorts %v, want %v", got, want)
	}
	if _, ok := cfg.Volumes["/srv/data"]; !ok || len(cfg.Volumes) != 1 {
		t.Errorf("Volumes %v, want /srv/data", cfg.Volumes)
	}
	got := []string{cfg.WorkingDir, cfg.StopSignal, cfg.User, cfg.Labels["home"], strings.Join(cfg.Cmd, " ")}
	if want := []string{"/srv/www", "HUP", "app", "/srv", "/bin/sh -c echo $DIR"}; !slices.Equal(got, want) {
		t.Errorf("WORKDIR, STOPSIGNAL, USER, LABEL, CMD gave %q, want %q", got, want)
	}
	err = Apply(&cfg, []string{"ENV P=abc", "EXPOSE $P"})
	if want := `bad --change instruction "EXPOSE $P": abc: invalid port 'abc': not a port number (1-65535)`; err == nil || err.Error() != want {
		t.Errorf("EXPOSE $P with P=abc: %v, want %q", err, want)
	}
}

// ENV's and LABEL's words expand as docker's dispatch expands them (the
// Dockerfile reference's own example: "ENV abc=bye def=$abc" gives def
// the abc before it), with quotes, backslashes and ${VAR:-default} as
// its shell lexer reads them. The words were unquoted first and then
// expanded from the Env as the instruction went: B was 2, C and D were
// /root and 2, E was empty.
func TestEnvExpandsAsDocker(t *testing.T) {
	cfg := ocispec.ImageConfig{Env: []string{"HOME=/root"}}
	err := Apply(&cfg, []string{
		"ENV A=1",
		"ENV A=2 B=$A",
		`ENV C='$HOME' D=\$A E=${NOPE:-dflt} F="a b"`,
		`ENV G "x  $A"`,
		`LABEL l1="$A $B" 'l2'=x`,
		`WORKDIR "/w $A"`,
		`USER '$A'`,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"HOME=/root", "A=2", "B=1", "C=$HOME", "D=$A", "E=dflt", "F=a b", "G=x  2"}
	if !slices.Equal(cfg.Env, want) {
		t.Errorf("Env %q, want %q", cfg.Env, want)
	}
	if cfg.Labels["l1"] != "2 1" || cfg.Labels["l2"] != "x" {
		t.Errorf("Labels %q", cfg.Labels)
	}
	if cfg.WorkingDir != "/w 2" || cfg.User != "$A" {
		t.Errorf("WorkingDir %q, User %q", cfg.WorkingDir, cfg.User)
	}
}

// A word the lexer cannot read is the change's error.
func TestExpandError(t *testing.T) {
	cfg := ocispec.ImageConfig{}
	err := Apply(&cfg, []string{"ENV A=${B"})
	if !errors.Is(err, ErrBad) {
		t.Errorf("ENV A=${B: %v", err)
	}
}
