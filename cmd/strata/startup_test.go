package main

import (
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// startupChildVar marks the copy of the test binary that
// TestStartupBuildsNoCRC32CTable runs.
const startupChildVar = "STRATA_TEST_STARTUP_CRC"

// TestStartupBuildsNoCRC32CTable: no package strata links builds
// hash/crc32's Castagnoli tables while the process initialises. objects'
// summary cache and klauspost/compress's zstd and snapref use them
// (third_party/compress/STRATA.md); building them takes about 190,000
// dependent crc32 instructions, a third of the instructions of strata
// version (3.5 M against 2.3 M under callgrind), at every start. The test
// binary links every package the full build does (the front's are a
// subset) and runs itself again, so that in the copy nothing but package
// initialisation has run when it asks for the table: the first ask
// allocates the tables (at least 8 KiB), a later one nothing.
func TestStartupBuildsNoCRC32CTable(t *testing.T) {
	if os.Getenv(startupChildVar) == "1" {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		crc32.MakeTable(crc32.Castagnoli)
		runtime.ReadMemStats(&after)
		fmt.Printf("allocated %d\n", after.TotalAlloc-before.TotalAlloc)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStartupBuildsNoCRC32CTable$", "-test.count=1")
	cmd.Env = append(os.Environ(), startupChildVar+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the test binary again: %v\n%s", err, out)
	}
	_, rest, ok := strings.Cut(string(out), "allocated ")
	n, err := strconv.Atoi(strings.Fields(rest + " x")[0])
	if !ok || err != nil {
		t.Fatalf("the test binary again printed no allocation:\n%s", out)
	}
	if n < 8<<10 {
		t.Fatalf("the first crc32.MakeTable(crc32.Castagnoli) after start allocated %d bytes: a package initialiser built the tables already", n)
	}
}

// TestStartupCompilesNoDigestRegexp: go-digest's package initialisation
// compiles no regular expression (third_party/go-digest/STRATA.md). Its
// four took 90 KiB in 841 allocations and a tenth of the instructions of
// strata version; what is left is its table of algorithms. The test
// binary, which links go-digest as both builds do, runs again with no
// test and GODEBUG=inittrace=1.
func TestStartupCompilesNoDigestRegexp(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the test binary again: %v\n%s", err, out)
	}
	const prefix = "init github.com/opencontainers/go-digest @"
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		// init PKG @T ms, C ms clock, B bytes, A allocs
		fields := strings.Fields(line)
		if len(fields) < 11 || fields[8] != "bytes," {
			t.Fatalf("cannot read %q", line)
		}
		n, err := strconv.Atoi(fields[7])
		if err != nil {
			t.Fatalf("cannot read %q: %v", line, err)
		}
		if n >= 4<<10 {
			t.Errorf("go-digest's initialisation allocated %d bytes: %s", n, line)
		}
		return
	}
	t.Fatalf("no line of go-digest's initialisation in:\n%s", out)
}
