//go:build !strata_front

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInspectRevLikePodman: inspect of a revision shows what podman image
// inspect shows of it once exported and loaded, key for key, through the
// same templates: the config in docker's keys, the diff ids, the
// platform.
func TestInspectRevLikePodman(t *testing.T) {
	podman := podmanCmd(t)
	dir := busyboxRepo(t)
	strataOK(t, dir, "checkout", "main")
	if err := os.WriteFile(filepath.Join(dir, "rootfs", "added"), []byte("a layer more\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	strataOK(t, dir, "commit", "-q", "-m", "settings", "-c", `ENTRYPOINT ["/bin/echo", "e"]`, "-c", `CMD ["hi"]`,
		"-c", "ENV A=1", "-c", "EXPOSE 80 53/udp", "-c", "LABEL team=web", "-c", "WORKDIR /srv", "-c", "USER 1:1",
		"-c", "STOPSIGNAL SIGQUIT", "-c", "VOLUME /data")
	archive := filepath.Join(t.TempDir(), "x.tar")
	strataOK(t, dir, "export", "main", "-o", archive, "--tag", "inspected:1")
	runTool(t, "podman", append(podman, "load", "-q", "-i", archive)...)
	for _, tmpl := range []string{
		"{{json .Config.Entrypoint}} {{json .Config.Cmd}}",
		"{{json .Config.Env}}",
		"{{json .Config.ExposedPorts}} {{json .Config.Volumes}}",
		"{{json .Config.Labels}} {{.Config.WorkingDir}} {{.Config.User}} {{.Config.StopSignal}}",
		"{{json .RootFS.Layers}} {{.RootFS.Type}}",
		"{{.Os}} {{.Architecture}}",
	} {
		want := runTool(t, "podman", append(podman, "image", "inspect", "--format", tmpl, "inspected:1")...)
		got := strataOK(t, dir, "inspect", "--type", "image", "--format", tmpl, "main")
		if got != want {
			t.Errorf("inspect --format '%s':\n strata %s podman %s", tmpl, got, want)
		}
		if strings.Contains(got, "<no value>") || strings.TrimSpace(got) == "" {
			t.Errorf("inspect --format '%s': %q shows nothing", tmpl, got)
		}
	}
}
