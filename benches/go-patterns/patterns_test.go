// The Go side of the modern-mux benchmark: Go's own http.ServeMux (1.22
// and later; the figures in benches/README.md are Go 1.27.3) routing the
// table in routes.txt and registering the patterns in register.txt, as
// benches/benches/mux_patterns.rs does for ours.
//
//	go test -run '^$' -bench . -benchmem
//
// benches/go-patterns/run.sh runs both sides and prints the ratios.
package muxpatternsbench

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// lines returns what follows "prefix " on the lines of file.
func lines(tb testing.TB, file, prefix string) []string {
	f, err := os.Open(file)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if rest, ok := strings.CutPrefix(scanner.Text(), prefix+" "); ok {
			out = append(out, rest)
		}
	}
	return out
}

var nothing = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

func newMux(patterns []string) *http.ServeMux {
	mux := http.NewServeMux()
	for _, p := range patterns {
		mux.Handle(p, nothing)
	}
	return mux
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkLookup: one iteration routes all 130 requests through
// ServeHTTP (findHandler, then r.Pattern and the path values set, then
// the empty handler), the work PatternServeMux::route does.
func BenchmarkLookup(b *testing.B) {
	patterns := lines(b, "routes.txt", "pattern")
	mux := newMux(patterns)
	var reqs []*http.Request
	for i, target := range lines(b, "routes.txt", "request") {
		r := httptest.NewRequest("GET", target, nil)
		r.Host = "api.example.com"
		if _, p := mux.Handler(r); p != patterns[i] {
			b.Fatalf("%s matched %q, want %q", target, p, patterns[i])
		}
		reqs = append(reqs, r)
	}
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, r := range reqs {
			mux.ServeHTTP(w, r)
		}
	}
}

// BenchmarkRegister: one iteration registers the 1000 patterns of
// register.txt on a new mux.
func BenchmarkRegister(b *testing.B) {
	patterns := lines(b, "register.txt", "pattern")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		newMux(patterns)
	}
}
