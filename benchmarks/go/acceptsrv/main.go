// Command acceptsrv is the accept side of trionet's dial benchmarks: it listens on a loopback
// TCP address, prints the port it got on stdout, and accepts and closes connections in
// goroutines so that the accept loop is never what limits the dialer being measured.
//
// It exits when its standard input is closed (the benchmark's way of stopping it, so that a
// crashed benchmark never leaves it running) or after -max-seconds as a last resort.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on (IP literal only)")
	maxSeconds := flag.Int("max-seconds", 600, "exit after this many seconds whatever happens")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptsrv:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)

	go func() {
		// Stop when the parent closes our stdin (or dies).
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	go func() {
		time.Sleep(time.Duration(*maxSeconds) * time.Second)
		fmt.Fprintln(os.Stderr, "acceptsrv: -max-seconds reached")
		os.Exit(2)
	}()

	for {
		c, err := ln.Accept()
		if err != nil {
			// Temporary errors (EMFILE and the like): back off briefly, keep serving.
			time.Sleep(time.Millisecond)
			continue
		}
		go c.Close()
	}
}
