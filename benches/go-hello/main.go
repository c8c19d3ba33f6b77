// go-hello: Go 1.19 net/http's hello world, the third server load.sh
// measures when Go is installed. Every path answers "Hello, World!" as
// text/plain, like demos/src/bin/hello.rs and benches/src/bin/hyper-hello.rs.
//
//	go build -o /tmp/go-hello . && /tmp/go-hello -addr 127.0.0.1:8012
//	curl -i http://127.0.0.1:8012/hello
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
	flag.Parse()
	hello := []byte("Hello, World!")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(hello)
	})
	log.Printf("go-hello: listening on http://%s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
