package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
)

// A blob goes up as a monolithic upload: HEAD (skip it if the repository
// has it; not asked for a blob marked absent), POST (or a cross-repository mount), then one PUT that carries
// the body and ?digest=. go-containerregistry, like skopeo, sends the body
// in a PATCH and then an empty PUT: one more round trip, and
// docker-registry 2.8 then reopens the upload, writes and reads back its
// hash state and syncs the file once more before it checks the digest.
// The registry checks the digest all the same (from the hash it kept
// while the body arrived); a blob that does not match is refused.

// uploadBlob sends b to the repository unless it is there; sent says
// whether it sent the body.
func (t *registryTarget) uploadBlob(ctx context.Context, b outBlob) (bool, error) {
	c, err := t.conn(ctx, true)
	if err != nil {
		return false, err
	}
	d := b.desc.Digest
	if err := d.Validate(); err != nil {
		return false, err
	}
	if !b.absent {
		if there, err := t.hasBlob(ctx, c, d); err != nil || there {
			return false, err
		}
		return t.sendBlob(ctx, c, b)
	}
	sent, err := t.sendBlob(ctx, c, b)
	if err != nil && ctx.Err() == nil {
		// Sent without asking first: a registry that refuses a blob it
		// already has (the OCI spec allows sending it again; not every
		// registry does) has it all the same.
		if there, herr := t.hasBlob(ctx, c, d); herr == nil && there {
			return false, nil
		}
	}
	return sent, err
}

// hasBlob asks the repository whether it has blob d (HEAD).
func (t *registryTarget) hasBlob(ctx context.Context, c *regConn, d digest.Digest) (bool, error) {
	u := url.URL{Scheme: t.repo.Scheme(), Host: t.repo.RegistryStr(), Path: fmt.Sprintf("/v2/%s/blobs/%s", t.repo.RepositoryStr(), d)}
	resp, err := do(ctx, c.http, http.MethodHead, u.String(), nil)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK, http.StatusNotFound); err != nil {
		return false, err
	}
	return resp.StatusCode == http.StatusOK, nil
}

// sendBlob sends b: POST (or a cross-repository mount), then one PUT with
// the body; sent says whether it sent the body.
func (t *registryTarget) sendBlob(ctx context.Context, c *regConn, b outBlob) (bool, error) {
	d := b.desc.Digest
	base := url.URL{Scheme: t.repo.Scheme(), Host: t.repo.RegistryStr()}
	post := base
	post.Path = fmt.Sprintf("/v2/%s/blobs/uploads/", t.repo.RepositoryStr())
	if from := t.mountSource(b); from != "" {
		post.RawQuery = url.Values{"mount": {d.String()}, "from": {from}}.Encode()
	}
	resp, err := do(ctx, c.http, http.MethodPost, post.String(), nil)
	if err != nil {
		return false, err
	}
	err = transport.CheckError(resp, http.StatusCreated, http.StatusAccepted) // reads the body of an error
	resp.Body.Close()
	if err != nil {
		return false, err
	}
	if resp.StatusCode == http.StatusCreated {
		return false, nil // mounted
	}
	loc, err := uploadLocation(resp)
	if err != nil {
		return false, err
	}
	q := loc.Query()
	q.Set("digest", d.String())
	loc.RawQuery = q.Encode()

	body, err := b.open()
	if err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, loc.String(), body)
	if err != nil {
		body.Close()
		return false, err
	}
	// A known length: net/http hands a bare *os.File to sendfile(2).
	req.ContentLength = b.desc.Size
	if b.desc.Size == 0 {
		req.Body = http.NoBody
		body.Close()
	}
	req.GetBody = b.open
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = c.http.Do(req)
	if err != nil {
		return true, withoutQuery(err)
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusCreated); err != nil {
		var terr *transport.Error
		if errors.As(err, &terr) {
			for _, e := range terr.Errors {
				if e.Code == transport.DigestInvalidErrorCode {
					return true, fmt.Errorf("the registry found that the local blob does not match its digest (%w); run 'strata fsck'", objects.ErrDigestMismatch)
				}
			}
		}
		return true, err
	}
	return true, nil
}

// mountSource is a repository of the same registry that blob b may be
// mounted from, "" for none.
func (t *registryTarget) mountSource(b outBlob) string {
	for _, from := range b.mountFrom {
		if t.mountable(from) {
			return from.RepositoryStr()
		}
	}
	return ""
}

// mountable says whether blobs may be mounted from repository from: the
// same registry, another repository.
func (t *registryTarget) mountable(from name.Repository) bool {
	return from.RegistryStr() == t.repo.RegistryStr() && from.RepositoryStr() != t.repo.RepositoryStr()
}

func do(ctx context.Context, c *http.Client, method, u string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.Do(req)
}

// uploadLocation is where an upload continues. It may be on another host
// (blob storage), but not on an inward address of another host: the body
// would go to a service the registry chose.
func uploadLocation(resp *http.Response) (*url.URL, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil, errors.New("upload started without a Location")
	}
	u, err := url.Parse(loc)
	if err != nil {
		return nil, fmt.Errorf("upload location: %w", err)
	}
	u = resp.Request.URL.ResolveReference(u)
	if from, to := resp.Request.URL.Hostname(), u.Hostname(); from != to {
		host, _, _ := strings.Cut(to, "%")
		if ip, err := netip.ParseAddr(host); err == nil && inward(ip.Unmap()) {
			return nil, fmt.Errorf("upload location on the inward address %q refused", to)
		}
	}
	return u, nil
}

// withoutQuery drops the query from the URL a request's error quotes: an
// upload's holds its state token.
func withoutQuery(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			ue.URL = u.String()
		}
	}
	return err
}
