package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
)

// ImportOptions are the who, when and why of an imported commit.
type ImportOptions struct {
	Author  string
	Message string
	Date    time.Time
	// Warn, if set, is told what the commit leaves out of the image
	// (docker's Healthcheck, Shell and OnBuild: a commit's config is
	// the OCI image config, which has no such fields).
	Warn func(msg string)
}

// IsImageSource reports whether src names an image import understands.
func IsImageSource(src string) bool {
	for _, p := range []string{"oci:", "oci-archive:", "docker-archive:"} {
		if strings.HasPrefix(src, p) {
			return true
		}
	}
	return false
}

// image is an image read from a file source: its config, its layers in
// order, and how to read each layer.
type image struct {
	manifestDigest digest.Digest // "" for a docker archive, which has none
	config         ocispec.Image
	layers         []ocispec.Descriptor // Digest "" when the source does not say
	dropped        []string             // docker config fields the commit cannot keep
	open           func(i int) (io.ReadCloser, error)
	close          func() error
}

// ImportImage makes a root commit of an image in an OCI layout
// ("oci:PATH[:TAG]"), an OCI layout in a tar ("oci-archive:PATH[:TAG]")
// or a docker archive ("docker-archive:PATH[:TAG]").
// Layers are kept as they are (gzip, zstd or plain); the runtime config,
// platform and history are kept, and the commit's own history entry is
// added. Every blob is checked against its digest and every layer against
// its diff id, and no layer may hold a name that climbs out of the root
// ("..") ; on any failure the blobs this import added are removed again.
func ImportImage(ctx context.Context, st *objects.Store, src string, o ImportOptions) (*objects.Commit, error) {
	var img *image
	var err error
	switch {
	case strings.HasPrefix(src, "oci:"):
		img, err = readOCILayout(strings.TrimPrefix(src, "oci:"))
	case strings.HasPrefix(src, "oci-archive:"):
		img, err = readOCIArchive(strings.TrimPrefix(src, "oci-archive:"))
	case strings.HasPrefix(src, "docker-archive:"):
		img, err = readDockerArchive(strings.TrimPrefix(src, "docker-archive:"))
	default:
		return nil, fmt.Errorf("%s: not an image source (oci:PATH[:TAG], oci-archive:PATH[:TAG] or docker-archive:PATH[:TAG])", src)
	}
	if err != nil {
		return nil, err
	}
	defer img.close()
	if n, m := len(img.layers), len(img.config.RootFS.DiffIDs); n != m {
		return nil, fmt.Errorf("config lists %d diff ids for %d layers: %w", m, n, ErrBadImage)
	}
	var added []digest.Digest
	undo := func() {
		for _, d := range added {
			st.Delete(d)
			st.RemoveLayerIndex(d)
		}
	}
	var layers []objects.Layer
	for i, desc := range img.layers {
		existed := desc.Digest != "" && st.Has(desc.Digest)
		info, err := addLayerChecked(ctx, st, img, i)
		if err != nil {
			undo()
			return nil, err
		}
		if !existed && !containsDigest(added, info.Desc.Digest) {
			added = append(added, info.Desc.Digest)
		}
		layers = append(layers, info)
	}
	nc := objects.NewCommit{
		Layers: layers, Config: &img.config.Config,
		OS: img.config.OS, Architecture: img.config.Architecture,
		Variant: img.config.Variant, OSVersion: img.config.OSVersion, OSFeatures: img.config.OSFeatures,
		History: img.config.History,
		Author:  o.Author, Date: o.Date, Message: o.Message,
	}
	if img.manifestDigest != "" {
		nc.Annotations = map[string]string{ocispec.AnnotationBaseImageDigest: img.manifestDigest.String()}
	}
	c, err := st.WriteCommit(nc)
	if err != nil {
		undo()
		return nil, err
	}
	if len(img.dropped) > 0 && o.Warn != nil {
		o.Warn(fmt.Sprintf("the image config's %s: not kept (a commit holds the OCI image config, which has no such fields)",
			strings.Join(img.dropped, ", ")))
	}
	return c, nil
}

func containsDigest(ds []digest.Digest, d digest.Digest) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

// addLayerChecked stores layer i through AddLayer, which checks its
// digest and diff id, refuses names that climb out of the root and writes
// its file index.
func addLayerChecked(ctx context.Context, st *objects.Store, img *image, i int) (objects.Layer, error) {
	desc := img.layers[i]
	name := fmt.Sprintf("layer %d", i+1)
	if desc.Digest != "" {
		name += " " + desc.Digest.String()
	}
	rc, err := img.open(i)
	if err != nil {
		return objects.Layer{}, fmt.Errorf("%s: %w", name, err)
	}
	defer rc.Close()
	info, err := st.AddLayer(ctx, rc, desc, img.config.RootFS.DiffIDs[i])
	if errors.Is(err, layer.ErrUnsafePath) {
		err = fmt.Errorf("%w: %w", err, ErrBadImage)
	}
	if err != nil {
		return objects.Layer{}, fmt.Errorf("%s: %w", name, err)
	}
	return info, nil
}

var errNoImage = errors.New("no such image")

// droppedFields lists the fields of docker's image config that have a
// meaning for a container or a build and that the OCI image config
// (what a commit holds) lacks, set in the config raw.
func droppedFields(raw []byte) []string {
	var img struct {
		Config map[string]json.RawMessage `json:"config"`
	}
	if json.Unmarshal(raw, &img) != nil {
		return nil
	}
	var out []string
	for _, f := range []string{"Healthcheck", "Shell", "OnBuild"} {
		switch v := string(img.Config[f]); v {
		case "", "null", "[]", "{}":
		default:
			out = append(out, f)
		}
	}
	return out
}
