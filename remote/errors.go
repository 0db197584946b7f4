package remote

import (
	"errors"

	"github.com/strata-sh/strata/image"
	"github.com/strata-sh/strata/repo"
)

// Sentinel errors callers branch on.
var (
	// ErrNonFastForward: the remote tag is not an ancestor of what is pushed.
	ErrNonFastForward = repo.ErrNonFastForward
	// ErrStaleInfo: push --force-with-lease found the remote tag
	// elsewhere than expected (git's "stale info").
	ErrStaleInfo = errors.New("stale info")
	// ErrNoSuchRemote: no [remote "NAME"] in the config.
	ErrNoSuchRemote = errors.New("no such remote")
	// ErrRemoteExists: remote add of a name in use.
	ErrRemoteExists = errors.New("remote already exists")
	// ErrNotFound: the remote has no such tag, manifest or blob.
	ErrNotFound = errors.New("not found in remote")
	// ErrBadImage: an image to fetch is malformed or does not match its
	// digests (image's error: import and fetch check alike).
	ErrBadImage = image.ErrBadImage
	// ErrUnauthorized: the registry wants credentials, or other ones.
	ErrUnauthorized = errors.New("access denied")
	// ErrNoDirectory: a directory remote (an OCI layout) that is not
	// there yet: a push makes it, anything that reads it fails.
	ErrNoDirectory = errors.New("no such directory")
	// ErrUnsupported: a manifest strata cannot turn into a commit.
	ErrUnsupported = image.ErrUnsupported
)
