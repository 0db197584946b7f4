package exec

import "os"

// Reexec must be called first thing in main (and in TestMain of tests that
// call Run). In a process that Run started as a container init or watchdog
// it does that job and never returns; everywhere else it returns at once.
func Reexec() {
	mode := os.Getenv(envMode)
	if mode == "" {
		return
	}
	os.Unsetenv(envMode)
	switch mode {
	case "init":
		containerInit()
	case "watchdog":
		watchdog()
	}
	os.Exit(CodeRuntime)
}
