package browser

import (
	"html"
	"regexp"
	"strings"
)

// Helpers over a serialized DOM (Result.DOM, or the HTML file itself). Elements are
// matched by regular expressions, which is enough for pages whose markup the test
// controls; text that came from untrusted input is escaped there, so it can't look like
// a tag.

var (
	tagRe = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	// Attributes that make a browser fetch (or navigate to) something.
	fetchAttrRe = regexp.MustCompile(`(?i)\s(src|href|srcset|xlink:href|action|formaction|poster|data|background|ping|manifest)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
	cssFetchRe  = regexp.MustCompile(`(?i)url\(|@import`)
	scriptRe    = regexp.MustCompile(`(?i)<script\b`)
)

// Texts returns, for every element carrying attribute attr, its value and the element's
// text (unescaped, trimmed; elements nested inside it are not looked into), in document
// order.
func Texts(dom, attr string) map[string][]string {
	re := regexp.MustCompile(`<[a-zA-Z][^>]*\s` + regexp.QuoteMeta(attr) + `="([^"]*)"[^>]*>([^<]*)<`)
	out := map[string][]string{}
	for _, m := range re.FindAllStringSubmatch(dom, -1) {
		k := html.UnescapeString(m[1])
		out[k] = append(out[k], strings.TrimSpace(html.UnescapeString(m[2])))
	}
	return out
}

// Fetches lists what in the markup would make a browser load something: attributes
// such as src and href on any tag, url() or @import in styles, and script elements.
func Fetches(dom string) []string {
	var out []string
	for _, tag := range tagRe.FindAllString(dom, -1) {
		for _, m := range fetchAttrRe.FindAllString(tag, -1) {
			out = append(out, strings.TrimSpace(m))
		}
	}
	for _, loc := range cssFetchRe.FindAllStringIndex(dom, -1) {
		out = append(out, dom[loc[0]:min(len(dom), loc[1]+40)])
	}
	if scriptRe.MatchString(dom) {
		out = append(out, "<script>")
	}
	return out
}
