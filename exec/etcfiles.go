//go:build !strata_init

package exec

import (
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// The /etc files strata gives a container (hostname, hosts,
// resolv.conf), written to a directory of its own and bind-mounted over
// the root's, which are never changed.

// rootHasFile reports whether the root at dir has a regular file at p.
func rootHasFile(dir, p string) bool {
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(root)
	fd, err := openInRoot(root, p, unix.O_PATH)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG
}

// writeEtcFiles writes the hostname, hosts (with spec's extra "NAME:IP"
// lines) and resolv.conf (with spec's DNS settings) the container gets
// (by bind mount; the root's own files are never changed).
func writeEtcFiles(dir string, cfg *initConfig, spec *Spec) error {
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t" + cfg.Hostname + "\n"
	for _, h := range spec.ExtraHosts {
		name, ip, _ := strings.Cut(h, ":")
		hosts += ip + "\t" + name + "\n"
	}
	resolv := []byte("# strata: no network\n")
	if cfg.HostDNS {
		if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
			if spec.Network == NetworkPrivate {
				b = privateResolvConf(b, func() ([]byte, error) { return os.ReadFile(systemdResolvConf) })
			}
			resolv = resolvConf(b, spec)
		}
	}
	files := map[string][]byte{
		"hostname":    []byte(cfg.Hostname + "\n"),
		"hosts":       []byte(hosts),
		"resolv.conf": resolv,
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return os.Chmod(dir, 0o755)
}
