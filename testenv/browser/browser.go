// Package browser renders local HTML files in Debian's headless Chromium for tests: the
// DOM after rendering (--dump-dom), a screenshot, and every network request the page
// tried to make.
//
// Chromium runs with a fresh profile, none of its own background traffic, and every
// request routed to a proxy on 127.0.0.1 that this package runs and that answers
// nothing (502) but records the request: a page that loads anything from anywhere shows
// up in Render's Requests. Host names resolve to nothing (--host-resolver-rules), so no
// request can leave the machine even if the proxy were bypassed.
//
// Find looks for chromium-headless-shell, then chromium. When neither is installed the
// test fails if it must run (CI set, as CI sets it, or COGNITO_RESEND_BROWSER=required)
// and is skipped otherwise, saying how to install it (testenv/install-chromium.sh).
package browser

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequiredEnv, set to "required", makes a missing Chromium fail the test (as CI does).
const RequiredEnv = "COGNITO_RESEND_BROWSER"

// Candidates are the Chromium binaries Find looks for, in order: Debian's packages
// chromium-headless-shell and chromium.
var Candidates = []string{"chromium-headless-shell", "chromium"}

// Browser is a Chromium binary.
type Browser struct {
	Path string
}

// Find returns the installed Chromium, or fails or skips the test (package doc).
func Find(t testing.TB) *Browser {
	t.Helper()
	for _, name := range Candidates {
		if p, err := exec.LookPath(name); err == nil {
			return &Browser{Path: p}
		}
	}
	msg := "no headless Chromium (" + strings.Join(Candidates, " or ") + ") in PATH; " +
		"install it with: sudo bash testenv/install-chromium.sh (Debian: apt-get install chromium-headless-shell)"
	if Required() {
		t.Fatal(msg + " — required here (CI or " + RequiredEnv + "=required)")
	}
	t.Skip(msg)
	return nil
}

// Required reports whether a test that needs Chromium must fail without it.
func Required() bool {
	ci := os.Getenv("CI")
	return os.Getenv(RequiredEnv) == "required" || (ci != "" && ci != "0" && ci != "false")
}

// Result is one rendering of a page.
type Result struct {
	DOM      string   // the serialized DOM after load (--dump-dom)
	Requests []string // requests the page made (method and URL), as the proxy saw them
}

// Options shape a rendering.
type Options struct {
	Width, Height int    // window size (default 1000×1400)
	Screenshot    string // write a PNG of the window here ("" = none)
}

// Render loads the local file page twice in fresh headless Chromium processes — once
// for --dump-dom, once for --screenshot when asked — with every request going to the
// recording proxy.
func (b *Browser) Render(ctx context.Context, t testing.TB, page string, opts Options) Result {
	t.Helper()
	abs, err := filepath.Abs(page)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Width == 0 {
		opts.Width, opts.Height = 1000, 1400
	}
	proxy := startProxy(t)
	url := "file://" + filepath.ToSlash(abs)
	dom := b.run(ctx, t, proxy.addr, opts, "--dump-dom", url)
	if opts.Screenshot != "" {
		shot, err := filepath.Abs(opts.Screenshot)
		if err != nil {
			t.Fatal(err)
		}
		b.run(ctx, t, proxy.addr, opts, "--screenshot="+shot, "--hide-scrollbars", url)
		if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
			t.Fatalf("chromium wrote no screenshot at %s: %v", shot, err)
		}
	}
	return Result{DOM: dom, Requests: proxy.requests()}
}

func (b *Browser) run(ctx context.Context, t testing.TB, proxy string, opts Options, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--disable-default-apps", "--metrics-recording-only", "--mute-audio",
		"--user-data-dir=" + t.TempDir(),
		fmt.Sprintf("--window-size=%d,%d", opts.Width, opts.Height),
		"--proxy-server=http://" + proxy, "--proxy-bypass-list=<-loopback>",
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
	}
	cmd := exec.CommandContext(ctx, b.Path, append(base, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", b.Path, strings.Join(args, " "), err, tail(errb.String()))
	}
	return out.String()
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

// proxy is an HTTP proxy on 127.0.0.1 that records every request (plain, or CONNECT
// for https) and serves none.
type proxy struct {
	addr string
	mu   sync.Mutex
	seen []string
}

func startProxy(t testing.TB) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { p.serve(c) })
		}
	})
	return p
}

func (p *proxy) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		p.record("unreadable request: " + err.Error())
		return
	}
	target := req.RequestURI
	p.record(req.Method + " " + target)
	_, _ = c.Write([]byte("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
}

func (p *proxy) record(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, s)
}

func (p *proxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}
