//go:build tools

// Package tools pins modules that strata's packages are being built on, so
// that go mod tidy keeps them while those packages are written.
package tools

import (
	_ "github.com/creack/pty"
	_ "github.com/cyphar/filepath-securejoin"
	_ "github.com/elastic/go-seccomp-bpf"
	_ "github.com/go-git/go-git/v5/plumbing/format/config"
	_ "github.com/go-git/go-git/v5/plumbing/format/gitignore"
	_ "github.com/google/go-containerregistry/pkg/registry"
	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/moby/profiles/seccomp"
	_ "github.com/opencontainers/go-digest"
	_ "github.com/opencontainers/image-spec/specs-go/v1"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/spf13/cobra"
	_ "github.com/zeebo/blake3"
	_ "golang.org/x/sys/unix"
)
