package main

import (
	"os"
	"reflect"
	"testing"
	"unsafe"
)

var scratch int

// TestCleanFileMappings: the binary's code is offered as a clean
// read-only mapping, and its written data never is.
func TestCleanFileMappings(t *testing.T) {
	self, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	maps := cleanFileMappings(self)
	inside := func(addr uintptr) bool {
		for _, m := range maps {
			if addr >= m[0] && addr < m[1] {
				return true
			}
		}
		return false
	}
	if code := reflect.ValueOf(TestCleanFileMappings).Pointer(); !inside(code) {
		t.Fatalf("code at %#x is in no offered mapping %x", code, maps)
	}
	scratch = 1
	if data := uintptr(unsafe.Pointer(&scratch)); inside(data) {
		t.Fatalf("written global at %#x is inside an offered mapping %x", data, maps)
	}
}
