package benchsmoke

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemoScript runs scripts/demo.sh on the two builds, as make demo
// does after make build: every step must succeed, the container's
// command must print what the demo wrote into the image, the history
// must hold the demo's three commits, each step must be shown as it can
// be typed again, and the script must leave neither
// its directory nor its mount behind.
func TestDemoScript(t *testing.T) {
	top := projectTop(t, "the demo mounts its checkout and runs containers")
	strata := buildStrata(t, top, t.TempDir())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b, err := scriptCommand(ctx, top, "demo.sh", strata).CombinedOutput()
	out := string(b)
	if err != nil {
		t.Fatalf("scripts/demo.sh: %v\n%s", err, out)
	}

	for _, want := range []string{
		"hello from the app\n", // run with the CMD the demo committed
		"D\t/bin/vi\n",         // diff main experiment --name-status
		"0 problems\n",         // fsck
		"demo: done\n",
		// The steps are shown as they can be typed again.
		"$ strata config user.name 'Demo User'\033[0m\n",
		"$ strata commit -m 'add the app' --change 'CMD [\"/app/hello\"]'\033[0m\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo printed no %q", want)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^[0-9a-f]{12} .*(drop vi|add the app|busybox root filesystem)$`).FindAllString(out, -1)); n != 3 {
		t.Errorf("log --oneline shows %d of the demo's 3 commits", n)
	}

	work := regexp.MustCompile(`/tmp/strata-demo\.[A-Za-z0-9]+`).FindString(out)
	if work == "" {
		t.Fatalf("the demo named no work directory:\n%s", out)
	}
	if _, err := os.Lstat(work); !os.IsNotExist(err) {
		t.Errorf("the demo left %s behind (%v)", work, err)
		os.RemoveAll(work)
	}
	if mounts, err := os.ReadFile("/proc/self/mountinfo"); err != nil {
		t.Error(err)
	} else if strings.Contains(string(mounts), work) {
		t.Errorf("the demo left a mount under %s", work)
		exec.Command("umount", "-l", work+"/env/rootfs").Run()
	}
	if t.Failed() {
		t.Logf("the demo said:\n%s", out)
	}
}
