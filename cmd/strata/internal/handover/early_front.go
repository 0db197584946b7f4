//go:build strata_front

package handover

func init() { early() }
