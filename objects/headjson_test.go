package objects

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// headCases are heads decodeHead must decode as encoding/json does
// (fast), or leave to it.
var headCases = []struct {
	json string
	fast bool
}{
	{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"c","digest":"sha256:a","size":21072},"layers":[],"annotations":{"dev.strata.author":"Bench \u003cbench@example.com\u003e","dev.strata.message":"commit 1","org.opencontainers.image.created":"2024-01-07T22:40:00Z"}}`, true},
	{` { "config" : { "digest" : "sha256:a" } , "annotations" : { } } ` + "\n", true},
	{`{"config":{"digest":"sha256:a"},"annotations":{"a":"1"},"annotations":{"b":"2","a":"3"}}`, true}, // merged
	{`{"config":{"digest":"sha256:a"},"config":{"size":1},"mediaType":"x","mediaType":"y"}`, true},
	{`{"MediaType":"x","CONFIG":{"Digest":"sha256:a"},"Annotations":{"K":"v"}}`, true}, // case ignored
	{"{\"mediaType\u212a\":\"x\",\"config\":{\"digest\":\"d\"}}", true},                // not a fold of mediaType
	{`{"medi\u0061Type":"x","config":{"d\u0069gest":"d"}}`, true},                      // keys with escapes
	{`{"config":{"digest":"d"},"annotations":{"m":"\"\\\/\b\f\n\r\t\u00e9\u2028\u0000 é ✓","\u00e9":"\u00E9"}}`, true},
	{`{"config":{"digest":"d"},"x":[1,-2,3.5e+10,-0.0e-1,0E0,true,false,null,{"a":[[]]},"\u0041"],"y":{}}`, true},
	{`{"config":{"digest":"d"},"mediaType":null,"config":null}`, true},
	{`{}`, true},
	{`{"config":{"digest":"d"},"annotations":null}`, false},
	{`{"config":{"digest":"d"},"annotations":{"a":null}}`, false},
	{`{"config":{"digest":"d"},"annotations":{"a":1}}`, false},
	{`{"config":{"digest":"d"},"mediaType":1}`, false},
	{`{"config":"d"}`, false},
	{`{"config":{"digest":"d\ud83d\ude00"}}`, false},
	{`{"config":{"digest":"d\ud83d"}}`, false},
	{"{\"config\":{\"digest\":\"d\xff\"}}", false},
	{"{\"config\":{\"digest\":\"d\x01\"}}", false},
	{`{"config":{"digest":"d"},"x":01}`, false},
	{`{"config":{"digest":"d"},"x":1.}`, false},
	{`{"config":{"digest":"d"},"x":-}`, false},
	{`{"config":{"digest":"d"},"x":tru}`, false},
	{`{"config":{"digest":"d"},"x":truex}`, false},
	{`{"config":{"digest":"d"},"x":"\x"}`, false},
	{`{"config":{"digest":"d"},"x":"\u12"}`, false},
	{`{"config":{"digest":"d"},}`, false},
	{`{"config":{"digest":"d"}} x`, false},
	{`{"config":{"digest":"d"}`, false},
	{`[]`, false}, {``, false}, {`null`, false},
	{`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`, false},
}

// TestDecodeHeadAsEncodingJSON: what decodeHead decodes is what
// encoding/json decodes, and what it cannot, ParseManifestHead gives
// encoding/json.
func TestDecodeHeadAsEncodingJSON(t *testing.T) {
	for _, tc := range headCases {
		c := tc.json
		if _, ok := decodeHead([]byte(c)); ok != tc.fast {
			t.Errorf("%s: decoded without encoding/json: %v, want %v", c, ok, tc.fast)
		}
		checkDecodeHead(t, []byte(c))
		var want ManifestHead
		wantErr := json.Unmarshal([]byte(c), &want)
		got, err := ParseManifestHead("sha256:x", []byte(c))
		switch {
		case wantErr != nil:
			if err == nil {
				t.Errorf("%s: parsed as %+v; encoding/json: %v", c, *got, wantErr)
			}
		case want.Config.Digest == "" || want.MediaType != "" && want.MediaType != ocispec.MediaTypeImageManifest:
			if !errors.Is(err, ErrNotCommit) {
				t.Errorf("%s: parsed as %+v, %v; want %v", c, got, err, ErrNotCommit)
			}
		case err != nil || !reflect.DeepEqual(*got, want):
			t.Errorf("%s: parsed as %+v, %v; encoding/json: %+v", c, got, err, want)
		}
	}
}

// checkDecodeHead fails t if decodeHead decodes b otherwise than
// encoding/json, or at all where encoding/json fails.
func checkDecodeHead(t *testing.T, b []byte) {
	t.Helper()
	got, ok := decodeHead(b)
	if !ok {
		return
	}
	var want ManifestHead
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%q: decoded as %+v; encoding/json: %v", b, got, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decoded as %#v; encoding/json: %#v", b, got, want)
	}
}

// FuzzDecodeHead: decodeHead never decodes what encoding/json refuses,
// nor otherwise than it.
func FuzzDecodeHead(f *testing.F) {
	for _, c := range headCases {
		f.Add([]byte(c.json))
	}
	f.Fuzz(checkDecodeHead)
}

// TestDecodeHeadTakesStrataManifests: a commit's head as strata writes
// it is decoded without encoding/json, whose reflection took a fifth of
// a cold log of real commits: a head takes few allocations (the map,
// its strings), where encoding/json took some 35.
func TestDecodeHeadTakesStrataManifests(t *testing.T) {
	s := newTestStore(t)
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	root, err := s.WriteCommit(NewCommit{Author: "A <a@example.com>", Date: date, Message: "root", OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.WriteCommit(NewCommit{Parent: root, Author: "B <b@example.com>", Date: date.Add(time.Hour),
		Message: "a \"quoted\" <message>\nwith lines, é", OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.ReadBlob(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := decodeHead(cutLayers(b)); !ok {
		t.Fatalf("strata's manifest left to encoding/json: %s", b)
	}
	checkDecodeHead(t, b)
	var sum Summary
	allocs := testing.AllocsPerRun(20, func() {
		m, err := ParseManifestHead(c.ID, b)
		if err != nil {
			t.Fatal(err)
		}
		sum, _ = summaryOf(c.ID, m)
	})
	if sum.Parent != root.ID || sum.Message != c.Message() || sum.Author != "B <b@example.com>" {
		t.Fatalf("summary %+v", sum)
	}
	if allocs > 12 {
		t.Errorf("ParseManifestHead of a strata manifest took %.0f allocations, want at most 12", allocs)
	}
}
