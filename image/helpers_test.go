package image

import (
	"path/filepath"
	"testing"

	"github.com/strata-sh/strata/repo"
)

func newRepo(t testing.TB) *repo.Repo {
	t.Helper()
	r, err := repo.Init(filepath.Join(t.TempDir(), "env"), "main")
	if err != nil {
		t.Fatal(err)
	}
	return r
}
