package build

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"

	"github.com/strata-sh/strata/internal/tarcompress"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// markArchives marks the files an ADD names that are tar archives
// (plain, gzip, zstd, xz or bzip2, told by their content, not their
// name, as docker tells them): they are unpacked into the destination,
// which is then a directory, rather than copied. A file found inside a
// copied directory is copied as it is, as docker's.
func markArchives(src *os.Root, ents []entry) error {
	for i := range ents {
		e := &ents[i]
		if !e.named || !e.fi.Mode().IsRegular() {
			continue
		}
		ok, err := isArchive(src, e.src)
		if err != nil {
			return fmt.Errorf("%s: %v", e.src, rootErr(err))
		}
		if !ok {
			continue
		}
		if !e.top {
			e.dst = path.Dir(e.dst) // ADD a.tar /dir/: into /dir
		}
		e.top, e.unpack = false, true
	}
	return nil
}

// isArchive: the file decompresses (or is plain) and starts with a tar
// header, as docker's ADD tells an archive.
func isArchive(src *os.Root, name string) (bool, error) {
	f, err := openSource(src, name)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r, err := tarcompress.Reader(f)
	if err != nil {
		return false, nil
	}
	defer r.Close()
	_, err = tar.NewReader(r).Next()
	return err == nil, nil
}

// unpackEntry unpacks the archive e into the directory e.dst of the
// image (made if missing, owned by uid:gid), as docker's ADD: the
// archive's names resolve inside that directory (as docker's chroot),
// what is there already is replaced entry by entry, and the files keep
// the archive's owners, modes, times and xattrs, or are owned by uid:gid
// with chown (--chown). It returns the archive's blake3.
func unpackEntry(ctx context.Context, srcDirs, dstDirs *dirRoots, e entry, uid, gid int, chown bool) ([]byte, error) {
	sdir, sbase, err := srcDirs.at(e.src)
	if err != nil {
		return nil, err
	}
	f, err := openSource(sdir, sbase)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := blake3.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if dstDirs.err != nil {
		return nil, dstDirs.err
	}
	fd, err := mkdirInRoot(dstDirs.rootfd, destName(e), uid, gid)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	r, err := tarcompress.Reader(f)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var tr io.Reader = r
	if chown {
		pr := ownedBy(r, uid, gid)
		defer pr.Close()
		tr = pr
	}
	if err := layer.Unpack(ctx, tr, "/proc/self/fd/"+strconv.Itoa(fd), layer.Apply); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// ownedBy is the tar r with every entry owned by uid:gid. Its Close
// returns once r is no longer read.
func ownedBy(r io.Reader, uid, gid int) io.ReadCloser {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr, tw := tar.NewReader(r), tar.NewWriter(pw)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				pw.CloseWithError(tw.Close())
				return
			}
			if err == nil {
				hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = uid, gid, "", ""
				err = tw.WriteHeader(hdr)
			}
			if err == nil {
				_, err = io.Copy(tw, tr)
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return &ownedReader{pr, done}
}

type ownedReader struct {
	*io.PipeReader
	done chan struct{}
}

func (o *ownedReader) Close() error {
	o.PipeReader.Close() // the copy's next write fails
	<-o.done
	return nil
}
