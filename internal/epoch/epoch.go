// Package epoch dates the commits strata makes: SOURCE_DATE_EPOCH
// (reproducible-builds.org) when it is set, so that the same commands
// give the same commit ids, else the current time; in whole seconds, in
// UTC, as every commit date is written.
package epoch

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// Source is SOURCE_DATE_EPOCH as a time; ok is false when it is unset.
func Source() (t time.Time, ok bool, err error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Time{}, false, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("SOURCE_DATE_EPOCH=%s: not a number of seconds", s)
	}
	return time.Unix(n, 0).UTC(), true, nil
}

// Now is the date of a commit made now: SOURCE_DATE_EPOCH when set.
func Now() (time.Time, error) {
	if t, ok, err := Source(); ok || err != nil {
		return t, err
	}
	return time.Now().UTC().Truncate(time.Second), nil
}
