// Go's net/http client against our server, for hardening_clients.rs:
// a GET, a POST with Content-Length, and a chunked POST with a trailer, on
// one kept-alive connection. Prints "ok" or the first failure.
//
//	go run go_client.go http://127.0.0.1:PORT
package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

func check(resp *http.Response, err error, want string) {
	if err != nil {
		fmt.Println("request failed:", err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || string(body) != want {
		fmt.Printf("got %d %q (%v), want 200 %q\n", resp.StatusCode, body, err, want)
		os.Exit(1)
	}
}

func main() {
	base := os.Args[1]
	client := &http.Client{}
	resp, err := client.Get(base + "/")
	check(resp, err, "Hello, World!")

	resp, err = client.Post(base+"/echo", "text/plain", bytes.NewReader([]byte("hello")))
	check(resp, err, "hello")

	// An io.Reader of unknown length: Go sends it chunked, with the trailer.
	req, _ := http.NewRequest("POST", base+"/echo", io.MultiReader(strings.NewReader("chunked "), strings.NewReader("hello")))
	req.Trailer = http.Header{"X-Checksum": {"abc"}}
	resp, err = client.Do(req)
	check(resp, err, "chunked hello")
	fmt.Println("ok")
}
