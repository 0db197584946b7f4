# strata: `make demo` shows the main job end to end, `make test` runs every
# test, `make test-vm` runs the exec tests again on cgroup v2 in a VM. All
# install what is missing (Debian packages) first.

export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin
GO       ?= go
BIN      := bin/strata
FULL     := bin/strata-full
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)

# Debian packages each target needs. make test runs every bench script
# once (internal/benchsmoke), so it needs their peers too: all but
# debootstrap, which only make bench's Debian tree needs.
DEMO_PKGS  := busybox-static
TEST_PKGS  := busybox-static docker-registry skopeo umoci apache2-utils git podman buildah xz-utils bzip2 attr procps \
	runc crun zstd time python3 hyperfine curl strace
BENCH_PKGS := $(TEST_PKGS) debootstrap

.PHONY: build install test test-vm demo bench lint fmtcheck deps-demo deps-test deps-bench clean

# strata embeds strata-init, the container init alone (cmd/strata/initbin).
# Two builds of cmd/strata: strata-full has every command; strata, the
# front (-tags strata_front), leaves out the registry client and build,
# which it hands to strata-full, so that run and the local commands start
# without initialising them (cmd/strata/front.go).
build:
	CGO_ENABLED=0 $(GO) build -tags strata_init -ldflags "-s -w" -o cmd/strata/initbin/strata-init ./exec/cmd/strata-init
	sha256sum cmd/strata/initbin/strata-init | cut -d' ' -f1 >cmd/strata/initbin/strata-init.sha256
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(FULL) ./cmd/strata
	CGO_ENABLED=0 $(GO) build -tags strata_front -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/strata

# Man pages and completions come from the commands' own help (cobra).
MANDIR   ?= /usr/local/share/man/man1
BASHCOMP ?= /usr/share/bash-completion/completions
ZSHCOMP  ?= /usr/local/share/zsh/site-functions
FISHCOMP ?= /usr/share/fish/vendor_completions.d

install: build
	install -m 0755 $(FULL) /usr/local/bin/strata-full
	install -m 0755 $(BIN) /usr/local/bin/strata
	$(BIN) docs man $(MANDIR) >/dev/null
	mkdir -p $(BASHCOMP) $(ZSHCOMP) $(FISHCOMP)
	$(BIN) completion bash > $(BASHCOMP)/strata
	$(BIN) completion zsh > $(ZSHCOMP)/_strata
	$(BIN) completion fish > $(FISHCOMP)/strata.fish

deps-demo:
	@scripts/need-packages.sh $(DEMO_PKGS)
deps-test:
	@scripts/need-packages.sh $(TEST_PKGS)
deps-bench:
	@scripts/need-packages.sh $(BENCH_PKGS)

demo: deps-demo build
	scripts/demo.sh $(BIN)

# Tests run as root against the real kernel; registry tests start their own
# docker-registry processes on free loopback ports (one taken
# meanwhile, they pick another) and stop them. One package at a time
# (-p 1): a mount namespace made anywhere on the machine (by each
# container, supervisor and testmountns re-run) copies every mount, and
# keeps each overlay it copied alive, its upper in use, until it drops
# the copy. worktree's tests check before each mount that no live
# overlay holds the upper (watchUppers: overlayfs's "upperdir is in-use",
# EBUSY with index=on), so another package's containers starting
# alongside could fail them.
# Static, as strata is built: the exec tests run their own binary as the
# container init, and a copy of it must start inside the container too
# (--init with --ulimit), where no dynamic loader is.
#
# Then every Go benchmark once, on small inputs (-short): make bench runs
# them at full size, and one that fails must fail here first.
# internal/benchsmoke runs make bench's scripts the same way, and
# make demo's. ./... leaves out third_party's modules: strata's tests of
# its changes to klauspost/compress (third_party/compress/STRATA.md) run
# by name.
test: deps-test lint
	CGO_ENABLED=0 $(GO) test -p 1 -count=1 -timeout 30m ./...
	CGO_ENABLED=0 $(GO) test -count=1 github.com/klauspost/compress/zstd
	CGO_ENABLED=0 $(GO) test -p 1 -count=1 -timeout 15m -short -run '^$$' -bench . -benchtime 1x ./...

# The exec tests on a cgroup-v2-only Debian kernel in qemu (TCG, no KVM
# needed); installs qemu-system-x86 and linux-image-amd64 if missing.
test-vm:
	scripts/test-vm.sh

bench: deps-bench build
	scripts/bench.sh $(BIN)

# Every Go file as gofmt writes it (a file left unformatted passed lint
# and CI for a round).
fmtcheck:
	@unformatted=$$(gofmt -l .); [ -z "$$unformatted" ] || { echo "not gofmt-formatted (gofmt -w them): $$unformatted" >&2; exit 1; }

lint: fmtcheck
	$(GO) vet ./...
	$(GO) vet -tags strata_front ./cmd/strata
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	staticcheck ./...
	staticcheck -tests=false -tags strata_front ./cmd/strata

clean:
	rm -rf bin
