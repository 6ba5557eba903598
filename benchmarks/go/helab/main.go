// Command helab is the Go client of trionet's Happy Eyeballs lab (tests/netlab): it runs inside
// the lab's client namespace, reads one request per stdin line, "HOST PORT TIMEOUT_SECONDS",
// dials it once with net.Dialer{Timeout: TIMEOUT}.Dial("tcp", ...) -- Go's default algorithm and
// its pure resolver, which reads the namespace's resolv.conf (the lab's own DNS server) -- and
// writes one JSON line: {"ok", "elapsed" (seconds, resolution included), "remote", "error"}.
// It exits at end of input.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

type result struct {
	OK      bool    `json:"ok"`
	Elapsed float64 `json:"elapsed"`
	Remote  *string `json:"remote"`
	Error   *string `json:"error"`
}

func dial(host, port string, timeout time.Duration) result {
	d := net.Dialer{Timeout: timeout}
	start := time.Now()
	c, err := d.Dial("tcp", net.JoinHostPort(host, port))
	elapsed := time.Since(start).Seconds()
	if err != nil {
		text := err.Error()
		return result{Elapsed: elapsed, Error: &text}
	}
	remote := c.RemoteAddr().(*net.TCPAddr).IP.String()
	c.Close()
	return result{OK: true, Elapsed: elapsed, Remote: &remote}
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, `{"ready": true}`)
	out.Flush()
	for in.Scan() {
		parts := strings.Fields(in.Text())
		if len(parts) != 3 {
			continue
		}
		secs, err := strconv.ParseFloat(parts[2], 64)
		if err != nil {
			continue
		}
		line, _ := json.Marshal(dial(parts[0], parts[1], time.Duration(secs*float64(time.Second))))
		out.Write(line)
		out.WriteString("\n")
		out.Flush()
	}
}
