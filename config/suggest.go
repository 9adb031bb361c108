package config

import (
	"strings"
	"unicode/utf8"

	"github.com/hbollon/go-edlib"
)

// Closest returns the candidate an operator most likely meant by got (a mistyped flag,
// config key or command), or "" when none is close enough to suggest. Case, leading
// dashes and '_' for '-' are ignored (max_attempts, --Rate); otherwise the nearest by
// optimal-string-alignment Damerau–Levenshtein distance, which counts a swap of two
// neighbours (wokrers, cvs) as one edit, within a third of the name's length (one edit
// for 3 to 5 characters, none below 3); failing that, the one candidate that got is a
// prefix of (--max-in). Ties go to the earlier candidate, so the order of candidates
// decides.
func Closest(got string, candidates []string) string {
	g := normalizeName(got)
	if g == "" {
		return ""
	}
	n := utf8.RuneCountInString(g)
	limit := n / 3
	if n >= 3 {
		limit = max(1, limit)
	}
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if d := edlib.OSADamerauLevenshteinDistance(g, normalizeName(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best != "" {
		return best
	}
	var prefixed []string
	for _, c := range candidates {
		if n >= 3 && strings.HasPrefix(normalizeName(c), g) {
			prefixed = append(prefixed, c)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return ""
}

func normalizeName(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimLeft(strings.TrimSpace(s), "-")), "_", "-")
}

// SecretRefusal explains why key, a flag name or config key that names the client
// secret (client-secret, client_secret, secret, ClientSecret…), is refused: the secret is
// taken only from COGNITO_CLIENT_SECRET or --client-secret-file, never from argv (ps,
// shell history) or a config file (copied, committed, printed). It returns "" for any
// other key, --client-secret-file (or any *-file key) included.
func SecretRefusal(key string) string {
	k := strings.NewReplacer("-", "", "_", "").Replace(normalizeName(key))
	if !strings.Contains(k, "secret") || strings.HasSuffix(k, "file") { // a file's path, not the secret
		return ""
	}
	return "the client secret is never read from the command line or a config file (they end up in " +
		"shell history, process lists and repositories); set " + EnvClientSecret +
		" or name a file holding it with --client-secret-file"
}
