package objects

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestWithoutLayersKeepsTheHead: the head decoded from a manifest with
// its layers cut is the head decoded from the whole, for manifests whose
// layer descriptors hold what JSON allows in strings (quotes, brackets,
// braces, backslashes, escapes), and the cut is made.
func TestWithoutLayersKeepsTheHead(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	tricky := []string{`"`, `\`, `[`, `]`, `{`, `}`, `,`, `:`, `"layers":[`, `\u0022`, "é", "\n", " "}
	text := func() string {
		var b strings.Builder
		for i := rnd.Intn(6); i > 0; i-- {
			b.WriteString(tricky[rnd.Intn(len(tricky))])
		}
		return b.String()
	}
	for n := 0; n < 500; n++ {
		m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest,
			Config:      ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromString(text()), Size: 1},
			Annotations: map[string]string{AnnotationParent: text(), AnnotationMessage: text(), "k" + text(): text()}}
		for i := rnd.Intn(4); i > 0; i-- {
			m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: text(), Digest: digest.FromString(text()), Size: int64(i),
				Annotations: map[string]string{text(): text()}, URLs: []string{text()}})
		}
		b, err := json.MarshalIndent(m, "", []string{"", " ", "\t"}[n%3])
		if err != nil {
			t.Fatal(err)
		}
		if n%2 == 1 {
			// Layers first, and escapes json.Marshal never writes.
			b = []byte(`{"layers":[{"a":"\"]}"},[[]],{}] , "schemaVersion":2,` + string(b[1:]))
		}
		var want ManifestHead
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		cut := withoutLayers(b)
		if m.Layers != nil && len(cut) >= len(b) {
			t.Fatalf("nothing cut from %s", b)
		}
		if inPlace := cutLayers(slices.Clone(b)); string(inPlace) != string(cut) {
			t.Fatalf("%s: cut in place to %s, not %s", b, inPlace, cut)
		}
		got, err := ParseManifestHead("sha256:x", b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("%s\ncut: %s\nhead %+v, want %+v", b, cut, *got, want)
		}
	}
}

// TestWithoutLayersOfBrokenManifests: a truncated or malformed manifest
// is never cut into one that parses where the whole failed for a reason
// outside its layers, and never panics.
func TestWithoutLayersOfBrokenManifests(t *testing.T) {
	whole := `{"schemaVersion":2,"config":{"digest":"sha256:a"},"layers":[{"digest":"sha256:\"b"}],"annotations":{"dev.strata.message":"m"}}`
	for i := range whole {
		withoutLayers([]byte(whole[:i]))
		cutLayers([]byte(whole[:i]))
	}
	for _, b := range []string{
		`{"layers":[}`, `{"layers":["]}`, `{"layers" [1]}`, `{"layers":[1],`, `{"layers":[1] "x":1}`, `[]`, ``, `{"layers":tru`,
		`{"config":{"digest":"sha256:a"},"layers":[1],"annotations":{"x":}}`,
	} {
		cut := withoutLayers([]byte(b))
		if inPlace := cutLayers([]byte(b)); string(inPlace) != string(cut) {
			t.Errorf("%s: cut in place to %s, not %s", b, inPlace, cut)
		}
		var m ManifestHead
		if json.Unmarshal(cut, &m) == nil {
			t.Errorf("%s: cut to %s, which parses", b, cut)
		}
	}
}

// BenchmarkParseManifestHead: the head of a commit 128 layers deep, the
// most a strata commit lists (docs/format.md, "Folds"), as log reads it.
func BenchmarkParseManifestHead(b *testing.B) {
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest,
		Config:      ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromString("c"), Size: 1},
		Annotations: map[string]string{AnnotationParent: digest.FromString("p").String(), AnnotationMessage: "commit"}}
	for i := 0; i < 128; i++ {
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerZstd, Digest: digest.FromString(strings.Repeat("l", i)), Size: int64(100 + i)})
	}
	raw, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := ParseManifestHead("sha256:x", raw); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFlatArrayEnd: the quick scan delimits a flat array as skipValue
// does, and leaves to skipValue any array it cannot be sure of.
func TestFlatArrayEnd(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{`[]`, true}, {`[{"a":"x"},{"b":1}] ,"c":2`, true}, {`[{"a":"x","b":{"c":"}"}}]}`, true},
		{`[{"a":"x]"}]`, false}, {`[[1]]`, false}, {`["\"]"]`, false}, {`[1`, false}, {`{}`, false}, {``, false},
	} {
		end, ok := flatArrayEnd([]byte(tc.in), 0)
		want, _ := skipValue([]byte(tc.in), 0)
		if ok != tc.ok || ok && end != want {
			t.Errorf("flatArrayEnd(%s) = %d, %v; want %v, and %d as skipValue", tc.in, end, ok, tc.ok, want)
		}
	}
}

// Parents decodes a manifest's head alone: a commit listing 128 layers
// costs the same few allocations as one listing none, where decoding
// every layer cost some 400.
func TestParentsReadsTheHeadOnly(t *testing.T) {
	s := newTestStore(t)
	parent := digest.FromString("parent")
	m := ocispec.Manifest{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispec.MediaTypeImageManifest,
		Config:      ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromString("config"), Size: 2},
		Annotations: map[string]string{AnnotationParent: parent.String()},
	}
	for i := range 128 {
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerZstd, Digest: digest.FromString(fmt.Sprint(i)), Size: int64(i)})
	}
	desc, err := s.PutJSON(ocispec.MediaTypeImageManifest, m)
	if err != nil {
		t.Fatal(err)
	}
	var ps []digest.Digest
	allocs := testing.AllocsPerRun(10, func() {
		if ps, err = s.Parents(desc.Digest); err != nil {
			t.Fatal(err)
		}
	})
	if len(ps) != 1 || ps[0] != parent {
		t.Fatalf("parents %v, want %s", ps, parent)
	}
	if allocs > 60 {
		t.Errorf("Parents of a commit listing 128 layers took %.0f allocations, want at most 60", allocs)
	}
}
