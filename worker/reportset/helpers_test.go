package reportset_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

var t0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// row is a report row of user finished at second fin (started one second before).
func row(user string, st job.Status, fin float64) job.Result {
	r := job.Result{Username: user, Status: st, Attempts: 1, StartedAt: at(fin - 1), FinishedAt: at(fin), SourceRef: user}
	switch st {
	case job.StatusFailed:
		r.Attempts, r.ErrorCode, r.ErrorMessage = 8, "TooManyRequestsException", "Rate exceeded"
	case job.StatusLimitExceeded:
		r.ErrorCode, r.ErrorMessage = "LimitExceededException", "Attempt limit exceeded, please try after some time."
	case job.StatusSent:
		r.DeliveryMedium, r.Destination, r.AttributeName = "EMAIL", "a***@e***", "email"
	}
	return r
}

// writeReport writes rows with the report writer to name (its extension picks the
// format) in dir, then appends raw bytes (a torn line, say); its input record says the
// campaign compared usernames case-insensitively (the pools' default since 2020).
func writeReport(t testing.TB, dir, name string, rows []job.Result, raw string) string {
	t.Helper()
	return writeReportCase(t, dir, name, rows, raw, records.CaseInsensitiveName)
}

// writeReportCase is writeReport whose input record says usernameCase; "": no record
// (a report of an earlier version).
func writeReportCase(t testing.TB, dir, name string, rows []job.Result, raw, usernameCase string) string {
	t.Helper()
	if usernameCase != "" {
		in := records.Input{Source: records.InputCSV, CSV: "/users.csv", UsernameCase: usernameCase}
		require.NoError(t, records.WriteInput(filepath.Join(dir, name), in, t0, true))
	}
	p := filepath.Join(dir, name)
	format, err := records.FormatForPath(p)
	require.NoError(t, err)
	var b bytes.Buffer
	w, err := records.NewWriter(&b, format)
	require.NoError(t, err)
	for _, r := range rows {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Close())
	b.WriteString(raw)
	require.NoError(t, os.WriteFile(p, b.Bytes(), 0o600))
	return p
}
