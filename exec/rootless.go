package exec

import (
	"syscall"
)

// rootlessCheck reports what a non-root caller cannot have.
func rootlessCheck(spec *Spec) error {
	return &ExitError{Code: CodeRuntime, Err: ErrRootless}
}

func setUserNS(sys *syscall.SysProcAttr) {}
