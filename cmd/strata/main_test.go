package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/strata-sh/strata/internal/testrootfs"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"strata": func() { os.Exit(Main()) },
	})
}

// TestScripts runs the CLI stories in testdata/script, each a txtar file
// read as a user guide: commands as a user types them, and what they print.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("HOME", e.WorkDir)
			e.Setenv("SOURCE_DATE_EPOCH", "1700000000")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// busybox DIR: a busybox root filesystem for import.
			"busybox": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: busybox DIR")
				}
				ts.Check(testrootfs.BuildBusybox(ts.MkAbs(args[0])))
			},
		},
	})
}
