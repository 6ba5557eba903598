// Command dialbench is the Go baseline of trionet's dial benchmark: sequential net.Dial + Close
// on loopback, driven round by round by the Python benchmark so that it is interleaved with the
// Python contenders.
//
// Protocol: each line read from stdin is a count N; dialbench performs N sequential
// net.Dial("tcp", -addr) + Close and writes one line "<elapsed nanoseconds>" (or "error: ...").
// It exits at end of input. The address must be an IP literal: the benchmark keeps Go off DNS.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

func run(addr string, n int) (time.Duration, error) {
	start := time.Now()
	for i := 0; i < n; i++ {
		// net.Dial uses Go's default Dialer: keep-alive 15 s / 15 s / 9, like trionet.
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return 0, err
		}
		if err := c.Close(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

func main() {
	addr := flag.String("addr", "", "IP-literal host:port to dial")
	flag.Parse()
	if ip, _, err := net.SplitHostPort(*addr); err != nil || net.ParseIP(ip) == nil {
		fmt.Fprintln(os.Stderr, "dialbench: -addr must be an IP-literal host:port")
		os.Exit(1)
	}
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		n, err := strconv.Atoi(strings.TrimSpace(in.Text()))
		if err != nil || n < 0 {
			fmt.Fprintf(out, "error: bad count %q\n", in.Text())
		} else if elapsed, err := run(*addr, n); err != nil {
			fmt.Fprintf(out, "error: %v\n", err)
		} else {
			fmt.Fprintln(out, elapsed.Nanoseconds())
		}
		out.Flush()
	}
}
