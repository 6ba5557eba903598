// Command httpsrv is the server side of trionet's HTTP benchmark (bench_http.py): a net/http
// server on a loopback address that answers every request with a 5-byte body and closes the
// connection (keep-alives off), so every request the benchmark makes needs a fresh connection.
// It prints the port it got on stdout and exits when its standard input is closed, or after
// -max-seconds as a last resort.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on (IP literal only)")
	maxSeconds := flag.Int("max-seconds", 600, "exit after this many seconds whatever happens")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpsrv:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)

	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	go func() {
		time.Sleep(time.Duration(*maxSeconds) * time.Second)
		fmt.Fprintln(os.Stderr, "httpsrv: -max-seconds reached")
		os.Exit(2)
	}()

	body := []byte("hello")
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write(body)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	srv.SetKeepAlivesEnabled(false)
	_ = srv.Serve(ln)
}
