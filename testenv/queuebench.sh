#!/usr/bin/env bash
# make queue-bench: enqueue + drain N users through fauxqs, Cognito answered by the quota
# simulator in instant mode (so the queue path is what is measured). N=2000 W=32 default.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-2000}
W=${W:-32}
work=$(mktemp -d "${TMPDIR:-/tmp}/cognito-resend-queuebench.XXXXXX")
go build -o "$work/cr" ./cmd/cognito-resend
go build -o "$work/qs" ./testenv/cmd/quotasim
go build -o "$work/demoenv" ./testenv/cmd/demoenv
mkfifo "$work/ctl"
"$work/demoenv" --users 1 --confirm 0 --sqs --env-file "$work/env" <"$work/ctl" >"$work/demoenv.out" 2>"$work/demoenv.log" &
exec 3>"$work/ctl" # demoenv (emulators) runs until this closes
"$work/qs" >"$work/qs.out" 2>&1 &
qpid=$!
trap 'exec 3>&-; kill $qpid 2>/dev/null; wait' EXIT
for _ in $(seq 1 600); do grep -q '^ready' "$work/demoenv.out" 2>/dev/null && grep -q listening "$work/qs.out" 2>/dev/null && break; sleep 0.1; done
set -a
# shellcheck disable=SC1091
. "$work/env"
set +a
AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=$(awk '/listening/{print $2; exit}' "$work/qs.out")
export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER
{ echo username; for i in $(seq 1 "$N"); do echo "bench-user-$i"; done; } >"$work/users.csv"
now() { date +%s.%N; }
t0=$(now)
"$work/cr" enqueue --csv "$work/users.csv" --sqs-queue-url "$SQS_QUEUE_URL" --log-format text --log-level warn
t1=$(now)
"$work/cr" run --sqs-queue-url "$SQS_QUEUE_URL" --report "$work/r.csv" --rate 100000 --workers "$W" \
  --wait-time-seconds 1 --exit-when-empty --empty-polls 1 --log-format text --log-level warn
t2=$(now)
awk -v n="$N" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
  printf "enqueue: %d msgs in %.2f s = %.0f msg/s\n", n, b-a, n/(b-a)
  printf "drain:   %d msgs in %.2f s = %.0f msg/s (includes the final empty 1 s poll)\n", n, c-b, n/(c-b)
  printf "total:   %.0f msg/s\n", n/(c-a) }'
tail -n +2 "$work/r.csv" | cut -d, -f2 | sort | uniq -c
