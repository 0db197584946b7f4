package remote

import "errors"

// Sentinel errors callers branch on.
var (
	// ErrNonFastForward: the remote tag is not an ancestor of what is pushed.
	ErrNonFastForward = errors.New("remote has commits that are not in the local history")
	// ErrNoSuchRemote: no [remote "NAME"] in the config.
	ErrNoSuchRemote = errors.New("no such remote")
	// ErrRemoteExists: remote add of a name in use.
	ErrRemoteExists = errors.New("remote already exists")
	// ErrNotFound: the remote has no such tag, manifest or blob.
	ErrNotFound = errors.New("not found in remote")
	// ErrBadImage: an image to import or fetch is malformed or does not
	// match its digests.
	ErrBadImage = errors.New("bad image")
	// ErrUnauthorized: the registry wants credentials, or other ones.
	ErrUnauthorized = errors.New("access denied")
	// ErrUnsupported: a manifest strata cannot turn into a commit.
	ErrUnsupported = errors.New("unsupported manifest")
)
