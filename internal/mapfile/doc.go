// Package mapfile maps regular files read-only and reads the mapping
// safely: a file that shrinks under its mapping makes a read of the lost
// pages raise SIGBUS, which Go turns into a crash unless the goroutine
// asked for a panic instead (debug.SetPanicOnFault). Every read of a
// mapping goes through Guard (or Reader), which turns that panic into
// ErrFault.
package mapfile
