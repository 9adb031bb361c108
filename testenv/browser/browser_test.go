package browser_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/browser"
)

// The detector detects: a page that loads an image and a stylesheet from elsewhere
// shows both requests, and its DOM comes back rendered.
func TestRenderRecordsEveryRequest(t *testing.T) {
	b := browser.Find(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "p.html")
	require.NoError(t, os.WriteFile(page, []byte(`<!DOCTYPE html><html><head>
<link rel="stylesheet" href="http://cognito-resend-canary.invalid/style.css"></head>
<body><p id="x">rendered</p><img src="https://cognito-resend-canary.invalid/pixel.png"></body></html>`), 0o600))
	shot := filepath.Join(dir, "p.png")
	res := b.Render(t.Context(), t, page, browser.Options{Width: 400, Height: 300, Screenshot: shot})
	require.Contains(t, res.DOM, `<p id="x">rendered</p>`)
	joined := strings.Join(res.Requests, "\n")
	require.Contains(t, joined, "http://cognito-resend-canary.invalid/style.css")
	require.Contains(t, joined, "CONNECT cognito-resend-canary.invalid:443")
	png, err := os.ReadFile(shot)
	require.NoError(t, err)
	require.Equal(t, "\x89PNG", string(png[:4]))
}

func TestDOMHelpers(t *testing.T) {
	t.Parallel()
	dom := `<div data-k="a">1</div><td class="n" data-k="b.c"> 2 </td><p>&lt;img src=x&gt;</p>` +
		`<a href="https://x.invalid/">x</a><div style="background:url(//y)"></div><svg><image xlink:href="z.png"/></svg>`
	require.Equal(t, map[string][]string{"a": {"1"}, "b.c": {"2"}}, browser.Texts(dom, "data-k"))
	got := browser.Fetches(dom)
	require.Len(t, got, 3, got)
	require.Equal(t, `href="https://x.invalid/"`, got[0])
	require.Equal(t, `xlink:href="z.png"`, got[1])
	require.Contains(t, got[2], "url(")
	require.Equal(t, []string{"<script>"}, browser.Fetches(`<SCRIPT>alert(1)</SCRIPT>`))
	require.Empty(t, browser.Fetches(`<p>&lt;script src="https://x.invalid"&gt;</p>`))
}

// recorder is a testing.TB that notes the first Fatal or Skip instead of stopping.
type recorder struct {
	testing.TB
	first string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatal(args ...any) {
	if r.first == "" {
		r.first = "fatal: " + fmt.Sprint(args...)
	}
}
func (r *recorder) Skip(args ...any) {
	if r.first == "" {
		r.first = "skip: " + fmt.Sprint(args...)
	}
}

// Without Chromium, a test fails where it must run (CI) and is skipped, saying how to
// install it, elsewhere.
func TestFindWithoutChromium(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, tc := range []struct{ ci, required, want string }{
		{"true", "", "fatal: "}, {"1", "", "fatal: "}, {"", "required", "fatal: "},
		{"", "", "skip: "}, {"false", "", "skip: "},
	} {
		t.Setenv("CI", tc.ci)
		t.Setenv(browser.RequiredEnv, tc.required)
		r := &recorder{TB: t}
		require.Nil(t, browser.Find(r))
		require.True(t, strings.HasPrefix(r.first, tc.want), "CI=%q %s=%q: %s", tc.ci, browser.RequiredEnv, tc.required, r.first)
		require.Contains(t, r.first, "testenv/install-chromium.sh")
	}
}
