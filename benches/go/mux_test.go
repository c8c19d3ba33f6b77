// The Go side of the ServeMux lookup benchmark: Go 1.19's own
// http.ServeMux routing the table in table.txt, one mux.Handler(r) per
// iteration, as benches/benches/mux.rs does for ours.
//
//	go test -run '^$' -bench . -benchmem
//
// benches/go/run.sh runs both sides and prints them side by side.
package muxbench

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

type namedRequest struct {
	name string
	req  *http.Request
}

func loadTable(tb testing.TB) (*http.ServeMux, []namedRequest) {
	f, err := os.Open("table.txt")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	mux := http.NewServeMux()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	var reqs []namedRequest
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch fields[0] {
		case "pattern":
			mux.Handle(fields[1], ok)
		case "request":
			r := httptest.NewRequest(fields[2], fields[4], nil)
			r.Host = fields[3]
			reqs = append(reqs, namedRequest{fields[1], r})
		}
	}
	return mux, reqs
}

var sink string

func BenchmarkLookup(b *testing.B) {
	mux, reqs := loadTable(b)
	for _, nr := range reqs {
		r := nr.req
		b.Run(nr.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_, pattern := mux.Handler(r)
				sink = pattern
			}
		})
	}
}

// TestTable checks that the table routes as the Rust bench expects.
func TestTable(t *testing.T) {
	mux, reqs := loadTable(t)
	want := map[string]string{
		"exact":          "/api/v1/resource17",
		"subtree":        "/static/dir7/",
		"deep_subtree":   "/docs/section3/",
		"host":           "api.example.com/v2/",
		"host_exact":     "example.com/login",
		"miss":           "",
		"slash_redirect": "/static/dir7/",
		"clean_redirect": "/api/v1/resource3",
	}
	for _, nr := range reqs {
		if _, p := mux.Handler(nr.req); p != want[nr.name] {
			t.Errorf("%s: pattern %q, want %q", nr.name, p, want[nr.name])
		}
	}
}
