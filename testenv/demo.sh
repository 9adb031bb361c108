#!/usr/bin/env bash
# make demo: the main job end to end on local emulators. Starts cognito-local, creates a
# pool and an app client with a secret, signs up users (confirming some), creates 5
# admin-created users who never got their invitation (--invitations), writes a CSV
# that also holds an unknown user, a duplicate and an invalid name, runs the campaign,
# prints the summary and the report, then stops the emulators.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d "${TMPDIR:-/tmp}/cognito-resend-demo.XXXXXX")
go build -o "$work/demoenv" ./testenv/cmd/demoenv

mkfifo "$work/ctl"
"$work/demoenv" --sqs --users 50 --confirm 10 --invitees 5 --csv "$work/users.csv" --env-file "$work/demo.env" \
  --secret-file "$work/client-secret" <"$work/ctl" >"$work/demoenv.out" 2>"$work/demoenv.log" &
pid=$!
exec 3>"$work/ctl" # demoenv runs until this fd closes
cleanup() { exec 3>&- || true; wait "$pid" 2>/dev/null || true; }
trap cleanup EXIT

for _ in $(seq 1 600); do # up to 60 s
  grep -q '^ready' "$work/demoenv.out" 2>/dev/null && break
  if ! kill -0 "$pid" 2>/dev/null; then cat "$work/demoenv.log" >&2; exit 1; fi
  sleep 0.1
done
grep -q '^ready' "$work/demoenv.out" || { echo "emulators did not start" >&2; cat "$work/demoenv.log" >&2; exit 1; }

set -a
# shellcheck disable=SC1091
. "$work/demo.env"
set +a

echo "== input: $(($(wc -l <"$work/users.csv") - 1)) rows in $work/users.csv (50 users, 10 confirmed, + unknown, duplicate, invalid)"
echo "== cognito-resend run --csv users.csv --dry-run   (counts; no call is made)"
./bin/cognito-resend run --csv "$work/users.csv" --dry-run --log-format text --log-level warn
echo
echo "== cognito-resend run --csv users.csv --client-secret-file client-secret --report report.csv --yes"
echo "   (on a terminal, without --yes, it asks: About to resend confirmation codes to N users ... Continue? [y/N])"
code=0
./bin/cognito-resend run --csv "$work/users.csv" --client-secret-file "$work/client-secret" \
  --report "$work/report.csv" --yes --progress none --log-format text --log-level warn || code=$?
echo "== exit code: $code"
echo "== report (first 15 rows):"
head -16 "$work/report.csv" | cut -d, -f1-3,6-7,10
echo "== status counts:"
tail -n +2 "$work/report.csv" | cut -d, -f2 | sort | uniq -c
echo "report: $work/report.csv"

# Pool mode: the pool's UNCONFIRMED users, listed with ListUsers (dummy credentials from
# the env file: cognito-local checks no signature). The CSV part resent to them already;
# on an emulator there is no per-user limit, so they get another code here.
echo
echo "== cognito-resend run --user-pool-id \$COGNITO_USER_POOL_ID --created-after 1h --dry-run"
./bin/cognito-resend run --user-pool-id "$COGNITO_USER_POOL_ID" --created-after 1h --dry-run \
  --log-format text --log-level warn
echo "== cognito-resend run --user-pool-id \$COGNITO_USER_POOL_ID --created-after 1h --report pool-report.csv --yes"
pcode=0
./bin/cognito-resend run --user-pool-id "$COGNITO_USER_POOL_ID" --created-after 1h --yes --progress none \
  --client-secret-file "$work/client-secret" --report "$work/pool-report.csv" \
  --log-format text --log-level warn || pcode=$?
echo "== exit code: $pcode"
echo "== status counts:"
tail -n +2 "$work/pool-report.csv" | cut -d, -f2 | sort | uniq -c
echo "report: $work/pool-report.csv"

# Invitations: the pool's admin-created users (FORCE_CHANGE_PASSWORD, never invited) get
# their invitation again (AdminCreateUser MessageAction=RESEND: a new temporary password),
# its UNCONFIRMED users a confirmation code, each at its own rate. The report's last
# column, message, says which went out.
echo
echo "== cognito-resend run --user-pool-id \$COGNITO_USER_POOL_ID --invitations --invitation-delivery EMAIL --dry-run"
./bin/cognito-resend run --user-pool-id "$COGNITO_USER_POOL_ID" --invitations --invitation-delivery EMAIL --dry-run \
  --log-format text --log-level warn
echo "== cognito-resend run --user-pool-id \$COGNITO_USER_POOL_ID --invitations --invitation-delivery EMAIL --report invite-report.csv --yes"
icode=0
./bin/cognito-resend run --user-pool-id "$COGNITO_USER_POOL_ID" --invitations --invitation-delivery EMAIL --yes \
  --progress none --client-secret-file "$work/client-secret" --report "$work/invite-report.csv" \
  --log-format text --log-level warn || icode=$?
echo "== exit code: $icode"
echo "== status and message counts:"
tail -n +2 "$work/invite-report.csv" | awk -F, '{print $2, $NF}' | sort | uniq -c
./bin/cognito-resend report summary "$work/invite-report.csv" | sed -n '/^STATUS/,/^invitations/p' | grep -Ev '^[a-z_]+ +0 ' || true
echo "report: $work/invite-report.csv"

# Queue mode: the same CSV through SQS (fauxqs). The producer validates and dedupes, the
# worker drains the queue and exits once it stays empty. (Users of the CSV part get a
# second code here: the demo pool has no per-user limit.)
echo
echo "== queue mode: cognito-resend enqueue --csv users.csv --sqs-queue-url \$SQS_QUEUE_URL"
./bin/cognito-resend enqueue --csv "$work/users.csv" --sqs-queue-url "$SQS_QUEUE_URL" --log-format text --log-level error
echo "== cognito-resend run --sqs-queue-url \$SQS_QUEUE_URL --exit-when-empty --report queue-report.csv"
qcode=0
./bin/cognito-resend run --sqs-queue-url "$SQS_QUEUE_URL" --client-secret-file "$work/client-secret" \
  --report "$work/queue-report.csv" --exit-when-empty --wait-time-seconds 1 --empty-polls 2 \
  --log-format text --log-level warn || qcode=$?
echo "== exit code: $qcode"
echo "== status counts:"
tail -n +2 "$work/queue-report.csv" | cut -d, -f2 | sort | uniq -c
echo "report: $work/queue-report.csv"
