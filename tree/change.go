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
)

func (k Kind) String() string { return string(k) }

// Change is one changed path: its entries before and after (nil when absent).
type Change struct {
	Path    string
	Kind    Kind
	Old     *layer.Entry
	New     *layer.Entry
	OldPath string // Renamed: where the file was
	Score   int    // Renamed: how similar, on MaxScore's scale
}

// KindOf folds a hardlink into a file: both are regular files on disk.
func KindOf(t layer.EntryType) layer.EntryType {
	if t == layer.TypeHardlink {
		return layer.TypeFile
	}
	return t
}
