package remote

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// A registry that pages its tag list without end (Link: rel="next" on
// every page) held a fetch forever, its memory growing: a next URL seen
// before, more than maxTagPages pages or more than maxTags tags fail the
// fetch with ErrTagList, naming the registry, before anything is stored.
func TestHostileEndlessTagList(t *testing.T) {
	oldTags, oldPages := maxTags, maxTagPages
	maxTags, maxTagPages = 50, 20
	t.Cleanup(func() { maxTags, maxTagPages = oldTags, oldPages })
	for _, c := range []struct {
		name string
		// next is page n's next link; tags, the tags on it.
		next func(n int) string
		tags int
		want string
	}{
		{"loop", func(n int) string { return "/v2/env/tags/list?last=a" }, 1, "pages its tag list in a loop (page 2 links back to an earlier one)"},
		{"endless", func(n int) string { return "/v2/env/tags/list?last=t" + strconv.Itoa(n) }, 0, "pages its tag list past 20 pages"},
		{"too many", func(n int) string { return "/v2/env/tags/list?last=t" + strconv.Itoa(n) }, 7, "lists more than 50 tags"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHostileRegistry(t)
			img := h.addImage(t, []byte("layer"), "main")
			pages := 0
			h.tagList = func(w http.ResponseWriter, req *http.Request) {
				pages++
				if pages > 1000 {
					http.Error(w, "enough", http.StatusInternalServerError)
					return
				}
				n, _ := strconv.Atoi(strings.TrimPrefix(req.URL.Query().Get("last"), "t"))
				var tags []string
				for i := 0; i < c.tags; i++ {
					tags = append(tags, fmt.Sprintf("t%d-%d", n, i))
				}
				w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, c.next(n+1)))
				json.NewEncoder(w).Encode(map[string]any{"name": "env", "tags": tags})
			}
			r, _, err := fetchFrom(t, h, Options{})
			if !errors.Is(err, ErrTagList) || !strings.Contains(err.Error(), h.host+" "+c.want) {
				t.Fatalf("fetch: %v, want %q", err, c.want)
			}
			if pages > maxTagPages+1 {
				t.Errorf("%d pages asked for", pages)
			}
			assertNothingStored(t, r, img)
		})
	}
	// Within the bounds, every page is read.
	h := newHostileRegistry(t)
	h.addImage(t, []byte("layer"), "main")
	h.tagList = func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("last") == "" {
			w.Header().Set("Link", `</v2/env/tags/list?last=main>; rel="next"`)
			json.NewEncoder(w).Encode(map[string]any{"name": "env", "tags": []string{}})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"name": "env", "tags": []string{"main"}})
	}
	if _, res, err := fetchFrom(t, h, Options{}); err != nil || len(res.Tags) != 1 || res.Tags[0].New == "" {
		t.Fatalf("fetch of a two-page list: %+v, %v", res, err)
	}
}
