package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// commitMtimes is how commit and run --commit write mtimes: clamped to
// SOURCE_DATE_EPOCH when it is set, as buildkit's rewrite-timestamp does,
// so that the same commands give the same commit id twice; as they are
// otherwise (nil).
func commitMtimes() (func(time.Time) time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("SOURCE_DATE_EPOCH=%s: not a number of seconds", s)
	}
	epoch := time.Unix(n, 0)
	return func(t time.Time) time.Time {
		if t.After(epoch) {
			return epoch
		}
		return t
	}, nil
}

// importMtimes is how import writes mtimes: in whole seconds, which is
// all a tar made by tar(1) keeps, so that a directory and a tar of it
// give the same commit; then clamped as commitMtimes.
func importMtimes() (func(time.Time) time.Time, error) {
	clamp, err := commitMtimes()
	if err != nil {
		return nil, err
	}
	return func(t time.Time) time.Time {
		t = t.Truncate(time.Second)
		if clamp != nil {
			t = clamp(t)
		}
		return t
	}, nil
}
