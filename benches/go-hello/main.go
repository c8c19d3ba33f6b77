// go-hello: Go 1.19 net/http's hello world, the third server load.sh
// measures when Go is installed. Every path answers "Hello, World!" as
// text/plain, like demos/src/bin/hello.rs and benches/src/bin/hyper-hello.rs.
//
//	go build -o /tmp/go-hello . && /tmp/go-hello -addr 127.0.0.1:8012
//	curl -i http://127.0.0.1:8012/hello
//
// -read-header-timeout and -idle-timeout (Go durations, such as 2s) set
// the Server fields of the same names; both are zero (none) by default,
// as in Go, which is what the benchmarks measure.
//
// GOMAXPROCS follows the CPUs the process may run on, so under
// `taskset -c 1` it is 1, the same one thread as the Rust servers.
package main

import (
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8012", "listen address")
	readHeaderTimeout := flag.Duration("read-header-timeout", 0, "Server.ReadHeaderTimeout (0: none)")
	idleTimeout := flag.Duration("idle-timeout", 0, "Server.IdleTimeout (0: none)")
	flag.Parse()
	hello := []byte("Hello, World!")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(hello)
	})
	log.Printf("go-hello: listening on http://%s", *addr)
	server := &http.Server{Addr: *addr, ReadHeaderTimeout: *readHeaderTimeout, IdleTimeout: *idleTimeout}
	log.Fatal(server.ListenAndServe())
}
