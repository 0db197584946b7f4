package build

import (
	"testing"
)

// BenchmarkCachedRebuild10 rebuilds a 10-step recipe (two RUNs, two
// COPYs, six metadata steps) whose every step is cached; the target is
// under 100 ms.
func BenchmarkCachedRebuild10(b *testing.B) {
	r := newRepo(b, true)
	ctxDir := ctxWith(b, map[string]string{"site/index.html": "hi", "site/a/b.css": "b", "conf": "c"})
	recipe := `FROM main
ARG V=1
RUN echo $V > /v
ENV A=1 B=2
COPY site/ /var/www/
COPY conf /etc/app.conf
WORKDIR /srv
RUN echo built > built
LABEL v=1
EXPOSE 8080
CMD ["httpd", "-f"]
`
	first, err := buildIn(b, r, ctxDir, recipe)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := buildIn(b, r, ctxDir, recipe)
		if err != nil {
			b.Fatal(err)
		}
		if res.Commit.ID != first.Commit.ID {
			b.Fatalf("a cached rebuild gave %s, not %s", res.Commit.ID, first.Commit.ID)
		}
	}
}
