package main

import (
	"fmt"
	"strings"
)

// groupedHelpTemplate is urfave/cli's CommandHelpTemplate with the options in sections,
// one per flag group in the order of flagGroups, and an EXAMPLES section. urfave/cli's
// own categories sort both the groups and the flags in them by name; this keeps the
// order flags are declared in. A flag whose Category is not in flagGroups (or that has
// none, like --help) is listed under the last group rather than left out.
func groupedHelpTemplate(examples string) string {
	var b strings.Builder
	b.WriteString(`NAME:
   {{template "helpNameTemplate" .}}

USAGE:
   {{template "usageTemplate" .}}{{if .Description}}

DESCRIPTION:
   {{template "descriptionTemplate" .}}{{end}}
`)
	for i, g := range flagGroups {
		cond := fmt.Sprintf("eq .GetCategory %q", g)
		if i == len(flagGroups)-1 {
			var known []string
			for _, k := range flagGroups[:i] {
				known = append(known, fmt.Sprintf("(eq .GetCategory %q)", k))
			}
			cond = fmt.Sprintf("not (or %s)", strings.Join(known, " "))
		}
		// The heading is printed with the group's first flag, so an empty group has none.
		fmt.Fprintf(&b, `{{$shown := false}}{{range .VisibleFlags}}{{if %s}}{{if not $shown}}{{$shown = true}}
%s:{{end}}
   {{.String}}{{end}}{{end}}{{if $shown}}
{{end}}`, cond, strings.ToUpper(g))
	}
	if examples != "" {
		b.WriteString("\nEXAMPLES:\n" + examples)
	}
	return b.String()
}

// runExamples end `cognito-resend run --help`. Placeholders are shell variables, so an
// example runs as written once they are set.
const runExamples = `   # Count a CSV campaign and show its ETA; nothing is sent
   cognito-resend run --csv users.csv --client-id "$CLIENT_ID" --dry-run

   # Send it (asks first on a terminal); one row per user in the report
   cognito-resend run --csv users.csv --client-id "$CLIENT_ID" --report resend.csv

   # Continue it after Ctrl-C, a crash or exit 3: rows already in the report are skipped
   cognito-resend run --csv users.csv --client-id "$CLIENT_ID" --report resend.csv --resume

   # Check each user first (AdminGetUser): only real unconfirmed users get a resend
   cognito-resend run --csv users.csv --user-pool-id "$POOL_ID" --verify-users --client-id "$CLIENT_ID" --report resend.csv

   # Every UNCONFIRMED user of a pool created in the last 3 days
   cognito-resend run --user-pool-id "$POOL_ID" --created-after 72h --client-id "$CLIENT_ID" --report pool.csv

   # Queue worker: runs until stopped, one report row per message
   cognito-resend run --sqs-queue-url "$QUEUE_URL" --client-id "$CLIENT_ID" --metrics-addr 127.0.0.1:9090

   # Producer for that worker: one message per username of a CSV
   cognito-resend enqueue --csv users.csv --sqs-queue-url "$QUEUE_URL"
`
