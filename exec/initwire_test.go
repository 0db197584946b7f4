package exec

import (
	"os"
	"reflect"
	"strconv"
	"testing"
)

// fillValue sets every field of v (recursively) to a distinct non-zero value.
func fillValue(v reflect.Value, seed *int) {
	*seed++
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + strconv.Itoa(*seed) + "\n\x00é")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		v.SetUint(uint64(60000 + *seed))
	case reflect.Slice:
		n := 2 + *seed%3
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			fillValue(s.Index(i), seed)
		}
		v.Set(s)
	case reflect.Uint8:
		v.SetUint(uint64(*seed % 256))
	case reflect.Int:
		v.SetInt(int64(*seed))
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fillValue(v.Field(i), seed)
		}
	default:
		panic("initConfig field of kind " + v.Kind().String() + ": teach encode, decode and this test")
	}
}

// TestInitConfigWire: every field of initConfig (and of Mount) survives
// the trip to the init, the zero config too, and a truncated or padded
// message is refused.
func TestInitConfigWire(t *testing.T) {
	var full initConfig
	seed := 0
	fillValue(reflect.ValueOf(&full).Elem(), &seed)
	for _, cfg := range []initConfig{full, {}} {
		b := cfg.encode()
		var got initConfig
		if err := got.decode(b[4:]); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, cfg) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, cfg)
		}
		if n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16 | int(b[3])<<24; n != len(b)-4 {
			t.Fatalf("length prefix %d, payload %d", n, len(b)-4)
		}
		other := append([]byte{}, b[4:]...)
		other[0] ^= 1 // another build's layout
		var c initConfig
		if err := c.decode(other); err != errWireSignature {
			t.Fatalf("a config of another layout: %v", err)
		}
		for _, bad := range [][]byte{b[4 : len(b)-1], append(append([]byte{}, b[4:]...), 0)} {
			var c initConfig
			if err := c.decode(bad); err == nil {
				t.Fatalf("decoded a malformed message of %d bytes", len(bad))
			}
		}
	}
	// Through a pipe, as the init reads it.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() { w.Write(full.encode()); w.Close() }()
	got, err := readConfig(int(r.Fd()))
	if err != nil || !reflect.DeepEqual(*got, full) {
		t.Fatalf("readConfig: %v", err)
	}
}

func TestInitErrorWire(t *testing.T) {
	e := initError{Code: CodeNotFound, Msg: "exec foo: no such file\nsecond line"}
	got, ok := parseInitError(e.encode())
	if !ok || got != e {
		t.Fatalf("got %+v %v", got, ok)
	}
	for _, s := range []string{"", "oops", "0\nmsg", "x\nmsg", "127"} {
		if _, ok := parseInitError([]byte(s)); ok {
			t.Errorf("%q parsed as a status", s)
		}
	}
}
