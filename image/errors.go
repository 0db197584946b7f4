package image

import "errors"

// Sentinel errors callers branch on; remote returns the same values.
var (
	// ErrBadImage: an image to import or fetch is malformed or does not
	// match its digests.
	ErrBadImage = errors.New("bad image")
	// ErrUnsupported: a manifest strata cannot turn into a commit.
	ErrUnsupported = errors.New("unsupported manifest")
)
