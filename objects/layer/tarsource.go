package layer

import (
	"errors"
	"io"
)

// tarSource is what the tar reader (tarReader, and archive/tar for the
// headers it leaves to it) reads a frameReader through, so that the
// unpacker can take a regular file's content in place (span) instead of
// copying it out with the reader's Read: copying every file's content
// into a buffer of its own cost a checkout a memmove and page faults
// over the whole layer (~8% of its CPU on tmpfs, perf).
//
// The tar reader does not know the content was taken: before the next
// header it skips what it believes unread, by Seek (both use Seek on
// any io.Seeker) and a read of the last byte. ahead counts what the
// unpacker took; those calls use it up without touching the stream. The
// unpacker checks after every header that they used all of it, so a tar
// reader that read content as header bytes cannot go unnoticed.
type tarSource struct {
	fr    *frameReader
	ahead int64 // content taken in place that tar.Reader has yet to skip
	pos   int64 // what tar.Reader has read and skipped, as Seek reports it
}

func (s *tarSource) Read(p []byte) (int, error) {
	if s.ahead > 0 {
		// Bytes tar.Reader skips: it throws them away.
		n := int(min(int64(len(p)), s.ahead))
		clear(p[:n])
		s.ahead -= int64(n)
		s.pos += int64(n)
		return n, nil
	}
	n, err := s.fr.Read(p)
	s.pos += int64(n)
	return n, err
}

// Seek skips forward; tar.Reader asks for nothing else.
func (s *tarSource) Seek(off int64, whence int) (int64, error) {
	if whence != io.SeekCurrent || off < 0 {
		return s.pos, errors.New("tar source: only forward seeks from the current position")
	}
	k := min(off, s.ahead)
	s.ahead -= k
	s.pos += k
	n, err := s.fr.skip(off - k)
	s.pos += n
	return s.pos, err
}

// span takes up to n bytes of the current entry's content in place, with
// a reference on their frame (frameReader.span) to release once written.
// The end of the stream is io.ErrUnexpectedEOF: content is missing.
func (s *tarSource) span(n int64) ([]byte, *frame, error) {
	b, f, err := s.fr.span(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, nil, err
	}
	s.ahead += int64(len(b))
	return b, f, nil
}
