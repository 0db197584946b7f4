package exec

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Rootless mode: when strata is not run by root, the container gets a user
// namespace in which the caller's uid and gid are mapped to root. That one
// mapping is all an unprivileged process may write itself, so inside the
// container only root exists (newuidmap with /etc/subuid ranges would map
// more; it is not used yet). Device nodes are bound from the host, /sys is
// the host's, read-only, unless Network is "none", and cgroup limits need a
// delegated cgroup v2 subtree.

// rootlessCheck fails early, with what is missing, for specs that rootless
// mode cannot honour.
func rootlessCheck(spec *Spec) error {
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil && string(b) == "0\n" {
		return rootlessErr("user namespaces are disabled (sysctl user.max_user_namespaces=0)")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/unprivileged_userns_clone"); err == nil && string(b) == "0\n" {
		return rootlessErr("unprivileged user namespaces are disabled (sysctl kernel.unprivileged_userns_clone=0)")
	}
	if spec.Resources.any() && !cgroupWritable() {
		return rootlessErr("resource limits need a cgroup v2 subtree delegated to uid " + fmt.Sprint(os.Geteuid()) + "; run as root or drop the limits")
	}
	return nil
}

func rootlessErr(what string) error {
	return &ExitError{Code: CodeRuntime, Err: fmt.Errorf("start container: rootless: %s: %w", what, ErrRootless)}
}

// cgroupWritable reports whether this user may create cgroups where Run
// creates them.
func cgroupWritable() bool {
	if !cgroupV2() {
		return false
	}
	return syscall.Access(filepath.Join(cgroupRoot, "cgroup.subtree_control"), 2) == nil
}

// setUserNS asks for a user namespace mapping the caller to root.
func setUserNS(sys *syscall.SysProcAttr) {
	sys.Cloneflags |= syscall.CLONE_NEWUSER
	sys.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
	sys.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
	sys.GidMappingsEnableSetgroups = false
}
