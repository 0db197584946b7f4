// Package tarcompress reads tar files in the compressions docker takes
// (docker import, ADD): gzip, zstd, xz, bzip2, or none.
package tarcompress

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/strata-sh/strata/objects/layer"
	"github.com/ulikunitz/xz"
)

// Kind names the compression a tar file starting with head has:
// gzip or zstd, as layers are (layer.Sniff), or xz or bzip2, which
// "docker import" also reads; "" for none.
func Kind(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return "xz"
	case bytes.HasPrefix(head, []byte("BZh")):
		return "bzip2"
	}
	switch layer.Sniff(head) {
	case layer.Gzip:
		return "gzip"
	case layer.Zstd:
		return "zstd"
	}
	return ""
}

// Reader returns the tar src holds, decompressed.
func Reader(src io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(src, 64<<10)
	head, err := br.Peek(6)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	switch Kind(head) {
	case "xz":
		return xzReader(br)
	case "bzip2":
		return io.NopCloser(bzip2.NewReader(br)), nil
	}
	return layer.Decompress(br)
}

// xzReader decodes xz as docker does: through the xz program when it is
// installed (on the benchmark VM the Debian tree's tar.xz imported in
// 3.5-4.5 s through it, 9.6-11.1 s through the Go decoder), else through
// github.com/ulikunitz/xz. Either holds the stream's dictionary
// in memory while it decodes: 8 MiB at xz's default preset, 64 MiB at
// -9; a crafted stream may name up to 4 GiB, filled only as that much is
// decoded.
func xzReader(r io.Reader) (io.ReadCloser, error) {
	if path, err := exec.LookPath("xz"); err == nil {
		return startDecoder(r, path, "--decompress", "--stdout", "--quiet", "--threads=0")
	}
	xr, err := xz.NewReader(r)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(xr), nil
}

// decoderCmd is the output of a decompressing program: its exit status
// ends the stream (a corrupt input is an error, not a short tar), and
// Close stops it if the tar ended before its input did.
type decoderCmd struct {
	out    io.ReadCloser
	cmd    *exec.Cmd
	stderr bytes.Buffer
	copied chan error // the copy of the input into the program ended
	err    error      // the program's, once it has ended
	done   bool
}

// startDecoder runs path args with r as its standard input. r is copied
// into a pipe by a goroutine of its own, not by exec's: exec's Wait waits
// for its copy to end, and a stalled producer (a pipe whose writer neither
// writes nor closes) would hold Close for ever. Once the program is gone,
// that copy ends at the producer's next write (EPIPE) or end.
func startDecoder(r io.Reader, path string, args ...string) (*decoderCmd, error) {
	d := &decoderCmd{cmd: exec.Command(path, args...), copied: make(chan error, 1)}
	d.cmd.Args[0] = filepath.Base(path) // as it names itself in its errors
	d.cmd.Stderr = &d.stderr
	in, feed, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	d.cmd.Stdin = in
	out, err := d.cmd.StdoutPipe()
	if err != nil {
		in.Close()
		feed.Close()
		return nil, err
	}
	d.out = out
	err = d.cmd.Start()
	in.Close() // the program's now
	if err != nil {
		feed.Close()
		return nil, err
	}
	go func() {
		_, err := io.Copy(feed, r)
		feed.Close()
		d.copied <- err
	}()
	return d, nil
}

func (d *decoderCmd) Read(p []byte) (int, error) {
	n, err := d.out.Read(p)
	if err == io.EOF && !d.done {
		d.done, d.err = true, d.wait()
	}
	if err == io.EOF && d.err != nil {
		return n, d.err
	}
	return n, err
}

// wait reaps the program, turning a failure into one line of its stderr,
// or into the input's own error if reading the input failed.
func (d *decoderCmd) wait() error {
	err := d.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		select {
		case cerr := <-d.copied:
			if cerr != nil && !errors.Is(cerr, syscall.EPIPE) {
				return cerr
			}
		default:
		}
		if msg, _, _ := strings.Cut(strings.TrimSpace(d.stderr.String()), "\n"); msg != "" {
			return errors.New(msg) // "xz: (stdin): Unexpected end of input"
		}
		return fmt.Errorf("%s: %w", d.cmd.Args[0], err)
	}
	return err
}

func (d *decoderCmd) Close() error {
	if !d.done {
		d.done = true
		d.cmd.Process.Kill() // the tar ended: the rest is not wanted
		d.cmd.Wait()
	}
	return nil
}
