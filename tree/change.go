package tree

import "github.com/strata-sh/strata/objects/layer"

// Kind is how a path changed, with git's letters.
type Kind byte

const (
	Added    Kind = 'A'
	Modified Kind = 'M'
	Deleted  Kind = 'D'
	TypeChg  Kind = 'T' // a file became a directory, a symlink a file, ...
	// Renamed is a file deleted at OldPath and added at Path with the
	// same or a similar content: only ever made by FindRenames, for
	// display.
	Renamed Kind = 'R'
	// Copied is a file added at Path with the same or a similar content
	// as OldPath's, which stays (or gives a rename too): only ever made
	// by FindRenames with Copies, for display.
	Copied Kind = 'C'
)

func (k Kind) String() string { return string(k) }

// Paired reports whether k is a rename or a copy: a change whose old
// side is at OldPath.
func (k Kind) Paired() bool { return k == Renamed || k == Copied }

// Change is one changed path: its entries before and after (nil when absent).
type Change struct {
	Path    string
	Kind    Kind
	Old     *layer.Entry
	New     *layer.Entry
	OldPath string // Renamed, Copied: where the file was, or is copied from
	Score   int    // Renamed, Copied: how similar, on MaxScore's scale
}

// KindOf folds a hardlink into a file: both are regular files on disk.
func KindOf(t layer.EntryType) layer.EntryType {
	if t == layer.TypeHardlink {
		return layer.TypeFile
	}
	return t
}
